package retryqueue

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Limits of one SendMessageBatch call, SQS's.
const (
	// MaxBatch is the most messages one call carries.
	MaxBatch = 10
	// MaxBatchBytes is the most bytes of bodies one call carries: SQS's
	// payload limit for a batch, the same as for one message.
	MaxBatchBytes = 256 * 1024
)

// SendBatchAPI is the SQS call a BatchSender makes. *sqs.Client implements
// it; tests pass a small fake.
type SendBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// BatchSender puts many messages on one queue with SendMessageBatch: what
// a backfill that sends its plan through the queue uses, where a Sender
// would make one call per user. Build it with NewBatchSender; it is
// immutable and safe for concurrent use.
type BatchSender struct {
	api      SendBatchAPI
	queueURL string
}

// NewBatchSender returns a BatchSender to the queue at queueURL, which must
// be an absolute URL.
func NewBatchSender(api SendBatchAPI, queueURL string) (*BatchSender, error) {
	if u, err := url.Parse(queueURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, errors.New("retry queue URL is not an absolute URL")
	}
	return &BatchSender{api: api, queueURL: queueURL}, nil
}

// QueueURL returns the queue's URL.
func (s *BatchSender) QueueURL() string { return s.queueURL }

// BatchResult is what became of one message given to SendBatch.
type BatchResult struct {
	// MessageID is the id SQS gave the message; empty when it was not sent.
	MessageID string
	// Err says why the message was not sent: it does not encode (as
	// Encode refuses it), SQS refused the entry (a *BatchEntryError), or
	// the call that carried it failed as a whole.
	Err error
}

// BatchEntryError is an entry of a SendMessageBatch call that SQS refused.
type BatchEntryError struct {
	// Code is SQS's error code, such as InternalError.
	Code string
	// Message is SQS's message for it.
	Message string
	// SenderFault is true when the request was at fault, false when SQS
	// was: an entry SQS failed may succeed if sent again.
	SenderFault bool
}

func (e *BatchEntryError) Error() string {
	if e.Message == "" {
		return "send to the retry queue: " + e.Code
	}
	return "send to the retry queue: " + e.Code + ": " + e.Message
}

// SendBatch encodes every message (as Encode does: one that is refused is
// never sent) and sends the others in order, in as few SendMessageBatch
// calls as MaxBatch and MaxBatchBytes allow. It returns one result per
// message, in the order of msgs. When a call fails as a whole it stops
// there: the messages of that call and of the calls not made get its error
// as Err, and SendBatch returns it too. No error carries a body.
func (s *BatchSender) SendBatch(ctx context.Context, msgs []Message) ([]BatchResult, error) {
	results := make([]BatchResult, len(msgs))
	bodies := make([]string, len(msgs))
	var todo []int // indexes of the messages to send, in order
	for i, m := range msgs {
		body, err := Encode(m)
		if err != nil {
			results[i].Err = err
			continue
		}
		bodies[i] = string(body)
		todo = append(todo, i)
	}
	for len(todo) > 0 {
		n, size := 0, 0
		for n < len(todo) && n < MaxBatch && (n == 0 || size+len(bodies[todo[n]]) <= MaxBatchBytes) {
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
func (s *BatchSender) send(ctx context.Context, indexes []int, bodies []string, results []BatchResult) error {
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
			results[i].Err = &BatchEntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
		}
	}
	for _, i := range indexes {
		if !answered[i] {
			results[i].Err = errors.New("send to the retry queue: SQS's answer does not mention the message")
		}
	}
	return nil
}
