package cognitofake

import (
	"math"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Fault is a failure injected into the answers of matching calls. Set one of
// Type (or Status), Reset or Hang.
type Fault struct {
	// Op limits the fault to one operation, such as "AdminAddUserToGroup";
	// empty means every operation.
	Op string
	// Group limits the fault to calls whose GroupName is this; empty means
	// any call.
	Group string
	// Times is how many matching calls the fault affects; 0 means every one.
	Times int
	// PerSecond, when above 0, spares the matching calls within a rate, as
	// an account's quota does: they take a token from a bucket that gains
	// PerSecond tokens a second and holds one second's worth (PerSecond
	// rounded up, at least 1), full at the start. A call that finds a
	// token goes on to the next fault, or is answered; one that finds none
	// gets this fault (and takes no token, as a throttled call counts for
	// nothing).
	PerSecond float64

	// Type is the error type answered, such as "TooManyRequestsException",
	// with Message. Status is the HTTP status (400 if 0). A Status with an
	// empty Type answers that status with an empty body, as a load balancer
	// might.
	Type    string
	Message string
	Status  int
	// Reset closes the TCP connection with a reset, without answering.
	Reset bool
	// Hang never answers: the call blocks until the client gives up (its
	// context ends) or the server is closed.
	Hang bool
}

// fault is an injected Fault and how many more calls it affects.
type fault struct {
	Fault
	left   int           // < 0: every matching call
	bucket *rate.Limiter // nil without PerSecond
}

// Inject adds a fault. A call draws the first injected fault that matches it
// and is not used up; a call that draws none is answered normally.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	ff := &fault{Fault: f, left: left}
	if f.PerSecond > 0 {
		burst := max(1, int(math.Ceil(f.PerSecond)))
		ff.bucket = rate.NewLimiter(rate.Limit(f.PerSecond), burst)
	}
	s.faults = append(s.faults, ff)
}

// ClearFaults removes every fault and the delay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.delay = 0
}

// Delay makes every call wait d before it is answered (or draws its fault's
// effect). A client that gives up during the wait gets no answer.
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// ThrottleFirst answers the next n calls with TooManyRequestsException.
func (s *Server) ThrottleFirst(n int) {
	s.Inject(Fault{Times: n, Type: "TooManyRequestsException", Message: "Too many requests."})
}

// AlwaysThrottle answers every call with TooManyRequestsException.
func (s *Server) AlwaysThrottle() {
	s.Inject(Fault{Type: "TooManyRequestsException", Message: "Too many requests."})
}

// FailWith500 answers the next n calls with HTTP 500 InternalErrorException;
// n <= 0 means every call.
func (s *Server) FailWith500(n int) {
	s.Inject(Fault{Times: n, Status: http.StatusInternalServerError, Type: "InternalErrorException", Message: "Internal error."})
}

// FailWith500Once answers the next call with HTTP 500 InternalErrorException.
func (s *Server) FailWith500Once() { s.FailWith500(1) }

// Hang makes every call hang until the client gives up.
func (s *Server) Hang() { s.Inject(Fault{Hang: true}) }

// ResetConnection closes the connection of the next n calls without
// answering.
func (s *Server) ResetConnection(n int) { s.Inject(Fault{Times: n, Reset: true}) }

// NotFound answers every call for the group with ResourceNotFoundException
// "Group not found.", whether or not the group exists.
func (s *Server) NotFound(group string) {
	s.Inject(Fault{Group: group, Type: "ResourceNotFoundException", Message: "Group not found."})
}

// AccessDenied answers every call with AccessDeniedException (HTTP 400, as
// AWS's JSON protocol does), as when the caller's IAM role lacks the action.
func (s *Server) AccessDenied() {
	s.Inject(Fault{Type: "AccessDeniedException", Message: "User: arn:aws:sts::123456789012:assumed-role/fn/fn is not authorized to perform: cognito-idp:AdminAddUserToGroup on resource: arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool} because no identity-based policy allows the cognito-idp:AdminAddUserToGroup action"})
}

// RateLimit answers the calls of op (every operation when op is empty)
// beyond perSecond a second with TooManyRequestsException, as Cognito
// answers calls over an account's quota: a token bucket with one second's
// worth of burst (see Fault.PerSecond).
func (s *Server) RateLimit(op string, perSecond float64) {
	s.Inject(Fault{Op: op, PerSecond: perSecond, Type: "TooManyRequestsException", Message: "Rate exceeded"})
}

// UserNotFound answers every call with UserNotFoundException.
func (s *Server) UserNotFound() {
	s.Inject(Fault{Type: "UserNotFoundException", Message: "User does not exist."})
}

// draw returns the fault a call arriving at now gets, using one of its
// times, or nil. s.mu must be held.
func (s *Server) draw(req *request, now time.Time) *Fault {
	for _, f := range s.faults {
		if f.left == 0 || (f.Op != "" && f.Op != req.op) || (f.Group != "" && f.Group != req.GroupName) {
			continue
		}
		if f.bucket != nil && f.bucket.AllowN(now, 1) {
			continue // within the rate
		}
		if f.left > 0 {
			f.left--
		}
		ff := f.Fault
		return &ff
	}
	return nil
}

// answer returns the error answer of a Type or Status fault to req. The
// message's "{pool}" is replaced by the request's pool id.
func (f *Fault) answer(req *request) *apiError {
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	msg := strings.ReplaceAll(f.Message, "{pool}", req.UserPoolID)
	return &apiError{status: status, typ: f.Type, message: msg}
}
