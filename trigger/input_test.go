package trigger_test

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// TestDecodeInput checks that a token event is read with its current
// groups, a PostConfirmation event as DecodePostConfirmation reads it, and
// a malformed token event gets the token decoder's diagnosis.
func TestDecodeInput(t *testing.T) {
	token, err := os.ReadFile("../events/token-v2-signin.json")
	if err != nil {
		t.Fatal(err)
	}
	tev, err := trigger.DecodePreTokenGeneration(token)
	if err != nil {
		t.Fatal(err)
	}
	in, err := trigger.DecodeInput(token)
	if err != nil {
		t.Fatalf("DecodeInput(token event): %v", err)
	}
	if len(tev.Groups) == 0 || !cmp.Equal(in.Groups, tev.Groups) || in.TriggerSource != tev.TriggerSource {
		t.Errorf("DecodeInput(token event) = groups %v, source %q; want %v, %q", in.Groups, in.TriggerSource, tev.Groups, tev.TriggerSource)
	}

	signup, err := os.ReadFile("../events/signup-engineer.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := trigger.DecodePostConfirmation(signup)
	if err != nil {
		t.Fatal(err)
	}
	in, err = trigger.DecodeInput(signup)
	if err != nil {
		t.Fatalf("DecodeInput(sign-up event): %v", err)
	}
	if diff := cmp.Diff(ev.Input(), in); diff != "" {
		t.Errorf("DecodeInput(sign-up event) (-want +got):\n%s", diff)
	}

	bad := []byte(`{"triggerSource":"TokenGeneration_Authentication","request":{"groupConfiguration":{"groupsToOverride":"admins"}}}`)
	var evErr *trigger.EventError
	if _, err := trigger.DecodeInput(bad); !errors.As(err, &evErr) {
		t.Errorf("DecodeInput(groupsToOverride a string) = %v, want an *EventError", err)
	}
}
