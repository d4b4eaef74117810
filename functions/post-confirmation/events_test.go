package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/postconfirm"
)

// TestEventsDirectory runs every sample event through lambda.NewHandler, as
// the runtime does, on the handler main builds from the Lambda environment
// (the shipped ruleset, a Cognito client pointed at a fake that holds the
// event's user as the event describes it), and checks the groups the user
// gets, the calls made and the bytes returned.
func TestEventsDirectory(t *testing.T) {
	want := map[string][]string{
		"signup-company-email.json":     {"staff"},
		"signup-engineer.json":          {"engineering", "staff"},
		"signup-custom-attributes.json": {"customers", "paid"},
		"federated-google.json":         {"customers"},
		"forgot-password.json":          nil, // not in triggerSources: passes through
		"signup-client-metadata.json":   {"customers"},
	}
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events found: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		if strings.HasPrefix(name, "token-") {
			continue // PreTokenGeneration events: functions/pre-token-generation runs them
		}
		t.Run(name, func(t *testing.T) {
			wantGroups, ok := want[name]
			if !ok {
				t.Fatalf("events/%s has no expectation in this test: add one", name)
			}
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				UserPoolID, UserName string
				Request              struct{ UserAttributes map[string]string }
			}
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatal(err)
			}
			fake := cognitofake.New(t)
			fake.AllowAnyGroup()
			// The events are as Cognito sends them: Cognito holds the same
			// attributes, and the status outside them.
			user := cognitofake.User{Username: ev.UserName, Attributes: map[string]string{}}
			for k, v := range ev.Request.UserAttributes {
				if k == "cognito:user_status" {
					user.Status = v
				} else {
					user.Attributes[k] = v
				}
			}
			fake.PutUser(ev.UserPoolID, user)
			env := map[string]string{
				"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
				"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": fake.URL(),
			}
			h, err := postconfirm.NewFromEnv(context.Background(), slog.New(slog.DiscardHandler), func(k string) string { return env[k] }, os.ReadFile)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lambda.NewHandler(h).Invoke(context.Background(), payload)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("Invoke returned %d bytes that differ from the %d sent", len(got), len(payload))
			}
			if diff := cmp.Diff(wantGroups, fake.GroupsForUser(ev.UserPoolID, ev.UserName)); diff != "" {
				t.Errorf("groups of the event's user (-want +got):\n%s", diff)
			}
			if calls := fake.CallsTo("AdminAddUserToGroup"); len(calls) != len(wantGroups) {
				t.Errorf("%d AdminAddUserToGroup calls, want %d", len(calls), len(wantGroups))
			}
			// Verification is on by default: one read per handled event.
			wantReads := 1
			if wantGroups == nil {
				wantReads = 0
			}
			if reads := fake.CallsTo("AdminGetUser"); len(reads) != wantReads {
				t.Errorf("%d AdminGetUser calls, want %d", len(reads), wantReads)
			}
		})
	}
}
