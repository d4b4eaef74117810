package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Paths as a user in this directory would type them; goldens print them as
// given.
const (
	shippedRules = "../../functions/post-confirmation/rules.yaml"
	shippedCases = "../../functions/post-confirmation/rules_test.yaml"
	eventsDir    = "../../events/"
	// additionsRules uses the additions to version 1 (items, groupsFrom,
	// memberOf, exclude, reconcile).
	additionsRules = "testdata/additions-rules.yaml"
)

// manyTenants names 103 groups with additionsRules' tenant rule: 3 more
// than one decision selects.
var manyTenants = func() string {
	var b strings.Builder
	for i := range 103 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "t%d", i)
	}
	return b.String()
}()

// TestGolden runs the tool in-process and compares its exit code, standard
// output and standard error with testdata/golden/NAME.golden.
func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		// validate
		{"validate-shipped", []string{"validate", shippedRules}, ""},
		{"validate-invalid", []string{"validate", "testdata/invalid.yaml"}, ""},
		{"validate-warnings", []string{"validate", "testdata/warnings.yaml"}, ""},
		{"validate-unreadable", []string{"validate", "testdata/no-such-file.yaml"}, ""},
		{"validate-several", []string{"validate", shippedRules, "testdata/invalid.yaml", "testdata/no-such-file.yaml", "testdata/warnings.yaml"}, ""},
		{"validate-stdin", []string{"validate", "-"}, "version: 1\ndefaultGroups: [customers]\nrules: {}\n"},
		{"validate-no-file", []string{"validate"}, ""},
		{"validate-additions", []string{"validate", additionsRules}, ""},
		{"validate-json", []string{"validate", "--json", "testdata/invalid.yaml", "testdata/warnings.yaml", "testdata/no-such-file.yaml"}, ""},
		{"validate-github", []string{"validate", "--format", "github", "testdata/invalid.yaml", "testdata/warnings.yaml"}, ""},
		{"validate-bad-format", []string{"validate", "--format", "sarif", "testdata/invalid.yaml"}, ""},

		// explain
		{"explain-engineer", []string{"explain", "--rules", shippedRules, eventsDir + "signup-engineer.json"}, ""},
		{"explain-engineer-json", []string{"explain", "--rules", shippedRules, "--json", eventsDir + "signup-engineer.json"}, ""},
		{"explain-company-email", []string{"explain", "--rules", shippedRules, eventsDir + "signup-company-email.json"}, ""},
		{"explain-custom-attributes", []string{"explain", "--rules", shippedRules, eventsDir + "signup-custom-attributes.json"}, ""},
		{"explain-client-metadata", []string{"explain", "--rules", shippedRules, eventsDir + "signup-client-metadata.json"}, ""},
		{"explain-federated-google", []string{"explain", "--rules", shippedRules, eventsDir + "federated-google.json"}, ""},
		{"explain-federated-google-json", []string{"explain", eventsDir + "federated-google.json", "--json", "--rules", shippedRules}, ""},
		{"explain-qa-stop", []string{"explain", "--rules", shippedRules, "testdata/qa-event.json"}, ""},
		{"explain-not-handled", []string{"explain", "--rules", shippedRules, eventsDir + "forgot-password.json"}, ""},
		{"explain-not-handled-json", []string{"explain", "--rules", shippedRules, "--json", eventsDir + "forgot-password.json"}, ""},
		{"explain-stdin", []string{"explain", "--rules", shippedRules, "-"}, `{"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {"email": "jo@mail.example.org"}}}`},
		{"explain-bad-event", []string{"explain", "--rules", shippedRules, "testdata/bad-event.json"}, ""},
		{"explain-truncated-event", []string{"explain", "--rules", shippedRules, "testdata/truncated-event.json"}, ""},
		{"explain-missing-event", []string{"explain", "--rules", shippedRules, "testdata/no-such-event.json"}, ""},
		{"explain-invalid-rules", []string{"explain", "--rules", "testdata/invalid.yaml", eventsDir + "signup-engineer.json"}, ""},
		{"explain-no-default-rules", []string{"explain", eventsDir + "signup-engineer.json"}, ""},
		{"explain-two-events", []string{"explain", "--rules", shippedRules, "a.json", "b.json"}, ""},
		{"explain-bad-flag", []string{"explain", "--yaml", eventsDir + "signup-engineer.json"}, ""},
		{"explain-additions", []string{"explain", "--rules", additionsRules, "--groups", "admins", "testdata/tenant-event.json"}, ""},
		{"explain-additions-json", []string{"explain", "--rules", additionsRules, "--json", "--groups", "admins", "testdata/tenant-event.json"}, ""},
		{"explain-additions-no-groups", []string{"explain", "--rules", additionsRules, "testdata/tenant-event.json"}, ""},
		{"explain-excluded", []string{"explain", "--rules", additionsRules, "--groups", "admins,autogroup-hold", "testdata/tenant-event.json"}, ""},
		{"explain-dropped", []string{"explain", "--rules", additionsRules, "-"}, `{"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {"custom:tenant": "` + manyTenants + `"}}}`},
		{"explain-excluded-json", []string{"explain", "--rules", additionsRules, "--groups", "autogroup-hold", "--json", "testdata/tenant-event.json"}, ""},

		// test
		{"test-shipped", []string{"test", "--rules", shippedRules, shippedCases}, ""},
		{"test-shipped-verbose", []string{"test", "-v", "--rules", shippedRules, "testdata/passing-cases.yaml"}, ""},
		{"test-allow-untested", []string{"test", "--allow-untested", "--rules", shippedRules, "testdata/passing-cases.yaml"}, ""},
		{"test-failing", []string{"test", "--rules", shippedRules, "testdata/failing-cases.yaml"}, ""},
		{"test-bad-cases", []string{"test", "--rules", shippedRules, "testdata/bad-cases.yaml"}, ""},
		{"test-invalid-rules", []string{"test", "--rules", "testdata/invalid.yaml", shippedCases}, ""},
		{"test-no-cases", []string{"test", "--rules", shippedRules}, ""},
		{"test-additions", []string{"test", "--rules", additionsRules, "testdata/additions-cases.yaml"}, ""},

		// backfill and check-pool: usage errors (runs: backfill_test.go, checkpool_test.go)
		{"backfill-no-pool", []string{"backfill", "--rules", shippedRules}, ""},
		{"backfill-bad-rate", []string{"backfill", "--pool", "us-east-1_EXAMPLE", "--rate", "0"}, ""},
		{"check-pool-no-pool", []string{"check-pool"}, ""},
		{"attach-no-pool", []string{"attach", "--post-confirmation", "arn:aws:lambda:us-east-1:123456789012:function:f"}, ""},

		// retries: usage errors (runs: retries_test.go)
		{"retries-no-queue", []string{"retries"}, ""},
		{"retries-redrive-no-to", []string{"retries", "--queue", "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry-dlq", "--redrive"}, ""},

		// usage
		{"help", []string{"--help"}, ""},
		{"help-backfill", []string{"backfill", "--help"}, ""},
		{"help-check-pool", []string{"help", "check-pool"}, ""},
		{"help-attach", []string{"help", "attach"}, ""},
		{"help-detach", []string{"detach", "--help"}, ""},
		{"help-retries", []string{"retries", "--help"}, ""},
		{"help-publish", []string{"help", "publish"}, ""},
		{"help-command", []string{"help"}, ""},
		{"help-validate", []string{"help", "validate"}, ""},
		{"help-explain", []string{"explain", "--help"}, ""},
		{"help-test", []string{"test", "-h"}, ""},
		{"help-help", []string{"help", "help"}, ""},
		{"help-unknown", []string{"help", "deploy"}, ""},
		{"no-command", nil, ""},
		{"unknown-command", []string{"valdiate", "rules.yaml"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			got := fmt.Sprintf("$ autogroup %s\n-- exit --\n%d\n-- stdout --\n%s-- stderr --\n%s",
				strings.Join(tt.args, " "), code, stdout.String(), stderr.String())
			golden(t, filepath.Join("testdata", "golden", tt.name+".golden"), got)
		})
	}
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/autogroup -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; run go test ./cmd/autogroup -run %s -update to accept):\n%s", path, t.Name(), diff)
	}
}

// TestExplainJSONAgreesWithEngine checks, for every sample event, that
// explain --json reports the groups the engine selects, with every field
// the format promises.
func TestExplainJSONAgreesWithEngine(t *testing.T) {
	src, err := os.ReadFile(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	events, err := filepath.Glob(eventsDir + "*.json")
	if err != nil || len(events) == 0 {
		t.Fatalf("no events in %s: %v", eventsDir, err)
	}
	for _, path := range events {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"explain", "--json", "--rules", shippedRules, path}, nil, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
			}
			var out struct {
				TriggerSource  *string           `json:"triggerSource"`
				Handled        *bool             `json:"handled"`
				Groups         []string          `json:"groups"`
				DefaultApplied *bool             `json:"defaultApplied"`
				Rules          []json.RawMessage `json:"rules"`
			}
			dec := json.NewDecoder(&stdout)
			if err := dec.Decode(&out); err != nil {
				t.Fatalf("output is not one JSON object: %v", err)
			}
			if dec.More() {
				t.Errorf("output has more than one JSON value")
			}
			if out.TriggerSource == nil || out.Handled == nil || out.DefaultApplied == nil || out.Groups == nil {
				t.Fatalf("output lacks triggerSource, handled, defaultApplied or groups (groups must be [], not null)")
			}
			evSrc, _ := os.ReadFile(path)
			ev, err := trigger.DecodePostConfirmation(evSrc)
			if err != nil {
				t.Fatal(err)
			}
			want := rs.Groups(ev.Input())
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, out.Groups); diff != "" {
				t.Errorf("groups differ from rules.Groups (-want +got):\n%s", diff)
			}
			if len(out.Rules) != len(rs.Rules()) {
				t.Errorf("%d rules in the output, want %d", len(out.Rules), len(rs.Rules()))
			}
			for _, raw := range out.Rules {
				var r map[string]json.RawMessage
				if err := json.Unmarshal(raw, &r); err != nil {
					t.Fatal(err)
				}
				for _, key := range []string{"name", "evaluated", "matched", "stopped", "groups", "condition"} {
					if _, ok := r[key]; !ok {
						t.Errorf("rule %s lacks %q", r["name"], key)
					}
				}
			}
		})
	}
}

// TestTestSummaryIsLastLine checks the summary line's form, which scripts
// may parse.
func TestTestSummaryIsLastLine(t *testing.T) {
	for _, tt := range []struct {
		file           string
		code           int
		passed, failed int
	}{
		{shippedCases, exitOK, -1, 0},
		{"testdata/failing-cases.yaml", exitProblems, 1, 5},
	} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"test", "--rules", shippedRules, tt.file}, nil, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("test %s: exit %d, want %d", tt.file, code, tt.code)
		}
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		last := lines[len(lines)-1]
		var passed, failed int
		if n, err := fmt.Sscanf(last, "%d passed, %d failed", &passed, &failed); n != 2 || err != nil ||
			last != strconv.Itoa(passed)+" passed, "+strconv.Itoa(failed)+" failed" {
			t.Fatalf("test %s: last line %q, want \"N passed, M failed\"", tt.file, last)
		}
		if failed != tt.failed || (tt.passed >= 0 && passed != tt.passed) {
			t.Errorf("test %s: %q, want %d failed", tt.file, last, tt.failed)
		}
	}
}

// TestCommandsHaveHelp checks that every command documents itself.
func TestCommandsHaveHelp(t *testing.T) {
	for _, c := range commands {
		var stdout, stderr bytes.Buffer
		if code := run([]string{c.name, "--help"}, nil, &stdout, &stderr); code != exitOK {
			t.Errorf("%s --help: exit %d, stderr %q", c.name, code, stderr.String())
		}
		help := stdout.String()
		for _, want := range []string{"Usage: autogroup " + c.name, "Example", "Flags:", "Exit codes:"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s --help lacks %q", c.name, want)
			}
		}
		var top bytes.Buffer
		run([]string{"help"}, nil, &top, &stderr)
		if !strings.Contains(top.String(), "  "+c.name+" ") {
			t.Errorf("autogroup help does not list %s", c.name)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantJSON bool
		wantPos  []string
		wantErr  error
	}{
		{[]string{"a.json"}, false, []string{"a.json"}, nil},
		{[]string{"--json", "a.json"}, true, []string{"a.json"}, nil},
		{[]string{"a.json", "-json"}, true, []string{"a.json"}, nil},
		{[]string{"a.json", "-", "b"}, false, []string{"a.json", "-", "b"}, nil},
		{[]string{"--", "--json"}, false, []string{"--json"}, nil},
		{[]string{"a", "--", "--json", "b"}, false, []string{"a", "--json", "b"}, nil},
		{[]string{"-h"}, false, nil, flag.ErrHelp},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(bytes.Buffer))
		asJSON := fs.Bool("json", false, "")
		pos, err := parseFlags(fs, tt.args)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("parseFlags(%q) error = %v, want %v", tt.args, err, tt.wantErr)
			continue
		}
		if *asJSON != tt.wantJSON || !cmp.Equal(pos, tt.wantPos) {
			t.Errorf("parseFlags(%q) = %q, json %v; want %q, json %v", tt.args, pos, *asJSON, tt.wantPos, tt.wantJSON)
		}
	}
}
