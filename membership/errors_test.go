package membership

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
)

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// sdkWrap wraps err as the SDK wraps a service error with an HTTP status.
func sdkWrap(status int, err error) error {
	return &smithy.OperationError{
		ServiceID:     "Cognito Identity Provider",
		OperationName: "AdminAddUserToGroup",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: "req-1",
		},
	}
}

// sendWrap wraps err as the SDK wraps a failure to send a request.
func sendWrap(err error) error {
	return &smithy.OperationError{
		ServiceID:     "Cognito Identity Provider",
		OperationName: "AdminAddUserToGroup",
		Err:           &smithyhttp.RequestSendError{Err: err},
	}
}

// awsenvNotSent is the error of awsenv.Signed.Do for a request it could
// not send: the server closed the connection.
func awsenvNotSent() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
		ln.Close()
	}()
	cfg := awsenv.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
	})}
	_, err = awsenv.NewSigned(cfg, "sqs", "http://"+ln.Addr().String()).Do(context.Background(), "SendMessage", http.MethodPost, "/", nil, []byte("{}"))
	return err
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindOK},
		{"ResourceNotFoundException", sdkWrap(400, &types.ResourceNotFoundException{}), KindGroupNotFound},
		{"UserNotFoundException", sdkWrap(400, &types.UserNotFoundException{}), KindUserNotFound},
		{"NotAuthorizedException", sdkWrap(400, &types.NotAuthorizedException{}), KindNotAuthorized},
		{"InvalidParameterException", sdkWrap(400, &types.InvalidParameterException{}), KindInvalidParameter},
		{"TooManyRequestsException", sdkWrap(400, &types.TooManyRequestsException{}), KindThrottled},
		{"InternalErrorException", sdkWrap(500, &types.InternalErrorException{}), KindServerError},
		{"AccessDeniedException", sdkWrap(400, &smithy.GenericAPIError{Code: "AccessDeniedException"}), KindAccessDenied},
		{"ThrottlingException", sdkWrap(400, &smithy.GenericAPIError{Code: "ThrottlingException"}), KindThrottled},
		{"UnrecognizedClientException", sdkWrap(400, &smithy.GenericAPIError{Code: "UnrecognizedClientException"}), KindNotAuthorized},
		{"ExpiredTokenException", sdkWrap(400, &smithy.GenericAPIError{Code: "ExpiredTokenException"}), KindNotAuthorized},
		{"ValidationException", sdkWrap(400, &smithy.GenericAPIError{Code: "ValidationException"}), KindInvalidParameter},
		{"unknown code with 503", sdkWrap(503, &smithy.GenericAPIError{Code: "UnknownError"}), KindServerError},
		{"unknown code with 502", sdkWrap(502, &smithy.GenericAPIError{Code: "Bad Gateway"}), KindServerError},
		{"unknown code with 429", sdkWrap(429, &smithy.GenericAPIError{Code: "UnknownError"}), KindThrottled},
		{"own client's error with 500", &awsenv.APIError{Service: "sqs", Status: 500, Code: "InternalError"}, KindServerError},
		{"own client's error, SQS's throttle", &awsenv.APIError{Service: "sqs", Status: 403, Code: "RequestThrottled"}, KindThrottled},
		{"own client's request not sent", awsenvNotSent(), KindNetwork},
		{"unknown code with 400", sdkWrap(400, &smithy.GenericAPIError{Code: "OperationNotEnabledException"}), KindUnknown},
		{"client-side validation", &smithy.OperationError{Err: smithy.InvalidParamsError{Context: "AdminAddUserToGroupInput"}}, KindInvalidParameter},
		{"context deadline", sendWrap(&smithy.CanceledError{Err: context.DeadlineExceeded}), KindTimeout},
		{"context canceled", sendWrap(&smithy.CanceledError{Err: context.Canceled}), KindTimeout},
		{"bare context deadline", context.DeadlineExceeded, KindTimeout},
		{"read timeout", sendWrap(&net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}), KindTimeout},
		{"os deadline", fmt.Errorf("read body: %w", os.ErrDeadlineExceeded), KindTimeout},
		{"connect timeout", sendWrap(&net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}), KindNetwork},
		{"connection refused", sendWrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), KindNetwork},
		{"connection reset", sendWrap(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), KindNetwork},
		{"bare ECONNRESET", fmt.Errorf("read: %w", syscall.ECONNRESET), KindNetwork},
		{"EOF before the answer", sendWrap(io.EOF), KindNetwork},
		{"answer cut short", &smithy.DeserializationError{Err: io.ErrUnexpectedEOF}, KindNetwork},
		{"DNS failure", sendWrap(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "cognito-idp.example"}}), KindNetwork},
		{"credentials", errors.New("failed to retrieve credentials"), KindUnknown},
		{"wrapped in AddError", &AddError{Kind: KindThrottled, Err: sdkWrap(400, &types.TooManyRequestsException{})}, KindThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

func TestKindRetryable(t *testing.T) {
	retryable := map[Kind]bool{KindThrottled: true, KindServerError: true, KindNetwork: true}
	for _, k := range []Kind{KindOK, KindGroupNotFound, KindUserNotFound, KindAccessDenied, KindNotAuthorized,
		KindInvalidParameter, KindThrottled, KindTimeout, KindServerError, KindNetwork, KindUnknown} {
		if got := k.Retryable(); got != retryable[k] {
			t.Errorf("Kind(%s).Retryable() = %v, want %v", k, got, retryable[k])
		}
	}
}

func TestAddErrorMessage(t *testing.T) {
	tests := []struct {
		kind     Kind
		err      error
		attempts int
		want     []string
	}{
		{KindGroupNotFound, sdkWrap(400, &types.ResourceNotFoundException{Message: aws.String("Group not found.")}), 1,
			[]string{`add user to group "admins": group does not exist in user pool us-east-1_abc (ResourceNotFoundException: Group not found.)`}},
		{KindUserNotFound, sdkWrap(400, &types.UserNotFoundException{Message: aws.String("User does not exist.")}), 1,
			[]string{`add user to group "admins": user does not exist in user pool us-east-1_abc (UserNotFoundException: User does not exist.)`}},
		{KindAccessDenied, sdkWrap(400, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"}), 1,
			[]string{`add user to group "admins": access denied: the caller needs IAM permission cognito-idp:AdminAddUserToGroup on user pool us-east-1_abc (AccessDeniedException: not allowed)`}},
		{KindNotAuthorized, sdkWrap(400, &types.NotAuthorizedException{Message: aws.String("nope")}), 1,
			[]string{`add user to group "admins": not authorized for user pool us-east-1_abc`, "(NotAuthorizedException: nope)"}},
		{KindInvalidParameter, sdkWrap(400, &types.InvalidParameterException{Message: aws.String("bad")}), 1,
			[]string{`add user to group "admins": invalid request for user pool us-east-1_abc`, "(InvalidParameterException: bad)"}},
		{KindThrottled, sdkWrap(400, &types.TooManyRequestsException{Message: aws.String("Too many requests.")}), 6,
			[]string{`add user to group "admins": throttled by Cognito (TooManyRequestsException) after 6 attempts in user pool us-east-1_abc`}},
		{KindTimeout, sendWrap(context.DeadlineExceeded), 1,
			[]string{`add user to group "admins": timed out: the time budget ran out after 1 attempt in user pool us-east-1_abc (`}},
		{KindTimeout, context.Canceled, 0,
			[]string{`add user to group "admins": canceled by the caller after 0 attempts in user pool us-east-1_abc`}},
		{KindServerError, sdkWrap(500, &types.InternalErrorException{Message: aws.String("oops")}), 3,
			[]string{`add user to group "admins": Cognito server error after 3 attempts in user pool us-east-1_abc (InternalErrorException: oops)`}},
		{KindNetwork, sendWrap(io.EOF), 2,
			[]string{`add user to group "admins": network error reaching Cognito after 2 attempts for user pool us-east-1_abc (`, "EOF"}},
		{KindUnknown, &waitError{attempt: 1, err: errors.New("limiter closed")}, 0,
			[]string{`add user to group "admins": unexpected error after 0 attempts in user pool us-east-1_abc (wait before attempt 1: limiter closed)`}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			e := &AddError{Group: "admins", PoolID: "us-east-1_abc", Kind: tt.kind, Attempts: tt.attempts, Err: tt.err}
			got := e.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Error() = %q, want it to contain %q", got, w)
				}
			}
			if !errors.Is(e, tt.err) {
				t.Errorf("errors.Is(AddError, its Err) = false")
			}
		})
	}
}
