package retry

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// TestVerifyUser checks the AUTOGROUP_VERIFY_USER hook through the real SDK
// client: a message is acted on only for the user Cognito holds under its
// username with its sub, and not for a user the ruleset's exclude holds
// for now.
func TestVerifyUser(t *testing.T) {
	const rulesSrc = `
version: 1
exclude: {memberOf: autogroup-hold}
defaultGroups: [staff]
`
	tests := []struct {
		name        string
		setup       func(*cognitofake.Server)
		wantOutcome Outcome
		wantFailed  bool
		wantAdded   bool
	}{
		{"same sub", func(*cognitofake.Server) {}, OutcomeOK, false, true},
		{"another sub", func(s *cognitofake.Server) {
			s.PutUser(pool, cognitofake.User{Username: sub(1), Attributes: map[string]string{"sub": sub(99)}})
		}, OutcomeInvalid, true, false},
		{"no such user", func(s *cognitofake.Server) {
			s.PutUser(pool, cognitofake.User{Username: sub(2), Attributes: map[string]string{"sub": sub(2)}})
		}, OutcomeInvalid, true, false},
		{"put on hold", func(s *cognitofake.Server) { s.AddToGroup(pool, "autogroup-hold", sub(1)) }, OutcomeExcluded, false, false},
		{"read throttled", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Op: "AdminGetUser", Type: "TooManyRequestsException", Message: "Too many requests."})
		}, OutcomeRetry, true, false},
		{"groups unreadable", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Op: "AdminListGroupsForUser", Type: "TooManyRequestsException", Message: "Too many requests."})
		}, OutcomeRetry, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cognitofake.New(t)
			s.CreateGroup(pool, "staff")
			if tt.name != "no such user" {
				s.PutUser(pool, cognitofake.User{Username: sub(1), Attributes: map[string]string{"sub": sub(1), "email": "jane@example.com"}})
			}
			tt.setup(s)
			client := s.Client(t)
			holder, err := rulesource.Load(t.Context(), rulesource.Bytes("test rules", []byte(rulesSrc)), nil)
			if err != nil {
				t.Fatal(err)
			}
			l := &logged{}
			reader := membership.NewReader(client, membership.Options{MaxAttempts: 1})
			c, err := New(client, holder, slog.New(slog.NewJSONHandler(l, nil)), Options{Rate: MaxRate, Verify: VerifyUser(reader, client)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			resp, err := c.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record("m1", body(t, 1, "staff"))}})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(resp.BatchItemFailures) == 1; got != tt.wantFailed {
				t.Errorf("batch item failures = %v, want listed %v", resp.BatchItemFailures, tt.wantFailed)
			}
			if got := l.records(t)["m1"]["outcome"]; got != string(tt.wantOutcome) {
				t.Errorf("outcome = %v, want %s", got, tt.wantOutcome)
			}
			if got := slices.Contains(s.Members(pool, "staff"), sub(1)); got != tt.wantAdded {
				t.Errorf("added to staff = %v, want %v", got, tt.wantAdded)
			}
		})
	}
}
