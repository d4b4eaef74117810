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
	"github.com/cognito-autogroup/cognito-autogroup/pretoken"
)

// tokenEvent is what the test reads of a sample event.
type tokenEvent struct {
	Version, UserPoolID, UserName string
	Request                       struct {
		UserAttributes     map[string]string
		GroupConfiguration json.RawMessage
	}
	Response map[string]json.RawMessage
}

// TestEventsDirectory runs every PreTokenGeneration sample event
// (events/token-*.json) through lambda.NewHandler, as the runtime does, on
// the handler main builds from the Lambda environment (the shipped ruleset,
// a Cognito client pointed at a fake that holds the event's user and groups
// as the event describes them), and checks the groups the pool and the
// token end with, the calls made and the bytes returned.
func TestEventsDirectory(t *testing.T) {
	tests := map[string]struct {
		pool, token []string // token nil: groupOverrideDetails is the request's groupConfiguration, byte for byte
		calls       int      // Cognito calls
	}{
		"token-v1-signin.json":              {pool: []string{"staff"}},
		"token-refresh.json":                {pool: []string{"engineering", "staff"}},
		"token-v2-signin.json":              {pool: []string{"customers", "paid"}, token: []string{"customers", "paid"}, calls: 2},
		"token-federated-first-signin.json": {pool: []string{"customers"}, token: []string{"customers"}, calls: 2},
		"token-client-credentials.json":     {},
	}
	files, err := filepath.Glob("../../events/token-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample token events found: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, ok := tests[name]
			if !ok {
				t.Fatalf("events/%s has no expectation in this test: add one", name)
			}
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev tokenEvent
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatal(err)
			}
			var gc struct{ GroupsToOverride []string }
			_ = json.Unmarshal(ev.Request.GroupConfiguration, &gc)
			fake := cognitofake.New(t)
			fake.AllowAnyGroup()
			if ev.UserName != "" {
				user := cognitofake.User{Username: ev.UserName, Attributes: map[string]string{}}
				for k, v := range ev.Request.UserAttributes {
					if k == "cognito:user_status" {
						user.Status = v
					} else {
						user.Attributes[k] = v
					}
				}
				fake.PutUser(ev.UserPoolID, user)
				for _, g := range gc.GroupsToOverride {
					fake.AddToGroup(ev.UserPoolID, g, ev.UserName)
				}
			}
			env := map[string]string{
				"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
				"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": fake.URL(),
			}
			h, err := pretoken.NewFromEnv(context.Background(), slog.New(slog.DiscardHandler), func(k string) string { return env[k] }, os.ReadFile)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lambda.NewHandler(h).Invoke(context.Background(), payload)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if n := len(fake.Calls()); n != want.calls {
				t.Errorf("%d Cognito calls, want %d: %v", n, want.calls, fake.Calls())
			}
			if ev.UserName != "" {
				if diff := cmp.Diff(want.pool, fake.GroupsForUser(ev.UserPoolID, ev.UserName)); diff != "" {
					t.Errorf("groups in the pool (-want +got):\n%s", diff)
				}
			}
			checkResponse(t, payload, got, ev, want.token)
		})
	}
}

// checkResponse checks that got is payload with only the response's
// groupOverrideDetails set: to the request's groupConfiguration when
// wantGroups is nil, else with groupsToOverride wantGroups and the roles as
// sent.
func checkResponse(t *testing.T, payload, got []byte, ev tokenEvent, wantGroups []string) {
	t.Helper()
	key := "claimsOverrideDetails"
	if ev.Version == "2" || ev.Version == "3" {
		key = "claimsAndScopeOverrideDetails"
	}
	i := bytes.Index(payload, []byte(`"response"`))
	if i < 0 || !bytes.Equal(got[:i], payload[:i]) {
		t.Fatalf("the bytes before the response changed:\n%s", got)
	}
	var out tokenEvent
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("returned event is not JSON: %v\n%s", err, got)
	}
	gc := ev.Request.GroupConfiguration
	if string(gc) == "null" || gc == nil {
		if !bytes.Equal(got, payload) {
			t.Errorf("an event without groupConfiguration came back changed:\n%s", got)
		}
		return
	}
	var details struct {
		GroupOverrideDetails json.RawMessage `json:"groupOverrideDetails"`
	}
	if err := json.Unmarshal(out.Response[key], &details); err != nil {
		t.Fatalf("response.%s: %v\n%s", key, err, got)
	}
	if wantGroups == nil {
		if !bytes.Equal(details.GroupOverrideDetails, gc) {
			t.Errorf("groupOverrideDetails = %s, want the request's groupConfiguration %s", details.GroupOverrideDetails, gc)
		}
		return
	}
	var sent, god map[string]json.RawMessage
	_ = json.Unmarshal(gc, &sent)
	if err := json.Unmarshal(details.GroupOverrideDetails, &god); err != nil {
		t.Fatal(err)
	}
	var groups []string
	_ = json.Unmarshal(god["groupsToOverride"], &groups)
	if diff := cmp.Diff(wantGroups, groups); diff != "" {
		t.Errorf("groupsToOverride (-want +got):\n%s", diff)
	}
	for _, k := range []string{"iamRolesToOverride", "preferredRole"} {
		if !bytes.Equal(god[k], sent[k]) {
			t.Errorf("%s = %s, want %s as sent", k, god[k], sent[k])
		}
	}
	if strings.Count(string(got), `"groupOverrideDetails"`) != 1 {
		t.Errorf("groupOverrideDetails appears more than once:\n%s", got)
	}
}
