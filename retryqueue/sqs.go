package retryqueue

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
)

// SendAPI is the SQS call a Sender makes. *sqs.Client implements it; tests
// pass a small fake.
type SendAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Sender puts messages on one queue. Build it with NewSender; it is
// immutable and safe for concurrent use.
type Sender struct {
	api      SendAPI
	queueURL string
}

// NewSender returns a Sender to the queue at queueURL (the value of
// AUTOGROUP_RETRY_QUEUE_URL), which must be an absolute URL.
func NewSender(api SendAPI, queueURL string) (*Sender, error) {
	if u, err := url.Parse(queueURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, errors.New("retry queue URL is not an absolute URL")
	}
	return &Sender{api: api, queueURL: queueURL}, nil
}

// QueueURL returns the queue's URL.
func (s *Sender) QueueURL() string { return s.queueURL }

// Send encodes m (as Encode does, so an invalid message is refused before
// any call) and sends it, within ctx. It returns the id SQS gave the
// message. The error never carries the body.
func (s *Sender) Send(ctx context.Context, m Message) (messageID string, err error) {
	body, err := Encode(m)
	if err != nil {
		return "", err
	}
	out, err := s.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(s.queueURL),
		MessageBody: aws.String(string(body)),
	})
	if err != nil {
		return "", fmt.Errorf("send to the retry queue: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// Retries of the clients ConfigureClient sets up.
const (
	maxAttempts = 2
	maxBackoff  = 200 * time.Millisecond
)

// ConfigureClient applies this package's client settings to SQS client
// options: at most 2 attempts per call, the second after a random wait of
// at most 200ms (throttling included, which the SDK would otherwise wait
// at least 1s for), and the HTTP client of awsenv.NewHTTPClient.
//
// Why retry at all, when membership turns the SDK's retries off: a send is
// what saves an assignment that did not fit the sign-up's budget, a standard
// queue has no account-wide quota that a retry would take from other
// callers (unlike Cognito's UserUpdate category), and one lost connection or
// 5xx should not cost the assignment. Why so little: the caller has what is
// left of Cognito's five seconds, and the context's deadline ends the call
// and its retry wherever they are.
func ConfigureClient(o *sqs.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = maxBackoff
		so.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
	})
	o.RetryMaxAttempts = 0
	o.HTTPClient = awsenv.NewHTTPClient()
}

// NewClientFromEnv builds an SQS client from the variables the Lambda
// runtime sets (awsenv.FromEnv: AWS_REGION, the execution role's
// credentials) and AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) for an
// emulator, empty meaning unset. The client is configured by
// ConfigureClient. Like membership.NewClientFromEnv it does not use the
// SDK's config package, whose dependencies slow every cold start.
func NewClientFromEnv(getenv func(string) string) (*sqs.Client, error) {
	c, err := awsenv.FromEnv(getenv, "AWS_ENDPOINT_URL_SQS")
	if err != nil {
		return nil, err
	}
	o := sqs.Options{Region: c.Region, Credentials: c.Credentials}
	if c.Endpoint != "" {
		o.BaseEndpoint = aws.String(c.Endpoint)
	}
	return sqs.New(o, ConfigureClient), nil
}

// NewSenderFromEnv returns a Sender to the queue AUTOGROUP_RETRY_QUEUE_URL
// names, with a client from NewClientFromEnv, or nil and no error when the
// variable is unset or empty (no retry queue).
func NewSenderFromEnv(getenv func(string) string) (*Sender, error) {
	queueURL := getenv("AUTOGROUP_RETRY_QUEUE_URL")
	if queueURL == "" {
		return nil, nil
	}
	client, err := NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("retry queue client: %w", err)
	}
	s, err := NewSender(client, queueURL)
	if err != nil {
		return nil, fmt.Errorf("AUTOGROUP_RETRY_QUEUE_URL: %w", err)
	}
	return s, nil
}
