package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// fakeSQS is the part of SQS that retries and backfill --via-queue call,
// in memory: queues by URL, messages with a visibility timeout and receipt
// handles, every call recorded, and errors that can be injected.
type fakeSQS struct {
	mu     sync.Mutex
	queues map[string][]*fakeMessage
	nextID int
	// calls are "Op queueURL messageId" (messageId where the call names one).
	calls []string
	// fail answers the nth call of an op (from 1) with an error; 0 means
	// every call.
	fail map[string]fakeFailure
	// ignoreVisibility makes every receive see every message, as when each
	// visibility timeout runs out before the next receive.
	ignoreVisibility bool
	// onCall, if set, runs at each call, outside the lock.
	onCall func(op string)
}

type fakeFailure struct {
	nth int
	err error
}

type fakeMessage struct {
	id, body  string
	attrs     map[string]types.MessageAttributeValue
	handle    string
	invisible time.Time // until
	receives  int
}

func newFakeSQS() *fakeSQS {
	return &fakeSQS{queues: map[string][]*fakeMessage{}, fail: map[string]fakeFailure{}}
}

// apiError is an SQS error answer.
func apiError(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// put adds a message to a queue and returns its id.
func (f *fakeSQS) put(queue, body string, attrs map[string]types.MessageAttributeValue) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("m%02d", f.nextID)
	f.queues[queue] = append(f.queues[queue], &fakeMessage{id: id, body: body, attrs: maps.Clone(attrs)})
	return id
}

// bodies returns the bodies in a queue, in order.
func (f *fakeSQS) bodies(queue string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.queues[queue] {
		out = append(out, m.body)
	}
	return out
}

// invisible returns the ids of the messages of a queue that are in flight.
func (f *fakeSQS) invisible(queue string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.queues[queue] {
		if time.Now().Before(m.invisible) {
			out = append(out, m.id)
		}
	}
	return out
}

func (f *fakeSQS) callsOf(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.callsOfLocked(op)
}

// call records a call and returns the error injected for it, if any.
func (f *fakeSQS) call(op, queue, id string) error {
	if f.onCall != nil {
		f.onCall(op)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+queue+" "+id)
	ff, ok := f.fail[op]
	if !ok {
		return nil
	}
	n := len(f.callsOfLocked(op))
	if ff.nth == 0 || ff.nth == n {
		return ff.err
	}
	return nil
}

func (f *fakeSQS) callsOfLocked(op string) []string {
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, op+" ") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSQS) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	queue := aws.ToString(in.QueueUrl)
	if err := f.call("ReceiveMessage", queue, ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sqs.ReceiveMessageOutput{}
	now := time.Now()
	for _, m := range f.queues[queue] {
		if len(out.Messages) == int(in.MaxNumberOfMessages) {
			break
		}
		if now.Before(m.invisible) && !f.ignoreVisibility {
			continue
		}
		m.receives++
		m.handle = m.id + "#" + strconv.Itoa(m.receives)
		m.invisible = now.Add(time.Duration(in.VisibilityTimeout) * time.Second)
		out.Messages = append(out.Messages, types.Message{
			MessageId: aws.String(m.id), ReceiptHandle: aws.String(m.handle), Body: aws.String(m.body),
			MessageAttributes: maps.Clone(m.attrs),
		})
	}
	return out, nil
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	queue := aws.ToString(in.QueueUrl)
	if err := f.call("SendMessage", queue, ""); err != nil {
		return nil, err
	}
	id := f.put(queue, aws.ToString(in.MessageBody), in.MessageAttributes)
	return &sqs.SendMessageOutput{MessageId: aws.String(id)}, nil
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	queue := aws.ToString(in.QueueUrl)
	if err := f.call("SendMessageBatch", queue, strconv.Itoa(len(in.Entries))); err != nil {
		return nil, err
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		id := f.put(queue, aws.ToString(e.MessageBody), e.MessageAttributes)
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String(id)})
	}
	return out, nil
}

// message returns the message of a queue that a receipt handle names, if
// it is the message's current handle.
func (f *fakeSQS) message(queue, handle string) (int, error) {
	for i, m := range f.queues[queue] {
		if m.handle == handle && handle != "" {
			return i, nil
		}
	}
	return 0, apiError("ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
}

func (f *fakeSQS) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	queue, handle := aws.ToString(in.QueueUrl), aws.ToString(in.ReceiptHandle)
	if err := f.call("DeleteMessage", queue, handleID(handle)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.message(queue, handle)
	if err != nil {
		return nil, err
	}
	f.queues[queue] = slices.Delete(f.queues[queue], i, i+1)
	return &sqs.DeleteMessageOutput{}, nil
}

func (f *fakeSQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	queue, handle := aws.ToString(in.QueueUrl), aws.ToString(in.ReceiptHandle)
	if err := f.call("ChangeMessageVisibility", queue, handleID(handle)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.message(queue, handle)
	if err != nil {
		return nil, err
	}
	f.queues[queue][i].invisible = time.Now().Add(time.Duration(in.VisibilityTimeout) * time.Second)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// handleID returns the message id of a receipt handle of the fake.
func handleID(handle string) string {
	id, _, _ := strings.Cut(handle, "#")
	return id
}
