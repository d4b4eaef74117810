package postconfirm

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// Tests of deferring to the retry queue (AUTOGROUP_RETRY_QUEUE_URL), through
// the real SDK client against internal/cognitofake and a retryqueue.Sender
// on a fake SendMessage.

// fakeSQS records SendMessage calls and answers err, or an id.
type fakeSQS struct {
	mu        sync.Mutex
	bodies    []string
	deadlines []time.Time
	err       error
}

func (f *fakeSQS) SendMessage(ctx context.Context, _, body string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	d, _ := ctx.Deadline()
	f.deadlines = append(f.deadlines, d)
	if f.err != nil {
		return "", f.err
	}
	return "msg-1", nil
}

const deferRules = `
version: 1
onError: %s
rules:
  - {name: staff, when: {emailDomain: example.com}, groups: [staff, engineering]}
`

// newDeferringHandler builds a verifying handler with a retry queue on
// sqsAPI, on deferRules with onError, its options as NewFromEnv makes them
// with a queue, and one user, "user-1", with an example.com address.
func newDeferringHandler(t *testing.T, onError string, o membership.Options, sqsAPI *fakeSQS) (*Handler, *cognitofake.Server, *bytes.Buffer, []byte) {
	t.Helper()
	h, fake, logs := newVerifyingHandler(t, strings.Replace(deferRules, "%s", onError, 1), DeferralOptions(o, DefaultSendReserve))
	sender, err := retryqueue.NewSender(sqsAPI, "https://sqs.us-east-1.amazonaws.com/123456789012/retry")
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"email": "someone@example.com", "email_verified": "true"}
	fake.PutUser(verifyPool, cognitofake.User{Username: "user-1", Attributes: attrs})
	return h.WithRetryQueue(sender, DefaultSendReserve), fake, logs, eventFor(t, "user-1", "client", withSub(fake, "user-1", attrs))
}

// TestDeferral checks each way groups can fail to be added: the groups go
// to the queue in one message, the sign-up succeeds with outcome deferred
// whatever onError says, and a throttled group is not retried.
func TestDeferral(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*cognitofake.Server)
		budget     time.Duration
		want       []retryqueue.Group
		wantAdds   int // AdminAddUserToGroup calls
		wantResult []string
	}{
		{"throttle every add", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Type: "TooManyRequestsException", Message: "Too many requests."})
		}, 0, []retryqueue.Group{
			{Name: "staff", Reason: membership.KindThrottled, Code: "TooManyRequestsException"},
			{Name: "engineering", Reason: membership.KindThrottled, Code: "TooManyRequestsException"},
		}, 2, []string{"throttled", "throttled"}},
		{"group missing", func(s *cognitofake.Server) { s.NotFound("engineering") }, 0, []retryqueue.Group{
			{Name: "engineering", Reason: membership.KindGroupNotFound, Code: "ResourceNotFoundException"},
		}, 2, []string{"ok", "group_not_found"}},
		{"adds time out", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Hang: true})
		}, 800 * time.Millisecond, []retryqueue.Group{
			{Name: "staff", Reason: membership.KindTimeout},
			{Name: "engineering", Reason: membership.KindTimeout},
		}, 2, []string{"timed_out", "timed_out"}},
	}
	for _, tt := range tests {
		for _, onError := range []string{"fail", "continue"} {
			t.Run(tt.name+"/"+onError, func(t *testing.T) {
				q := &fakeSQS{}
				o := fastOptions
				if tt.budget > 0 {
					o.Budget = tt.budget
				}
				h, fake, logs, event := newDeferringHandler(t, onError, o, q)
				tt.setup(fake)
				start := time.Now()
				rec, out, err := h.Handle(t.Context(), event)
				elapsed := time.Since(start)
				if err != nil || !bytes.Equal(out, event) {
					t.Fatalf("Handle = %q, %v; want the event unchanged", out, err)
				}
				if rec.Outcome != trigger.OutcomeDeferred || rec.RetryMessageID != "msg-1" || rec.SendError != "" {
					t.Errorf("outcome %s, message id %q, send error %q; want deferred, msg-1, none", rec.Outcome, rec.RetryMessageID, rec.SendError)
				}
				var kinds []string
				for _, r := range rec.Results {
					kinds = append(kinds, string(r.Kind))
				}
				if diff := cmp.Diff(tt.wantResult, kinds); diff != "" {
					t.Errorf("result kinds (-want +got):\n%s", diff)
				}
				if n := len(fake.CallsTo("AdminAddUserToGroup")); n != tt.wantAdds {
					t.Errorf("AdminAddUserToGroup calls = %d, want %d (a throttle is not retried)", n, tt.wantAdds)
				}
				if len(q.bodies) != 1 {
					t.Fatalf("SendMessage calls = %d, want 1", len(q.bodies))
				}
				m, err := retryqueue.Decode([]byte(q.bodies[0]))
				if err != nil {
					t.Fatalf("queued body does not decode: %v", err)
				}
				if diff := cmp.Diff(tt.want, m.Groups); diff != "" {
					t.Errorf("queued groups (-want +got):\n%s", diff)
				}
				if m.Username != "user-1" || m.Sub != fake.Sub(verifyPool, "user-1") || m.UserPoolID != verifyPool || m.Source != retryqueue.SourcePostConfirmation {
					t.Errorf("queued message %+v, want user-1, its sub, %s, post-confirmation", m, verifyPool)
				}
				if m.FirstFailedAt.Before(start) || m.FirstFailedAt.After(m.EnqueuedAt) {
					t.Errorf("firstFailedAt %v, want between the start %v and enqueuedAt %v", m.FirstFailedAt, start, m.EnqueuedAt)
				}
				if !slices.Equal(rec.Deferred, m.GroupNames()) {
					t.Errorf("record's deferred = %v, want %v", rec.Deferred, m.GroupNames())
				}
				for _, s := range []string{q.bodies[0], logs.String()} {
					if strings.Contains(s, "someone@example.com") || strings.Contains(s, "example.com") {
						t.Errorf("an attribute value reached the queue or the log: %s", s)
					}
				}
				d := oneDecision(t, logs)
				if d["outcome"] != "deferred" || d["level"] != "WARN" || d["retryMessageId"] != "msg-1" {
					t.Errorf("decision record %v, want outcome deferred at WARN with retryMessageId", d)
				}
				// The adds end DefaultSendReserve before the budget does.
				if limit := o.Budget + 500*time.Millisecond; elapsed > limit {
					t.Errorf("Handle took %v, want under the budget %v plus slack", elapsed, o.Budget)
				}
			})
		}
	}
}

// TestDeferralSendFails checks that onError applies when the send fails,
// and that the record names the failure's kind only.
func TestDeferralSendFails(t *testing.T) {
	tests := []struct {
		name        string
		onError     string
		sendErr     error
		username    string
		wantOutcome trigger.Outcome
		wantErr     error
		wantKind    string
		wantSends   int
	}{
		{"access denied, fail", "fail", &smithy.GenericAPIError{Code: "AccessDenied", Message: "arn:aws:sqs:us-east-1:123456789012:retry"}, "user-1",
			trigger.OutcomeFailed, ErrAssignment, "access_denied", 1},
		{"access denied, continue", "continue", &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"}, "user-1",
			trigger.OutcomeFailedContinued, nil, "access_denied", 1},
		{"send timed out", "fail", context.DeadlineExceeded, "user-1", trigger.OutcomeFailed, ErrAssignment, "timed_out", 1},
		{"username is an email address", "continue", nil, "someone@example.com", trigger.OutcomeFailedContinued, nil, "invalid_message", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeSQS{err: tt.sendErr}
			h, fake, logs, _ := newDeferringHandler(t, tt.onError, fastOptions, q)
			attrs := map[string]string{"email": "someone@example.com", "email_verified": "true"}
			fake.PutUser(verifyPool, cognitofake.User{Username: tt.username, Attributes: attrs})
			event := eventFor(t, tt.username, "client", withSubOf(fake, tt.username, attrs))
			fake.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Type: "TooManyRequestsException", Message: "Too many requests."})
			rec, out, err := h.Handle(t.Context(), event)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != bytes.Equal(out, event) {
				t.Errorf("Handle = %q, %v; want error %v (the event only without one)", out, err, tt.wantErr)
			}
			if rec.Outcome != tt.wantOutcome || rec.SendError != tt.wantKind || rec.Deferred != nil {
				t.Errorf("outcome %s, send error %q, deferred %v; want %s, %s, none", rec.Outcome, rec.SendError, rec.Deferred, tt.wantOutcome, tt.wantKind)
			}
			if len(q.bodies) != tt.wantSends {
				t.Errorf("SendMessage calls = %d, want %d", len(q.bodies), tt.wantSends)
			}
			d := oneDecision(t, logs)
			if d["sendError"] != tt.wantKind || d["level"] != "ERROR" {
				t.Errorf("decision record %v, want sendError %s at ERROR", d, tt.wantKind)
			}
			if strings.Contains(logs.String(), "123456789012") || strings.Contains(logs.String(), "someone@") {
				t.Errorf("the log carries the send error's text or an address: %s", logs)
			}
		})
	}
}

// withSubOf is withSub for any username.
func withSubOf(fake *cognitofake.Server, username string, attrs map[string]string) map[string]string {
	out := map[string]string{"sub": fake.Sub(verifyPool, username)}
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

// TestDeferralNothingToDefer checks that nothing is sent when every group
// was added, and that a user who cannot be read back is not deferred:
// nothing was decided, so onError applies.
func TestDeferralNothingToDefer(t *testing.T) {
	t.Run("all added", func(t *testing.T) {
		q := &fakeSQS{}
		h, _, _, event := newDeferringHandler(t, "fail", fastOptions, q)
		rec, _, err := h.Handle(t.Context(), event)
		if err != nil || rec.Outcome != trigger.OutcomeOK || len(q.bodies) != 0 {
			t.Errorf("Handle: outcome %s, %v, %d sends; want ok, no error, no send", rec.Outcome, err, len(q.bodies))
		}
	})
	t.Run("read throttled", func(t *testing.T) {
		q := &fakeSQS{}
		h, fake, _, event := newDeferringHandler(t, "fail", fastOptions, q)
		fake.Inject(cognitofake.Fault{Op: "AdminGetUser", Type: "TooManyRequestsException", Message: "Too many requests."})
		rec, _, err := h.Handle(t.Context(), event)
		if !errors.Is(err, ErrAssignment) || rec.Outcome != trigger.OutcomeFailed || len(q.bodies) != 0 {
			t.Errorf("Handle: outcome %s, %v, %d sends; want failed, ErrAssignment, no send", rec.Outcome, err, len(q.bodies))
		}
		if n := len(fake.CallsTo("AdminGetUser")); n != 1 {
			t.Errorf("AdminGetUser calls = %d, want 1 (a throttle is not retried)", n)
		}
	})
}

// TestDeferralKeepsTimeToSend checks that, under an invocation deadline
// shorter than the budget, the adds end early enough for the send to get
// its reserve before the deadline.
func TestDeferralKeepsTimeToSend(t *testing.T) {
	q := &fakeSQS{}
	h, fake, _, event := newDeferringHandler(t, "fail", membership.Options{Budget: 10 * time.Second}, q)
	fake.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Hang: true})
	ctx, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rec, _, err := h.Handle(ctx, event)
	if err != nil || rec.Outcome != trigger.OutcomeDeferred {
		t.Fatalf("Handle: outcome %s, %v; want deferred", rec.Outcome, err)
	}
	if len(q.bodies) != 1 {
		t.Fatalf("SendMessage calls = %d, want 1", len(q.bodies))
	}
	if left := time.Until(deadline); left < 0 {
		t.Errorf("the send ended %v after the invocation's deadline", -left)
	}
	if q.deadlines[0].After(deadline) {
		t.Errorf("the send's deadline %v is after the invocation's %v", q.deadlines[0], deadline)
	}
}

// TestNewFromEnvRetryQueue checks that a bad AUTOGROUP_RETRY_QUEUE_URL
// stops the function from starting, naming the variable.
func TestNewFromEnvRetryQueue(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
		"AUTOGROUP_RETRY_QUEUE_URL": "not a url",
	}
	_, err := NewFromEnv(t.Context(), slog.New(slog.DiscardHandler), func(k string) string { return env[k] }, nil)
	if err == nil || !strings.Contains(err.Error(), "AUTOGROUP_RETRY_QUEUE_URL") {
		t.Errorf("NewFromEnv = %v, want an error naming AUTOGROUP_RETRY_QUEUE_URL", err)
	}
}
