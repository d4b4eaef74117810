package trigger_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

const tokenV1 = `{"version":"1","triggerSource":"TokenGeneration_Authentication","region":"us-east-1",` +
	`"userPoolId":"us-east-1_TEST","userName":"user-1","callerContext":{"awsSdkVersion":"x","clientId":"client-1"},` +
	`"request":{"userAttributes":{"sub":"sub-1","email":"a@example.com"},` +
	`"groupConfiguration":{"groupsToOverride": ["a", "b"], "iamRolesToOverride":["arn:r"],"preferredRole":"arn:r"},"clientMetadata":{"k":"v"}},` +
	`"response":{"claimsOverrideDetails":null},"future":{"x":[1,2]}}`

func TestDecodePreTokenGeneration(t *testing.T) {
	ev, err := trigger.DecodePreTokenGeneration([]byte(tokenV1))
	if err != nil {
		t.Fatal(err)
	}
	want := &trigger.TokenEvent{
		Event: trigger.Event{
			TriggerSource: "TokenGeneration_Authentication", UserPoolID: "us-east-1_TEST", UserName: "user-1", ClientID: "client-1",
			UserAttributes: map[string]string{"sub": "sub-1", "email": "a@example.com"}, ClientMetadata: map[string]string{"k": "v"},
		},
		Version: "1", HasGroups: true, Groups: []string{"a", "b"}, IAMRoles: []string{"arn:r"}, PreferredRole: "arn:r",
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("DecodePreTokenGeneration (-want +got):\n%s", diff)
	}
	in := ev.Input()
	if diff := cmp.Diff(rules.Input{TriggerSource: want.TriggerSource, ClientID: "client-1", UserAttributes: want.UserAttributes,
		ClientMetadata: want.ClientMetadata, Groups: []string{"a", "b"}}, in); diff != "" {
		t.Errorf("Input() (-want +got):\n%s", diff)
	}
	if ev.V2() {
		t.Error("V2() = true for version 1")
	}
}

func TestDecodePreTokenGenerationVersions(t *testing.T) {
	tests := []struct {
		payload string
		version string
		v2, gc  bool
	}{
		{`{"version":"2","triggerSource":"TokenGeneration_RefreshTokens","request":{"groupConfiguration":{"groupsToOverride":[],"preferredRole":null}}}`, "2", true, true},
		{`{"version":"3","triggerSource":"TokenGeneration_ClientCredentials","userName":null,"request":{"userAttributes":{},"groupConfiguration":null}}`, "3", true, false},
		{`{"version":0,"triggerSource":"TokenGeneration_Authentication","request":{"userAttributes":{"sub":"s"}}}`, "0", false, false},
		{`{"triggerSource":"TokenGeneration_HostedAuth"}`, "", false, false},
		// cognito-local 5.3.0 sends an empty groupConfiguration.
		{`{"version":"0","triggerSource":"TokenGeneration_Authentication","request":{"groupConfiguration":{}}}`, "0", false, false},
	}
	for _, tt := range tests {
		ev, err := trigger.DecodePreTokenGeneration([]byte(tt.payload))
		if err != nil {
			t.Fatalf("%s: %v", tt.payload, err)
		}
		if ev.Version != tt.version || ev.V2() != tt.v2 || ev.HasGroups != tt.gc {
			t.Errorf("%s: Version %q, V2 %v, HasGroups %v; want %q, %v, %v", tt.payload, ev.Version, ev.V2(), ev.HasGroups, tt.version, tt.v2, tt.gc)
		}
	}
}

func TestDecodePreTokenGenerationProblems(t *testing.T) {
	tests := []struct {
		name, payload, wantErr, want string
	}{
		{"no trigger source", `{"version":"1"}`, "invalid event: missing triggerSource", "f: missing triggerSource\n"},
		{"groups not a list", `{"triggerSource":"x","request":{"groupConfiguration":{"groupsToOverride":"a"}}}`,
			"invalid event: request.groupConfiguration.groupsToOverride: expected an array of strings, found a string",
			"f:1:74: request.groupConfiguration.groupsToOverride: expected an array of strings, found a string\n"},
		{"group not a string", "{\"triggerSource\":\"x\",\"request\":{\"groupConfiguration\":{\"groupsToOverride\":[\"a\",\n 7],\"preferredRole\":true}}}",
			"invalid event: request.groupConfiguration.groupsToOverride[1]: expected a string, found a number (and 1 more problem)",
			"f:2:2: request.groupConfiguration.groupsToOverride[1]: expected a string, found a number\n" +
				"f:2:21: request.groupConfiguration.preferredRole: expected a string, found a boolean\n"},
		{"not an object", `[]`, "invalid event: not a JSON object", "f:1:1: expected a PreTokenGeneration event (a JSON object)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trigger.DecodePreTokenGeneration([]byte(tt.payload))
			var e *trigger.EventError
			if !errors.As(err, &e) {
				t.Fatalf("DecodePreTokenGeneration error = %v, want an *EventError", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantErr)
			}
			if got := e.Format("f"); got != tt.want {
				t.Errorf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}

// groupOverride returns the groupOverrideDetails of a returned event.
func groupOverride(t *testing.T, out []byte, key string) map[string]json.RawMessage {
	t.Helper()
	var ev struct {
		Response map[string]map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatalf("returned event: %v\n%s", err, out)
	}
	god, ok := ev.Response[key]["groupOverrideDetails"]
	if !ok {
		t.Fatalf("no response.%s.groupOverrideDetails in %s", key, out)
	}
	return god
}

func TestResponse(t *testing.T) {
	gc := `{"groupsToOverride": ["a", "b"], "iamRolesToOverride":["arn:r"],"preferredRole":"arn:r"}`
	v2 := `{"version":"2","triggerSource":"TokenGeneration_Authentication","request":{"groupConfiguration":` + gc + `},`
	tests := []struct {
		name, payload string
		groups        []string
		// want is the whole returned event.
		want string
	}{
		{"as sent, v1", tokenV1, nil,
			tokenV1[:len(tokenV1)-len(`{"claimsOverrideDetails":null},"future":{"x":[1,2]}}`)] +
				`{"claimsOverrideDetails":{"groupOverrideDetails":` + gc + `}},"future":{"x":[1,2]}}`},
		{"groups set, v2", v2 + `"response":{"claimsAndScopeOverrideDetails":null}}`, []string{"a", "b", "c"},
			v2 + `"response":{"claimsAndScopeOverrideDetails":{"groupOverrideDetails":{"groupsToOverride": ["a","b","c"], "iamRolesToOverride":["arn:r"],"preferredRole":"arn:r"}}}}`},
		{"no groups left", v2 + `"response":{}}`, []string{},
			v2 + `"response":{"claimsAndScopeOverrideDetails":{"groupOverrideDetails":{"groupsToOverride": [], "iamRolesToOverride":["arn:r"],"preferredRole":"arn:r"}}}}`},
		{"claims of a team kept", v2 + `"response":{"claimsAndScopeOverrideDetails":{"idTokenGeneration":{"claimsToAddOrOverride":{"tier":"gold"}},` +
			`"groupOverrideDetails":{"groupsToOverride":null,"iamRolesToOverride":["arn:team"],"preferredRole":null}}}}`, nil,
			v2 + `"response":{"claimsAndScopeOverrideDetails":{"idTokenGeneration":{"claimsToAddOrOverride":{"tier":"gold"}},` +
				`"groupOverrideDetails":{"groupsToOverride": ["a", "b"], "iamRolesToOverride":["arn:team"],"preferredRole":"arn:r"}}}}`},
		{"no response", `{"version":"1","triggerSource":"x","request":{"groupConfiguration":{"groupsToOverride":[]}}}`, nil,
			`{"version":"1","triggerSource":"x","request":{"groupConfiguration":{"groupsToOverride":[]}},"response":{"claimsOverrideDetails":{"groupOverrideDetails":{"groupsToOverride":[]}}}}`},
		{"no group configuration, nothing to set", `{"version":"0","triggerSource":"x","request":{},"response":{}}`, nil,
			`{"version":"0","triggerSource":"x","request":{},"response":{}}`},
		{"no group configuration, groups set", `{"version":"0","triggerSource":"x","request":{"groupConfiguration":null},"response":{"claimsOverrideDetails":{"claimsToSuppress":["email"]}}}`, []string{"g"},
			`{"version":"0","triggerSource":"x","request":{"groupConfiguration":null},"response":{"claimsOverrideDetails":{"claimsToSuppress":["email"],"groupOverrideDetails":{"groupsToOverride":["g"]}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := trigger.DecodePreTokenGeneration([]byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ev.Response([]byte(tt.payload), tt.groups)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Response (-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("Response is not valid JSON: %s", got)
			}
		})
	}
}

// TestResponseSampleEvents checks, on every sample token event, that the
// groups come back exactly as sent and that the response sits where the
// event's version says.
func TestResponseSampleEvents(t *testing.T) {
	for _, name := range []string{"token-v1-signin.json", "token-v2-signin.json", "token-refresh.json", "token-federated-first-signin.json"} {
		payload, err := os.ReadFile("../events/" + name)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := trigger.DecodePreTokenGeneration(payload)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := ev.Response(payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		key := "claimsOverrideDetails"
		if ev.V2() {
			key = "claimsAndScopeOverrideDetails"
		}
		god := groupOverride(t, out, key)
		var groups []string
		if err := json.Unmarshal(god["groupsToOverride"], &groups); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ev.Groups, groups); diff != "" {
			t.Errorf("%s: groupsToOverride (-sent +returned):\n%s", name, diff)
		}
	}
}
