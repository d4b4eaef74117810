package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// forge returns event with the attributes claimed set in
// request.userAttributes and, when userName is not empty, the userName and
// sub replaced: what anyone allowed to invoke the function could send.
func forge(t *testing.T, event []byte, userName string, claimed map[string]string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	req, _ := ev["request"].(map[string]any)
	attrs, _ := req["userAttributes"].(map[string]any)
	if attrs == nil {
		t.Fatalf("event has no request.userAttributes: %s", event)
	}
	for k, v := range claimed {
		attrs[k] = v
	}
	if userName != "" {
		ev["userName"] = userName
		attrs["sub"] = userName
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// staffClaims are what a forged event claims to get the staff and
// engineering groups of the shipped ruleset.
var staffClaims = map[string]string{
	"email": "eve.mallory@example.com", "email_verified": "true", "custom:department": "engineering",
}

// TestForgedEventGrantsNothing invokes the function directly under
// aws-lambda-rie, as a principal with lambda:InvokeFunction could, with the
// event cognito-local sent for a real user but claiming a verified company
// address and an engineering department. The function reads the user back
// from cognito-local and decides on what it holds: no staff, no
// engineering. An event for a user the pool does not hold grants nothing.
// With AUTOGROUP_VERIFY_USER=false the same event gets both groups: what
// the variable risks.
func TestForgedEventGrantsNothing(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		wantDecided []string // by the forged event
		wantGroups  []string // of the user afterwards
		verified    bool
	}{
		{name: "verification on (the default)", wantDecided: []string{"customers"}, wantGroups: []string{"customers"}, verified: true},
		{name: "verification off trusts the event", env: []string{"AUTOGROUP_VERIFY_USER=false"},
			wantDecided: []string{"engineering", "staff"}, wantGroups: []string{"customers", "engineering", "staff"}, verified: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := start(t, harness.Options{FunctionEnv: tt.env})
			ctx := testContext(t)
			pool, err := env.CreatePool(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := pool.SignUp(ctx, harness.User{Email: "eve.mallory@mail.example.org", EmailVerified: true}, harness.ConfirmSignUp)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := pool.GroupsOf(ctx, sub); err != nil || !slices.Equal(got, []string{"customers"}) {
				t.Fatalf("after sign-up GroupsOf = %v, %v; want [customers]", got, err)
			}
			genuine := invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp")
			requireReturnedEvent(t, genuine)
			if d := requireDecision(t, env, genuine, "ok"); d["verified"] != tt.verified {
				t.Errorf("decision verified = %v, want %v", d["verified"], tt.verified)
			}

			forged, err := env.Invoke(ctx, forge(t, genuine.Event, "", staffClaims))
			if err != nil {
				t.Fatal(err)
			}
			requireReturnedEvent(t, forged)
			d := requireDecision(t, env, forged, "ok")
			got, err := pool.GroupsOf(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.wantGroups) {
				t.Errorf("after the forged event GroupsOf = %v, want %v", got, tt.wantGroups)
			}
			if groups := d.Strings("groups"); !slices.Equal(sorted(groups), tt.wantDecided) {
				t.Errorf("decision groups = %v, want %v", groups, tt.wantDecided)
			}
			if !tt.verified {
				return
			}
			reads, _ := d["reads"].([]any)
			if r, _ := firstOf(reads).(map[string]any); d["verified"] != true || r["op"] != "AdminGetUser" || r["kind"] != "ok" {
				t.Errorf("decision verified = %v, reads = %v; want one ok AdminGetUser", d["verified"], d["reads"])
			}

			// A user the pool does not hold: nothing, and the shipped
			// ruleset's onError: fail answers an error.
			const ghost = "00000000-0000-4000-8000-00000000dead"
			inv, err := env.Invoke(ctx, forge(t, genuine.Event, ghost, staffClaims))
			if err != nil {
				t.Fatal(err)
			}
			if inv.Error == nil || strings.Contains(inv.Error.Message, ghost) {
				t.Errorf("function answered %s (%v), want a short error without the user", inv.Response, inv.Error)
			}
			d = requireDecision(t, env, inv, "failed")
			reads, _ = d["reads"].([]any)
			if r, _ := firstOf(reads).(map[string]any); r["kind"] != "user_not_found" || len(d.Strings("groups")) != 0 {
				t.Errorf("decision reads = %v, groups = %v; want user_not_found and no group", d["reads"], d["groups"])
			}
			if got, err := pool.GroupsOf(ctx, sub); err != nil || !slices.Equal(got, []string{"customers"}) {
				t.Errorf("the real user's groups = %v, %v; want [customers]", got, err)
			}
		})
	}
}

func firstOf(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}
