// Package membership adds one user to Amazon Cognito groups inside a time
// budget, and reads the user back from Cognito under the same budget: a
// bounded number of AdminAddUserToGroup calls at once, retries with
// exponential backoff and full jitter that are never started when the budget
// cannot cover them, and errors classified into kinds an operator can act on.
//
// It knows nothing of trigger events or rules: the Lambda handler uses it for
// one sign-up (Reader.GetUser, then Adder.Add), and the backfill command for
// many users under a rate limit (see Options.Wait). The package owns
// retries: build the SDK client with NewClientFromEnv or configured by
// ConfigureClient, which turn the SDK's own retries off.
package membership

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// API is the Cognito call an Adder makes. *cognitoidentityprovider.Client
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

// Options configures an Adder or a Reader. A zero or negative field takes
// its default.
type Options struct {
	// Concurrency is how many groups of one Add call are added at once
	// (calls in flight). Default 8. The bound is per Add call.
	Concurrency int
	// Budget bounds one Add or GetUser call: all its work ends by the
	// earlier of the context's deadline and its start plus Budget. Default
	// 4s. To give several calls one budget, pass the later ones a context
	// with the deadline of the first (Read.Deadline).
	Budget time.Duration
	// MaxAttempts is the most calls made for one group, or for one read.
	// Default 6.
	MaxAttempts int
	// BaseDelay is the first backoff cap; the n-th retry waits a random
	// duration in [0, min(BaseDelay*2^(n-1), MaxDelay)) ("full jitter").
	// Default 50ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Default 1s, well under the budget.
	MaxDelay time.Duration
	// Wait, if set, is called before every AdminAddUserToGroup attempt,
	// once a concurrency slot is held, with the Add call's context (the
	// backfill passes a rate limiter's Wait). If it returns an error, no
	// call is made and the group ends with that error, classified by
	// Classify. Nil means no limit. Reads do not call it: AdminGetUser
	// counts against another quota than AdminAddUserToGroup.
	Wait func(ctx context.Context) error
	// ThrottleAttempts is the most calls made for one group, or for one
	// read, while Cognito answers them with throttling: 1 stops at the
	// first throttle. Default (0): MaxAttempts, no separate bound. A
	// function with a retry queue sets it low (see throttle.go).
	ThrottleAttempts int
}

// withDefaults returns o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
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
	return o
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
	return &Adder{api: api, o: o.withDefaults()}
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
	results := make([]Result, len(groups))
	if len(groups) == 0 {
		return results
	}
	r, cancel := newRun(ctx, &a.o, make(chan struct{}, a.o.Concurrency), a.o.Wait)
	defer cancel()
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { results[i] = a.group(r, poolID, username, g) })
	}
	wg.Wait()
	return results
}

// group adds the user to one group, retrying as Add documents.
func (a *Adder) group(r *run, poolID, username, g string) Result {
	in := &cognitoidentityprovider.AdminAddUserToGroupInput{
		UserPoolId: &poolID,
		Username:   &username,
		GroupName:  &g,
	}
	attempts, k, err := r.retry(func(ctx context.Context) error {
		_, err := a.api.AdminAddUserToGroup(ctx, in)
		return err
	})
	res := Result{Group: g, Kind: k, Attempts: attempts, Duration: time.Since(r.start)}
	if k != KindOK {
		res.Err = &AddError{Group: g, PoolID: poolID, Kind: k, Attempts: attempts, Err: err}
	}
	return res
}

// backoff returns the wait before retry number n (n >= 1), as Options.backoff.
func (a *Adder) backoff(n int) time.Duration { return a.o.backoff(n) }
