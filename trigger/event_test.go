package trigger_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

const signUp = `{"version":"1","triggerSource":"PostConfirmation_ConfirmSignUp","region":"us-east-1",` +
	`"userPoolId":"us-east-1_TEST","userName":"user-1","callerContext":{"awsSdkVersion":"x","clientId":"client-1"},` +
	`"request":{"userAttributes":{"sub":"sub-1","email":"a@example.com","email_verified":"true"},"clientMetadata":{"k":"v"}},"response":{}}`

func TestDecodePostConfirmation(t *testing.T) {
	ev, err := trigger.DecodePostConfirmation([]byte(signUp))
	if err != nil {
		t.Fatal(err)
	}
	want := &trigger.Event{
		TriggerSource:  "PostConfirmation_ConfirmSignUp",
		UserPoolID:     "us-east-1_TEST",
		UserName:       "user-1",
		ClientID:       "client-1",
		UserAttributes: map[string]string{"sub": "sub-1", "email": "a@example.com", "email_verified": "true"},
		ClientMetadata: map[string]string{"k": "v"},
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("DecodePostConfirmation (-want +got):\n%s", diff)
	}
	if got := ev.Sub(); got != "sub-1" {
		t.Errorf("Sub() = %q, want sub-1", got)
	}
	wantIn := rules.Input{TriggerSource: want.TriggerSource, ClientID: "client-1", UserAttributes: want.UserAttributes, ClientMetadata: want.ClientMetadata}
	if diff := cmp.Diff(wantIn, ev.Input()); diff != "" {
		t.Errorf("Input() (-want +got):\n%s", diff)
	}
	if err := ev.RequireTarget(); err != nil {
		t.Errorf("RequireTarget() = %v, want nil", err)
	}
}

func TestDecodePostConfirmationLenient(t *testing.T) {
	// What encoding/json accepts is accepted: null for any field read,
	// unknown fields of any type, keys in another case, white space.
	payload := ` {"TriggerSource":"PostConfirmation_ConfirmSignUp","future":[1,{"a":true}],"callerContext":{"clientId":null},` +
		`"request":{"userAttributes":{"sub":"s","x":null},"clientMetadata":null},"userName":null} ` + "\n"
	ev, err := trigger.DecodePostConfirmation([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if ev.TriggerSource != "PostConfirmation_ConfirmSignUp" || ev.ClientID != "" || ev.UserAttributes["x"] != "" || ev.ClientMetadata != nil {
		t.Errorf("DecodePostConfirmation = %+v", ev)
	}
	if err := ev.RequireTarget(); err == nil || err.Error() != "invalid event: missing userPoolId" {
		t.Errorf("RequireTarget() = %v, want missing userPoolId", err)
	}
}

func TestDecodePostConfirmationProblems(t *testing.T) {
	tests := []struct {
		name, payload string
		// wantErr is Error(); want the problems as Format("f") prints them.
		wantErr, want string
	}{
		{"empty", ``, "invalid event: not a JSON object",
			"f: empty file; expected a PostConfirmation event (a JSON object)\n"},
		{"not json", ` hello`, "invalid event: not a JSON object",
			"f:1:2: expected a PostConfirmation event (a JSON object)\n"},
		{"array", `[1,2]`, "invalid event: not a JSON object", "f:1:1: expected a PostConfirmation event (a JSON object)\n"},
		{"null", `null`, "invalid event: not a JSON object", "f:1:1: expected a PostConfirmation event (a JSON object)\n"},
		{"form feed before", "\f{}", "invalid event: not a JSON object", "f:1:1: expected a PostConfirmation event (a JSON object)\n"},
		{"truncated", `{"triggerSource":"PostConfirmation_ConfirmSignUp"`, "invalid event: not valid JSON (unexpected end)",
			"f:1:50: invalid JSON: unexpected end of file\n"},
		{"syntax", "{\n  \"triggerSource\": \"x\",\n}", "invalid event: not valid JSON (line 3, column 1)",
			"f:3:1: invalid JSON: '}' looking for beginning of object key string\n"},
		{"trailing data", `{"triggerSource":"x"} {}`, "invalid event: unexpected data after the event",
			"f:1:23: unexpected data after the event\n"},
		{"boolean attribute", strings.Replace(signUp, `"email_verified":"true"`, `"email_verified":true`, 1),
			"invalid event: request.userAttributes.email_verified: expected a string, found a boolean",
			`f:1:280: request.userAttributes.email_verified: expected a string, found a boolean: Cognito sends every value as a string (write "true")` + "\n"},
		{"every problem", `{"triggerSource":5,"request":{"userAttributes":{"b":false,"a":{}},"clientMetadata":[]},"callerContext":"c"}`,
			"invalid event: triggerSource: expected a string, found a number (and 4 more problems)",
			"f:1:18: triggerSource: expected a string, found a number\n" +
				`f:1:53: request.userAttributes.b: expected a string, found a boolean: Cognito sends every value as a string (write "false")` + "\n" +
				"f:1:63: request.userAttributes.a: expected a string, found an object: Cognito sends every value as a string\n" +
				"f:1:84: request.clientMetadata: expected an object, found an array\n" +
				"f:1:104: callerContext: expected an object, found a string\n"},
		{"key in another case", `{"TRIGGERSOURCE":true}`, "invalid event: triggerSource: expected a string, found a boolean",
			"f:1:18: triggerSource: expected a string, found a boolean\n"},
		{"duplicate key", `{"triggerSource":"x","request":{"userAttributes":{"a":1,"a":"2"}}}`,
			"invalid event: request.userAttributes.a: expected a string, found a number",
			"f:1:55: request.userAttributes.a: expected a string, found a number: Cognito sends every value as a string\n"},
		{"userName not a string", `{"triggerSource":"x","userName":1}`, "invalid event: userName: expected a string, found a number",
			"f:1:33: userName: expected a string, found a number\n"},
		{"missing triggerSource", `{"userName":"u"}`, "invalid event: missing triggerSource", "f: missing triggerSource\n"},
		{"empty triggerSource", `{"triggerSource":""}`, "invalid event: missing triggerSource", "f: missing triggerSource\n"},
		{"columns count characters", "{\"request\":{\"userAttributes\":{\"name\":\"Zoë\",\"x\":1}}}",
			"invalid event: request.userAttributes.x: expected a string, found a number",
			"f:1:48: request.userAttributes.x: expected a string, found a number: Cognito sends every value as a string\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := trigger.DecodePostConfirmation([]byte(tt.payload))
			var e *trigger.EventError
			if !errors.As(err, &e) {
				t.Fatalf("DecodePostConfirmation(%q) = %+v, %v; want an *EventError", tt.payload, ev, err)
			}
			if got := err.Error(); got != tt.wantErr {
				t.Errorf("Error() = %q, want %q", got, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, e.Format("f")); diff != "" {
				t.Errorf("Format (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCLIEventFiles checks the messages autogroup explain prints for its
// sample bad events (its goldens hold the same lines).
func TestCLIEventFiles(t *testing.T) {
	tests := map[string]string{
		"bad-event.json": "x:7:25: request.userAttributes.email_verified: expected a string, found a boolean: Cognito sends every value as a string (write \"true\")\n" +
			"x:8:23: request.userAttributes.custom:seats: expected a string, found a number: Cognito sends every value as a string\n",
		"truncated-event.json": "x:7:5: invalid JSON: '}' looking for beginning of object key string\n",
	}
	for file, want := range tests {
		src, err := os.ReadFile("../cmd/autogroup/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = trigger.DecodePostConfirmation(src)
		var e *trigger.EventError
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v, want an *EventError", file, err)
		}
		if diff := cmp.Diff(want, e.Format("x")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", file, diff)
		}
	}
}

// TestEventErrorSafe checks that the error returned to Cognito (and
// logged) quotes no value of the event, whatever is wrong with it.
func TestEventErrorSafe(t *testing.T) {
	const secret = "zelda.quartermaine@quartermaine-corp.example"
	payloads := []string{
		`{"triggerSource":"x","request":{"userAttributes":{"email":"` + secret + `","email_verified":true}}}`,
		`{"triggerSource":"x","request":{"userAttributes":{"email":"` + secret + `" "x"}}}`,
		`{"triggerSource":"x","request":{"userAttributes":{"email":"` + secret + `"}}}` + secret,
		`{"triggerSource":"x","request":{"userAttributes":{"email":"` + secret,
		`{"triggerSource":"x","request":{"userAttributes":{"email":` + `zelda}}}`,
		`"` + secret + `"`,
		`{"triggerSource":{"email":"` + secret + `"}}`,
		`{"triggerSource":"x","request":{"clientMetadata":{"` + strings.Repeat("k", 1000) + secret + `":1}}}`,
	}
	for _, p := range payloads {
		_, err := trigger.DecodePostConfirmation([]byte(p))
		if err == nil {
			t.Errorf("DecodePostConfirmation(%q) accepted it", p)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "zelda") || strings.Contains(msg, "quartermaine") || len(msg) > 160 {
			t.Errorf("Error() = %q quotes the event or is long", msg)
		}
	}
}
