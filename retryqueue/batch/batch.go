// Package batch sends retry queue messages many at a time, with SQS's
// SendMessageBatch: what a backfill that sends its plan through the queue
// uses (autogroup backfill --via-queue). It is apart from package
// retryqueue, which the functions import, because it uses the SDK's SQS
// client, whose package initialisation would slow their cold starts.
package batch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// Limits of one SendMessageBatch call, SQS's.
const (
	// MaxMessages is the most messages one call carries.
	MaxMessages = 10
	// MaxBytes is the most bytes of bodies one call carries: SQS's
	// payload limit for a batch, the same as for one message.
	MaxBytes = 256 * 1024
)

// API is the SQS call a Sender makes. *sqs.Client implements
// it; tests pass a small fake.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Sender puts many messages on one queue with SendMessageBatch: what
// a backfill that sends its plan through the queue uses, where a retryqueue.Sender
// would make one call per user. Build it with NewSender; it is
// immutable and safe for concurrent use.
type Sender struct {
	api      API
	queueURL string
}

// NewSender returns a Sender to the queue at queueURL, which must
// be an absolute URL.
func NewSender(api API, queueURL string) (*Sender, error) {
	if u, err := url.Parse(queueURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, errors.New("retry queue URL is not an absolute URL")
	}
	return &Sender{api: api, queueURL: queueURL}, nil
}

// QueueURL returns the queue's URL.
func (s *Sender) QueueURL() string { return s.queueURL }

// Result is what became of one message given to SendBatch.
type Result struct {
	// MessageID is the id SQS gave the message; empty when it was not sent.
	MessageID string
	// Err says why the message was not sent: it does not encode (as
	// retryqueue.Encode refuses it), SQS refused the entry (a *EntryError), or
	// the call that carried it failed as a whole.
	Err error
}

// EntryError is an entry of a SendMessageBatch call that SQS refused.
type EntryError struct {
	// Code is SQS's error code, such as InternalError.
	Code string
	// Message is SQS's message for it.
	Message string
	// SenderFault is true when the request was at fault, false when SQS
	// was: an entry SQS failed may succeed if sent again.
	SenderFault bool
}

func (e *EntryError) Error() string {
	if e.Message == "" {
		return "send to the retry queue: " + e.Code
	}
	return "send to the retry queue: " + e.Code + ": " + e.Message
}

// SendBatch encodes every message (as retryqueue.Encode does: one that is refused is
// never sent) and sends the others in order, in as few SendMessageBatch
// calls as MaxMessages and MaxBytes allow. It returns one result per
// message, in the order of msgs. When a call fails as a whole it stops
// there: the messages of that call and of the calls not made get its error
// as Err, and SendBatch returns it too. No error carries a body.
func (s *Sender) SendBatch(ctx context.Context, msgs []retryqueue.Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	bodies := make([]string, len(msgs))
	var todo []int // indexes of the messages to send, in order
	for i, m := range msgs {
		body, err := retryqueue.Encode(m)
		if err != nil {
			results[i].Err = err
			continue
		}
		bodies[i] = string(body)
		todo = append(todo, i)
	}
	for len(todo) > 0 {
		n, size := 0, 0
		for n < len(todo) && n < MaxMessages && (n == 0 || size+len(bodies[todo[n]]) <= MaxBytes) {
			size += len(bodies[todo[n]])
			n++
		}
		call := todo[:n]
		todo = todo[n:]
		if err := s.send(ctx, call, bodies, results); err != nil {
			for _, i := range append(call, todo...) {
				if results[i].MessageID == "" && results[i].Err == nil {
					results[i].Err = err
				}
			}
			return results, err
		}
	}
	return results, nil
}

// send makes one SendMessageBatch call with the bodies of the messages at
// indexes, and records each entry's result. Entries are named by their
// index in msgs.
func (s *Sender) send(ctx context.Context, indexes []int, bodies []string, results []Result) error {
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.queueURL), Entries: make([]types.SendMessageBatchRequestEntry, len(indexes))}
	for j, i := range indexes {
		in.Entries[j] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(bodies[i])}
	}
	out, err := s.api.SendMessageBatch(ctx, in)
	if err != nil {
		return fmt.Errorf("send to the retry queue: %w", err)
	}
	inCall := make(map[string]int, len(indexes)) // entry id -> index in msgs
	for _, i := range indexes {
		inCall[strconv.Itoa(i)] = i
	}
	answered := map[int]bool{}
	entry := func(id *string) (int, bool) {
		i, ok := inCall[aws.ToString(id)]
		if !ok || answered[i] {
			return 0, false
		}
		answered[i] = true
		return i, true
	}
	for _, ok := range out.Successful {
		if i, found := entry(ok.Id); found {
			results[i].MessageID = aws.ToString(ok.MessageId)
		}
	}
	for _, f := range out.Failed {
		if i, found := entry(f.Id); found {
			results[i].Err = &EntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
		}
	}
	for _, i := range indexes {
		if !answered[i] {
			results[i].Err = errors.New("send to the retry queue: SQS's answer does not mention the message")
		}
	}
	return nil
}
