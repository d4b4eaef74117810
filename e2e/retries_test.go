package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// TestBackfillViaQueue backfills existing users through the retry queue:
// the tool sends one message per user and calls no AdminAddUserToGroup,
// the harness drains the queue into the consumer, and every user ends with
// the groups the rules give; no message carries an email address, and a
// second backfill finds nothing left to do.
func TestBackfillViaQueue(t *testing.T) {
	env := start(t, harness.Options{Queue: &harness.QueueOptions{ConsumerEnv: []string{"AUTOGROUP_RETRY_RATE=25"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	buildCLI(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := env.RulesetGroups()
	if err != nil {
		t.Fatal(err)
	}
	users := backfillUsers(36)
	wantMembers := map[string][]string{}
	for _, g := range groups {
		wantMembers[g] = []string{}
	}
	planned := 0
	for _, u := range users {
		if _, u.sub, err = pool.CreateUser(ctx, u.email, u.attrs); err != nil {
			t.Fatal(err)
		}
		for _, g := range u.groups {
			wantMembers[g] = append(wantMembers[g], u.sub)
			planned++
		}
	}
	for _, m := range wantMembers {
		slices.Sort(m)
	}

	r := runCLI(t, ctx, env, "backfill", "--pool", pool.ID, "--rules", env.RulesFile(), "--apply", "--via-queue", env.QueueURL, "--json")
	if r.code != 0 {
		t.Fatalf("backfill via the queue: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var sum struct {
		backfillSummary
		ViaQueue string `json:"viaQueue"`
		Queued   int    `json:"queued"`
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line of stdout is not the JSON summary: %v\n%s", err, r.stdout)
	}
	if sum.ViaQueue != env.QueueURL || sum.Queued != planned || sum.Added != 0 || sum.Failed != 0 {
		t.Errorf("summary: via %q, %d queued, %d added, %d failed; want %d queued via the queue", sum.ViaQueue, sum.Queued, sum.Added, sum.Failed, planned)
	}
	before := groupMembers(t, ctx, env, pool.ID, groups)
	for g, m := range before {
		if len(m) != 0 {
			t.Errorf("group %s has members %v before the queue drained: the tool added them itself", g, m)
		}
	}
	sent := env.SentMessages()
	if len(sent) != len(users) {
		t.Errorf("%d messages sent, want one per user (%d)", len(sent), len(users))
	}
	for _, m := range sent {
		if strings.Contains(m.Body, "@") || strings.Contains(m.Body, "example") {
			t.Errorf("a message carries an email address: %s", m.Body)
		}
	}

	report, err := env.Drain(ctx, harness.DrainOptions{Timeout: 90 * time.Second})
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	t.Logf("drained %d messages in %s, %d batches", report.Deleted, report.Duration.Round(time.Millisecond), len(report.Batches))
	if diff := cmp.Diff(wantMembers, groupMembers(t, ctx, env, pool.ID, groups)); diff != "" {
		t.Errorf("memberships once the queue drained (-want +got):\n%s", diff)
	}
	if dead, err := env.Peek(ctx, env.DeadLetterQueueURL); err != nil || len(dead) != 0 {
		t.Errorf("dead-letter queue holds %d messages (%v), want none", len(dead), err)
	}

	again := runCLI(t, ctx, env, "backfill", "--pool", pool.ID, "--rules", env.RulesFile(), "--json")
	if s := summaryOf(t, again.stdout); again.code != 0 || s.Planned != 0 || s.AlreadyMember != planned {
		t.Errorf("backfill after the drain: exit %d, summary %+v; want nothing planned, %d already there", again.code, s, planned)
	}
}

// retriesReport is the part of retries' JSON report the test reads.
type retriesReport struct {
	Messages int            `json:"messages"`
	Users    int            `json:"users"`
	ByGroup  map[string]int `json:"byGroup"`
	ByReason map[string]int `json:"byReason"`
	Moved    int            `json:"moved"`
	Entries  []struct {
		Sub string `json:"sub"`
	} `json:"entries"`
}

// TestRetriesRedrive is the operator's path: assignments to a group that
// does not exist end in the dead-letter queue; autogroup retries shows them
// by sub without moving them; once the group is created, --redrive moves
// them back and the consumer adds them, leaving both queues empty.
func TestRetriesRedrive(t *testing.T) {
	const maxReceiveCount = 2
	env := start(t, harness.Options{Queue: &harness.QueueOptions{MaxReceiveCount: maxReceiveCount, ConsumerEnv: []string{"AUTOGROUP_RETRY_RATE=25"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	buildCLI(t)
	pool, err := env.CreatePoolWithGroups(ctx, []string{"staff"})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := env.Sender()
	if err != nil {
		t.Fatal(err)
	}
	// Three users for contractors, which does not exist yet, one for staff.
	var subs, emails []string
	for i := range 4 {
		email := fmt.Sprintf("ops%d@example.com", i)
		username, sub, err := pool.CreateUser(ctx, email, map[string]string{"email": email})
		if err != nil {
			t.Fatal(err)
		}
		subs, emails = append(subs, sub), append(emails, email)
		g := retryqueue.Group{Name: "contractors", Reason: membership.KindGroupNotFound, Code: "ResourceNotFoundException"}
		if i == 3 {
			g = retryqueue.Group{Name: "staff", Reason: membership.KindThrottled, Code: "TooManyRequestsException"}
		}
		if _, err := sender.Send(ctx, retryqueue.Message{UserPoolID: pool.ID, Username: username, Sub: sub, Groups: []retryqueue.Group{g},
			Source: retryqueue.SourcePostConfirmation, FirstFailedAt: time.Now(), EnqueuedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Drain(ctx, harness.DrainOptions{Timeout: 90 * time.Second}); err != nil {
		t.Fatalf("drain: %v", err)
	}

	look := runCLI(t, ctx, env, "retries", "--queue", env.DeadLetterQueueURL, "--json")
	if look.code != 0 || look.stderr != "" {
		t.Fatalf("retries: exit %d\nstdout:\n%s\nstderr:\n%s", look.code, look.stdout, look.stderr)
	}
	var rep retriesReport
	if err := json.Unmarshal([]byte(look.stdout), &rep); err != nil {
		t.Fatalf("retries --json: %v\n%s", err, look.stdout)
	}
	var got []string
	for _, e := range rep.Entries {
		got = append(got, e.Sub)
	}
	slices.Sort(got)
	if diff := cmp.Diff(slices.Sorted(slices.Values(subs[:3])), got); diff != "" || rep.Messages != 3 || rep.Users != 3 ||
		!cmp.Equal(rep.ByGroup, map[string]int{"contractors": 3}) || !cmp.Equal(rep.ByReason, map[string]int{"group_not_found": 3}) {
		t.Errorf("retries report %+v; subs (-want +got):\n%s", rep, diff)
	}
	text := runCLI(t, ctx, env, "retries", "--queue", env.DeadLetterQueueURL, "--to", env.QueueURL)
	for _, email := range emails {
		if strings.Contains(look.stdout+text.stdout, email) || strings.Contains(look.stdout+text.stdout, "@") {
			t.Errorf("retries prints an email address:\n%s", text.stdout)
		}
	}
	if !strings.Contains(text.stdout, "result:      nothing moved; --redrive would move 3 messages to "+env.QueueURL) {
		t.Errorf("the preview does not say what it would move:\n%s", text.stdout)
	}
	if dead, err := env.Peek(ctx, env.DeadLetterQueueURL); err != nil || len(dead) != 3 {
		t.Fatalf("after looking, the dead-letter queue holds %d messages (%v), want the same 3, visible", len(dead), err)
	}

	// The operator creates the group, then moves the messages back.
	if _, err := env.Cognito.CreateGroup(ctx, &cognitoidentityprovider.CreateGroupInput{UserPoolId: &pool.ID, GroupName: aws.String("contractors")}); err != nil {
		t.Fatal(err)
	}
	moved := runCLI(t, ctx, env, "retries", "--queue", env.DeadLetterQueueURL, "--redrive", "--to", env.QueueURL, "--json")
	if err := json.Unmarshal([]byte(moved.stdout), &rep); moved.code != 0 || err != nil || rep.Moved != 3 {
		t.Fatalf("redrive: exit %d, %d moved (%v)\nstdout:\n%s\nstderr:\n%s", moved.code, rep.Moved, err, moved.stdout, moved.stderr)
	}
	if _, err := env.Drain(ctx, harness.DrainOptions{Timeout: 90 * time.Second}); err != nil {
		t.Fatalf("drain after the redrive: %v", err)
	}
	for i, sub := range subs {
		want := []string{"contractors"}
		if i == 3 {
			want = []string{"staff"}
		}
		if got, err := pool.GroupsOf(ctx, sub); err != nil || !cmp.Equal(got, want) {
			t.Errorf("groups of user %d = %v (%v), want %v", i, got, err, want)
		}
	}
	for _, q := range []string{env.QueueURL, env.DeadLetterQueueURL} {
		if n, err := env.QueueDepth(ctx, q); err != nil || n != 0 {
			t.Errorf("%s holds %d messages (%v) after the redrive drained, want none", q, n, err)
		}
	}
}
