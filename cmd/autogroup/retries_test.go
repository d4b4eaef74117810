package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

const (
	testDLQ   = "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry-dlq"
	testRetry = "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry"
)

// runSQS runs the tool with args against q. Sending on interrupts (may be
// nil) interrupts it.
func runSQS(t *testing.T, q *fakeSQS, interrupts chan os.Signal, args ...string) fakeRun {
	t.Helper()
	if interrupts == nil {
		interrupts = make(chan os.Signal)
	}
	var stdout, stderr bytes.Buffer
	e := &env{
		stdout: &stdout, stderr: &stderr, ctx: t.Context(), interrupts: interrupts,
		sqs: func(context.Context) (sqsAPI, error) { return q, nil },
	}
	code := e.run(args)
	return fakeRun{code, stdout.String(), stderr.String()}
}

// dead is a message of the test dead-letter queue.
type dead struct {
	username, sub string
	groups        []retryqueue.Group
	source        retryqueue.Source
	enqueued      time.Time
}

var (
	notFound  = retryqueue.Group{Name: "contractors", Reason: membership.KindGroupNotFound, Code: "ResourceNotFoundException"}
	throttled = retryqueue.Group{Name: "staff", Reason: membership.KindThrottled, Code: "TooManyRequestsException"}
	denied    = retryqueue.Group{Name: "staff", Reason: membership.KindAccessDenied, Code: "AccessDeniedException"}
)

// deadLetters are the test dead-letter queue's retry messages: four for
// three users, one of whom has a username of their own (which the report
// never prints).
var deadLetters = []dead{
	{"7f3e8a52-1c4b-4d2e-9a6f-0b1c2d3e4f50", "7f3e8a52-1c4b-4d2e-9a6f-0b1c2d3e4f50", []retryqueue.Group{notFound}, retryqueue.SourcePostConfirmation, time.Date(2026, 11, 30, 9, 15, 5, 0, time.UTC)},
	{"jdoe", "0b7c5a2e-6f1d-4c3b-9a8e-2d4f6b8c0e1a", []retryqueue.Group{notFound, throttled}, retryqueue.SourcePostConfirmation, time.Date(2026, 11, 30, 9, 15, 7, 0, time.UTC)},
	{"c4d5e6f7-0000-4000-8000-00000000abcd", "c4d5e6f7-0000-4000-8000-00000000abcd", []retryqueue.Group{denied}, retryqueue.SourceBackfill, time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC)},
	{"jdoe", "0b7c5a2e-6f1d-4c3b-9a8e-2d4f6b8c0e1a", []retryqueue.Group{notFound}, retryqueue.SourcePreTokenGeneration, time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)},
}

// newDLQ returns a fake with the dead letters and, third, a message that
// does not decode; it returns the bodies of the retry messages.
func newDLQ(t *testing.T) (*fakeSQS, []string) {
	t.Helper()
	q := newFakeSQS()
	var bodies []string
	for i, d := range deadLetters {
		body, err := retryqueue.Encode(retryqueue.Message{
			UserPoolID: "us-east-1_Ab12Cd34E", Username: d.username, Sub: d.sub, Groups: d.groups,
			Source: d.source, FirstFailedAt: d.enqueued.Add(-3 * time.Second), EnqueuedAt: d.enqueued,
		})
		if err != nil {
			t.Fatal(err)
		}
		attrs := map[string]types.MessageAttributeValue{"trace": {DataType: aws.String("String"), StringValue: aws.String(fmt.Sprint("t", i))}}
		q.put(testDLQ, string(body), attrs)
		bodies = append(bodies, string(body))
		if i == 1 {
			q.put(testDLQ, "not a retry message", nil)
		}
	}
	return q, bodies
}

func TestRetriesLook(t *testing.T) {
	q, _ := newDLQ(t)
	before := q.bodies(testDLQ)
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ)
	got := fmt.Sprintf("-- exit --\n%d\n-- stdout --\n%s-- stderr --\n%s", r.code, r.stdout, r.stderr)
	golden(t, filepath.Join("testdata", "golden", "retries-look.golden"), got)

	if diff := cmp.Diff(before, q.bodies(testDLQ)); diff != "" {
		t.Errorf("the dead-letter queue changed (-before +after):\n%s", diff)
	}
	if inFlight := q.invisible(testDLQ); len(inFlight) != 0 {
		t.Errorf("messages %v are still invisible after the run, want every one visible again", inFlight)
	}
	if n := len(q.callsOf("SendMessage")) + len(q.callsOf("DeleteMessage")); n != 0 {
		t.Errorf("%d sends and deletes, want none", n)
	}
	if strings.Contains(r.stdout, "jdoe") {
		t.Errorf("the report prints a username:\n%s", r.stdout)
	}
}

func TestRetriesJSON(t *testing.T) {
	q, _ := newDLQ(t)
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--json")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	var rep retriesReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Errorf("stdout holds more than one JSON value:\n%s", r.stdout)
	}
	if rep.Messages != 5 || rep.Users != 3 || rep.Undecodable != 1 || rep.Moved != 0 || rep.Truncated || rep.Redrive {
		t.Errorf("report = %+v, want 5 messages, 3 users, 1 undecodable, nothing moved", rep)
	}
	for name, tt := range map[string]struct{ got, want map[string]int }{
		"byGroup":  {rep.ByGroup, map[string]int{"contractors": 3, "staff": 2}},
		"byReason": {rep.ByReason, map[string]int{"group_not_found": 3, "throttled": 1, "access_denied": 1}},
		"bySource": {rep.BySource, map[string]int{"post-confirmation": 2, "backfill": 1, "pre-token-generation": 1}},
	} {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if rep.Oldest != "2026-11-29T22:00:00Z" || rep.Newest != "2026-11-30T11:00:00Z" {
		t.Errorf("oldest %q, newest %q", rep.Oldest, rep.Newest)
	}
	want := retryEntry{MessageID: "m02", Sub: deadLetters[1].sub, UserPoolID: "us-east-1_Ab12Cd34E", Source: "post-confirmation",
		Groups: []retryGroup{
			{Name: "contractors", Reason: "group_not_found", Code: "ResourceNotFoundException"},
			{Name: "staff", Reason: "throttled", Code: "TooManyRequestsException"},
		},
		EnqueuedAt: "2026-11-30T09:15:07Z", FirstFailedAt: "2026-11-30T09:15:04Z"}
	if len(rep.Entries) != 5 {
		t.Fatalf("%d entries, want 5", len(rep.Entries))
	}
	if diff := cmp.Diff(want, rep.Entries[1]); diff != "" {
		t.Errorf("entry of m02 (-want +got):\n%s", diff)
	}
	if e := rep.Entries[2]; e.MessageID != "m03" || !strings.HasPrefix(e.Error, "invalid retry message: not valid JSON") || e.Sub != "" {
		t.Errorf("entry of the message that does not decode = %+v", e)
	}
	if strings.Contains(r.stdout, "jdoe") {
		t.Errorf("the report carries a username:\n%s", r.stdout)
	}
}

func TestRetriesRedrive(t *testing.T) {
	q, bodies := newDLQ(t)
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--redrive", "--to", testRetry)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// Each body goes to the retry queue unchanged, with its attributes.
	if diff := cmp.Diff(bodies, q.bodies(testRetry)); diff != "" {
		t.Errorf("bodies in the retry queue (-want +got):\n%s", diff)
	}
	q.mu.Lock()
	if v := q.queues[testRetry][3].attrs["trace"]; aws.ToString(v.StringValue) != "t3" {
		t.Errorf("message attribute trace = %v, want t3", v.StringValue)
	}
	q.mu.Unlock()
	// Only what does not decode stays, visible again.
	if diff := cmp.Diff([]string{"not a retry message"}, q.bodies(testDLQ)); diff != "" {
		t.Errorf("dead-letter queue after the redrive (-want +got):\n%s", diff)
	}
	if inFlight := q.invisible(testDLQ); len(inFlight) != 0 {
		t.Errorf("messages %v are invisible after the run", inFlight)
	}
	// One by one: a message is sent before it is deleted, and deleted
	// before the next is sent.
	var moves []string
	for _, c := range q.calls {
		f := strings.Fields(c)
		switch f[0] {
		case "SendMessage":
			moves = append(moves, "send")
		case "DeleteMessage":
			moves = append(moves, "delete "+f[2])
		}
	}
	want := []string{"send", "delete m01", "send", "delete m02", "send", "delete m04", "send", "delete m05"}
	if diff := cmp.Diff(want, moves); diff != "" {
		t.Errorf("sends and deletes (-want +got):\n%s", diff)
	}
	for _, s := range []string{
		"mode:              redrive: each message that decodes is sent to " + testRetry + ", then deleted here\n",
		"moved      0b7c5a2e-6f1d-4c3b-9a8e-2d4f6b8c0e1a  us-east-1_Ab12Cd34E  contractors (group_not_found), staff (throttled)  post-confirmation, enqueued 2026-11-30T09:15:07Z\n",
		"unreadable m03  invalid retry message: not valid JSON (at byte 2)\n",
		"result:      4 moved to " + testRetry + ", 0 failed; 1 that does not decode stays in the dead-letter queue\n",
	} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
}

func TestRetriesPreview(t *testing.T) {
	q, _ := newDLQ(t)
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--to", testRetry)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if n := len(q.bodies(testRetry)); n != 0 || len(q.bodies(testDLQ)) != 5 {
		t.Errorf("a preview moved messages: %d in the retry queue", n)
	}
	for _, s := range []string{
		"mode:              redrive preview: nothing is moved (--redrive moves the messages to " + testRetry + ")\n",
		"would move 7f3e8a52-1c4b-4d2e-9a6f-0b1c2d3e4f50  us-east-1_Ab12Cd34E  contractors (group_not_found)",
		"result:      nothing moved; --redrive would move 4 messages to " + testRetry + "; 1 that does not decode stays in the dead-letter queue\n",
	} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
}

func TestRetriesRedriveFailures(t *testing.T) {
	tests := []struct {
		name       string
		op         string
		wantMoved  int
		wantRetry  int // messages in the retry queue after the run
		wantDLQ    int
		wantReport string
	}{
		{"send", "SendMessage", 1, 1, 4,
			"  m02  0b7c5a2e-6f1d-4c3b-9a8e-2d4f6b8c0e1a  not moved: send to " + testRetry + ": AccessDenied: Access to the resource is denied. (the caller needs IAM permission sqs:SendMessage on the queue, and on its KMS key if it has one)\n"},
		{"delete", "DeleteMessage", 2, 2, 4,
			"  m02  0b7c5a2e-6f1d-4c3b-9a8e-2d4f6b8c0e1a  sent, but still in the dead-letter queue: a later --redrive sends it again, which is harmless: delete from the dead-letter queue: AccessDenied: Access to the resource is denied. (the caller needs IAM permission sqs:DeleteMessage on the queue, and on its KMS key if it has one)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := newDLQ(t)
			q.fail[tt.op] = fakeFailure{nth: 2, err: apiError("AccessDenied", "Access to the resource is denied.")}
			r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--redrive", "--to", testRetry, "--json")
			if r.code != exitProblems {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			var rep retriesReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Moved != tt.wantMoved || len(rep.Failures) != 1 || rep.Failures[0].MessageID != "m02" {
				t.Errorf("moved %d, failures %+v; want %d moved and m02 failed", rep.Moved, rep.Failures, tt.wantMoved)
			}
			if got := len(q.bodies(testRetry)); got != tt.wantRetry {
				t.Errorf("%d messages in the retry queue, want %d", got, tt.wantRetry)
			}
			if got := len(q.bodies(testDLQ)); got != tt.wantDLQ {
				t.Errorf("%d messages in the dead-letter queue, want %d", got, tt.wantDLQ)
			}
			if inFlight := q.invisible(testDLQ); len(inFlight) != 0 {
				t.Errorf("messages %v are invisible after the run, want every one left visible again", inFlight)
			}
			// The text report names the failure.
			q2, _ := newDLQ(t)
			q2.fail[tt.op] = q.fail[tt.op]
			text := runSQS(t, q2, nil, "retries", "--queue", testDLQ, "--redrive", "--to", testRetry)
			if !strings.Contains(text.stdout, "not moved (1):\n"+tt.wantReport) {
				t.Errorf("stdout lacks the failure %q:\n%s", tt.wantReport, text.stdout)
			}
			if !strings.Contains(text.stderr, "the redrive stopped at a message it could not move") {
				t.Errorf("stderr = %q", text.stderr)
			}
		})
	}
}

func TestRetriesMax(t *testing.T) {
	q := newFakeSQS()
	for i := range 25 {
		body, err := retryqueue.Encode(retryqueue.Message{
			UserPoolID: "us-east-1_Ab12Cd34E", Username: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Sub: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Groups: []retryqueue.Group{throttled}, Source: retryqueue.SourcePostConfirmation, EnqueuedAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		q.put(testDLQ, string(body), nil)
	}
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--max", "12")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"messages:    12 read: 12 retry messages for 12 users\n", "note:        stopped at --max 12: more messages may wait\n"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	if receives := q.callsOf("ReceiveMessage"); len(receives) != 2 {
		t.Errorf("%d receives, want 2 (10, then 2)", len(receives))
	}
	if inFlight := q.invisible(testDLQ); len(inFlight) != 0 {
		t.Errorf("messages %v are invisible after the run", inFlight)
	}
}

// TestRetriesStaleReceives: when every receive brings back messages
// already read (their visibility ran out), the scan ends instead of reading
// them forever.
func TestRetriesStaleReceives(t *testing.T) {
	q, _ := newDLQ(t)
	q.ignoreVisibility = true
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if n := len(q.callsOf("ReceiveMessage")); n != 1+staleReceives {
		t.Errorf("%d receives, want %d", n, 1+staleReceives)
	}
	var rep retriesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Messages != 5 {
		t.Errorf("report: %d messages (%v), want each of the 5 once", rep.Messages, err)
	}
}

func TestRetriesUnreadableQueue(t *testing.T) {
	q, _ := newDLQ(t)
	q.fail["ReceiveMessage"] = fakeFailure{err: apiError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")}
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--json")
	want := "autogroup retries: cannot read the dead-letter queue " + testDLQ + ": AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist. (check the queue URL and the region)\n"
	if r.code != exitUsage || r.stderr != want || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", r.code, r.stdout, r.stderr, want)
	}
}

func TestRetriesInterrupted(t *testing.T) {
	q, _ := newDLQ(t)
	interrupts := make(chan os.Signal, 1)
	sends := 0
	q.onCall = func(op string) {
		if op == "SendMessage" {
			if sends++; sends == 1 {
				interrupts <- os.Interrupt
				time.Sleep(300 * time.Millisecond) // for the run to see it
			}
		}
	}
	r := runSQS(t, q, interrupts, "retries", "--queue", testDLQ, "--redrive", "--to", testRetry, "--json")
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitInterrupted, r.stdout, r.stderr)
	}
	var rep retriesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	// The first interrupt lets the message in flight finish: it is moved,
	// not left half-way, and no other starts.
	moved := len(q.bodies(testRetry))
	if !rep.Interrupted || rep.Moved != 1 || moved != 1 {
		t.Errorf("interrupted %v, moved %d (%d in the retry queue); want 1 moved", rep.Interrupted, rep.Moved, moved)
	}
	if got := len(q.bodies(testDLQ)); got != 5-moved {
		t.Errorf("%d left in the dead-letter queue, want %d", got, 5-moved)
	}
	if inFlight := q.invisible(testDLQ); len(inFlight) != 0 {
		t.Errorf("messages %v are invisible after the run", inFlight)
	}
	if !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestRetriesUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"retries"}, "--queue or --stack is required"},
		{[]string{"retries", "--queue", testDLQ, "--redrive"}, "--redrive needs --to"},
		{[]string{"retries", "--queue", "autogroup-retry-dlq"}, "--queue: want a queue URL"},
		{[]string{"retries", "--queue", testDLQ, "--to", "https://sqs.us-east-1.amazonaws.com/"}, "--to: want a queue URL"},
		{[]string{"retries", "--queue", testDLQ, "--to", testDLQ}, "--to is the dead-letter queue itself"},
		{[]string{"retries", "--queue", testDLQ, "--max", "0"}, "--max must be at least 1"},
		{[]string{"retries", "--queue", testDLQ, "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		q := newFakeSQS()
		r := runSQS(t, q, nil, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		if len(q.calls) != 0 {
			t.Errorf("%v: %d SQS calls, want none", tt.args, len(q.calls))
		}
	}
}

func TestCounts(t *testing.T) {
	got := counts(map[string]int{"staff": 1, "contractors": 5, "beta": 1})
	if want := "contractors 5, beta 1, staff 1"; got != want {
		t.Errorf("counts() = %q, want %q", got, want)
	}
	if got := counts(nil); got != "" {
		t.Errorf("counts(nil) = %q, want empty", got)
	}
}

// TestRetriesEscapes: what SQS says is printed with control characters
// made visible, so that an error message cannot rewrite the terminal.
func TestRetriesEscapes(t *testing.T) {
	q, _ := newDLQ(t)
	q.fail["SendMessage"] = fakeFailure{nth: 1, err: apiError("InternalError", "boom\x1b[2J\u202e")}
	r := runSQS(t, q, nil, "retries", "--queue", testDLQ, "--redrive", "--to", testRetry)
	if strings.ContainsAny(r.stdout+r.stderr, "\x1b\u202e") || !strings.Contains(r.stdout, `boom\x1b[2J\u202e`) {
		t.Errorf("the error is not printed escaped:\n%q", r.stdout)
	}
}
