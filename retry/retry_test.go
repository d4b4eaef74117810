package retry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

const pool = "us-east-1_Ab12Cd34E"

// sub returns a UUID-shaped sub for user number n.
func sub(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// body encodes a message for user n (username = sub, as in pools that
// sign in with email) with the groups.
func body(t testing.TB, n int, groups ...string) string {
	t.Helper()
	m := retryqueue.Message{
		UserPoolID: pool, Username: sub(n), Sub: sub(n),
		Source: retryqueue.SourcePostConfirmation, EnqueuedAt: time.Now().Add(-time.Minute),
	}
	for _, g := range groups {
		m.Groups = append(m.Groups, retryqueue.Group{Name: g, Reason: membership.KindThrottled, Code: "TooManyRequestsException"})
	}
	b, err := retryqueue.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// logged is a consumer's log, one JSON object per line.
type logged struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logged) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logged) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the "retry" records, by messageId.
func (l *logged) records(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for line := range strings.Lines(l.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if r["msg"] == "retry" {
			id, _ := r["messageId"].(string)
			out[id] = r
		}
	}
	return out
}

func newConsumer(t *testing.T, api membership.API, o Options) (*Consumer, *logged) {
	t.Helper()
	holder, err := rulesource.Load(context.Background(), rulesource.Embedded(), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := &logged{}
	if o.Rate == 0 {
		o.Rate = MaxRate // fast tests; TestRateLimit checks the pace
	}
	c, err := New(api, holder, slog.New(slog.NewJSONHandler(l, nil)), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, l
}

func failedIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestHandle(t *testing.T) {
	const email = "jane.doe@example.com"
	tests := []struct {
		name        string
		setup       func(*cognitofake.Server)
		records     func(t *testing.T) []events.SQSMessage
		wantFailed  []string
		wantOutcome map[string]Outcome
		wantKinds   map[string][]string // messageId -> result kinds
		wantMembers map[string][]string // group -> members
	}{
		{
			name: "all in place",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record("m1", body(t, 1, "staff", "engineering")), record("m2", body(t, 2, "staff"))}
			},
			wantFailed:  []string{},
			wantOutcome: map[string]Outcome{"m1": OutcomeOK, "m2": OutcomeOK},
			wantKinds:   map[string][]string{"m1": {"ok", "ok"}, "m2": {"ok"}},
			wantMembers: map[string][]string{"staff": {sub(1), sub(2)}, "engineering": {sub(1)}},
		},
		{
			name:  "already a member",
			setup: func(s *cognitofake.Server) { s.AddToGroup(pool, "staff", sub(1)) },
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record("m1", body(t, 1, "staff"))}
			},
			wantFailed:  []string{},
			wantOutcome: map[string]Outcome{"m1": OutcomeOK},
			wantMembers: map[string][]string{"staff": {sub(1)}},
		},
		{
			name:  "throttled",
			setup: func(s *cognitofake.Server) { s.AlwaysThrottle() },
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record("m1", body(t, 1, "staff"))}
			},
			wantFailed:  []string{"m1"},
			wantOutcome: map[string]Outcome{"m1": OutcomeRetry},
			wantKinds:   map[string][]string{"m1": {"throttled"}},
		},
		{
			name: "group missing",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record("m1", body(t, 1, "staff", "no-such-group")), record("m2", body(t, 2, "staff"))}
			},
			wantFailed:  []string{"m1"},
			wantOutcome: map[string]Outcome{"m1": OutcomeRetry, "m2": OutcomeOK},
			wantKinds:   map[string][]string{"m1": {"ok", "group_not_found"}},
			wantMembers: map[string][]string{"staff": {sub(1), sub(2)}},
		},
		{
			name: "bad bodies",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					record("m1", `{"email":"`+email+`"}`),
					record("m2", strings.Replace(body(t, 2, "staff"), `"v":1`, `"v":2`, 1)),
					record("m3", email),
					record("m4", body(t, 4, "staff")),
				}
			},
			wantFailed:  []string{"m1", "m2", "m3"},
			wantOutcome: map[string]Outcome{"m1": OutcomeInvalid, "m2": OutcomeInvalid, "m3": OutcomeInvalid, "m4": OutcomeOK},
			wantMembers: map[string][]string{"staff": {sub(4)}},
		},
		{
			name: "same message twice in a batch",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record("m1", "x"), record("m1", "x")}
			},
			wantFailed: []string{"m1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cognitofake.New(t)
			s.CreateGroup(pool, "staff")
			s.CreateGroup(pool, "engineering")
			if tt.setup != nil {
				tt.setup(s)
			}
			c, l := newConsumer(t, s.Client(t), Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			resp, err := c.Handle(ctx, events.SQSEvent{Records: tt.records(t)})
			if err != nil {
				t.Fatalf("Handle() error = %v", err)
			}
			if diff := cmp.Diff(tt.wantFailed, failedIDs(resp)); diff != "" {
				t.Errorf("batch item failures mismatch (-want +got):\n%s", diff)
			}
			recs := l.records(t)
			for id, want := range tt.wantOutcome {
				if got := recs[id]["outcome"]; got != string(want) {
					t.Errorf("record of %s: outcome = %v, want %s", id, got, want)
				}
			}
			for id, want := range tt.wantKinds {
				var got []string
				results, _ := recs[id]["results"].([]any)
				for _, r := range results {
					got = append(got, r.(map[string]any)["kind"].(string))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("record of %s: result kinds mismatch (-want +got):\n%s", id, diff)
				}
			}
			for g, want := range tt.wantMembers {
				if diff := cmp.Diff(want, s.Members(pool, g)); diff != "" {
					t.Errorf("members of %s mismatch (-want +got):\n%s", g, diff)
				}
			}
			if strings.Contains(l.String(), email) || strings.Contains(l.String(), "jane") {
				t.Errorf("the log carries a body's content:\n%s", l)
			}
		})
	}
}

// TestInvalidRecordSaysWhyWithoutTheBody checks what the log says of a body
// that does not decode.
func TestInvalidRecordSaysWhyWithoutTheBody(t *testing.T) {
	s := cognitofake.New(t)
	c, l := newConsumer(t, s.Client(t), Options{})
	bad := strings.Replace(body(t, 1, "staff"), sub(1)+`","sub"`, `jane@example.com","sub"`, 1)
	if _, err := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("m1", bad)}}); err != nil {
		t.Fatal(err)
	}
	r := l.records(t)["m1"]
	if r["level"] != "ERROR" || r["outcome"] != "invalid" || r["bytes"] != float64(len(bad)) {
		t.Errorf("record = %v, want level ERROR, outcome invalid and the body's size", r)
	}
	if e, _ := r["error"].(string); !strings.Contains(e, "username: looks like an email address") {
		t.Errorf("record error = %q, want it to say what is wrong", e)
	}
	if _, ok := r["sub"]; ok {
		t.Errorf("record of an undecodable message carries a sub: %v", r)
	}
	if strings.Contains(l.String(), "jane") {
		t.Errorf("the log carries the body's content:\n%s", l)
	}
	if n := len(s.Calls()); n != 0 {
		t.Errorf("an invalid message made %d Cognito calls, want 0", n)
	}
}

func TestUnnamedFailureFailsTheBatch(t *testing.T) {
	s := cognitofake.New(t)
	c, _ := newConsumer(t, s.Client(t), Options{})
	_, err := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("", "not a message")}})
	if err == nil {
		t.Fatal("Handle() of a failing message without messageId succeeded, want an error (no empty itemIdentifier)")
	}
}

// TestDeadlineListsWhatWasNotReached runs in a synctest bubble, where time
// is exact: each call takes 150ms, the invocation has 500ms, of which the
// consumer keeps 100ms to answer.
func TestDeadlineListsWhatWasNotReached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &clockedAPI{delay: 150 * time.Millisecond}
		c, l := newConsumer(t, api, Options{Reserve: 100 * time.Millisecond})
		var recs []events.SQSMessage
		for i := range 10 {
			recs = append(recs, record(fmt.Sprintf("m%d", i), body(t, i, "staff")))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		resp, err := c.Handle(ctx, events.SQSEvent{Records: recs})
		if err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed != 400*time.Millisecond {
			t.Errorf("Handle took %s with a 500ms deadline and a 100ms reserve, want 400ms", elapsed)
		}
		// m0 and m1 complete (0-150ms, 150-300ms); m2's call is cut off at
		// 400ms; the others are not attempted.
		want := []string{"m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}
		if diff := cmp.Diff(want, failedIDs(resp)); diff != "" {
			t.Errorf("batch item failures mismatch (-want +got):\n%s", diff)
		}
		recsLogged := l.records(t)
		if got := recsLogged["m2"]["error"]; got != nil {
			t.Errorf("m2's record has error %v, want none: it was attempted", got)
		}
		for _, id := range want[1:] {
			if e, _ := recsLogged[id]["error"].(string); !strings.HasPrefix(e, "not attempted") {
				t.Errorf("record of %s: error = %q, want it to say the message was not attempted", id, e)
			}
		}
		if n := len(api.calls); n != 3 {
			t.Errorf("%d calls, want 3", n)
		}
	})
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name        string
		verdict     Verdict
		err         error
		wantListed  bool
		wantOutcome Outcome
	}{
		{"proceed", Proceed, nil, false, OutcomeOK},
		{"excluded", Excluded, nil, false, OutcomeExcluded},
		{"mismatch", Mismatch, nil, true, OutcomeInvalid},
		{"cannot verify now", Proceed, errors.New("read the user: throttled"), true, OutcomeRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cognitofake.New(t)
			s.CreateGroup(pool, "staff")
			var asked []string
			verify := func(_ context.Context, m *retryqueue.Message, rs *rules.Ruleset) (Verdict, error) {
				if rs == nil {
					t.Error("Verify got no ruleset")
				}
				asked = append(asked, m.Sub)
				return tt.verdict, tt.err
			}
			c, l := newConsumer(t, s.Client(t), Options{Verify: verify})
			resp, err := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("m1", body(t, 1, "staff"))}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{sub(1)}, asked); diff != "" {
				t.Errorf("Verify calls mismatch (-want +got):\n%s", diff)
			}
			if got := len(resp.BatchItemFailures) == 1; got != tt.wantListed {
				t.Errorf("listed = %v, want %v", got, tt.wantListed)
			}
			if got := l.records(t)["m1"]["outcome"]; got != string(tt.wantOutcome) {
				t.Errorf("outcome = %v, want %s", got, tt.wantOutcome)
			}
			wantCalls := 0
			if tt.wantOutcome == OutcomeOK {
				wantCalls = 1
			}
			if got := len(s.CallsTo("AdminAddUserToGroup")); got != wantCalls {
				t.Errorf("%d AdminAddUserToGroup calls, want %d", got, wantCalls)
			}
		})
	}
}

// clockedAPI records when each call was made and answers after delay, or
// when the call's context ends; it runs inside a synctest bubble, where
// time is exact.
type clockedAPI struct {
	delay time.Duration
	mu    sync.Mutex
	calls []time.Time
}

func (a *clockedAPI) AdminAddUserToGroup(ctx context.Context, _ *cip.AdminAddUserToGroupInput, _ ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error) {
	a.mu.Lock()
	a.calls = append(a.calls, time.Now())
	a.mu.Unlock()
	select {
	case <-time.After(a.delay):
		return &cip.AdminAddUserToGroupOutput{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &clockedAPI{}
		c, _ := newConsumer(t, api, Options{Rate: 4})
		var recs []events.SQSMessage
		for i := range 5 {
			recs = append(recs, record(fmt.Sprintf("m%d", i), body(t, i, "a", "b")))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		resp, err := c.Handle(ctx, events.SQSEvent{Records: recs})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle() = %v, %v, want no failures", resp, err)
		}
		if len(api.calls) != 10 {
			t.Fatalf("%d calls, want 10", len(api.calls))
		}
		for i := 1; i < len(api.calls); i++ {
			if gap := api.calls[i].Sub(api.calls[i-1]); gap < 250*time.Millisecond {
				t.Errorf("call %d came %s after the previous one, want at least 250ms at 4 calls/s", i, gap)
			}
		}
	})
}

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		value   string
		want    float64
		wantErr bool
	}{
		{"", 0, false},
		{"5", 5, false},
		{"0.5", 0.5, false},
		{"25", 25, false},
		{"26", 0, true},
		{"0", 0, true},
		{"-1", 0, true},
		{"NaN", 0, true},
		{"fast", 0, true},
	}
	for _, tt := range tests {
		o, err := OptionsFromEnv(func(k string) string {
			if k == "AUTOGROUP_RETRY_RATE" {
				return tt.value
			}
			return ""
		})
		if (err != nil) != tt.wantErr || o.Rate != tt.want {
			t.Errorf("OptionsFromEnv(AUTOGROUP_RETRY_RATE=%q) = %v, %v, want rate %v, error %v", tt.value, o.Rate, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "AUTOGROUP_RETRY_RATE") {
			t.Errorf("error %q does not name the variable", err)
		}
	}
}

func TestNewRefusesBadRate(t *testing.T) {
	holder, _ := rulesource.Load(context.Background(), rulesource.Embedded(), nil)
	for _, r := range []float64{-1, 26} {
		if _, err := New(&clockedAPI{}, holder, slog.Default(), Options{Rate: r}); err == nil {
			t.Errorf("New(rate %v) succeeded, want an error", r)
		}
	}
}
