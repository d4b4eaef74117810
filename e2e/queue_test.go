package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// TestRetryQueueConsumer sends retry messages for real users of
// cognito-local to the retry queue in goaws and lets the harness play the
// event source mapping: the users end in their groups, a message for a
// group that does not exist and one that does not decode end in the
// dead-letter queue after maxReceiveCount deliveries, and nothing else
// does. No message body carries an email address.
func TestRetryQueueConsumer(t *testing.T) {
	const maxReceiveCount = 3
	env := start(t, harness.Options{Queue: &harness.QueueOptions{
		MaxReceiveCount: maxReceiveCount,
		ConsumerEnv:     []string{"AUTOGROUP_RETRY_RATE=20"},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := env.CreatePoolWithGroups(ctx, []string{"staff", "engineering"})
	if err != nil {
		t.Fatal(err)
	}

	type user struct {
		email  string
		groups []string // in the message
		want   []string // in Cognito once the queue drained
	}
	users := []user{
		{"ana.lima@example.com", []string{"staff"}, []string{"staff"}},
		{"raj.patel@example.com", []string{"staff", "engineering"}, []string{"engineering", "staff"}},
		{"mia.chen@example.com", []string{"engineering"}, []string{"engineering"}},
		{"sam.okafor@example.com", []string{"staff"}, []string{"staff"}},
		// contractors does not exist: staff is added, the message ends in
		// the dead-letter queue.
		{"eve.mallory@example.com", []string{"staff", "contractors"}, []string{"staff"}},
	}
	// The functions' own SQS client (not the SDK's), against goaws.
	sender, err := env.Sender()
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]string, len(users))
	var emails []string
	for i, u := range users {
		username, sub, err := pool.CreateUser(ctx, u.email, map[string]string{"email": u.email})
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = sub
		emails = append(emails, u.email)
		m := retryqueue.Message{
			UserPoolID: pool.ID, Username: username, Sub: sub,
			Source:        retryqueue.SourcePostConfirmation,
			FirstFailedAt: time.Now().Add(-2 * time.Second), EnqueuedAt: time.Now(),
		}
		for _, g := range u.groups {
			m.Groups = append(m.Groups, retryqueue.Group{Name: g, Reason: membership.KindThrottled, Code: "TooManyRequestsException"})
		}
		if _, err := sender.Send(ctx, m); err != nil {
			t.Fatalf("send the message of user %d: %v", i, err)
		}
	}
	bad, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(env.QueueURL), MessageBody: aws.String("not a retry message")})
	if err != nil {
		t.Fatal(err)
	}

	report, err := env.Drain(ctx, harness.DrainOptions{BatchSize: 4, Timeout: 90 * time.Second})
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	t.Logf("drained in %s: %d batches, %d received, %d deleted", report.Duration.Round(time.Millisecond), len(report.Batches), report.Received, report.Deleted)

	for i, u := range users {
		got, err := pool.GroupsOf(ctx, subs[i])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u.want, got); diff != "" {
			t.Errorf("groups of user %d mismatch (-want +got):\n%s", i, diff)
		}
	}

	// The dead-letter queue holds exactly what cannot succeed.
	dead, err := env.Peek(ctx, env.DeadLetterQueueURL)
	if err != nil {
		t.Fatal(err)
	}
	var deadSubs []string
	for _, m := range dead {
		if m.MessageID == aws.ToString(bad.MessageId) {
			deadSubs = append(deadSubs, "undecodable")
			continue
		}
		msg, err := retryqueue.Decode([]byte(m.Body))
		if err != nil {
			t.Fatalf("dead letter %s does not decode: %v", m.MessageID, err)
		}
		deadSubs = append(deadSubs, msg.Sub)
	}
	slices.Sort(deadSubs)
	want := []string{subs[4], "undecodable"}
	slices.Sort(want)
	if diff := cmp.Diff(want, deadSubs); diff != "" {
		t.Errorf("dead-letter queue mismatch (-want +got):\n%s", diff)
	}
	if n, err := env.QueueDepth(ctx, env.QueueURL); err != nil || n != 0 {
		t.Errorf("retry queue depth = %d, %v after the drain, want 0", n, err)
	}

	// Each dead letter was delivered maxReceiveCount times; every other
	// message once, and no invocation failed as a whole.
	deliveries := map[string]int{}
	for _, b := range report.Batches {
		if b.Invocation.Error != nil {
			t.Errorf("batch %v failed as a whole: %v", b.MessageIDs, b.Invocation.Error)
		}
		for _, id := range b.MessageIDs {
			deliveries[id]++
		}
	}
	for _, m := range dead {
		if deliveries[m.MessageID] != maxReceiveCount {
			t.Errorf("dead letter %s was delivered %d times, want %d", m.MessageID, deliveries[m.MessageID], maxReceiveCount)
		}
	}
	if got, want := len(deliveries), len(users)+1; got != want {
		t.Errorf("%d messages were delivered, want %d", got, want)
	}

	// One "retry" record per delivery, with the outcome the message earned.
	records, err := env.ConsumerLog()
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string][]string{}
	for _, r := range records {
		if r.Message() == "retry" {
			id := r.String("messageId")
			outcomes[id] = append(outcomes[id], r.String("outcome"))
		}
	}
	for id, n := range deliveries {
		if len(outcomes[id]) != n {
			t.Errorf("message %s: %d retry records for %d deliveries", id, len(outcomes[id]), n)
		}
	}
	if got := outcomes[aws.ToString(bad.MessageId)]; !slices.Equal(got, []string{"invalid", "invalid", "invalid"}) {
		t.Errorf("outcomes of the undecodable message = %v, want invalid 3 times", got)
	}

	// No body the queue ever held, and no line the consumer logged, names
	// a user by email address.
	sent := env.SentMessages()
	if len(sent) != len(users)+1 {
		t.Errorf("the proxy saw %d messages sent, want %d", len(sent), len(users)+1)
	}
	bodies := []string{}
	for _, m := range sent {
		bodies = append(bodies, m.Body)
	}
	for _, m := range dead {
		bodies = append(bodies, m.Body)
	}
	for _, r := range records {
		bodies = append(bodies, fmt.Sprint(map[string]any(r)))
	}
	for _, b := range bodies {
		for _, email := range emails {
			if strings.Contains(b, email) || strings.Contains(b, strings.Split(email, "@")[0]) {
				t.Errorf("a message body or log record carries %s: %s", email, b)
			}
		}
	}
}
