package membership

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// fakeAPI is a hand-written fake of API for tests that need no HTTP. answer
// says how long attempt n (from 1) for a group takes and what it returns; a
// call whose context ends first returns the context's error, as the SDK does.
//
// The tests that depend on time run in a synctest bubble, whose clock moves
// only when every goroutine waits: a call that takes 400ms takes exactly
// 400ms of the bubble's time and none of the machine's, so durations are
// asserted exactly rather than within a margin.
type fakeAPI struct {
	answer func(group string, n int) (time.Duration, error)

	mu          sync.Mutex
	calls       []fakeCall
	attempts    map[string]int
	inFlight    int
	maxInFlight int
}

type fakeCall struct {
	Pool, User, Group string
	HasDeadline       bool
	Deadline          time.Time
	Value             any
}

type ctxKey struct{}

func newFakeAPI(answer func(group string, n int) (time.Duration, error)) *fakeAPI {
	return &fakeAPI{answer: answer, attempts: map[string]int{}}
}

func (f *fakeAPI) AdminAddUserToGroup(ctx context.Context, in *cip.AdminAddUserToGroupInput, _ ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error) {
	g := aws.ToString(in.GroupName)
	dl, ok := ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{aws.ToString(in.UserPoolId), aws.ToString(in.Username), g, ok, dl, ctx.Value(ctxKey{})})
	f.attempts[g]++
	n := f.attempts[g]
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()

	d, err := f.answer(g, n)
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("operation error Cognito Identity Provider: AdminAddUserToGroup, %w", ctx.Err())
		}
	}
	if err != nil {
		return nil, err
	}
	return &cip.AdminAddUserToGroupOutput{}, nil
}

func (f *fakeAPI) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeAPI) inFlightNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlight
}

var (
	errThrottled = &types.TooManyRequestsException{Message: aws.String("Too many requests.")}
	errInternal  = &types.InternalErrorException{Message: aws.String("Internal error.")}
	errNotFound  = &types.ResourceNotFoundException{Message: aws.String("Group not found.")}
)

// failFirst fails the first n attempts of every group with err.
func failFirst(n int, err error) func(string, int) (time.Duration, error) {
	return func(_ string, i int) (time.Duration, error) {
		if i <= n {
			return 0, err
		}
		return 0, nil
	}
}

// fast is a configuration whose backoffs are short.
var fast = Options{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func TestAddRetries(t *testing.T) {
	forever := 1 << 30
	tests := []struct {
		name         string
		answer       func(string, int) (time.Duration, error)
		maxAttempts  int
		wantKind     Kind
		wantAttempts int
	}{
		{"ok at once", failFirst(0, nil), 0, KindOK, 1},
		{"throttled twice", failFirst(2, errThrottled), 0, KindOK, 3},
		{"server error once", failFirst(1, errInternal), 0, KindOK, 2},
		{"answer cut short once", failFirst(1, io.ErrUnexpectedEOF), 0, KindOK, 2},
		{"always throttled stops at MaxAttempts", failFirst(forever, errThrottled), 4, KindThrottled, 4},
		{"always 500 stops at default MaxAttempts", failFirst(forever, errInternal), 0, KindServerError, DefaultMaxAttempts},
		{"group not found is not retried", failFirst(forever, errNotFound), 0, KindGroupNotFound, 1},
		{"user not found is not retried", failFirst(forever, &types.UserNotFoundException{}), 0, KindUserNotFound, 1},
		{"not authorized is not retried", failFirst(forever, &types.NotAuthorizedException{}), 0, KindNotAuthorized, 1},
		{"invalid parameter is not retried", failFirst(forever, &types.InvalidParameterException{}), 0, KindInvalidParameter, 1},
		{"access denied is not retried", failFirst(forever, &smithy.GenericAPIError{Code: "AccessDeniedException"}), 0, KindAccessDenied, 1},
		{"unknown is not retried", failFirst(forever, errors.New("something new")), 0, KindUnknown, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(tt.answer)
				o := fast
				o.MaxAttempts = tt.maxAttempts
				res := NewAdder(api, o).Add(t.Context(), "us-east-1_abc", "user-1", []string{"g"})
				if len(res) != 1 {
					t.Fatalf("Add returned %d results, want 1", len(res))
				}
				r := res[0]
				if r.Kind != tt.wantKind || r.Attempts != tt.wantAttempts {
					t.Errorf("Add = kind %s after %d attempts (err %v), want %s after %d", r.Kind, r.Attempts, r.Err, tt.wantKind, tt.wantAttempts)
				}
				if got := api.callCount(); got != r.Attempts {
					t.Errorf("calls made = %d, Result.Attempts = %d", got, r.Attempts)
				}
				if (r.Err == nil) != (r.Kind == KindOK) {
					t.Errorf("Result.Err = %v with kind %s", r.Err, r.Kind)
				}
				if r.Err != nil {
					var ae *AddError
					if !errors.As(r.Err, &ae) {
						t.Fatalf("Result.Err is %T, want *AddError", r.Err)
					}
					if ae.Kind != r.Kind || ae.Group != "g" || ae.PoolID != "us-east-1_abc" || ae.Attempts != r.Attempts {
						t.Errorf("AddError = %+v, want kind %s, group g, pool us-east-1_abc, %d attempts", ae, r.Kind, r.Attempts)
					}
					if Classify(r.Err) != r.Kind {
						t.Errorf("Classify(Result.Err) = %s, want %s", Classify(r.Err), r.Kind)
					}
				}
			})
		})
	}
}

func TestAddResultsInOrderAndIndependent(t *testing.T) {
	synctest.Test(t, testAddResultsInOrderAndIndependent)
}

func testAddResultsInOrderAndIndependent(t *testing.T) {
	groups := []string{"a", "missing", "b", "c", "denied", "d"}
	api := newFakeAPI(func(g string, _ int) (time.Duration, error) {
		d := time.Duration(len(groups)-slices.Index(groups, g)) * 5 * time.Millisecond // later groups answer first
		switch g {
		case "missing":
			return d, errNotFound
		case "denied":
			return d, &smithy.GenericAPIError{Code: "AccessDeniedException"}
		}
		return d, nil
	})
	res := NewAdder(api, fast).Add(t.Context(), "pool", "user", groups)
	var got []string
	for _, r := range res {
		got = append(got, r.Group+":"+string(r.Kind))
	}
	want := []string{"a:ok", "missing:group_not_found", "b:ok", "c:ok", "denied:access_denied", "d:ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Add results (-want +got):\n%s", diff)
	}
}

func TestAddEmpty(t *testing.T) {
	api := newFakeAPI(failFirst(0, nil))
	res := NewAdder(api, Options{}).Add(t.Context(), "pool", "user", nil)
	if res == nil || len(res) != 0 {
		t.Errorf("Add(no groups) = %#v, want an empty slice", res)
	}
	if n := api.callCount(); n != 0 {
		t.Errorf("Add(no groups) made %d calls, want 0", n)
	}
}

// TestAddNoRetryThatCannotFit: every call takes 400ms and fails with a
// server error, and the budget is 700ms. After the first attempt 300ms are
// left, less than the 400ms an attempt was seen to take, so no retry may
// start: exactly one attempt, and the result is the server error, reported
// as soon as the attempt ends, 400ms in, not at the deadline.
func TestAddNoRetryThatCannotFit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(func(string, int) (time.Duration, error) { return 400 * time.Millisecond, errInternal })
		o := fast
		o.Budget = 700 * time.Millisecond
		o.MaxAttempts = 100
		start := time.Now()
		r := NewAdder(api, o).Add(t.Context(), "pool", "user", []string{"g"})[0]
		elapsed := time.Since(start)
		if r.Kind != KindServerError || r.Attempts != 1 {
			t.Errorf("Add = %s after %d attempts (%v), want server_error after 1", r.Kind, r.Attempts, r.Err)
		}
		if want := 400 * time.Millisecond; elapsed != want || r.Duration != want {
			t.Errorf("Add took %v (Result.Duration %v), want %v: the end of the one attempt", elapsed, r.Duration, want)
		}
	})
}

// TestAddRetriesWhileTheyFit: attempts take 400ms and always fail; with a
// 2s budget and backoffs under 1, 2 and 4ms, retries start while 1.5 x
// 400ms are left: at 0.4s, 0.8s and 1.2s (plus the backoffs). After the
// fourth attempt, at 1.6s, 0.4s are left: no fifth. The result is the
// server error, not a timeout, 1.6s in plus the backoffs.
func TestAddRetriesWhileTheyFit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(func(string, int) (time.Duration, error) { return 400 * time.Millisecond, errInternal })
		o := fast
		o.Budget = 2 * time.Second
		o.MaxAttempts = 100
		start := time.Now()
		r := NewAdder(api, o).Add(t.Context(), "pool", "user", []string{"g"})[0]
		elapsed := time.Since(start)
		if r.Kind != KindServerError || r.Attempts != 4 {
			t.Errorf("Add = %s after %d attempts (%v), want server_error after 4", r.Kind, r.Attempts, r.Err)
		}
		if lo, hi := 1600*time.Millisecond, 1607*time.Millisecond; elapsed < lo || elapsed >= hi {
			t.Errorf("Add took %v, want 4 x 400ms plus three backoffs under 1+2+4ms: in [%v, %v)", elapsed, lo, hi)
		}
	})
}

// TestAddAlwaysThrottledStopsBeforeBudget: calls answer at once and are
// always throttled, backoffs are under 20ms, the budget is 1s. A retry
// starts only while its backoff plus 100ms (the least cost of an attempt)
// fits, so Add stops after 880ms and by 900ms, with throttled (it chose to
// stop) rather than timed_out, after more than 880ms / 20ms retries.
func TestAddAlwaysThrottledStopsBeforeBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(failFirst(1<<30, errThrottled))
		o := Options{Budget: time.Second, MaxAttempts: 1000, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}
		start := time.Now()
		r := NewAdder(api, o).Add(t.Context(), "pool", "user", []string{"g"})[0]
		elapsed := time.Since(start)
		if r.Kind != KindThrottled {
			t.Errorf("Add kind = %s (%v), want throttled", r.Kind, r.Err)
		}
		if lo, hi := 880*time.Millisecond, 900*time.Millisecond; elapsed <= lo || elapsed > hi {
			t.Errorf("Add took %v, want in (%v, %v]: retrying while a backoff under 20ms and 100ms fit in the 1s budget", elapsed, lo, hi)
		}
		if r.Attempts < 46 {
			t.Errorf("Add made %d attempts, want at least 46: more than 880ms of backoffs under 20ms each", r.Attempts)
		}
		if got := api.callCount(); got != r.Attempts {
			t.Errorf("calls made = %d, Result.Attempts = %d", got, r.Attempts)
		}
	})
}

func TestAddDeadlines(t *testing.T) {
	hang := func(string, int) (time.Duration, error) { return time.Hour, nil }
	tests := []struct {
		name     string
		budget   time.Duration
		ctxAfter time.Duration // 0: no deadline on the caller's context
		want     time.Duration // when the calls are cut off
	}{
		{"budget", 300 * time.Millisecond, 0, 300 * time.Millisecond},
		{"earlier context deadline wins", 10 * time.Second, 300 * time.Millisecond, 300 * time.Millisecond},
		{"earlier budget wins", 300 * time.Millisecond, 10 * time.Second, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(hang)
				ctx := context.WithValue(t.Context(), ctxKey{}, "caller")
				if tt.ctxAfter > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctxAfter)
					defer cancel()
				}
				start := time.Now()
				res := NewAdder(api, Options{Budget: tt.budget}).Add(ctx, "pool", "user", []string{"a", "b"})
				if elapsed := time.Since(start); elapsed != tt.want {
					t.Errorf("Add took %v, want %v", elapsed, tt.want)
				}
				for _, r := range res {
					if r.Kind != KindTimeout || r.Attempts != 1 {
						t.Errorf("group %s: %s after %d attempts (%v), want timed_out after 1", r.Group, r.Kind, r.Attempts, r.Err)
					}
				}
				if len(api.calls) != 2 {
					t.Errorf("calls made = %d, want 2", len(api.calls))
				}
				for _, c := range api.calls {
					if !c.HasDeadline || !c.Deadline.Equal(start.Add(tt.want)) {
						t.Errorf("call for %s had deadline %v (set %v), want %v", c.Group, c.Deadline, c.HasDeadline, start.Add(tt.want))
					}
					if c.Value != "caller" {
						t.Errorf("call for %s: context does not derive from the caller's", c.Group)
					}
				}
			})
		})
	}
}

func TestAddCanceledContext(t *testing.T) {
	api := newFakeAPI(failFirst(0, nil))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res := NewAdder(api, Options{}).Add(ctx, "pool", "user", []string{"a", "b"})
	for _, r := range res {
		if r.Kind != KindTimeout || r.Attempts != 0 || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("group %s: %s after %d attempts (%v), want timed_out, 0 attempts, context.Canceled", r.Group, r.Kind, r.Attempts, r.Err)
		}
	}
	if n := api.callCount(); n != 0 {
		t.Errorf("calls made = %d, want 0", n)
	}
}

// TestAddConcurrencyBound: 20 calls of 50ms, 3 at a time, take 7 rounds.
func TestAddConcurrencyBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(func(string, int) (time.Duration, error) { return 50 * time.Millisecond, nil })
		groups := make([]string, 20)
		for i := range groups {
			groups[i] = fmt.Sprintf("g%02d", i)
		}
		start := time.Now()
		res := NewAdder(api, Options{Concurrency: 3}).Add(t.Context(), "pool", "user", groups)
		for _, r := range res {
			if r.Kind != KindOK {
				t.Errorf("group %s: %s (%v), want ok", r.Group, r.Kind, r.Err)
			}
		}
		if api.maxInFlight != 3 {
			t.Errorf("most calls in flight = %d, want 3", api.maxInFlight)
		}
		if elapsed, want := time.Since(start), 7*50*time.Millisecond; elapsed != want {
			t.Errorf("Add took %v, want %v: ceil(20/3) rounds of 50ms", elapsed, want)
		}
	})
}

// TestAddWaitsForItsCalls: Add returns only when every call it started has
// returned, and starts none afterwards.
func TestAddWaitsForItsCalls(t *testing.T) { synctest.Test(t, testAddWaitsForItsCalls) }

func testAddWaitsForItsCalls(t *testing.T) {
	api := newFakeAPI(func(g string, _ int) (time.Duration, error) {
		if g == "slow" {
			return time.Hour, nil // returns when the context ends
		}
		return time.Millisecond, errThrottled
	})
	groups := []string{"slow", "t1", "t2", "t3", "slow", "t4"}
	o := Options{Concurrency: 2, Budget: 300 * time.Millisecond, MaxAttempts: 1000, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	res := NewAdder(api, o).Add(t.Context(), "pool", "user", groups)
	if n := api.inFlightNow(); n != 0 {
		t.Errorf("calls still in flight after Add returned: %d", n)
	}
	calls := api.callCount()
	synctest.Wait()       // every goroutine Add left, if any, has run or blocked
	time.Sleep(time.Hour) // and every timer it set has fired
	if n := api.callCount(); n != calls {
		t.Errorf("calls made after Add returned: %d", n-calls)
	}
	for _, r := range res {
		if r.Kind != KindTimeout && r.Kind != KindThrottled {
			t.Errorf("group %s: %s (%v), want timed_out or throttled", r.Group, r.Kind, r.Err)
		}
	}
}

func TestAddWait(t *testing.T) {
	errLimiter := errors.New("limiter closed")
	tests := []struct {
		name         string
		waitErrAt    int   // the Wait call that fails, from 1; 0: none
		waitErr      error // what it returns
		wantKind     Kind
		wantAttempts int
		wantWaits    int
	}{
		{"called before every attempt", 0, nil, KindOK, 3, 3},
		{"error stops before the first call", 1, errLimiter, KindUnknown, 0, 1},
		{"error stops the retries", 2, errLimiter, KindUnknown, 1, 2},
		{"deadline error is a timeout", 2, context.DeadlineExceeded, KindTimeout, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(failFirst(2, errThrottled))
				var mu sync.Mutex
				waits := 0
				o := fast
				o.Wait = func(ctx context.Context) error {
					mu.Lock()
					defer mu.Unlock()
					if _, ok := ctx.Deadline(); !ok {
						t.Error("Wait got a context without a deadline")
					}
					if waits != api.callCount() {
						t.Errorf("Wait call %d came after %d calls, want one Wait before each call", waits+1, api.callCount())
					}
					waits++
					if waits == tt.waitErrAt {
						return tt.waitErr
					}
					return nil
				}
				r := NewAdder(api, o).Add(t.Context(), "pool", "user", []string{"g"})[0]
				if r.Kind != tt.wantKind || r.Attempts != tt.wantAttempts || waits != tt.wantWaits {
					t.Errorf("Add = %s after %d attempts and %d waits (%v), want %s after %d attempts and %d waits",
						r.Kind, r.Attempts, waits, r.Err, tt.wantKind, tt.wantAttempts, tt.wantWaits)
				}
				if tt.waitErr != nil && !errors.Is(r.Err, tt.waitErr) {
					t.Errorf("Result.Err = %v, want it to wrap %v", r.Err, tt.waitErr)
				}
			})
		})
	}
}

func TestNewAdderDefaults(t *testing.T) {
	a := NewAdder(nil, Options{Concurrency: -1})
	got := a.o
	want := Options{Concurrency: 8, Budget: 4 * time.Second, MaxAttempts: 6, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewAdder defaults (-want +got):\n%s", diff)
	}
	o := Options{Concurrency: 2, Budget: time.Second, MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 9 * time.Millisecond}
	if diff := cmp.Diff(o, NewAdder(nil, o).o); diff != "" {
		t.Errorf("NewAdder changed set options (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	a := NewAdder(nil, Options{BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond})
	for n, limit := range map[int]time.Duration{
		1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 3: 40 * time.Millisecond, 4: 80 * time.Millisecond,
		5: 100 * time.Millisecond, 6: 100 * time.Millisecond, 63: 100 * time.Millisecond, 64: 100 * time.Millisecond, 1000: 100 * time.Millisecond,
	} {
		var longest time.Duration
		for range 2000 {
			d := a.backoff(n)
			if d < 0 || d >= limit {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, limit)
			}
			longest = max(longest, d)
		}
		if longest < limit/2 {
			t.Errorf("backoff(%d): longest of 2000 draws = %v, want jitter over [0, %v)", n, longest, limit)
		}
	}
}
