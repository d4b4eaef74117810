// Package membership adds one user to Amazon Cognito groups inside a time
// budget: a bounded number of AdminAddUserToGroup calls at once, retries with
// exponential backoff and full jitter that are never started when the budget
// cannot cover them, and errors classified into kinds an operator can act on.
//
// It knows nothing of trigger events or rules: the Lambda handler uses it for
// one sign-up, and the backfill command for many users under a rate limit
// (see Options.Wait). The package owns retries: build the SDK client with
// NewClientFromEnv or configured by ConfigureClient, which turn the SDK's
// own retries off.
package membership

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// API is the one Cognito call this package makes. *cognitoidentityprovider.Client
// implements it; tests pass a small fake.
type API interface {
	AdminAddUserToGroup(ctx context.Context, in *cognitoidentityprovider.AdminAddUserToGroupInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminAddUserToGroupOutput, error)
}

// Defaults for the zero fields of Options.
const (
	DefaultConcurrency = 8
	DefaultBudget      = 4 * time.Second
	DefaultMaxAttempts = 6
	DefaultBaseDelay   = 50 * time.Millisecond
	DefaultMaxDelay    = 1 * time.Second
)

// minAttemptCost is the least time an attempt is assumed to take when
// deciding whether a retry still fits in the budget. Above it, an attempt is
// assumed to take half as long again as the longest attempt seen, since
// latency varies from call to call.
const minAttemptCost = 100 * time.Millisecond

// Options configures an Adder. A zero or negative field takes its default.
type Options struct {
	// Concurrency is how many groups of one Add call are added at once
	// (calls in flight). Default 8. The bound is per Add call.
	Concurrency int
	// Budget bounds one Add call: all work ends by the earlier of the
	// context's deadline and the start of Add plus Budget. Default 4s.
	Budget time.Duration
	// MaxAttempts is the most calls made for one group. Default 6.
	MaxAttempts int
	// BaseDelay is the first backoff cap; the n-th retry waits a random
	// duration in [0, min(BaseDelay*2^(n-1), MaxDelay)) ("full jitter").
	// Default 50ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Default 1s, well under the budget.
	MaxDelay time.Duration
	// Wait, if set, is called before every attempt, once a concurrency slot
	// is held, with the Add call's context (the backfill passes a rate
	// limiter's Wait). If it returns an error, no call is made and the
	// group ends with that error, classified by Classify. Nil means no limit.
	Wait func(ctx context.Context) error
}

// Adder adds a user to groups. Build it with NewAdder; it is immutable and
// safe for concurrent use.
type Adder struct {
	api API
	o   Options
}

// NewAdder returns an Adder that calls api. Zero fields of o take the
// defaults (see Options).
func NewAdder(api API, o Options) *Adder {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	return &Adder{api: api, o: o}
}

// Result is the outcome for one group.
type Result struct {
	// Group is the group name, as passed to Add.
	Group string
	// Kind is KindOK when the user was added or already was a member.
	Kind Kind
	// Err is nil when Kind is KindOK, else an *AddError.
	Err error
	// Attempts counts the AdminAddUserToGroup calls made for the group.
	Attempts int
	// Duration is the time from the start of Add to this group's outcome.
	Duration time.Duration
}

// Add adds the user to every group and returns one Result per group, in the
// order of groups. Groups are independent: one group's failure never stops
// the others. Add returns only when all its calls have returned; every call
// gets a context whose deadline is the earlier of ctx's deadline and the
// start of Add plus Options.Budget.
//
// Only retryable kinds (see Kind.Retryable) are retried, at most
// Options.MaxAttempts calls per group. A retry is not started, and its
// backoff not waited, unless the time left covers the backoff plus one more
// attempt, estimated as 1.5 times the longest attempt seen so far in this Add
// call and at least 100ms; the group then ends with the last error's kind. A
// group whose call or wait is cut off by the deadline ends with KindTimeout.
func (a *Adder) Add(ctx context.Context, poolID, username string, groups []string) []Result {
	start := time.Now()
	results := make([]Result, len(groups))
	if len(groups) == 0 {
		return results
	}
	deadline := start.Add(a.o.Budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	run := &addRun{
		Adder:    a,
		ctx:      ctx,
		deadline: deadline,
		start:    start,
		poolID:   poolID,
		username: username,
		slots:    make(chan struct{}, a.o.Concurrency),
	}
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { results[i] = run.group(g) })
	}
	wg.Wait()
	return results
}

// addRun is the state one Add call shares between its groups.
type addRun struct {
	*Adder
	ctx      context.Context
	deadline time.Time
	start    time.Time
	poolID   string
	username string
	slots    chan struct{} // a value held per call in flight
	longest  atomic.Int64  // longest attempt so far, in nanoseconds
}

// group adds the user to one group, retrying as Add documents.
func (r *addRun) group(g string) Result {
	poolID, username := r.poolID, r.username // the input is this goroutine's own
	in := &cognitoidentityprovider.AdminAddUserToGroupInput{
		UserPoolId: &poolID,
		Username:   &username,
		GroupName:  &g,
	}
	attempts := 0
	var lastErr error
	var lastKind Kind
	end := func(k Kind, err error) Result {
		res := Result{Group: g, Kind: k, Attempts: attempts, Duration: time.Since(r.start)}
		if k != KindOK {
			res.Err = &AddError{Group: g, PoolID: r.poolID, Kind: k, Attempts: attempts, Err: err}
		}
		return res
	}
	// stop ends the group without another attempt: with KindTimeout if
	// the deadline hit before an attempt or while waiting to retry, else
	// with the last attempt's kind.
	stop := func() Result {
		ctxErr := r.ctx.Err()
		switch {
		case lastErr == nil:
			if ctxErr == nil {
				ctxErr = context.DeadlineExceeded
			}
			return end(KindTimeout, ctxErr)
		case ctxErr != nil && lastKind.Retryable():
			return end(KindTimeout, lastErr)
		}
		return end(lastKind, lastErr)
	}

	for {
		// Hold a slot for the call and the Wait before it.
		select {
		case r.slots <- struct{}{}:
		case <-r.ctx.Done():
			return stop()
		}
		if r.o.Wait != nil {
			if err := r.o.Wait(r.ctx); err != nil {
				<-r.slots
				return end(Classify(err), &waitError{attempt: attempts + 1, err: err})
			}
		}
		// Slot and Wait may have taken time: check again before calling.
		if r.ctx.Err() != nil || (attempts > 0 && !r.fits(0)) {
			<-r.slots
			return stop()
		}
		t0 := time.Now()
		_, err := r.api.AdminAddUserToGroup(r.ctx, in)
		d := time.Since(t0)
		<-r.slots
		attempts++
		r.observe(d)
		if err == nil {
			return end(KindOK, nil)
		}
		lastErr, lastKind = err, Classify(err)
		if !lastKind.Retryable() || attempts >= r.o.MaxAttempts {
			return stop()
		}
		backoff := r.backoff(attempts)
		if !r.fits(backoff) {
			return stop()
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return stop()
		}
	}
}

// fits reports whether the time left covers wait plus one more attempt.
func (r *addRun) fits(wait time.Duration) bool {
	longest := time.Duration(r.longest.Load())
	cost := max(longest+longest/2, minAttemptCost)
	return time.Until(r.deadline) >= wait+cost
}

// observe records the duration of an attempt.
func (r *addRun) observe(d time.Duration) {
	for {
		cur := r.longest.Load()
		if int64(d) <= cur || r.longest.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// backoff returns the wait before retry number n (n >= 1): a random
// duration in [0, min(BaseDelay*2^(n-1), MaxDelay)).
func (a *Adder) backoff(n int) time.Duration {
	c := a.o.MaxDelay
	if n-1 < 62 {
		if d := a.o.BaseDelay << (n - 1); d > 0 && d>>(n-1) == a.o.BaseDelay && d < c {
			c = d
		}
	}
	if c <= 0 {
		return 0
	}
	return rand.N(c)
}
