package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// TestValidatorEvents runs every sample validator event in testdata through
// the Lambda handler: valid rulesets (YAML, JSON) answer nothing, an invalid
// one fails naming each problem with its line:column.
func TestValidatorEvents(t *testing.T) {
	tests := map[string][]string{ // file → the lines the error must hold; nil: accepted
		"valid-yaml.json": nil,
		"valid-json.json": nil,
		"invalid.json": {
			"ruleset appconfig:abc1234/pro5678 version 3 does not load (2 problems):",
			"appconfig:abc1234/pro5678:1:10: version: unsupported version 2; expected 1",
			"appconfig:abc1234/pro5678:4:12: unknown key \"nope\" in condition",
		},
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) != len(tests) {
		t.Fatalf("testdata has %v (%v), want a case for each of %d events", files, err, len(tests))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, ok := tests[filepath.Base(f)]
			if !ok {
				t.Fatalf("no case for %s", f)
			}
			ev, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			out, err := lambda.NewHandler(handler(slog.New(slog.NewJSONHandler(&logs, nil)), nil)).Invoke(t.Context(), ev)
			if want == nil {
				if err != nil {
					t.Fatalf("Invoke = %v, want the ruleset accepted", err)
				}
				if string(out) != "null" {
					t.Errorf("Invoke answered %s, want null (nothing)", out)
				}
				return
			}
			if err == nil {
				t.Fatal("Invoke accepted an invalid ruleset")
			}
			for _, line := range want {
				if !strings.Contains(err.Error(), line) {
					t.Errorf("error %q lacks %q", err, line)
				}
			}
			var e rulesource.ValidatorEvent
			if err := json.Unmarshal(ev, &e); err != nil {
				t.Fatal(err)
			}
			if l := logs.String(); !strings.Contains(l, `"level":"ERROR","msg":"ruleset refused"`) || strings.Contains(l, e.Content) {
				t.Errorf("log is not one ERROR without the content:\n%s", l)
			}
		})
	}
}

func TestValidatorNotBase64(t *testing.T) {
	err := handler(slog.New(slog.DiscardHandler), nil)(t.Context(), rulesource.ValidatorEvent{Content: "not base64!"})
	if err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Fatalf("handler = %v, want an error saying the content is not base64", err)
	}
}
