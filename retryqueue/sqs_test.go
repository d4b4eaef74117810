package retryqueue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
)

const testQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry"

// fakeSQS records SendMessage calls and answers them with err, if set.
type fakeSQS struct {
	mu    sync.Mutex
	calls []*sqs.SendMessageInput
	err   error
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("id-1")}, nil
}

func TestSenderSend(t *testing.T) {
	api := &fakeSQS{}
	s, err := NewSender(api, testQueueURL)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Send(context.Background(), validMessage())
	if err != nil || id != "id-1" {
		t.Fatalf("Send() = %q, %v, want id-1, nil", id, err)
	}
	if len(api.calls) != 1 {
		t.Fatalf("Send made %d calls, want 1", len(api.calls))
	}
	in := api.calls[0]
	if got := aws.ToString(in.QueueUrl); got != testQueueURL {
		t.Errorf("QueueUrl = %q, want %q", got, testQueueURL)
	}
	got, err := Decode([]byte(aws.ToString(in.MessageBody)))
	if err != nil {
		t.Fatalf("the body sent does not decode: %v", err)
	}
	if diff := cmp.Diff(validMessage(), got); diff != "" {
		t.Errorf("body sent mismatch (-want +got):\n%s", diff)
	}
}

func TestSenderRefusesBeforeSending(t *testing.T) {
	api := &fakeSQS{}
	s, _ := NewSender(api, testQueueURL)
	m := validMessage()
	m.Username = "jane@example.com"
	if _, err := s.Send(context.Background(), m); err == nil {
		t.Fatal("Send() of a message with an email address as username succeeded, want an error")
	}
	if len(api.calls) != 0 {
		t.Errorf("Send made %d calls for an invalid message, want 0", len(api.calls))
	}
}

func TestSenderError(t *testing.T) {
	cause := errors.New("connection refused")
	s, _ := NewSender(&fakeSQS{err: cause}, testQueueURL)
	_, err := s.Send(context.Background(), validMessage())
	if !errors.Is(err, cause) || !strings.HasPrefix(err.Error(), "send to the retry queue: ") {
		t.Errorf("Send() error = %v, want it to wrap the SDK's error", err)
	}
}

func TestNewSenderRefusesRelativeURL(t *testing.T) {
	for _, u := range []string{"", "autogroup-retry", "/123/autogroup-retry"} {
		if _, err := NewSender(&fakeSQS{}, u); err == nil {
			t.Errorf("NewSender(%q) succeeded, want an error", u)
		}
	}
}

// lambdaEnv is what the Lambda runtime sets, plus extra.
func lambdaEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "AKIDLAMBDA",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN":     "token",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// sqsServer answers SendMessage as SQS's JSON protocol does; the first
// len(failures) calls get the status and error type given.
type sqsServer struct {
	mu       sync.Mutex
	failures []failure
	times    []time.Time
	bodies   []string
}

type failure struct {
	status int
	typ    string
}

func (s *sqsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ QueueUrl, MessageBody string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &in)
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.bodies = append(s.bodies, in.MessageBody)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if n < len(s.failures) {
		f := s.failures[n]
		w.Header().Set("X-Amzn-Query-Error", f.typ+";Sender")
		w.WriteHeader(f.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + f.typ, "message": "failed"})
		return
	}
	sum := md5.Sum([]byte(in.MessageBody))
	json.NewEncoder(w).Encode(map[string]string{"MessageId": "m-" + r.Header.Get("X-Amz-Target"), "MD5OfMessageBody": hex.EncodeToString(sum[:])})
}

func TestClientFromEnvRetriesOnceQuickly(t *testing.T) {
	tests := []struct {
		name      string
		failures  []failure
		wantCalls int
		wantErr   bool
	}{
		{"ok", nil, 1, false},
		{"one server error", []failure{{500, "InternalError"}}, 2, false},
		{"one throttle", []failure{{400, "ThrottlingException"}}, 2, false},
		{"two server errors", []failure{{500, "InternalError"}, {500, "InternalError"}, {500, "InternalError"}}, 2, true},
		{"not retried", []failure{{400, "QueueDoesNotExist"}}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &sqsServer{failures: tt.failures}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			client, err := NewClientFromEnv(lambdaEnv(map[string]string{"AWS_ENDPOINT_URL_SQS": ts.URL}))
			if err != nil {
				t.Fatal(err)
			}
			s, _ := NewSender(client, testQueueURL)
			start := time.Now()
			_, err = s.Send(context.Background(), validMessage())
			elapsed := time.Since(start)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send() error = %v, want error %v", err, tt.wantErr)
			}
			if len(srv.times) != tt.wantCalls {
				t.Errorf("Send made %d calls, want %d", len(srv.times), tt.wantCalls)
			}
			// The retry waits at most maxBackoff, throttling included.
			if limit := maxBackoff + 500*time.Millisecond; elapsed > limit {
				t.Errorf("Send took %s, want under %s", elapsed, limit)
			}
			if _, err := Decode([]byte(srv.bodies[0])); err != nil {
				t.Errorf("the body sent does not decode: %v", err)
			}
		})
	}
}

func TestNewClientFromEnvEndpoints(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // BaseEndpoint, "" for none
		wantErr string
	}{
		{"none", nil, "", ""},
		{"empty means unset", map[string]string{"AWS_ENDPOINT_URL_SQS": ""}, "", ""},
		{"sqs", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4100"}, "http://127.0.0.1:4100", ""},
		{"general", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566", ""},
		{"sqs first", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2"}, "http://a:1", ""},
		{"cognito's is not ours", map[string]string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://c:3"}, "", ""},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://a:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", ""},
		{"relative", map[string]string{"AWS_ENDPOINT_URL_SQS": "localhost"}, "", "AWS_ENDPOINT_URL_SQS"},
		{"no region", map[string]string{"AWS_REGION": ""}, "", "AWS_REGION"},
		{"no keys", map[string]string{"AWS_ACCESS_KEY_ID": ""}, "", "AWS_ACCESS_KEY_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClientFromEnv(lambdaEnv(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewClientFromEnv() error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o := c.Options()
			if got := aws.ToString(o.BaseEndpoint); got != tt.want {
				t.Errorf("BaseEndpoint = %q, want %q", got, tt.want)
			}
			if o.Region != "us-east-1" {
				t.Errorf("Region = %q, want us-east-1", o.Region)
			}
			if got := o.Retryer.MaxAttempts(); got != maxAttempts {
				t.Errorf("Retryer.MaxAttempts() = %d, want %d", got, maxAttempts)
			}
			creds, err := o.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "AKIDLAMBDA" || creds.SessionToken != "token" {
				t.Errorf("Credentials = %+v, %v, want the Lambda environment's", creds, err)
			}
		})
	}
}

func TestNewSenderFromEnv(t *testing.T) {
	s, err := NewSenderFromEnv(lambdaEnv(nil))
	if s != nil || err != nil {
		t.Errorf("NewSenderFromEnv() without AUTOGROUP_RETRY_QUEUE_URL = %v, %v, want nil, nil", s, err)
	}
	s, err = NewSenderFromEnv(lambdaEnv(map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": testQueueURL}))
	if err != nil || s.QueueURL() != testQueueURL {
		t.Errorf("NewSenderFromEnv() = %v, %v, want a sender to %s", s, err, testQueueURL)
	}
	_, err = NewSenderFromEnv(lambdaEnv(map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "autogroup-retry"}))
	if err == nil || !strings.Contains(err.Error(), "AUTOGROUP_RETRY_QUEUE_URL") {
		t.Errorf("NewSenderFromEnv() of a relative URL error = %v, want one naming the variable", err)
	}
}

// TestNoConfigPackage keeps the SDK's config package, and the STS, SSO and
// sign-in clients it links, out of this package, which the functions
// import: their initialisation slows every cold start (BENCHMARKS.md).
func TestNoConfigPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages, want the package's dependencies", len(deps))
	}
	for _, d := range deps {
		switch d {
		case "github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sts",
			"github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/ssooidc",
			"github.com/aws/aws-sdk-go-v2/service/signin":
			t.Errorf("retryqueue depends on %s, whose initialisation slows every cold start", d)
		}
	}
}
