package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

const pool = "us-east-1_Ab12Cd34E"

func env(vars map[string]string) func(string) string {
	base := map[string]string{
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY": "local",
	}
	for k, v := range vars {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func files(m map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		if s, ok := m[path]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
}

func TestNewConsumerRefusesToStart(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // in the error
	}{
		{"ruleset does not load", map[string]string{"RULES_FILE": "bad.yaml"}, "bad.yaml:"},
		{"ruleset missing", map[string]string{"RULES_FILE": "missing.yaml"}, "RULES_FILE"},
		{"bad rate", map[string]string{"AUTOGROUP_RETRY_RATE": "100"}, "AUTOGROUP_RETRY_RATE"},
		{"no region", map[string]string{"AWS_REGION": ""}, "AWS_REGION"},
		{"bad verify", map[string]string{"AUTOGROUP_VERIFY_USER": "maybe"}, "AUTOGROUP_VERIFY_USER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := files(map[string]string{"bad.yaml": "version: 1\nrules: [{name: a, when: {nope: 1}, groups: [g]}]\n"})
			_, err := newConsumer(context.Background(), slog.New(slog.DiscardHandler), env(tt.env), read)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("newConsumer() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestSampleEvent runs testdata/sqs-event.json through the Lambda handler
// as the runtime would, against a fake Cognito, and checks the exact
// response: the message whose group does not exist is listed, and so,
// unless AUTOGROUP_VERIFY_USER is false, is one whose user Cognito holds
// with another sub.
func TestSampleEvent(t *testing.T) {
	const (
		first  = "7f3e8a52-1c4b-4d2e-9a6f-0b1c2d3e4f50"
		second = "a1b2c3d4-0000-4000-8000-000000000002"
		other  = "a1b2c3d4-0000-4000-8000-0000000000ff"
	)
	tests := []struct {
		name        string
		verify      string
		secondSub   string // the sub Cognito holds for the second user
		wantFailed  string
		wantMembers []string
	}{
		{"verified", "", second, `{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}`, []string{first, second}},
		{"another sub", "true", other,
			`{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}`, []string{first}},
		{"trusted", "false", other, `{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}`, []string{first, second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cognitofake.New(t)
			s.CreateGroup(pool, "staff")
			s.CreateGroup(pool, "engineering")
			s.PutUser(pool, cognitofake.User{Username: first, Attributes: map[string]string{"sub": first}})
			s.PutUser(pool, cognitofake.User{Username: second, Attributes: map[string]string{"sub": tt.secondSub}})
			var logs bytes.Buffer
			c, err := newConsumer(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)),
				env(map[string]string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": s.URL(), "AUTOGROUP_RETRY_RATE": "25", "AUTOGROUP_VERIFY_USER": tt.verify}), files(nil))
			if err != nil {
				t.Fatal(err)
			}
			event, err := os.ReadFile("testdata/sqs-event.json")
			if err != nil {
				t.Fatal(err)
			}
			out, err := lambda.NewHandler(c.Handle).Invoke(context.Background(), event)
			if err != nil {
				t.Fatalf("Invoke() error = %v", err)
			}
			if want := `{"batchItemFailures":[` + tt.wantFailed + `]}`; string(out) != want {
				t.Errorf("Invoke() = %s, want %s", out, want)
			}
			if diff := cmp.Diff(tt.wantMembers, s.Members(pool, "staff")); diff != "" {
				t.Errorf("members of staff mismatch (-want +got):\n%s", diff)
			}
			outcomes := map[string]int{}
			for line := range strings.Lines(logs.String()) {
				var r map[string]any
				if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == "retry" {
					outcomes[r["outcome"].(string)]++
				}
			}
			want := map[string]int{"ok": 1, "retry": 1}
			if tt.name == "another sub" {
				want = map[string]int{"ok": 1, "invalid": 1}
			}
			if diff := cmp.Diff(want, outcomes); diff != "" {
				t.Errorf("retry records' outcomes (-want +got):\n%s", diff)
			}
		})
	}
}
