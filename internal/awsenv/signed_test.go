package awsenv

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func testConfig() Config {
	return Config{Region: "eu-west-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
	})}
}

// TestSignedErrorCodes: the code comes from X-Amzn-Query-Error, then
// X-Amzn-ErrorType, then the body's __type, without namespace or URL.
func TestSignedErrorCodes(t *testing.T) {
	tests := []struct {
		name     string
		header   map[string]string
		body     string
		wantCode string
		wantMsg  string
	}{
		{"query error first", map[string]string{"X-Amzn-Query-Error": "AWS.SimpleQueueService.NonExistentQueue;Sender", "X-Amzn-ErrorType": "QueueDoesNotExist"},
			`{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no queue"}`, "AWS.SimpleQueueService.NonExistentQueue", "no queue"},
		{"error type header", map[string]string{"X-Amzn-ErrorType": "BadRequestException:http://internal.amazon.com/coral/"},
			`{"Message":"bad token"}`, "BadRequestException", "bad token"},
		{"body type", nil, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no queue"}`, "QueueDoesNotExist", "no queue"},
		{"nothing", nil, `not json`, "Service Unavailable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			_, err := NewSigned(testConfig(), "sqs", ts.URL).Do(t.Context(), "SendMessage", http.MethodPost, "/", nil, []byte("{}"))
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("Do() error = %v, want an *APIError", err)
			}
			if ae.Code != tt.wantCode || ae.Message != tt.wantMsg || ae.Status != 503 || ae.Service != "sqs" || ae.Op != "SendMessage" {
				t.Errorf("Do() error = %+v, want code %q, message %q, status 503", ae, tt.wantCode, tt.wantMsg)
			}
			if NotSent(err) {
				t.Errorf("NotSent(%v) = true for an answer", err)
			}
		})
	}
}

// TestSignedNotSent: a request to a server that is not there was not sent.
func TestSignedNotSent(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	_, err := NewSigned(testConfig(), "sqs", url).Do(t.Context(), "SendMessage", http.MethodPost, "/", nil, nil)
	if err == nil || !NotSent(err) {
		t.Errorf("Do() to a closed server = %v, want an error NotSent reports", err)
	}
}

// TestSignedSigns: the request carries a SigV4 signature for the service
// and region, over the body's SHA-256.
func TestSignedSigns(t *testing.T) {
	var got *http.Request
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
	defer ts.Close()
	resp, err := NewSigned(testConfig(), "appconfig", ts.URL+"/").Do(t.Context(), "Op", http.MethodGet, "/x?a=b", http.Header{"X-Test": {"1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.URL.Path != "/x" || got.Header.Get("X-Test") != "1" {
		t.Errorf("request %s with X-Test %q, want /x with 1", got.URL.Path, got.Header.Get("X-Test"))
	}
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if h := got.Header.Get("X-Amz-Content-Sha256"); h != "" && h != emptySHA {
		t.Errorf("X-Amz-Content-Sha256 = %q, want the empty body's", h)
	}
	auth := got.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") {
		t.Errorf("Authorization = %q, want SigV4 with AKID", auth)
	}
	if !strings.Contains(auth, "/eu-west-1/appconfig/aws4_request") {
		t.Errorf("Authorization = %q, want the scope eu-west-1/appconfig", auth)
	}
}
