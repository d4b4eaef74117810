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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

const testQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry"

// fakeSQS records SendMessage calls and answers them with err, if set.
type fakeSQS struct {
	mu    sync.Mutex
	calls []sendCall
	err   error
}

type sendCall struct{ queueURL, body string }

func (f *fakeSQS) SendMessage(_ context.Context, queueURL, body string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, sendCall{queueURL, body})
	if f.err != nil {
		return "", f.err
	}
	return "id-1", nil
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
	if in.queueURL != testQueueURL {
		t.Errorf("queue URL = %q, want %q", in.queueURL, testQueueURL)
	}
	got, err := Decode([]byte(in.body))
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
// len(failures) calls get the failure given. It records each request.
type sqsServer struct {
	mu       sync.Mutex
	failures []failure
	times    []time.Time
	reqs     []*http.Request
	bodies   []string // MessageBody of each call
	queues   []string // QueueUrl of each call
	badMD5   bool
}

// failure is an error answer (status, and the code of SQS's query protocol
// in X-Amzn-Query-Error), or, with drop, a connection closed unanswered.
type failure struct {
	status int
	typ    string
	drop   bool
}

func (s *sqsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ QueueUrl, MessageBody string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &in)
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, in.MessageBody)
	s.queues = append(s.queues, in.QueueUrl)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if n < len(s.failures) {
		f := s.failures[n]
		if f.drop {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.Header().Set("X-Amzn-Query-Error", f.typ+";Sender")
		w.WriteHeader(f.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + f.typ, "message": "failed"})
		return
	}
	sum := md5.Sum([]byte(in.MessageBody))
	if s.badMD5 {
		sum = md5.Sum([]byte("something else"))
	}
	json.NewEncoder(w).Encode(map[string]string{"MessageId": "m-" + strconv.Itoa(n), "MD5OfMessageBody": hex.EncodeToString(sum[:])})
}

// senderTo returns the sender NewSenderFromEnv builds for testQueueURL
// with AWS_ENDPOINT_URL_SQS set to url.
func senderTo(t *testing.T, url string) *Sender {
	t.Helper()
	s, err := NewSenderFromEnv(lambdaEnv(map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": testQueueURL, "AWS_ENDPOINT_URL_SQS": url}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClientSendMessageRequest checks the call on the wire: SQS's JSON
// protocol, signed for sqs in the Lambda's region with its credentials.
func TestClientSendMessageRequest(t *testing.T) {
	srv := &sqsServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	id, err := senderTo(t, ts.URL).Send(t.Context(), validMessage())
	if err != nil || id != "m-0" {
		t.Fatalf("Send() = %q, %v, want m-0, nil", id, err)
	}
	r := srv.reqs[0]
	for k, want := range map[string]string{
		"Content-Type":         "application/x-amz-json-1.0",
		"X-Amz-Target":         "AmazonSQS.SendMessage",
		"X-Amzn-Query-Mode":    "true",
		"X-Amz-Security-Token": "token",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("request %s %s, want POST /", r.Method, r.URL.Path)
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDLAMBDA/") ||
		!strings.Contains(auth, "/us-east-1/sqs/aws4_request") {
		t.Errorf("Authorization = %q, want SigV4 for sqs in us-east-1 with the Lambda's key", auth)
	}
	if srv.queues[0] != testQueueURL {
		t.Errorf("QueueUrl = %q, want %q", srv.queues[0], testQueueURL)
	}
	got, err := Decode([]byte(srv.bodies[0]))
	if err != nil {
		t.Fatalf("the body sent does not decode: %v", err)
	}
	if diff := cmp.Diff(validMessage(), got); diff != "" {
		t.Errorf("body sent mismatch (-want +got):\n%s", diff)
	}
}

func TestClientRetriesOnceQuickly(t *testing.T) {
	tests := []struct {
		name      string
		failures  []failure
		wantCalls int
		wantKind  membership.Kind // of the error; "" for none
	}{
		{"ok", nil, 1, ""},
		{"one server error", []failure{{status: 500, typ: "InternalError"}}, 2, ""},
		{"one throttle", []failure{{status: 400, typ: "ThrottlingException"}}, 2, ""},
		{"one throttle as SQS answers it", []failure{{status: 403, typ: "RequestThrottled"}}, 2, ""},
		{"one dropped connection", []failure{{drop: true}}, 2, ""},
		{"two server errors", []failure{{status: 500, typ: "InternalError"}, {status: 500, typ: "InternalError"}, {status: 500, typ: "InternalError"}}, 2, membership.KindServerError},
		{"not retried", []failure{{status: 400, typ: "AWS.SimpleQueueService.NonExistentQueue"}}, 1, membership.KindUnknown},
		{"access denied, not retried", []failure{{status: 403, typ: "AccessDenied"}}, 1, membership.KindAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &sqsServer{failures: tt.failures}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			start := time.Now()
			_, err := senderTo(t, ts.URL).Send(t.Context(), validMessage())
			elapsed := time.Since(start)
			if got := membership.Classify(err); (tt.wantKind == "" && err != nil) || (tt.wantKind != "" && got != tt.wantKind) {
				t.Fatalf("Send() error = %v (kind %s), want kind %q", err, got, tt.wantKind)
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

// TestClientErrors: SQS's error codes are those of its query protocol, as
// the SDK's client reports them; the body never shows in an error.
func TestClientErrors(t *testing.T) {
	srv := &sqsServer{failures: []failure{{status: 400, typ: "AWS.SimpleQueueService.NonExistentQueue"}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	_, err := senderTo(t, ts.URL).Send(t.Context(), validMessage())
	var ae *awsenv.APIError
	if !errors.As(err, &ae) || ae.Code != "AWS.SimpleQueueService.NonExistentQueue" || ae.Status != 400 || ae.Op != "SendMessage" {
		t.Fatalf("Send() error = %#v, want an *awsenv.APIError AWS.SimpleQueueService.NonExistentQueue", err)
	}
	if strings.Contains(err.Error(), validMessage().Sub) {
		t.Errorf("error %q carries the body", err)
	}

	srv = &sqsServer{badMD5: true}
	ts2 := httptest.NewServer(srv)
	defer ts2.Close()
	if _, err := senderTo(t, ts2.URL).Send(t.Context(), validMessage()); err == nil || !strings.Contains(err.Error(), "MD5OfMessageBody") {
		t.Errorf("Send() with a wrong digest in the answer = %v, want an error naming MD5OfMessageBody", err)
	}
}

// TestClientKeepsTheDeadline: a queue that does not answer costs the
// caller its context's deadline, not more, and the error is a timeout.
func TestClientKeepsTheDeadline(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := senderTo(t, ts.URL).Send(ctx, validMessage())
	if k := membership.Classify(err); k != membership.KindTimeout {
		t.Errorf("Send() to a queue that does not answer: error %v, kind %s, want %s", err, k, membership.KindTimeout)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Send took %s with a 300ms deadline", elapsed)
	}
}

func TestNewSenderFromEnvEndpoints(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // the endpoint called
		wantErr string
	}{
		{"none: the queue URL's host", nil, "https://sqs.us-east-1.amazonaws.com", ""},
		{"empty means unset", map[string]string{"AWS_ENDPOINT_URL_SQS": ""}, "https://sqs.us-east-1.amazonaws.com", ""},
		{"another partition", map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"}, "https://sqs.cn-north-1.amazonaws.com.cn", ""},
		{"sqs", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4100"}, "http://127.0.0.1:4100", ""},
		{"general", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566", ""},
		{"sqs first", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2"}, "http://a:1", ""},
		{"cognito's is not ours", map[string]string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://c:3"}, "https://sqs.us-east-1.amazonaws.com", ""},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://a:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "https://sqs.us-east-1.amazonaws.com", ""},
		{"relative endpoint", map[string]string{"AWS_ENDPOINT_URL_SQS": "localhost"}, "", "AWS_ENDPOINT_URL_SQS"},
		{"relative queue URL", map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "autogroup-retry"}, "", "AUTOGROUP_RETRY_QUEUE_URL"},
		{"not an AWS host", map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "https://sqs.example.net/123456789012/q"}, "", "not an SQS endpoint"},
		{"look-alike host", map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com.example.net/123456789012/q"}, "", "not an SQS endpoint"},
		{"plain http", map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "http://sqs.us-east-1.amazonaws.com/123456789012/q"}, "", "not an SQS endpoint"},
		{"an emulator's queue URL with its endpoint", map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": "http://127.0.0.1:4100/100010001000/q", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4100"}, "http://127.0.0.1:4100", ""},
		{"no region", map[string]string{"AWS_REGION": ""}, "", "AWS_REGION"},
		{"no keys", map[string]string{"AWS_ACCESS_KEY_ID": ""}, "", "AWS_ACCESS_KEY_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTOGROUP_RETRY_QUEUE_URL": testQueueURL}
			for k, v := range tt.env {
				env[k] = v
			}
			s, err := NewSenderFromEnv(lambdaEnv(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewSenderFromEnv() error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.api.(*Client).Endpoint(); got != tt.want {
				t.Errorf("endpoint = %q, want %q", got, tt.want)
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
}

// TestNoHeavyDependencies keeps the SDK's config package (and the STS, SSO
// and sign-in clients it links) and its SQS client out of this package,
// which the functions import: their initialisation slows every cold start
// (BENCHMARKS.md).
func TestNoHeavyDependencies(t *testing.T) {
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
			"github.com/aws/aws-sdk-go-v2/service/signin", "github.com/aws/aws-sdk-go-v2/service/sqs":
			t.Errorf("retryqueue depends on %s, whose initialisation slows every cold start", d)
		}
	}
}
