package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue/batch"
)

const testQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry"

// fakeQueue records the bodies of SendMessageBatch calls; call n (from 0)
// fails as a whole with failCall[n] when set.
type fakeQueue struct {
	mu       sync.Mutex
	calls    [][]string
	failCall map[int]error
}

func (f *fakeQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var bodies []string
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		bodies = append(bodies, aws.ToString(e.MessageBody))
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m" + aws.ToString(e.Id))})
	}
	n := len(f.calls)
	f.calls = append(f.calls, bodies)
	if err := f.failCall[n]; err != nil {
		return nil, err
	}
	return out, nil
}

// subOf returns a UUID-shaped sub for user i.
func subOf(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// queuePlan has n users who each lack customers, then users with a
// missing group and one whose username is an email address.
func queuePlan(n int) *Plan {
	p := &Plan{Version: FormatVersion, Pool: testPool, MissingGroups: []string{"invitees"}}
	for i := range n {
		p.Users = append(p.Users, UserPlan{Username: subOf(i), Sub: subOf(i), Groups: []string{"customers"}, Add: []string{"customers"}})
	}
	p.Users = append(p.Users,
		UserPlan{Username: "fay", Sub: subOf(100), Groups: []string{"invitees", "staff"},
			Add: []string{"staff"}, Skipped: []SkippedGroup{{"invitees", ReasonGroupMissing}}},
		UserPlan{Username: subOf(101), Sub: subOf(101), Groups: []string{"invitees"}, Skipped: []SkippedGroup{{"invitees", ReasonGroupMissing}}},
		UserPlan{Username: "gus@example.com", Sub: subOf(102), Groups: []string{"staff", "paid"}, Add: []string{"staff", "paid"}},
		// Nothing to do: not sent, not counted.
		UserPlan{Username: subOf(103), Sub: subOf(103), Groups: []string{"staff"}, Skipped: []SkippedGroup{{"staff", ReasonAlreadyMember}}},
	)
	return p
}

func TestQueueApply(t *testing.T) {
	api := &fakeQueue{}
	sender, err := batch.NewSender(api, testQueue)
	if err != nil {
		t.Fatal(err)
	}
	enqueued := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var order []string
	results := map[string]UserResult{}
	a := &QueueApplier{Sender: sender, Now: func() time.Time { return enqueued }, OnUser: func(r UserResult) {
		order = append(order, r.User.Sub)
		results[r.User.Sub] = r
	}}
	p := queuePlan(18)
	out := a.Apply(t.Context(), p)

	// 18 + fay + gus have a message: two chunks of 10. The user with only
	// a missing group rides in the second, sending nothing, and gus's
	// message is refused before the call.
	if len(api.calls) != 2 || len(api.calls[0]) != 10 || len(api.calls[1]) != 9 {
		t.Fatalf("calls = %d, want 2 of 10 and 9 entries", len(api.calls))
	}
	want := retryqueue.Message{UserPoolID: testPool, Username: subOf(0), Sub: subOf(0),
		Groups: []retryqueue.Group{{Name: "customers", Reason: retryqueue.ReasonNotAttempted}},
		Source: retryqueue.SourceBackfill, EnqueuedAt: enqueued}
	first, err := retryqueue.Decode([]byte(api.calls[0][0]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first message (-want +got):\n%s", diff)
	}
	fay, err := retryqueue.Decode([]byte(api.calls[1][8]))
	if err != nil {
		t.Fatal(err)
	}
	if got := fay.GroupNames(); fay.Username != "fay" || !cmp.Equal(got, []string{"staff"}) {
		t.Errorf("fay's message: username %q, groups %v; want fay, [staff] (the missing group is not queued)", fay.Username, got)
	}
	for _, c := range api.calls {
		for _, body := range c {
			if strings.Contains(body, "@") {
				t.Errorf("a message carries an email address: %s", body)
			}
		}
	}

	if got, wantP := out.Progress, (Progress{Users: 21, UsersDone: 21, Memberships: 23, Queued: 19, Failed: 4}); got != wantP {
		t.Errorf("progress = %+v, want %+v", got, wantP)
	}
	var wantOrder []string
	for _, u := range p.Users[:21] {
		wantOrder = append(wantOrder, u.Sub)
	}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("OnUser order (-want +got):\n%s", diff)
	}
	kinds := func(fs []Failure) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Group+" "+f.Kind)
		}
		return out
	}
	if r := results[subOf(100)]; !cmp.Equal(r.Queued, []string{"staff"}) || !cmp.Equal(kinds(r.Failures), []string{"invitees group_not_found"}) {
		t.Errorf("fay: queued %v, failures %v; want staff queued, invitees not found", r.Queued, kinds(r.Failures))
	}
	if r := results[subOf(101)]; len(r.Queued) != 0 || !cmp.Equal(kinds(r.Failures), []string{"invitees group_not_found"}) {
		t.Errorf("user with a missing group only: queued %v, failures %v", r.Queued, kinds(r.Failures))
	}
	gus := results[subOf(102)]
	if len(gus.Queued) != 0 || !cmp.Equal(kinds(gus.Failures), []string{"staff not_queueable", "paid not_queueable"}) {
		t.Errorf("user named by an address: queued %v, failures %v; want both groups not_queueable", gus.Queued, kinds(gus.Failures))
	}
	for _, f := range gus.Failures {
		if f.Username != "" || f.Sub != subOf(102) || strings.Contains(f.Message, "gus") {
			t.Errorf("failure %+v names the user by address", f)
		}
	}
	if len(out.Failures) != 4 {
		t.Errorf("outcome has %d failures, want 4", len(out.Failures))
	}
}

func TestQueueApplyStopsAtAFailedCall(t *testing.T) {
	cause := errors.New("AccessDenied: not authorized to perform sqs:SendMessage")
	api := &fakeQueue{failCall: map[int]error{1: cause}}
	sender, _ := batch.NewSender(api, testQueue)
	done := 0
	a := &QueueApplier{Sender: sender, OnUser: func(UserResult) { done++ }}
	out := a.Apply(t.Context(), queuePlan(35))

	if len(api.calls) != 2 {
		t.Errorf("%d calls, want 2: none after the failed one", len(api.calls))
	}
	if got, want := out.Progress, (Progress{Users: 38, UsersDone: 20, Memberships: 40, Queued: 10, Failed: 10}); got != want {
		t.Errorf("progress = %+v, want %+v", got, want)
	}
	if done != 20 {
		t.Errorf("OnUser called %d times, want 20", done)
	}
	for _, f := range out.Failures {
		if f.Kind != KindSendFailed || !strings.Contains(f.Message, "AccessDenied") {
			t.Errorf("failure %+v, want send_failed with the call's error", f)
		}
	}
}

func TestQueueApplyStop(t *testing.T) {
	api := &fakeQueue{}
	sender, _ := batch.NewSender(api, testQueue)
	stop := make(chan struct{})
	a := &QueueApplier{Sender: sender, Stop: stop}
	a.OnUser = func(UserResult) {
		if a.Progress().UsersDone == 10 {
			close(stop)
		}
	}
	out := a.Apply(t.Context(), queuePlan(30))
	if len(api.calls) != 1 || out.UsersDone != 10 || out.Queued != 10 {
		t.Errorf("%d calls, progress %+v; want 1 call and 10 users queued before the stop", len(api.calls), out.Progress)
	}
}
