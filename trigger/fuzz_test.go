package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodePostConfirmation feeds arbitrary payloads to the decoder. It may
// refuse them, never panic. It accepts exactly what json.Unmarshal takes
// into the wire struct (with a trigger source), and for every object
// Unmarshal refuses, the diagnosis finds a problem of its own: the shape
// and the wire struct agree.
func FuzzDecodePostConfirmation(f *testing.F) {
	paths, _ := filepath.Glob("../events/*.json")
	more, _ := filepath.Glob("../cmd/autogroup/testdata/*.json")
	for _, path := range append(paths, more...) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"triggerSource":"PostConfirmation_ConfirmSignUp","userPoolId":"p","userName":"u","request":{"userAttributes":{"email":"a@@b"}}}`,
		`{"triggerSource":"PostConfirmation_ConfirmSignUp","request":{"userAttributes":null,"clientMetadata":{"k":"v"}}}`,
		`{"triggerSource":"x","request":{"userAttributes":{"a":1,"a":"2"}}}`,
		`{"TriggerSource":"x","REQUEST":{"userattributes":{"a":true}},"callerContext":{"clientID":7}}`,
		`{"triggerSource":"x"} trailing`,
		`{"triggerSource":"x","request":[],"callerContext":"c"}`,
		"\f{}",
		`nul`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := DecodePostConfirmation(payload)
		var w postConfirmationWire
		unmarshalErr := json.Unmarshal(payload, &w)
		isObject := bytes.HasPrefix(trimLeftJSONSpace(payload), []byte("{"))
		if err == nil {
			if unmarshalErr != nil || !isObject || ev.TriggerSource == "" {
				t.Fatalf("accepted %q: Unmarshal error %v, object %v, trigger source %q", payload, unmarshalErr, isObject, ev.TriggerSource)
			}
			return
		}
		var e *EventError
		if !errors.As(err, &e) || len(e.Problems) == 0 {
			t.Fatalf("error %v is not an *EventError with problems", err)
		}
		for _, p := range e.Problems {
			if p.Message == "" || p.Line < 0 || (p.Line > 0 && p.Column < 1) {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if isObject {
			d := &diagnosis{src: payload}
			d.run("PostConfirmation", postConfirmationShape())
			if (unmarshalErr != nil) != (len(d.problems) > 0) {
				t.Fatalf("payload %q: Unmarshal error %v, but diagnosis found %d problems", payload, unmarshalErr, len(d.problems))
			}
		}
	})
}

// FuzzDecodePreTokenGeneration is FuzzDecodePostConfirmation for token
// events, and also checks that Response keeps an accepted event valid JSON.
func FuzzDecodePreTokenGeneration(f *testing.F) {
	paths, _ := filepath.Glob("../events/token-*.json")
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"triggerSource":"x","request":{"groupConfiguration":{"groupsToOverride":["a",null,1]}}}`))
	f.Add([]byte(`{"triggerSource":"x","version":"2","response":{"claimsAndScopeOverrideDetails":{"groupOverrideDetails":{"preferredRole":"r"}}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := DecodePreTokenGeneration(payload)
		var w tokenWire
		unmarshalErr := json.Unmarshal(payload, &w)
		isObject := bytes.HasPrefix(trimLeftJSONSpace(payload), []byte("{"))
		if err == nil {
			if unmarshalErr != nil || !isObject || ev.TriggerSource == "" {
				t.Fatalf("accepted %q: Unmarshal error %v, object %v", payload, unmarshalErr, isObject)
			}
			out, err := ev.Response(payload, []string{"g"})
			if err != nil || !json.Valid(out) {
				t.Fatalf("Response(%q) = %q, %v; want valid JSON", payload, out, err)
			}
			return
		}
		var e *EventError
		if !errors.As(err, &e) || len(e.Problems) == 0 {
			t.Fatalf("error %v is not an *EventError with problems", err)
		}
		if isObject {
			d := &diagnosis{src: payload}
			d.run("PreTokenGeneration", tokenShape())
			if (unmarshalErr != nil) != (len(d.problems) > 0) {
				t.Fatalf("payload %q: Unmarshal error %v, but diagnosis found %d problems", payload, unmarshalErr, len(d.problems))
			}
		}
	})
}
