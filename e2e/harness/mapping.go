package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// DrainOptions configure Drain.
type DrainOptions struct {
	// BatchSize is the most messages one invocation gets, 1 to 10; 10 when 0.
	BatchSize int
	// Timeout bounds the drain; 60s when 0.
	Timeout time.Duration
}

// Batch is one invocation of the assignment-retry function by Drain.
type Batch struct {
	// Consumer is the instance invoked, from 1.
	Consumer int
	// MessageIDs are the messages of the event, in order.
	MessageIDs []string
	// Failed are the messages the function listed in batchItemFailures, or
	// every message when the invocation failed as a whole.
	Failed []string
	// Invocation is the call as aws-lambda-rie answered it.
	Invocation Invocation
}

// DrainReport is what Drain did.
type DrainReport struct {
	Batches []Batch
	// Received counts messages received, Deleted those deleted after the
	// function reported them done.
	Received, Deleted int
	Duration          time.Duration
}

// Drain plays the event source mapping of the retry queue: each consumer's
// loop receives up to BatchSize messages, invokes its function with an SQS
// event built from them, and deletes those the answer does not list in
// batchItemFailures, until the queue holds no message (visible or in
// flight) or the timeout passes, which is an error. As Lambda does, an
// invocation that failed, an answer that does not decode, and an
// itemIdentifier that is empty or not in the batch fail the whole batch:
// nothing is deleted and every message comes back after the visibility
// timeout, until the redrive policy moves it to the dead-letter queue.
func (e *Env) Drain(ctx context.Context, o DrainOptions) (DrainReport, error) {
	if e.queue == nil {
		return DrainReport{}, fmt.Errorf("drain: the Env has no retry queue (Options.Queue)")
	}
	if o.BatchSize <= 0 || o.BatchSize > 10 {
		o.BatchSize = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	var (
		mu     sync.Mutex
		report DrainReport
		errs   = make([]error, len(e.queue.consumers))
		wg     sync.WaitGroup
	)
	for i := range e.queue.consumers {
		wg.Go(func() {
			errs[i] = e.poll(ctx, i, o.BatchSize, func(b Batch, deleted int) {
				mu.Lock()
				defer mu.Unlock()
				report.Batches = append(report.Batches, b)
				report.Received += len(b.MessageIDs)
				report.Deleted += deleted
			})
		})
	}
	wg.Wait()
	report.Duration = time.Since(start)
	for _, err := range errs {
		if err != nil {
			return report, err
		}
	}
	return report, nil
}

// poll is one consumer's loop of Drain.
func (e *Env) poll(ctx context.Context, i, batchSize int, done func(Batch, int)) error {
	for {
		out, err := e.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(e.QueueURL),
			MaxNumberOfMessages:         int32(batchSize),
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return e.drainError(ctx, fmt.Errorf("receive from the retry queue: %w", err))
		}
		if len(out.Messages) == 0 {
			n, err := e.QueueDepth(ctx, e.QueueURL)
			if err != nil {
				return e.drainError(ctx, err)
			}
			if n == 0 {
				return nil
			}
			continue // in flight: back after the visibility timeout
		}
		b, keep, err := e.invokeConsumer(ctx, i, out.Messages)
		if err != nil {
			return e.drainError(ctx, err)
		}
		var entries []types.DeleteMessageBatchRequestEntry
		for j, m := range out.Messages {
			if !keep[aws.ToString(m.MessageId)] {
				entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: m.ReceiptHandle})
			}
		}
		deleted := 0
		if len(entries) > 0 {
			res, err := e.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(e.QueueURL), Entries: entries})
			if err != nil {
				return e.drainError(ctx, fmt.Errorf("delete from the retry queue: %w", err))
			}
			deleted = len(res.Successful)
		}
		done(b, deleted)
	}
}

// drainError returns err, or a timeout error that says how many messages
// are left when ctx has ended.
func (e *Env) drainError(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	n, qerr := e.QueueDepth(context.Background(), e.QueueURL)
	if qerr != nil {
		return fmt.Errorf("drain: %w (%v)", ctx.Err(), err)
	}
	return fmt.Errorf("drain: %w with %d messages still in the retry queue", ctx.Err(), n)
}

// invokeConsumer invokes consumer i with an SQS event of msgs and returns
// the batch and the messages to keep.
func (e *Env) invokeConsumer(ctx context.Context, i int, msgs []types.Message) (Batch, map[string]bool, error) {
	q := e.queue
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	b := Batch{Consumer: i + 1}
	q.mu.Lock()
	for j, m := range msgs {
		id := aws.ToString(m.MessageId)
		q.receives[id]++
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		attrs["ApproximateReceiveCount"] = strconv.Itoa(q.receives[id])
		ev.Records[j] = events.SQSMessage{
			MessageId:         id,
			ReceiptHandle:     aws.ToString(m.ReceiptHandle),
			Body:              aws.ToString(m.Body),
			Md5OfBody:         aws.ToString(m.MD5OfBody),
			Attributes:        attrs,
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    "arn:aws:sqs:" + Region + ":" + QueueAccount + ":" + RetryQueueName,
			AWSRegion:         Region,
		}
		b.MessageIDs = append(b.MessageIDs, id)
	}
	q.mu.Unlock()
	payload, err := json.Marshal(ev)
	if err != nil {
		return b, nil, err
	}
	inv, err := q.consumers[i].rec.invoke(ctx, payload, ViaQueue)
	if err != nil {
		return b, nil, err
	}
	b.Invocation = inv
	keep := map[string]bool{}
	all := func() {
		for _, id := range b.MessageIDs {
			keep[id] = true
		}
		b.Failed = b.MessageIDs
	}
	var resp events.SQSEventResponse
	if inv.Error != nil || json.Unmarshal(inv.Response, &resp) != nil {
		all()
		return b, keep, nil
	}
	for _, f := range resp.BatchItemFailures {
		if !contains(b.MessageIDs, f.ItemIdentifier) {
			keep = map[string]bool{}
			all()
			return b, keep, nil
		}
		if !keep[f.ItemIdentifier] {
			keep[f.ItemIdentifier] = true
			b.Failed = append(b.Failed, f.ItemIdentifier)
		}
	}
	return b, keep, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s && s != "" {
			return true
		}
	}
	return false
}
