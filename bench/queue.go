package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// The retry queue of the load runs, in goaws, and its consumer: the
// settings of template.yaml scaled to the emulated quota (see
// BENCHMARKS.md). The bench plays the event source mapping, as the e2e
// harness does: each consumer instance has a loop that receives, invokes
// and deletes what the answer does not list.
const (
	consumerTimeout  = 15 // seconds, the consumer's Timeout
	queueVisibility  = 6 * consumerTimeout
	maxReceiveCount  = 5 // the template's
	consumerBatch    = 10
	goawsMainPackage = "github.com/Admiral-Piett/goaws/app/cmd"
)

// retryQueue is goaws with the retry queue and its dead-letter queue.
type retryQueue struct {
	p               *proc
	endpoint        string
	url, deadLetter string
	client          *sqs.Client
}

// startQueue starts goaws, pinned in tools/go.mod, on a free port.
func startQueue(ctx context.Context, root, dir string) (*retryQueue, error) {
	out, err := supervise.Output(ctx, root, goEnv(), "go", "tool", "-modfile=tools/go.mod", "-n", goawsMainPackage)
	if err != nil {
		return nil, fmt.Errorf("build goaws from tools/go.mod: %w", err)
	}
	goaws := strings.TrimSpace(out)
	port, err := supervise.FreePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "goaws.yaml")
	cfg := harness.GoawsConfig(port, harness.QueueOptions{VisibilityTimeout: queueVisibility, MaxReceiveCount: maxReceiveCount})
	if err := os.WriteFile(config, cfg, 0o644); err != nil {
		return nil, err
	}
	p, err := startProc(dir, filepath.Join(dir, "goaws.log"), []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=UTC"}, goaws, "-config", config)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := p.WaitForPort(ctx, addr, 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	q := &retryQueue{p: p, endpoint: "http://" + addr}
	q.url = q.endpoint + "/" + harness.QueueAccount + "/" + harness.RetryQueueName
	q.deadLetter = q.endpoint + "/" + harness.QueueAccount + "/" + harness.DeadLetterQueueName
	q.client = sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(q.endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDBENCHMARK", SecretAccessKey: "benchmark", Source: "bench"}, nil
		}),
	})
	return q, nil
}

// env returns the variables that point the sign-up function at the queue.
func (q *retryQueue) env() []string {
	return []string{"AUTOGROUP_RETRY_QUEUE_URL=" + q.url, "AWS_ENDPOINT_URL_SQS=" + q.endpoint}
}

// purge empties both queues, for a run that starts clean.
func (q *retryQueue) purge(ctx context.Context) error {
	for _, u := range []string{q.url, q.deadLetter} {
		if _, err := q.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
			return fmt.Errorf("purge %s: %w", u, err)
		}
	}
	return nil
}

// depth returns the messages in a queue, visible or in flight.
func (q *retryQueue) depth(ctx context.Context, queueURL string) (int, error) {
	return harness.QueueDepth(ctx, q.client, queueURL)
}

// mapping is the event source mapping of one run: a loop per consumer
// instance, until stop is closed.
type mapping struct {
	q         *retryQueue
	consumers []*instance

	mu       sync.Mutex
	received map[string]bool // message ids
	batches  int
	failed   int // messages listed in batchItemFailures, or of a failed invocation
}

// run polls until ctx ends or stop is closed; it returns the first error
// of a loop (not the function's failures, which SQS retries).
func (m *mapping) run(ctx context.Context, stop <-chan struct{}) error {
	errs := make([]error, len(m.consumers))
	var wg sync.WaitGroup
	for i, c := range m.consumers {
		wg.Go(func() { errs[i] = m.poll(ctx, stop, c) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *mapping) poll(ctx context.Context, stop <-chan struct{}, c *instance) error {
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		out, err := m.q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.q.url),
			MaxNumberOfMessages:         consumerBatch,
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return fmt.Errorf("receive from the retry queue: %w", err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
		for j, msg := range out.Messages {
			ev.Records[j] = events.SQSMessage{
				MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
				Body: aws.ToString(msg.Body), Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: msg.Attributes,
				MessageAttributes: map[string]events.SQSMessageAttribute{},
				EventSource:       "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:" + harness.QueueAccount + ":" + harness.RetryQueueName, AWSRegion: "us-east-1",
			}
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		body, _, err := c.post(ctx, payload)
		if err != nil {
			return err
		}
		// As Lambda does: an answer that is not a batch response (the
		// function failed) keeps every message; so does an unknown id.
		keep := map[string]bool{}
		var resp events.SQSEventResponse
		if json.Unmarshal(body, &resp) != nil || functionFailed(body) {
			for _, r := range ev.Records {
				keep[r.MessageId] = true
			}
		}
		for _, f := range resp.BatchItemFailures {
			keep[f.ItemIdentifier] = true
		}
		var entries []types.DeleteMessageBatchRequestEntry
		for j, msg := range out.Messages {
			if !keep[aws.ToString(msg.MessageId)] {
				entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: msg.ReceiptHandle})
			}
		}
		if len(entries) > 0 {
			if _, err := m.q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.q.url), Entries: entries}); err != nil {
				return fmt.Errorf("delete from the retry queue: %w", err)
			}
		}
		m.mu.Lock()
		m.batches++
		m.failed += len(out.Messages) - len(entries)
		for _, r := range ev.Records {
			m.received[r.MessageId] = true
		}
		m.mu.Unlock()
	}
}

// functionFailed reports whether an answer of aws-lambda-rie is a function
// error: {"errorMessage": ..., "errorType": ...}.
func functionFailed(body []byte) bool {
	var e struct {
		Message *string `json:"errorMessage"`
	}
	return json.Unmarshal(body, &e) == nil && e.Message != nil
}
