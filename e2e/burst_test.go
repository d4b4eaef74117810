package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// The burst of issue #15: sign-ups at three times the account's emulated
// AdminAddUserToGroup quota, one group each.
const (
	burstQuota   = 5.0 // calls per second the proxy lets through
	burstSignUps = 60
	burstRate    = 15 // sign-ups per second
	// burstInstances of the sign-up function run at once: enough that the
	// sign-ups overlap as under Lambda, few enough for a small machine.
	burstInstances = 8
)

// TestBurstNothingLost drives the burst through the rate-enforcing proxy
// with the retry queue on: every sign-up returns its event unchanged
// (throttled groups are deferred, not failed), every user has their group
// once the harness drained the queue at the consumers' rate, the
// dead-letter queue is empty, and no queued message or log line carries an
// email address.
func TestBurstNothingLost(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesFile, []byte("version: 1\nonError: fail\ndefaultGroups: [customers]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := start(t, harness.Options{
		RulesFile: rulesFile,
		// Sign-ups overlap, as Lambda runs them in instances of their own.
		Instances:    burstInstances,
		CognitoLimit: &harness.RateLimit{Op: "AdminAddUserToGroup", PerSecond: burstQuota},
		Queue: &harness.QueueOptions{
			Consumers: 2, // the mapping's MaximumConcurrency
			// 2 instances at 2 calls per second stay under the quota of 5.
			ConsumerEnv:     []string{"AUTOGROUP_RETRY_RATE=2"},
			MaxReceiveCount: 5,
			// A batch of 5 at 2 calls per second fits in one invocation.
			ConsumerTimeout:   4,
			VisibilityTimeout: 6,
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := env.CreatePoolWithGroups(ctx, []string{"customers"})
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	subs := make([]string, burstSignUps)
	errs := make([]error, burstSignUps)
	emails := make([]string, burstSignUps)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / burstRate)
	for i := range burstSignUps {
		<-tick.C
		emails[i] = fmt.Sprintf("burst.user%02d@example.net", i)
		wg.Go(func() {
			subs[i], errs[i] = pool.SignUp(ctx, harness.User{Email: emails[i]}, harness.ConfirmSignUp)
		})
	}
	tick.Stop()
	wg.Wait()
	signUps := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	allowed, throttled := env.LimitedCalls()
	t.Logf("%d sign-ups in %s; AdminAddUserToGroup: %d let through, %d throttled", burstSignUps, signUps.Round(time.Millisecond), allowed, throttled)
	if throttled == 0 {
		t.Fatalf("no call was throttled: the burst did not exceed the emulated quota, so this test shows nothing")
	}

	// Every sign-up returned its event, and was ok or deferred.
	outcomes := map[string]int{}
	for i, sub := range subs {
		inv := invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp")
		if inv.Error != nil {
			t.Errorf("sign-up %d: the function failed with %v, want the event returned", i, inv.Error)
			continue
		}
		requireReturnedEvent(t, inv)
		d, err := env.Decision(inv)
		if err != nil {
			t.Fatal(err)
		}
		outcomes[d.String("outcome")]++
	}
	t.Logf("outcomes: %v", outcomes)
	if outcomes["ok"]+outcomes["deferred"] != burstSignUps || outcomes["deferred"] == 0 {
		t.Errorf("outcomes %v, want %d in all, ok or deferred, some deferred", outcomes, burstSignUps)
	}
	if got := len(env.SentMessages()); got != outcomes["deferred"] {
		t.Errorf("%d messages sent to the queue, want one per deferred sign-up (%d)", got, outcomes["deferred"])
	}

	report, err := env.Drain(ctx, harness.DrainOptions{BatchSize: 5, Timeout: 45 * time.Second})
	if err != nil {
		t.Fatalf("drain: %v\n%s", err, env.Report(20))
	}
	_, throttledAfter := env.LimitedCalls()
	t.Logf("drained in %s: %d batches, %d received, %d deleted, %d more throttled calls",
		report.Duration.Round(time.Millisecond), len(report.Batches), report.Received, report.Deleted, throttledAfter-throttled)

	for i, sub := range subs {
		got, err := pool.GroupsOf(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"customers"}, got); diff != "" {
			t.Errorf("groups of user %d after the drain (-want +got):\n%s", i, diff)
		}
	}
	if dead, err := env.Peek(ctx, env.DeadLetterQueueURL); err != nil || len(dead) != 0 {
		t.Errorf("dead-letter queue holds %d messages (%v), want none", len(dead), err)
	}

	// No message body and no log line of either function carries an
	// address, or its local part.
	var texts []string
	for _, m := range env.SentMessages() {
		if _, err := retryqueue.Decode([]byte(m.Body)); err != nil {
			t.Errorf("a queued message does not decode: %v", err)
		}
		texts = append(texts, m.Body)
	}
	for _, read := range []func() ([]harness.LogRecord, error){env.FunctionLog, env.ConsumerLog} {
		records, err := read()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records {
			texts = append(texts, fmt.Sprint(map[string]any(r)))
		}
	}
	for _, text := range texts {
		if strings.Contains(text, "example.net") || strings.Contains(text, "burst.user") {
			t.Errorf("a queued message or log line carries an address: %s", text)
		}
	}
}
