package membership

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind classifies the outcome of adding a user to a group. Its values are
// stable strings, fit for logs and metrics.
type Kind string

// The kinds of outcome.
const (
	// KindOK: the user was added, or already was a member.
	KindOK Kind = "ok"
	// KindGroupNotFound: ResourceNotFoundException, the group (or the pool)
	// does not exist.
	KindGroupNotFound Kind = "group_not_found"
	// KindUserNotFound: UserNotFoundException.
	KindUserNotFound Kind = "user_not_found"
	// KindAccessDenied: AccessDeniedException, the caller lacks the IAM
	// permission cognito-idp:AdminAddUserToGroup.
	KindAccessDenied Kind = "access_denied"
	// KindNotAuthorized: NotAuthorizedException, or credentials that AWS
	// rejects (UnrecognizedClientException, InvalidSignatureException,
	// ExpiredTokenException and the like).
	KindNotAuthorized Kind = "not_authorized"
	// KindInvalidParameter: InvalidParameterException, ValidationException,
	// or an input the SDK rejected before sending it.
	KindInvalidParameter Kind = "invalid_parameter"
	// KindThrottled: TooManyRequestsException, ThrottlingException or HTTP 429.
	KindThrottled Kind = "throttled"
	// KindTimeout: the context's deadline or cancellation, or a network
	// timeout other than a connect timeout.
	KindTimeout Kind = "timed_out"
	// KindServerError: InternalErrorException or an HTTP status of 500 or more.
	KindServerError Kind = "server_error"
	// KindNetwork: the request or its answer was lost on the way: a refused,
	// reset or timed-out connection, or an answer cut short.
	KindNetwork Kind = "network_error"
	// KindUnknown: anything else, such as an exception this package does not
	// know or a failure to load credentials.
	KindUnknown Kind = "unknown"

	// The kinds only a read (Reader.GetUser) ends with.

	// KindPoolNotFound: ResourceNotFoundException from AdminGetUser, the
	// user pool does not exist.
	KindPoolNotFound Kind = "pool_not_found"
	// KindSubMismatch: the user Cognito holds under the username has
	// another sub than the one the caller expected (or none).
	KindSubMismatch Kind = "sub_mismatch"
)

// Retryable reports whether an attempt that failed with this kind may
// succeed if made again: KindThrottled, KindServerError and KindNetwork.
// KindUnknown is not retried: such errors (unmodelled exceptions, credential
// or serialisation failures) are rarely transient, and every retry spends
// the account's shared AdminAddUserToGroup quota.
func (k Kind) Retryable() bool {
	switch k {
	case KindThrottled, KindServerError, KindNetwork:
		return true
	}
	return false
}

// Classify returns the kind of an error returned by AdminAddUserToGroup (or
// by Options.Wait). It matches the modelled exceptions of
// service/cognitoidentityprovider/types and smithy.APIError codes first, then
// context errors, HTTP status codes and transport errors. Classify(nil) is
// KindOK.
func Classify(err error) Kind {
	if err == nil {
		return KindOK
	}
	var (
		notFound     *types.ResourceNotFoundException
		userNotFound *types.UserNotFoundException
		notAuth      *types.NotAuthorizedException
		invalid      *types.InvalidParameterException
		tooMany      *types.TooManyRequestsException
		internal     *types.InternalErrorException
		apiErr       smithy.APIError
	)
	switch {
	case errors.As(err, &notFound):
		return KindGroupNotFound
	case errors.As(err, &userNotFound):
		return KindUserNotFound
	case errors.As(err, &notAuth):
		return KindNotAuthorized
	case errors.As(err, &invalid):
		return KindInvalidParameter
	case errors.As(err, &tooMany):
		return KindThrottled
	case errors.As(err, &internal):
		return KindServerError
	case errors.As(err, &apiErr):
		if k, ok := codeKinds[apiErr.ErrorCode()]; ok {
			return k
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return KindTimeout
	}
	var invalidParams smithy.InvalidParamsError
	if errors.As(err, &invalidParams) {
		return KindInvalidParameter
	}
	// An HTTP answer: the SDK's *smithyhttp.ResponseError, or the
	// *awsenv.APIError of the functions' own SQS and AppConfig calls.
	var respErr interface{ HTTPStatusCode() int }
	if errors.As(err, &respErr) {
		switch status := respErr.HTTPStatusCode(); {
		case status >= 500:
			return KindServerError
		case status == 429:
			return KindThrottled
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		// A connect timeout means the request was never sent: retrying it
		// on a new connection is safe and may succeed.
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return KindNetwork
		}
		return KindTimeout
	}
	var (
		sendErr *smithyhttp.RequestSendError
		opErr   *net.OpError
	)
	if errors.As(err, &sendErr) || errors.As(err, &opErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return KindNetwork
	}
	return KindUnknown
}

// codeKinds maps error codes that have no modelled type in
// service/cognitoidentityprovider/types (they come from the AWS front end,
// not from Cognito) to their kind.
var codeKinds = map[string]Kind{
	"AccessDeniedException":       KindAccessDenied,
	"AccessDenied":                KindAccessDenied,
	"ThrottlingException":         KindThrottled,
	"Throttling":                  KindThrottled,
	"TooManyRequestsException":    KindThrottled,
	"RequestLimitExceeded":        KindThrottled,
	"RequestThrottled":            KindThrottled, // SQS's
	"InternalFailure":             KindServerError,
	"InternalServerError":         KindServerError,
	"ServiceUnavailable":          KindServerError,
	"ServiceUnavailableException": KindServerError,
	"ValidationException":         KindInvalidParameter,
	"InvalidParameterException":   KindInvalidParameter,
	"ResourceNotFoundException":   KindGroupNotFound,
	"UserNotFoundException":       KindUserNotFound,
	"NotAuthorizedException":      KindNotAuthorized,
	"UnrecognizedClientException": KindNotAuthorized,
	"InvalidSignatureException":   KindNotAuthorized,
	"IncompleteSignature":         KindNotAuthorized,
	"MissingAuthenticationToken":  KindNotAuthorized,
	"InvalidClientTokenId":        KindNotAuthorized,
	"ExpiredTokenException":       KindNotAuthorized,
}

// AddError is the error of a group that could not be added. Its message is
// meant for the log and the operator: it names the group and the user pool
// and says what went wrong and, where it can, what to do. It never contains
// the username (which may be an email address).
type AddError struct {
	// Group and PoolID say where the user was to be added.
	Group, PoolID string
	// Kind classifies Err.
	Kind Kind
	// Attempts counts the calls made.
	Attempts int
	// Err is the last error: from the SDK, from the context, or from
	// Options.Wait.
	Err error
}

// Error describes the failure, for example
// `add user to group "admins": group does not exist in user pool
// us-east-1_abc (ResourceNotFoundException: Group not found.)`.
func (e *AddError) Error() string {
	return groupError("add user to group", "cognito-idp:AdminAddUserToGroup", e.Group, e.PoolID, e.Kind, e.Attempts, e.Err)
}

// groupError describes the failure of a call on one group (what, such as
// "add user to group", by the IAM action action): the message of AddError
// and RemoveError.
func groupError(what, action, group, poolID string, kind Kind, attempts int, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q: ", what, group)
	detail := true
	switch kind {
	case KindGroupNotFound:
		fmt.Fprintf(&b, "group does not exist in user pool %s", poolID)
	case KindAccessDenied:
		fmt.Fprintf(&b, "access denied: the caller needs IAM permission %s on user pool %s", action, poolID)
	case KindInvalidParameter:
		fmt.Fprintf(&b, "invalid request for user pool %s: check the pool id and the group name", poolID)
	default:
		detail = writeFailure(&b, kind, poolID, attempts, err)
	}
	writeDetail(&b, detail, err)
	return b.String()
}

// writeFailure describes the kinds that read the same for every operation
// and reports whether Err's detail belongs after it.
func writeFailure(b *strings.Builder, k Kind, poolID string, n int, err error) bool {
	switch k {
	case KindUserNotFound:
		fmt.Fprintf(b, "user does not exist in user pool %s", poolID)
	case KindNotAuthorized:
		fmt.Fprintf(b, "not authorized for user pool %s: check the caller's credentials and the pool id", poolID)
	case KindThrottled:
		fmt.Fprintf(b, "throttled by Cognito (%s) after %s in user pool %s", code(err, "TooManyRequestsException"), attempts(n), poolID)
		return false
	case KindTimeout:
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(b, "canceled by the caller after %s in user pool %s", attempts(n), poolID)
		} else {
			fmt.Fprintf(b, "timed out: the time budget ran out after %s in user pool %s", attempts(n), poolID)
		}
	case KindServerError:
		fmt.Fprintf(b, "Cognito server error after %s in user pool %s", attempts(n), poolID)
	case KindNetwork:
		fmt.Fprintf(b, "network error reaching Cognito after %s for user pool %s", attempts(n), poolID)
	default:
		fmt.Fprintf(b, "unexpected error after %s in user pool %s", attempts(n), poolID)
	}
	return true
}

// writeDetail appends " (detail)" of err when detail is set and err is not nil.
func writeDetail(b *strings.Builder, detail bool, err error) {
	if detail && err != nil {
		b.WriteString(" (")
		b.WriteString(describe(err))
		b.WriteString(")")
	}
}

// Unwrap returns the underlying error, so that errors.As finds the SDK's
// exception types.
func (e *AddError) Unwrap() error { return e.Err }

// describe returns the shortest useful account of err: "Code: message" for
// a service error, else err's own text.
func describe(err error) string {
	var w *waitError
	if errors.As(err, &w) {
		return w.Error()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if msg := apiErr.ErrorMessage(); msg != "" {
			return apiErr.ErrorCode() + ": " + msg
		}
		return apiErr.ErrorCode()
	}
	return err.Error()
}

// code returns err's service error code, or def.
func code(err error, def string) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
		return apiErr.ErrorCode()
	}
	return def
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// waitError is an error returned by Options.Wait.
type waitError struct {
	attempt int
	err     error
}

func (e *waitError) Error() string {
	return fmt.Sprintf("wait before attempt %d: %v", e.attempt, e.err)
}

func (e *waitError) Unwrap() error { return e.err }

// errNoAnswer stands for a call that returned neither an answer nor an error.
var errNoAnswer = errors.New("no answer and no error from Cognito")

// ReadError is the error of a user that could not be read, or that is not
// the user the caller expected. Its message is meant for the log and the
// operator: it names the operation and the user pool and says what went
// wrong and, where it can, what to do. It never contains the username
// (which may be an email address); a sub mismatch names the two subs,
// which are opaque ids.
type ReadError struct {
	// Op is the operation, such as OpGetUser; PoolID the user pool.
	Op, PoolID string
	// Kind classifies the failure.
	Kind Kind
	// Attempts counts the calls made.
	Attempts int
	// WantSub and HaveSub are, for KindSubMismatch, the sub the caller
	// expected and the sub Cognito holds.
	WantSub, HaveSub string
	// Err is the last error from the SDK or the context; nil for
	// KindSubMismatch.
	Err error
}

// Error describes the failure, for example `read user (AdminGetUser): user
// does not exist in user pool us-east-1_abc (UserNotFoundException: User
// does not exist.)`.
func (e *ReadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "read user (%s): ", e.Op)
	detail := true
	switch e.Kind {
	case KindSubMismatch:
		fmt.Fprintf(&b, "the user in user pool %s has sub %q, not the expected %q: nothing is decided for another user", e.PoolID, e.HaveSub, e.WantSub)
	case KindPoolNotFound:
		fmt.Fprintf(&b, "user pool %s does not exist", e.PoolID)
	case KindAccessDenied:
		fmt.Fprintf(&b, "access denied: the caller needs IAM permission cognito-idp:%s on user pool %s", e.Op, e.PoolID)
	case KindInvalidParameter:
		fmt.Fprintf(&b, "invalid request for user pool %s: check the pool id and the user name", e.PoolID)
	default:
		detail = writeFailure(&b, e.Kind, e.PoolID, e.Attempts, e.Err)
	}
	writeDetail(&b, detail, e.Err)
	return b.String()
}

// Unwrap returns the underlying error, so that errors.As finds the SDK's
// exception types.
func (e *ReadError) Unwrap() error { return e.Err }
