package membership

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// minAttemptCost is the least time an attempt is assumed to take when
// deciding whether a retry still fits in the budget. Above it, an attempt is
// assumed to take half as long again as the longest attempt seen, since
// latency varies from call to call.
const minAttemptCost = 100 * time.Millisecond

// run is the state one Add or GetUser call shares between its attempts:
// the deadline, the longest attempt seen so far, and the concurrency slots.
type run struct {
	o        *Options
	ctx      context.Context
	deadline time.Time
	start    time.Time
	slots    chan struct{}               // a value held per call in flight; nil: no bound
	wait     func(context.Context) error // called before each attempt; nil: none
	longest  atomic.Int64                // longest attempt so far, in nanoseconds
}

// newRun starts a run now: its context ends at the earlier of ctx's
// deadline and now plus o.Budget. Call the cancel function when done.
func newRun(ctx context.Context, o *Options, slots chan struct{}, wait func(context.Context) error) (*run, context.CancelFunc) {
	start := time.Now()
	deadline := start.Add(o.Budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	return &run{o: o, ctx: ctx, deadline: deadline, start: start, slots: slots, wait: wait}, cancel
}

// retry calls call, with the run's context, until it succeeds, fails with a
// kind that is not retryable, has been made o.MaxAttempts times (or
// throttled o.ThrottleAttempts times), or a retry
// no longer fits in the budget (see Adder.Add). It returns the calls made,
// the outcome's kind and its error: nil for KindOK; the context's error
// (KindTimeout) if the deadline came before any call or cut one off, or
// during a backoff after a retryable error; else the last call's error (or
// a wait's error).
func (r *run) retry(call func(ctx context.Context) error) (attempts int, _ Kind, _ error) {
	var lastErr error
	var lastKind Kind
	throttled := 0 // attempts answered with throttling
	// stop ends without another attempt: with KindTimeout if the deadline
	// hit before an attempt or while waiting to retry, else with the last
	// attempt's kind.
	stop := func() (int, Kind, error) {
		ctxErr := r.ctx.Err()
		switch {
		case lastErr == nil:
			if ctxErr == nil {
				ctxErr = context.DeadlineExceeded
			}
			return attempts, KindTimeout, ctxErr
		case ctxErr != nil && lastKind.Retryable():
			return attempts, KindTimeout, lastErr
		}
		return attempts, lastKind, lastErr
	}

	for {
		// Hold a slot for the call and the wait before it.
		if r.slots != nil {
			select {
			case r.slots <- struct{}{}:
			case <-r.ctx.Done():
				return stop()
			}
		}
		release := func() {
			if r.slots != nil {
				<-r.slots
			}
		}
		if r.wait != nil {
			if err := r.wait(r.ctx); err != nil {
				release()
				return attempts, Classify(err), &waitError{attempt: attempts + 1, err: err}
			}
		}
		// Slot and wait may have taken time: check again before calling.
		if r.ctx.Err() != nil || (attempts > 0 && !r.fits(0)) {
			release()
			return stop()
		}
		t0 := time.Now()
		err := call(r.ctx)
		d := time.Since(t0)
		release()
		attempts++
		r.observe(d)
		if err == nil {
			return attempts, KindOK, nil
		}
		lastErr, lastKind = err, Classify(err)
		if lastKind == KindThrottled {
			throttled++
		}
		if !lastKind.Retryable() || attempts >= r.o.MaxAttempts || r.o.throttleSpent(throttled) {
			return stop()
		}
		backoff := r.o.backoff(attempts)
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
func (r *run) fits(wait time.Duration) bool {
	longest := time.Duration(r.longest.Load())
	cost := max(longest+longest/2, minAttemptCost)
	return time.Until(r.deadline) >= wait+cost
}

// observe records the duration of an attempt.
func (r *run) observe(d time.Duration) {
	for {
		cur := r.longest.Load()
		if int64(d) <= cur || r.longest.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// backoff returns the wait before retry number n (n >= 1): a random
// duration in [0, min(BaseDelay*2^(n-1), MaxDelay)).
func (o *Options) backoff(n int) time.Duration {
	c := o.MaxDelay
	if n-1 < 62 {
		if d := o.BaseDelay << (n - 1); d > 0 && d>>(n-1) == o.BaseDelay && d < c {
			c = d
		}
	}
	if c <= 0 {
		return 0
	}
	return rand.N(c)
}
