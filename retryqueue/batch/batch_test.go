package batch

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

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// fakeBatchSQS records SendMessageBatch calls. Call n (from 0) fails as a
// whole with callErr[n] when set; entries whose body contains failBody are
// answered as failed.
type fakeBatchSQS struct {
	mu       sync.Mutex
	calls    []*sqs.SendMessageBatchInput
	callErr  map[int]error
	failBody string
}

func (f *fakeBatchSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.calls)
	f.calls = append(f.calls, in)
	if err := f.callErr[n]; err != nil {
		return nil, err
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.failBody != "" && strings.Contains(aws.ToString(e.MessageBody), f.failBody) {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try again")})
			continue
		}
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("mid-" + aws.ToString(e.Id))})
	}
	return out, nil
}

// batchOf returns n valid messages, each for its own user.
func batchOf(n int) []retryqueue.Message {
	msgs := make([]retryqueue.Message, n)
	for i := range msgs {
		m := validMessage()
		m.Sub = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		m.Username = m.Sub
		m.Source = retryqueue.SourceBackfill
		msgs[i] = m
	}
	return msgs
}

func TestSenderSendsInBatchesOfTen(t *testing.T) {
	api := &fakeBatchSQS{}
	s, err := NewSender(api, testQueueURL)
	if err != nil {
		t.Fatal(err)
	}
	msgs := batchOf(23)
	results, err := s.SendBatch(context.Background(), msgs)
	if err != nil {
		t.Fatalf("SendBatch() error = %v", err)
	}
	var sizes []int
	var sent []retryqueue.Message
	for _, in := range api.calls {
		sizes = append(sizes, len(in.Entries))
		if got := aws.ToString(in.QueueUrl); got != testQueueURL {
			t.Errorf("QueueUrl = %q, want %q", got, testQueueURL)
		}
		for _, e := range in.Entries {
			m, err := retryqueue.Decode([]byte(aws.ToString(e.MessageBody)))
			if err != nil {
				t.Fatalf("a body sent does not decode: %v", err)
			}
			sent = append(sent, m)
		}
	}
	if diff := cmp.Diff([]int{10, 10, 3}, sizes); diff != "" {
		t.Errorf("entries per call (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(msgs, sent); diff != "" {
		t.Errorf("messages sent, in order (-want +got):\n%s", diff)
	}
	for i, r := range results {
		if want := fmt.Sprintf("mid-%d", i); r.MessageID != want || r.Err != nil {
			t.Errorf("results[%d] = %+v, want message id %s", i, r, want)
		}
	}
}

func TestSenderEntryFailures(t *testing.T) {
	api := &fakeBatchSQS{failBody: "00000000-0000-4000-8000-000000000002"}
	s, _ := NewSender(api, testQueueURL)
	msgs := batchOf(4)
	msgs[1].Username = "jane@example.com" // refused before any call
	results, err := s.SendBatch(context.Background(), msgs)
	if err != nil {
		t.Fatalf("SendBatch() error = %v, want nil: entries failed, not the call", err)
	}
	if len(api.calls) != 1 || len(api.calls[0].Entries) != 3 {
		t.Fatalf("calls = %d, want 1 with 3 entries (the invalid message is not sent)", len(api.calls))
	}
	var decodeErr *retryqueue.DecodeError
	if !errors.As(results[1].Err, &decodeErr) || results[1].MessageID != "" {
		t.Errorf("results[1] = %+v, want a *retryqueue.DecodeError and no message id", results[1])
	}
	var entryErr *EntryError
	if !errors.As(results[2].Err, &entryErr) || entryErr.Code != "InternalError" || results[2].MessageID != "" {
		t.Errorf("results[2] = %+v, want a *EntryError InternalError", results[2])
	}
	for _, i := range []int{0, 3} {
		if results[i].Err != nil || results[i].MessageID == "" {
			t.Errorf("results[%d] = %+v, want sent", i, results[i])
		}
	}
	if strings.Contains(results[1].Err.Error(), "jane") {
		t.Errorf("the error carries the username: %v", results[1].Err)
	}
}

func TestSenderStopsAtAFailedCall(t *testing.T) {
	cause := errors.New("AccessDenied")
	api := &fakeBatchSQS{callErr: map[int]error{1: cause}}
	s, _ := NewSender(api, testQueueURL)
	results, err := s.SendBatch(context.Background(), batchOf(25))
	if !errors.Is(err, cause) {
		t.Fatalf("SendBatch() error = %v, want it to wrap %v", err, cause)
	}
	if len(api.calls) != 2 {
		t.Errorf("%d calls, want 2: none after the one that failed", len(api.calls))
	}
	for i, r := range results {
		sent := i < 10
		if sent != (r.MessageID != "") || sent != (r.Err == nil) {
			t.Errorf("results[%d] = %+v, want sent %v", i, r, sent)
		}
		if !sent && !errors.Is(r.Err, cause) {
			t.Errorf("results[%d].Err = %v, want the call's error", i, r.Err)
		}
	}
}

// TestSenderSplitsBySize sends messages whose bodies are about 56 KB
// (100 groups of 128 four-byte characters): a call carries at most
// MaxBytes of them, so 10 take three calls.
func TestSenderSplitsBySize(t *testing.T) {
	msgs := batchOf(10)
	for i := range msgs {
		msgs[i].Groups = nil
		for g := range retryqueue.MaxGroups {
			msgs[i].Groups = append(msgs[i].Groups, retryqueue.Group{Name: strings.Repeat(string(rune(0x1F300+g)), 128), Reason: membership.KindThrottled})
		}
	}
	api := &fakeBatchSQS{}
	s, _ := NewSender(api, testQueueURL)
	results, err := s.SendBatch(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, in := range api.calls {
		total := 0
		for _, e := range in.Entries {
			total += len(aws.ToString(e.MessageBody))
		}
		if total > MaxBytes {
			t.Errorf("a call carries %d bytes of bodies, more than %d", total, MaxBytes)
		}
		sizes = append(sizes, len(in.Entries))
	}
	if diff := cmp.Diff([]int{4, 4, 2}, sizes); diff != "" {
		t.Errorf("entries per call (-want +got):\n%s", diff)
	}
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("results[%d].Err = %v", i, r.Err)
		}
	}
}

func TestNewSenderRefusesRelativeURL(t *testing.T) {
	if _, err := NewSender(&fakeBatchSQS{}, "autogroup-retry"); err == nil {
		t.Error("NewSender with a relative URL succeeded, want an error")
	}
}

// validMessage is a message Encode accepts.
func validMessage() retryqueue.Message {
	const sub = "3f1c2a4e-8b7d-4c6e-9a1f-2b3c4d5e6f70"
	return retryqueue.Message{
		UserPoolID: "us-east-1_EXAMPLE",
		Username:   sub,
		Sub:        sub,
		Groups: []retryqueue.Group{
			{Name: "staff", Reason: membership.KindThrottled, Code: "TooManyRequestsException"},
			{Name: "engineering", Reason: membership.KindTimeout},
		},
		Source:        retryqueue.SourcePostConfirmation,
		FirstFailedAt: time.Date(2026, 11, 30, 9, 15, 2, 250e6, time.UTC),
		EnqueuedAt:    time.Date(2026, 11, 30, 9, 15, 5, 875e6, time.UTC),
	}
}

const testQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry"
