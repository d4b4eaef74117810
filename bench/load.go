package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

// The load benchmark: bursts of sign-ups at 1, 3 and 10 times an emulated
// AdminAddUserToGroup quota (internal/cognitofake's RateLimit), one group
// each, against the sign-up function under aws-lambda-rie, first without
// the retry queue and then with it (goaws, and the assignment-retry
// function behind the bench's event source mapping). Each run counts the
// sign-ups that failed, the users left without their group, the calls
// throttled and the time until every user had their group.

// loadConfig is what the load runs take.
type loadConfig struct {
	signUps int       // per run
	quota   float64   // emulated AdminAddUserToGroup calls per second, for the account
	levels  []float64 // arrival rates, in multiples of quota
	// consumerRate is AUTOGROUP_RETRY_RATE: with consumers instances, the
	// template's share of the quota (2 × 5 of 25 calls per second).
	consumerRate float64
	consumers    int
	// timeout bounds a run with the queue, from the first sign-up.
	timeout time.Duration
}

// defaultLoad is issue #15's burst, at three levels.
var defaultLoad = loadConfig{signUps: 60, quota: 5, levels: []float64{1, 3, 10}, consumerRate: 1, consumers: 2, timeout: 2 * time.Minute}

const (
	// loadGroup is the one group of the load runs' ruleset.
	loadGroup = "group-1"
	// cognitoWait is how long Cognito waits for a trigger: a sign-up
	// answered later has failed, whatever the function returned.
	cognitoWait = 5 * time.Second
)

// loadRun is one burst.
type loadRun struct {
	Level float64
	Queue bool
	// SignUps counts the sign-ups sent, Failed those that got an error
	// back (or took longer than Cognito waits).
	SignUps, Failed int
	// Lost counts the users without their group at the end.
	Lost int
	// AddCalls counts AdminAddUserToGroup calls, Throttled those answered
	// TooManyRequestsException (sign-ups and consumer alike).
	AddCalls, Throttled int
	// Deferred counts the messages the consumer received, Redelivered the
	// deliveries it failed (listed in batchItemFailures, or a failed
	// invocation), DeadLetters the messages in the dead-letter queue at the
	// end.
	Deferred, Redelivered, DeadLetters int
	// Converge is the time from the first sign-up until every user had the
	// group; zero when some never did.
	Converge time.Duration
	// Arrival is how long the sign-ups took to arrive.
	Arrival   time.Duration
	Latencies []time.Duration
	// ColdStarts counts the function instances started during the burst,
	// beyond the warm ones.
	ColdStarts int
}

// runLoad runs every level without, then with, the retry queue.
func runLoad(ctx context.Context, root string, b *binaries, dir string, c loadConfig, delay time.Duration) ([]loadRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fake, err := cognitofake.Start(cognitofake.Options{Delay: delay})
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	l := &lab{bin: b, dir: dir, cognitoURL: fake.URL(), fake: fake}
	rules := filepath.Join(dir, "rules-load.yaml")
	if err := os.WriteFile(rules, rulesetSelecting(1), 0o644); err != nil {
		return nil, err
	}
	q, err := startQueue(ctx, root, filepath.Join(dir, "goaws"))
	if err != nil {
		return nil, err
	}
	defer q.p.stop()

	var runs []loadRun
	for _, withQueue := range []bool{false, true} {
		env := l.env("RULES_FILE="+rules, "AWS_LAMBDA_FUNCTION_TIMEOUT=5")
		var consumers []*instance
		stopConsumers := func() {
			for _, in := range consumers {
				in.stop()
			}
		}
		if withQueue {
			env = append(env, q.env()...)
			for range c.consumers {
				in, _, err := l.start(ctx, b.retry, l.env("RULES_FILE="+rules,
					"AUTOGROUP_RETRY_RATE="+strconv.FormatFloat(c.consumerRate, 'f', -1, 64),
					"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(consumerTimeout)))
				if err != nil {
					stopConsumers()
					return nil, err
				}
				consumers = append(consumers, in)
			}
		}
		f := &fleet{l: l, exe: b.function, env: env, idle: make(chan *instance, 4*c.signUps)}
		logf("load: starting %d warm instances of the function %s the retry queue", c.signUps, withOrWithout(withQueue))
		if err := f.grow(ctx, c.signUps); err != nil {
			f.stop()
			stopConsumers()
			return nil, err
		}
		for _, level := range c.levels {
			var rq *retryQueue
			if withQueue {
				rq = q
			}
			r, err := loadOnce(ctx, fake, f, rq, consumers, c, level, delay, len(runs))
			if err != nil {
				f.stop()
				stopConsumers()
				return nil, err
			}
			logf("load: %v× %s the queue: %d sign-ups failed, %d users lost, %d of %d calls throttled, %s",
				level, withOrWithout(withQueue), r.Failed, r.Lost, r.Throttled, r.AddCalls, convergeText(r))
			runs = append(runs, r)
		}
		f.stop()
		stopConsumers()
	}
	return runs, nil
}

func withOrWithout(queue bool) string {
	if queue {
		return "with"
	}
	return "without"
}

// loadOnce runs burst number run on a pool of its own, with a fresh
// quota: the sign-ups at level × quota a second and, with q, the mapping
// from the first sign-up until the queue is empty.
func loadOnce(ctx context.Context, fake *cognitofake.Server, f *fleet, q *retryQueue, consumers []*instance, c loadConfig, level float64, delay time.Duration, run int) (loadRun, error) {
	r := loadRun{Level: level, Queue: q != nil, SignUps: c.signUps}
	pool := fmt.Sprintf("us-east-1_Load%d", run)
	fake.CreateGroup(pool, loadGroup)
	events := make([][]byte, c.signUps)
	for i := range events {
		sub := fmt.Sprintf("10ad%04x-0000-4000-8000-%012d", run, i)
		email := fmt.Sprintf("load.user%02d@example.com", i)
		fake.PutUser(pool, cognitofake.User{Username: sub, Status: "CONFIRMED",
			Attributes: map[string]string{"sub": sub, "email": email, "email_verified": "true"}})
		events[i] = signUp(pool, sub, email)
	}
	fake.ClearFaults() // a fresh quota; ClearFaults also clears the delay
	fake.Delay(delay)
	fake.RateLimit(addOp, c.quota)
	var m *mapping
	if q != nil {
		if err := q.purge(ctx); err != nil {
			return r, err
		}
		m = &mapping{q: q, consumers: consumers, received: map[string]bool{}}
	}

	t0 := time.Now()
	stop := make(chan struct{})
	mapDone := make(chan error, 1)
	if m != nil {
		go func() { mapDone <- m.run(ctx, stop) }()
	}
	type outcome struct {
		d      time.Duration
		failed bool
		err    error
	}
	outcomes := make([]outcome, c.signUps)
	interval := time.Duration(float64(time.Second) / (level * c.quota))
	var wg sync.WaitGroup
	for i := range c.signUps {
		if err := sleepUntil(ctx, t0.Add(time.Duration(i)*interval)); err != nil {
			return r, err
		}
		wg.Go(func() {
			d, failed, err := f.signUp(ctx, events[i])
			outcomes[i] = outcome{d, failed, err}
		})
	}
	r.Arrival = time.Since(t0)
	wg.Wait()
	var errs []error
	for _, o := range outcomes {
		errs = append(errs, o.err)
		if o.failed {
			r.Failed++
		}
		r.Latencies = append(r.Latencies, o.d)
	}
	if err := errors.Join(errs...); err != nil {
		close(stop)
		return r, err
	}

	if m != nil {
		// Until the queue holds nothing, visible or in flight: the
		// sign-ups are over, so nothing more will come.
		for {
			n, err := q.depth(ctx, q.url)
			if err != nil {
				close(stop)
				return r, err
			}
			if n == 0 || time.Since(t0) > c.timeout {
				break
			}
			if err := sleepUntil(ctx, time.Now().Add(200*time.Millisecond)); err != nil {
				close(stop)
				return r, err
			}
		}
		close(stop)
		if err := <-mapDone; err != nil {
			return r, err
		}
		r.Deferred, r.Redelivered = len(m.received), m.failed
		var err error
		if r.DeadLetters, err = q.depth(ctx, q.deadLetter); err != nil {
			return r, err
		}
	}

	r.ColdStarts = f.takeColdStarts()
	r.Lost = c.signUps - len(fake.Members(pool, loadGroup))
	first := map[string]time.Time{}
	for _, call := range fake.CallsTo(addOp) {
		if call.PoolID != pool {
			continue
		}
		r.AddCalls++
		switch call.Outcome {
		case "TooManyRequestsException":
			r.Throttled++
		case "ok":
			if t, ok := first[call.Username]; !ok || call.End.Before(t) {
				first[call.Username] = call.End
			}
		}
	}
	if r.Lost == 0 {
		for _, t := range first {
			r.Converge = max(r.Converge, t.Sub(t0))
		}
	}
	return r, nil
}

// signUp is a confirmed sign-up's PostConfirmation event for a user of the
// load runs.
func signUp(pool, sub, email string) []byte {
	return []byte(`{"version":"1","triggerSource":"PostConfirmation_ConfirmSignUp","region":"us-east-1",` +
		`"userPoolId":"` + pool + `","userName":"` + sub + `",` +
		`"callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"benchclient0000000000000000"},` +
		`"request":{"userAttributes":{"sub":"` + sub + `","cognito:user_status":"CONFIRMED",` +
		`"email_verified":"true","email":"` + email + `"}},"response":{}}`)
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fleet is the function's instances, as Lambda keeps them: an invocation
// takes an idle one, or starts one (a cold start) when none is idle.
type fleet struct {
	l    *lab
	exe  string
	env  []string
	idle chan *instance

	mu   sync.Mutex // serializes starts (lab numbers its logs) and guards all, cold
	all  []*instance
	cold int
}

func (f *fleet) start(ctx context.Context) (*instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, _, err := f.l.start(ctx, f.exe, f.env)
	if err != nil {
		return nil, err
	}
	f.all = append(f.all, in)
	return in, nil
}

// grow starts instances until there are n, each warmed by one invocation
// of an event it passes through without calling Cognito.
func (f *fleet) grow(ctx context.Context, n int) error {
	for len(f.all) < n {
		in, err := f.start(ctx)
		if err != nil {
			return err
		}
		if _, err := in.invoke(ctx, coldEvent); err != nil {
			return err
		}
		f.idle <- in
	}
	return nil
}

// signUp invokes an instance with ev and reports how long it took and
// whether the sign-up failed: an error back, an answer that is not the
// event, or one later than Cognito waits. The error is the bench's own
// trouble (an emulator that does not answer).
func (f *fleet) signUp(ctx context.Context, ev []byte) (time.Duration, bool, error) {
	var in *instance
	select {
	case in = <-f.idle:
	default:
		var err error
		if in, err = f.start(ctx); err != nil {
			return 0, false, err
		}
		f.mu.Lock()
		f.cold++
		f.mu.Unlock()
	}
	body, d, err := in.post(ctx, ev)
	f.idle <- in
	if err != nil {
		return d, false, err
	}
	return d, functionFailed(body) || !sameJSON(body, ev) || d > cognitoWait, nil
}

func (f *fleet) takeColdStarts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.cold
	f.cold = 0
	return n
}

func (f *fleet) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.all {
		in.stop()
	}
	f.all = nil
}

// post sends payload and returns the answer's body and how long it took;
// the error is a call that got no answer, or not HTTP 200.
func (in *instance) post(ctx context.Context, payload []byte) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("invoke %s: %w; emulator log:\n%s", in.exe, err, tail(in.p.LogPath()))
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("invoke %s: HTTP %d %s; emulator log:\n%s", in.exe, resp.StatusCode, body, tail(in.p.LogPath()))
	}
	return body, d, err
}

func convergeText(r loadRun) string {
	if r.Lost > 0 {
		return "never converged"
	}
	return "converged in " + r.Converge.Round(100*time.Millisecond).String()
}
