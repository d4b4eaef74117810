package harness

import (
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit emulates an account's Cognito quota for one operation between
// the functions and cognito-local: a token bucket of PerSecond calls per
// second (one second's worth of burst); a call beyond it is answered as
// Cognito answers it, HTTP 400 TooManyRequestsException, and never reaches
// cognito-local. The harness's own client is not limited.
type RateLimit struct {
	// Op is the operation limited, such as "AdminAddUserToGroup".
	Op string
	// PerSecond is the quota; 0 refuses every call of Op, math.Inf(1)
	// none.
	PerSecond float64
}

// limiter is the rate-enforcing proxy in front of cognito-local.
type limiter struct {
	op    string
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	bucket    *rate.Limiter
	allowed   int
	throttled int
}

// newLimiter returns the proxy of l to target (cognito-local's URL).
func newLimiter(l RateLimit, target string) (*limiter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	// The bucket starts full, as a quota that was not used.
	bucket := rate.NewLimiter(rate.Inf, 0)
	if !math.IsInf(l.PerSecond, 1) {
		bucket = rate.NewLimiter(rate.Limit(l.PerSecond), int(math.Ceil(l.PerSecond)))
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	// A function that gives up on a call (its budget ended) is no error
	// worth a line on the test's output.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	return &limiter{op: l.Op, proxy: proxy, bucket: bucket}, nil
}

// set changes the quota: 0 refuses every call, +Inf lets every call through.
func (l *limiter) set(perSecond float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if math.IsInf(perSecond, 1) {
		l.bucket.SetLimit(rate.Inf)
		return
	}
	l.bucket.SetLimit(rate.Limit(perSecond))
	l.bucket.SetBurst(int(math.Ceil(perSecond)))
}

// take reports whether a call of the limited operation may go through now,
// and counts it.
func (l *limiter) take() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bucket.AllowN(time.Now(), 1) {
		l.allowed++
		return true
	}
	l.throttled++
	return false
}

func (l *limiter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// The JSON protocol names the operation in X-Amz-Target:
	// AWSCognitoIdentityProviderService.AdminAddUserToGroup.
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	if op == l.op && !l.take() {
		body, _ := json.Marshal(map[string]string{"__type": "TooManyRequestsException", "message": "Too many requests."})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
		return
	}
	l.proxy.ServeHTTP(w, req)
}

// startLimiter starts the rate-enforcing proxy in front of cognito-local
// and returns its URL.
func (e *Env) startLimiter(l RateLimit) (string, error) {
	var err error
	if e.limiter, err = newLimiter(l, e.CognitoURL); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	e.limitServer = &http.Server{Handler: e.limiter, ReadHeaderTimeout: 10 * time.Second}
	go e.limitServer.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// SetCognitoRate changes the emulated quota of Options.CognitoLimit's
// operation: 0 refuses every call, math.Inf(1) lets every call through. It
// does nothing for an Env without a limit.
func (e *Env) SetCognitoRate(perSecond float64) {
	if e.limiter != nil {
		e.limiter.set(perSecond)
	}
}

// LimitedCalls returns how many calls of Options.CognitoLimit's operation
// went through to cognito-local and how many were answered
// TooManyRequestsException.
func (e *Env) LimitedCalls() (allowed, throttled int) {
	if e.limiter == nil {
		return 0, 0
	}
	e.limiter.mu.Lock()
	defer e.limiter.mu.Unlock()
	return e.limiter.allowed, e.limiter.throttled
}
