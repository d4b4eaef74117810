package retryqueue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
)

// SendAPI is the SQS call a Sender makes: SendMessage of body to the queue
// at queueURL, returning the id SQS gave the message. *Client implements
// it; tests pass a small fake.
type SendAPI interface {
	SendMessage(ctx context.Context, queueURL, body string) (messageID string, err error)
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
	if !absolute(queueURL) {
		return nil, errors.New("retry queue URL is not an absolute URL")
	}
	return &Sender{api: api, queueURL: queueURL}, nil
}

func absolute(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Scheme != "" && u.Host != ""
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
	id, err := s.api.SendMessage(ctx, s.queueURL, string(body))
	if err != nil {
		return "", fmt.Errorf("send to the retry queue: %w", err)
	}
	return id, nil
}

// Retries of a Client's SendMessage.
const (
	maxAttempts = 2
	maxBackoff  = 200 * time.Millisecond
)

// Client is SQS's SendMessage, called over SQS's JSON protocol with a
// SigV4-signed request (internal/awsenv.Signed) rather than through
// aws-sdk-go-v2/service/sqs: the package initialisation of that client (its
// schemas and endpoint tables) was about a millisecond of every cold start
// of the functions, which make this one call (BENCHMARKS.md). The CLI, which
// makes many, uses the SDK's client.
//
// A call makes at most 2 attempts, the second after a random wait of at
// most 200ms, when the first could not be sent or SQS answered with a 5xx
// or a throttling error. Why retry at all, when membership turns the SDK's
// retries off: a send is what saves an assignment that did not fit the
// sign-up's budget, a standard queue has no account-wide quota that a retry
// would take from other callers (unlike Cognito's UserUpdate category), and
// one lost connection or 5xx should not cost the assignment. Why so little:
// the caller has what is left of Cognito's five seconds, and the context's
// deadline ends the call and its retry wherever they are.
type Client struct {
	signed *awsenv.Signed
}

// NewClient returns the Client of cfg for the queue at queueURL: it calls
// cfg.Endpoint (an emulator's) when set, else the queue URL's host, which
// is the SQS endpoint of the queue's region and partition
// (https://sqs.REGION.amazonaws.com, .amazonaws.com.cn in China). Without
// an endpoint, a queue URL that is not https on an amazonaws.com host is
// refused: the client would send it requests signed with the function's
// credentials.
func NewClient(cfg awsenv.Config, queueURL string) (*Client, error) {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		u, err := url.Parse(queueURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, errors.New("retry queue URL is not an absolute URL")
		}
		host := u.Hostname()
		if u.Scheme != "https" || !(strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")) {
			return nil, fmt.Errorf("retry queue URL %s://%s is not an SQS endpoint (https, amazonaws.com); for an emulator set AWS_ENDPOINT_URL_SQS", u.Scheme, u.Host)
		}
		endpoint = "https://" + u.Host
	}
	return &Client{signed: awsenv.NewSigned(cfg, "sqs", endpoint)}, nil
}

// Endpoint returns the endpoint the client calls.
func (c *Client) Endpoint() string { return c.signed.Endpoint() }

// sendHeader is the header of a SendMessage call in SQS's JSON protocol.
// X-Amzn-Query-Mode asks for the error codes of SQS's older query protocol
// (in X-Amzn-Query-Error), as the SDK's client does.
var sendHeader = http.Header{
	"Content-Type":      {"application/x-amz-json-1.0"},
	"X-Amz-Target":      {"AmazonSQS.SendMessage"},
	"X-Amzn-Query-Mode": {"true"},
}

// SendMessage sends body to the queue at queueURL and returns the id SQS
// gave it, retrying once as the type's documentation says. An error answer
// is an *awsenv.APIError.
func (c *Client) SendMessage(ctx context.Context, queueURL, body string) (string, error) {
	in, err := json.Marshal(struct{ QueueUrl, MessageBody string }{queueURL, body})
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		id, err := c.send(ctx, in, body)
		if err == nil || attempt == maxAttempts || !retryable(err) || ctx.Err() != nil {
			return id, err
		}
		t := time.NewTimer(rand.N(maxBackoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (c *Client) send(ctx context.Context, in []byte, body string) (string, error) {
	resp, err := c.signed.Do(ctx, "SendMessage", http.MethodPost, "/", sendHeader, in)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ MessageId, MD5OfMessageBody string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return "", fmt.Errorf("sqs SendMessage: decode the answer: %w", err)
	}
	if out.MessageId == "" {
		return "", errors.New("sqs SendMessage: the answer has no MessageId")
	}
	// As the SDK's client does: a digest that differs means the body SQS
	// stored is not the one sent.
	if sum := md5.Sum([]byte(body)); out.MD5OfMessageBody != "" && out.MD5OfMessageBody != hex.EncodeToString(sum[:]) {
		return "", fmt.Errorf("sqs SendMessage: message %s: MD5OfMessageBody does not match the body sent", out.MessageId)
	}
	return out.MessageId, nil
}

// throttleCodes are the error codes the SDK's standard retryer retries as
// throttling.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true,
	"RequestThrottled": true, "RequestLimitExceeded": true, "SlowDown": true,
	"RequestTimeout": true, "RequestTimeoutException": true,
}

// retryable says whether a failed attempt may be tried again: it was not
// sent, or SQS answered with a 5xx or a throttling error.
func retryable(err error) bool {
	var ae *awsenv.APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || throttleCodes[ae.Code]
	}
	return awsenv.NotSent(err)
}

// NewSenderFromEnv returns a Sender to the queue AUTOGROUP_RETRY_QUEUE_URL
// names, with a Client built from the variables the Lambda runtime sets
// (awsenv.FromEnv: AWS_REGION, the execution role's credentials) and
// AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) for an emulator, empty meaning
// unset; or nil and no error when AUTOGROUP_RETRY_QUEUE_URL is unset or
// empty (no retry queue).
func NewSenderFromEnv(getenv func(string) string) (*Sender, error) {
	queueURL := getenv("AUTOGROUP_RETRY_QUEUE_URL")
	if queueURL == "" {
		return nil, nil
	}
	cfg, err := awsenv.FromEnv(getenv, "AWS_ENDPOINT_URL_SQS")
	if err != nil {
		return nil, fmt.Errorf("retry queue client: %w", err)
	}
	client, err := NewClient(cfg, queueURL)
	if err != nil {
		return nil, fmt.Errorf("AUTOGROUP_RETRY_QUEUE_URL: %w", err)
	}
	s, err := NewSender(client, queueURL)
	if err != nil {
		return nil, fmt.Errorf("AUTOGROUP_RETRY_QUEUE_URL: %w", err)
	}
	return s, nil
}
