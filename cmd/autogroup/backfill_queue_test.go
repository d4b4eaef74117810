package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// runViaQueue runs the tool with args against the pool s and the queues of
// q; q nil means a test in which no SQS client may be built.
func runViaQueue(t *testing.T, s *cognitofake.Server, q *fakeSQS, args ...string) fakeRun {
	t.Helper()
	client := s.Client(t)
	var stdout, stderr bytes.Buffer
	e := &env{
		stdout: &stdout, stderr: &stderr, ctx: t.Context(), interrupts: make(chan os.Signal),
		cognito: func(context.Context) (cognitoAPI, error) { return client, nil },
		sqs: func(context.Context) (sqsAPI, error) {
			if q == nil {
				t.Error("an SQS client was built")
				return nil, errors.New("no SQS in this test")
			}
			return q, nil
		},
	}
	code := e.run(args)
	return fakeRun{code, stdout.String(), stderr.String()}
}

// queuedGroups decodes the messages of a queue into groups by sub.
func queuedGroups(t *testing.T, q *fakeSQS, queue string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, body := range q.bodies(queue) {
		m, err := retryqueue.Decode([]byte(body))
		if err != nil {
			t.Fatalf("a message sent does not decode: %v", err)
		}
		if m.Source != retryqueue.SourceBackfill || m.UserPoolID != fakePool || !m.FirstFailedAt.IsZero() {
			t.Errorf("message for %s: source %s, pool %s, firstFailedAt %v; want backfill, %s, none", m.Sub, m.Source, m.UserPoolID, m.FirstFailedAt, fakePool)
		}
		for _, g := range m.Groups {
			if g.Reason != retryqueue.ReasonNotAttempted || g.Code != "" {
				t.Errorf("message for %s: group %+v, want reason not_attempted and no code", m.Sub, g)
			}
		}
		if _, dup := out[m.Sub]; dup {
			t.Errorf("two messages for %s", m.Sub)
		}
		out[m.Sub] = m.GroupNames()
	}
	return out
}

func TestBackfillViaQueue(t *testing.T) {
	s := newTestPool(t)
	q := newFakeSQS()
	r := runViaQueue(t, s, q, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--via-queue", testRetry, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if calls := s.CallsTo("AdminAddUserToGroup"); len(calls) != 0 {
		t.Errorf("%d AdminAddUserToGroup calls, want none: the consumer adds", len(calls))
	}
	if batches := q.callsOf("SendMessageBatch"); len(batches) != 1 {
		t.Errorf("SendMessageBatch calls = %q, want 1 for the 6 users", batches)
	}
	want := map[string][]string{}
	for _, u := range testUsers {
		if u.want != nil {
			want[s.Sub(fakePool, u.user.Username)] = u.want
		}
	}
	if diff := cmp.Diff(want, queuedGroups(t, q, testRetry)); diff != "" {
		t.Errorf("groups queued by sub (-want +got):\n%s", diff)
	}
	for _, body := range q.bodies(testRetry) {
		if strings.Contains(body, "@") {
			t.Errorf("a message carries an email address: %s", body)
		}
	}
	sum := r.summary(t)
	if sum.DryRun || sum.ViaQueue != testRetry || sum.Planned != 6 || sum.Queued != 6 || sum.Added != 0 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want 6 planned and queued via %s, none added", sum, testRetry)
	}
	for _, line := range []string{
		"mode:      apply via the retry queue " + testRetry + ": a message per user, for its consumer to add\n",
		"queued     " + s.Sub(fakePool, "cleo") + "  paid  (paid-plan)\n",
		"result:      6 queued for the consumer to add, 0 removed, 0 failed, in ",
	} {
		// With --json the report goes to standard error.
		if !strings.Contains(r.stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, r.stderr)
		}
	}
}

func TestBackfillViaQueueFailures(t *testing.T) {
	s := newTestPool(t)
	// fay's group does not exist: reported, not queued.
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, bytes.Replace(mustRead(t, backfillRules), []byte("groups: [invited]"), []byte("groups: [invitees]"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	q := newFakeSQS()
	r := runViaQueue(t, s, q, "backfill", "--pool", fakePool, "--rules", rules, "--apply", "--via-queue", testRetry, "--json")
	if r.code != exitProblems {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sum := r.summary(t)
	fay := s.Sub(fakePool, "fay")
	if sum.Queued != 5 || sum.Failed != 1 || len(sum.Failures) != 1 || sum.Failures[0].Sub != fay || sum.Failures[0].Kind != "group_not_found" {
		t.Errorf("summary = %+v, want 5 queued and fay's invitees not found", sum)
	}
	if _, queued := queuedGroups(t, q, testRetry)[fay]; queued {
		t.Errorf("a message was sent for fay, whose only group does not exist")
	}
	if !strings.Contains(r.stderr, "1 membership could not be queued") {
		t.Errorf("stderr = %q", r.stderr)
	}

	// A queue that refuses every call: the run stops at the first batch.
	q = newFakeSQS()
	q.fail["SendMessageBatch"] = fakeFailure{err: apiError("AccessDenied", "Access to the resource is denied.")}
	r = runViaQueue(t, newTestPool(t), q, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--via-queue", testRetry, "--json")
	sum = r.summary(t)
	if r.code != exitProblems || sum.Queued != 0 || sum.Failed != 6 {
		t.Errorf("exit %d, summary %+v; want 1, none queued, 6 failed", r.code, sum)
	}
	for _, f := range sum.Failures {
		if f.Kind != "send_failed" || !strings.Contains(f.Message, "AccessDenied") {
			t.Errorf("failure %+v, want send_failed with the error", f)
		}
	}
}

// TestBackfillViaQueueState: with --state, the users whose message was sent
// are done, and a rerun sends nothing for them.
func TestBackfillViaQueueState(t *testing.T) {
	s := newTestPool(t)
	q := newFakeSQS()
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--via-queue", testRetry, "--state", state, "--json"}
	if r := runViaQueue(t, s, q, args...); r.code != exitOK {
		t.Fatalf("first run: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	again := runViaQueue(t, s, q, args...)
	if sum := again.summary(t); again.code != exitOK || sum.UsersResumed != 6 || sum.Planned != 0 || sum.Queued != 0 {
		t.Errorf("rerun: exit %d, summary %+v; want 6 resumed, nothing planned or queued", again.code, sum)
	}
	if n := len(q.bodies(testRetry)); n != 6 {
		t.Errorf("%d messages after both runs, want the first run's 6", n)
	}
}

func TestBackfillViaQueueDryRun(t *testing.T) {
	s := newTestPool(t)
	r := runViaQueue(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--via-queue", testRetry)
	if r.code != exitChanges {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if want := "mode:      dry run: nothing is changed or sent (--apply sends the plan to " + testRetry + ")\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
	bad := runViaQueue(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--via-queue", "autogroup-retry")
	if bad.code != exitUsage || !strings.Contains(bad.stderr, "--via-queue: want a queue URL") {
		t.Errorf("a relative queue URL: exit %d, stderr %q; want 2", bad.code, bad.stderr)
	}
	if calls := slices.DeleteFunc(s.Calls(), func(c cognitofake.Call) bool { return c.Op != "AdminAddUserToGroup" }); len(calls) != 0 {
		t.Errorf("%d adds, want none", len(calls))
	}
}

// TestBackfillViaQueueRefusesRemovals checks that a plan with removals is
// not sent through the retry queue, whose consumer only adds: nothing is
// sent and nothing changes.
func TestBackfillViaQueueRefusesRemovals(t *testing.T) {
	s := newReconcilePool(t)
	q := newFakeSQS()
	r := runViaQueue(t, s, q, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--apply", "--max-removals", "2", "--via-queue", testRetry)
	if r.code != exitUsage || !strings.Contains(r.stderr, "which the retry queue cannot carry") {
		t.Errorf("exit %d, stderr %q; want 2 and the refusal", r.code, r.stderr)
	}
	if n := len(q.bodies(testRetry)); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
	if n := len(s.CallsTo("AdminRemoveUserFromGroup")) + len(s.CallsTo("AdminAddUserToGroup")); n != 0 {
		t.Errorf("%d Cognito writes, want none", n)
	}
}
