package postconfirm

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzInvoke feeds arbitrary payloads to the handler. It may reject them,
// never panic; whatever it accepts it returns byte for byte.
func FuzzInvoke(f *testing.F) {
	files, _ := filepath.Glob("../events/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(signUp))
	f.Add([]byte(`{"triggerSource":"PostConfirmation_ConfirmSignUp","userPoolId":"p","userName":"u","request":{"userAttributes":{"email":"a@@b"}}}`))
	f.Add([]byte(`{"triggerSource":"PostConfirmation_ConfirmSignUp","request":{"userAttributes":null,"clientMetadata":{"k":"v"}}}`))
	f.Add([]byte(`{"triggerSource":"PostConfirmation_ConfirmSignUp","userPoolId":"p","userName":"u","request":{"userAttributes":{"identities":"[{\"providerName\":\"Google\"}]"}}}`))
	f.Add([]byte(`nul`))
	h, fake, _ := newTestHandler(f, `
version: 1
triggerSources: [PostConfirmation_ConfirmSignUp, PostConfirmation_ConfirmForgotPassword]
defaultGroups: [default]
rules:
  - {name: d, when: {emailDomain: ["example.com", "*.bücher.example"]}, groups: [d]}
  - {name: m, when: {any: [{clientMetadata: k, matches: "v.*", ignoreCase: true}, {not: {attribute: custom:x, exists: true}}]}, groups: [m]}
  - {name: i, when: {all: [{identityProvider: Google}, {clientId: [c1, c2]}]}, groups: [i], stop: true}
`)
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := h.Invoke(context.Background(), payload)
		if err != nil {
			return
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("Invoke(%q) = %q, want the payload unchanged", payload, got)
		}
		if !json.Valid(payload) {
			t.Fatalf("Invoke accepted invalid JSON %q", payload)
		}
		fake.mu.Lock()
		fake.calls = nil // keep memory flat over a long fuzzing run
		fake.mu.Unlock()
	})
}
