package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// The retry queue in goaws.
const (
	// RetryQueueName and DeadLetterQueueName name the queues goaws creates.
	RetryQueueName      = "autogroup-retry"
	DeadLetterQueueName = "autogroup-retry-dlq"
	// QueueAccount is goaws's account id, in the queues' URLs and ARNs.
	QueueAccount = "100010001000"
)

// ViaQueue marks an invocation of the assignment-retry function that the
// harness made as the event source mapping.
const ViaQueue = "event-source-mapping"

// QueueOptions configure the retry queue of an Env. The defaults are short,
// for tests: a real queue's visibility timeout is at least six times its
// consumer's timeout.
type QueueOptions struct {
	// VisibilityTimeout is the retry queue's, in seconds; 3 when 0.
	VisibilityTimeout int
	// MaxReceiveCount is the redrive policy's: the receives after which a
	// message moves to the dead-letter queue; 3 when 0.
	MaxReceiveCount int
	// ConsumerTimeout is the assignment-retry function's timeout, in
	// seconds; 2 when 0. It must be less than VisibilityTimeout.
	ConsumerTimeout int
	// Consumers is how many instances of the assignment-retry function run
	// (the mapping's MaximumConcurrency), each under its own aws-lambda-rie
	// and polled by its own loop in Drain; 1 when 0.
	Consumers int
	// ConsumerEnv adds variables to the assignment-retry function's
	// environment, such as AUTOGROUP_RETRY_RATE.
	ConsumerEnv []string
}

func (o *QueueOptions) withDefaults() QueueOptions {
	q := *o
	if q.VisibilityTimeout <= 0 {
		q.VisibilityTimeout = 3
	}
	if q.MaxReceiveCount <= 0 {
		q.MaxReceiveCount = 3
	}
	if q.ConsumerTimeout <= 0 {
		q.ConsumerTimeout = 2
	}
	if q.Consumers <= 0 {
		q.Consumers = 1
	}
	return q
}

// queue is an Env's goaws, its recording proxy and the consumers.
type queue struct {
	opts      QueueOptions
	goaws     *supervise.Process
	proxy     *http.Server
	sent      *sendRecorder
	consumers []*consumer

	mu       sync.Mutex
	receives map[string]int // receives per messageId, which goaws does not count
}

// consumer is one instance of the assignment-retry function.
type consumer struct {
	rie *supervise.Process
	rec *recorder
}

// startQueue starts goaws with the retry queue and its dead-letter queue,
// the recording proxy in front of it, and the consumers, each with
// consumerEnv plus the queue's own variables. It sets the Env's SQS fields.
func (e *Env) startQueue(ctx context.Context, o QueueOptions, consumerEnv []string, drop []string) error {
	q := &queue{opts: o.withDefaults(), receives: map[string]int{}}
	e.queue = q
	if q.opts.ConsumerTimeout >= q.opts.VisibilityTimeout {
		return fmt.Errorf("queue options: the consumer's timeout (%ds) must be less than the visibility timeout (%ds)", q.opts.ConsumerTimeout, q.opts.VisibilityTimeout)
	}
	if e.build.GoAWS == "" || e.build.RetryBootstrap == "" {
		return fmt.Errorf("the build has no goaws or assignment-retry function: build it with NewBuild")
	}
	port, err := supervise.FreePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(e.Dir, "goaws")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	config := filepath.Join(dir, "goaws.yaml")
	if err := os.WriteFile(config, GoawsConfig(port, q.opts), 0o644); err != nil {
		return err
	}
	q.goaws, err = supervise.Start(supervise.Options{
		Name: "goaws",
		Dir:  dir,
		Env:  supervise.Environ([]string{"AWS_*"}),
		Log:  filepath.Join(e.Dir, "goaws.log"),
	}, e.build.GoAWS, "-config", config)
	if err != nil {
		return err
	}
	goawsURL := "http://127.0.0.1:" + strconv.Itoa(port)
	e.QueueURL = goawsURL + "/" + QueueAccount + "/" + RetryQueueName
	e.DeadLetterQueueURL = goawsURL + "/" + QueueAccount + "/" + DeadLetterQueueName

	// Every SQS call of the functions and of the harness goes through the
	// proxy, which keeps the body of every message sent.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.SQSURL = "http://" + l.Addr().String()
	q.sent = newSendRecorder(goawsURL)
	q.proxy = &http.Server{Handler: q.sent, ReadHeaderTimeout: 10 * time.Second}
	go q.proxy.Serve(l)
	e.SQS = sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(e.SQSURL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "harness"}, nil
		}),
	})

	env := append(append([]string{}, consumerEnv...), e.QueueEnv()...)
	env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(q.opts.ConsumerTimeout))
	env = append(env, q.opts.ConsumerEnv...)
	var addrs []string
	for i := range q.opts.Consumers {
		ports := [2]int{}
		for j := range ports {
			if ports[j], err = supervise.FreePort(); err != nil {
				return err
			}
		}
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		rieDir := filepath.Join(e.Dir, fmt.Sprintf("assignment-retry-%d", i+1))
		if err := os.Mkdir(rieDir, 0o755); err != nil {
			return err
		}
		p, err := supervise.Start(supervise.Options{
			Name: fmt.Sprintf("assignment-retry-%d", i+1),
			Dir:  rieDir,
			Env:  supervise.Environ(drop, env...),
			Log:  filepath.Join(e.Dir, fmt.Sprintf("assignment-retry-%d.log", i+1)),
		},
			e.build.RIE,
			"--runtime-interface-emulator-address", addr,
			"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
			e.build.RetryBootstrap)
		if err != nil {
			return err
		}
		q.consumers = append(q.consumers, &consumer{rie: p, rec: newRecorder("http://" + addr)})
		addrs = append(addrs, addr, "127.0.0.1:"+strconv.Itoa(ports[1]))
	}
	if err := q.goaws.WaitForPort(ctx, "127.0.0.1:"+strconv.Itoa(port), startTimeout); err != nil {
		return err
	}
	for i, c := range q.consumers {
		if err := waitRIE(ctx, c.rie, addrs[2*i], addrs[2*i+1]); err != nil {
			return err
		}
	}
	return nil
}

// GoawsConfig is goaws's configuration: the retry queue, with o's
// visibility timeout and a redrive policy to the dead-letter queue after
// o's MaxReceiveCount, on 127.0.0.1:port (the harness's, and the bench's). The region is left
// out so that the queue URLs name 127.0.0.1 rather than
// REGION.127.0.0.1, which does not resolve.
func GoawsConfig(port int, o QueueOptions) []byte {
	return fmt.Appendf(nil, `Local:
  Host: 127.0.0.1
  Port: "%d"
  AccountId: "%s"
  LogToFile: false
  QueueAttributeDefaults:
    VisibilityTimeout: %d
  Queues:
    - Name: %s
      RedrivePolicy: '{"maxReceiveCount": %d, "deadLetterTargetArn": "arn:aws:sqs::%s:%s"}'
    - Name: %s
`, port, QueueAccount, o.VisibilityTimeout, RetryQueueName, o.MaxReceiveCount, QueueAccount, DeadLetterQueueName, DeadLetterQueueName)
}

// QueueEnv returns the variables that point a function at the retry queue:
// AUTOGROUP_RETRY_QUEUE_URL and AWS_ENDPOINT_URL_SQS (the recording proxy).
// It is nil for an Env without a queue.
func (e *Env) QueueEnv() []string {
	if e.queue == nil {
		return nil
	}
	return []string{"AUTOGROUP_RETRY_QUEUE_URL=" + e.QueueURL, "AWS_ENDPOINT_URL_SQS=" + e.SQSURL}
}

// Sender returns the retry queue's sender as the functions build it
// (retryqueue.NewSenderFromEnv, with the functions' own SQS client) from
// QueueEnv, so that what a test sends takes the functions' path to goaws.
func (e *Env) Sender() (*retryqueue.Sender, error) {
	env := map[string]string{"AWS_REGION": Region, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
	for _, kv := range e.QueueEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	s, err := retryqueue.NewSenderFromEnv(func(k string) string { return env[k] })
	if err == nil && s == nil {
		err = errors.New("the harness runs no retry queue (Options.Queue)")
	}
	return s, err
}

// stop stops the consumers, the proxy and goaws.
func (q *queue) stop() {
	for _, c := range q.consumers {
		c.rie.Stop()
	}
	if q.proxy != nil {
		q.proxy.Close()
	}
	q.goaws.Stop()
}

// processes returns the queue's processes, goaws first.
func (q *queue) processes() []*supervise.Process {
	if q == nil {
		return nil
	}
	ps := []*supervise.Process{q.goaws}
	for _, c := range q.consumers {
		ps = append(ps, c.rie)
	}
	return ps
}

// QueueDepth returns the messages in the queue at queueURL, visible or in
// flight (goaws's ApproximateNumberOfMessages counts both).
func (e *Env) QueueDepth(ctx context.Context, queueURL string) (int, error) {
	return QueueDepth(ctx, e.SQS, queueURL)
}

// QueueDepth returns the messages in the queue at queueURL, visible or in
// flight, asking api (the bench's client, or an Env's).
func QueueDepth(ctx context.Context, api *sqs.Client, queueURL string) (int, error) {
	out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, fmt.Errorf("queue attributes: %w", err)
	}
	return strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
}

// QueuedMessage is a message read from a queue.
type QueuedMessage struct {
	MessageID, Body string
}

// Peek returns the visible messages of the queue at queueURL and makes them
// visible again at once: meant for the dead-letter queue, which has no
// redrive policy that receives would count against.
func (e *Env) Peek(ctx context.Context, queueURL string) ([]QueuedMessage, error) {
	var (
		out     []QueuedMessage
		handles []*string
	)
	for {
		res, err := e.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		if len(res.Messages) == 0 {
			break
		}
		for _, m := range res.Messages {
			out = append(out, QueuedMessage{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)})
			handles = append(handles, m.ReceiptHandle)
		}
	}
	for _, h := range handles {
		if _, err := e.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(queueURL), ReceiptHandle: h, VisibilityTimeout: 0,
		}); err != nil {
			return nil, fmt.Errorf("make a message visible again: %w", err)
		}
	}
	return out, nil
}

// SentMessages returns the body of every message sent to goaws so far
// (SendMessage and SendMessageBatch, by the functions or through e.SQS), in
// order.
func (e *Env) SentMessages() []SentMessage {
	if e.queue == nil {
		return nil
	}
	return e.queue.sent.recorded()
}

// ConsumerLog returns every JSON record the assignment-retry functions
// have logged so far, instance by instance.
func (e *Env) ConsumerLog() ([]LogRecord, error) {
	if e.queue == nil {
		return nil, nil
	}
	var all []LogRecord
	for _, c := range e.queue.consumers {
		records, err := readLogRecords(c.rie.LogPath())
		if err != nil {
			return nil, err
		}
		all = append(all, records...)
	}
	return all, nil
}

// queueReport is the part of Report about the queue.
func (q *queue) report(b *strings.Builder) {
	if q == nil {
		return
	}
	fmt.Fprintf(b, "--- retry queue: %d messages sent\n", len(q.sent.recorded()))
	for i, c := range q.consumers {
		for _, inv := range c.rec.recorded() {
			outcome := "returned " + string(inv.Response)
			if inv.Error != nil {
				outcome = "failed: " + inv.Error.Error()
			}
			fmt.Fprintf(b, "assignment-retry-%d: %s, HTTP %d, %s\n", i+1, inv.Duration.Round(time.Millisecond), inv.StatusCode, outcome)
		}
	}
}
