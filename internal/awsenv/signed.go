package awsenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Signed sends SigV4-signed requests to one AWS service endpoint. The
// functions use it for the few calls they make to services whose generated
// SDK clients cost more at a cold start than the calls are worth (the
// AppConfig Data API; SQS, whose client's package initialisation was about
// a millisecond of every cold start, BENCHMARKS.md).
type Signed struct {
	cfg      Config
	service  string
	endpoint string
	client   interface {
		Do(*http.Request) (*http.Response, error)
	}
	signer *v4.Signer
}

// NewSigned returns a Signed for the service whose requests are signed as
// signingName, at endpoint (scheme and host, such as
// "https://sqs.us-east-1.amazonaws.com"), with the credentials and region of
// cfg and the HTTP client of NewHTTPClient.
func NewSigned(cfg Config, signingName, endpoint string) *Signed {
	return &Signed{
		cfg:      cfg,
		service:  signingName,
		endpoint: strings.TrimSuffix(endpoint, "/"),
		client:   NewHTTPClient(),
		signer:   v4.NewSigner(),
	}
}

// Endpoint returns the endpoint requests go to.
func (s *Signed) Endpoint() string { return s.endpoint }

// Do sends one signed request for operation op: method on the endpoint's
// path, with body (nil for none) and the headers given. It returns a 2xx
// response, whose body the caller closes; any other answer is an *APIError,
// and a request that could not be sent is a *smithyhttp.RequestSendError,
// as the SDK's clients return them, so that membership.Classify reads both.
func (s *Signed) Do(ctx context.Context, op, method, path string, header http.Header, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", s.service, op, err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range header {
		req.Header[k] = slices.Clone(vs) // header is shared by every call
	}
	sum := sha256.Sum256(body)
	creds, err := s.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: credentials: %w", s.service, op, err)
	}
	if err := s.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), s.service, s.cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("%s %s: sign: %w", s.service, op, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", s.service, op, &smithyhttp.RequestSendError{Err: err})
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readAPIError(s.service, op, resp)
}

// NotSent reports whether err says that a request of Do could not be sent
// or its answer not received (a connection refused, reset or timed out),
// rather than that the service answered it.
func NotSent(err error) bool {
	var sendErr *smithyhttp.RequestSendError
	return errors.As(err, &sendErr)
}

// APIError is an error answer of an AWS service called through Signed. It
// implements smithy.APIError.
type APIError struct {
	// Service is the service's signing name, such as "sqs".
	Service string
	// Op is the operation, such as "SendMessage".
	Op string
	// Status is the HTTP status code.
	Status int
	// Code is the error code, such as BadRequestException.
	Code string
	// Message is the service's message.
	Message string
}

// Error returns "SERVICE OP: CODE (HTTP STATUS): MESSAGE".
func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %s (HTTP %d): %s", e.Service, e.Op, e.Code, e.Status, e.Message)
}

// ErrorCode returns Code.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage returns Message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whether the server (a 5xx) or the client is at fault.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.Status >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode returns Status.
func (e *APIError) HTTPStatusCode() int { return e.Status }

// readAPIError reads an error answer. The code is, in this order, the
// X-Amzn-Query-Error header's (as "Code;Fault": what AWS JSON services
// compatible with an older query protocol, such as SQS, name their errors
// by, and what their SDK clients report), the X-Amzn-ErrorType header's (as
// "Type:URL") or the body's __type (as "namespace#Type"); the message is the
// body's Message or message.
func readAPIError(service, op string, resp *http.Response) *APIError {
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
		Lower   string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = json.Unmarshal(b, &body)
	e := &APIError{Service: service, Op: op, Status: resp.StatusCode, Message: body.Message}
	if q := resp.Header.Get("X-Amzn-Query-Error"); q != "" {
		e.Code, _, _ = strings.Cut(q, ";")
	}
	if e.Code == "" {
		e.Code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	}
	if e.Code == "" {
		e.Code = body.Type
	}
	if i := strings.LastIndex(e.Code, "#"); i >= 0 {
		e.Code = e.Code[i+1:]
	}
	if e.Code == "" {
		e.Code = http.StatusText(resp.StatusCode)
	}
	if e.Message == "" {
		e.Message = body.Lower
	}
	return e
}
