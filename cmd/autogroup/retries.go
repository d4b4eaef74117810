package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

var retriesCmd = &command{
	name:    "retries",
	args:    "(--queue DLQ_URL [--redrive --to QUEUE_URL] | --stack NAME [--redrive]) [--max N] [--json]",
	summary: "show what waits in the retry dead-letter queue; move it back",
	help: `Reads the retry queue's dead-letter queue, where an assignment lands after
the retry consumer failed it maxReceiveCount times, and reports what waits
there: the messages by group, by reason (why each group was queued:
throttled, timed_out, group_not_found, ...; why the consumer failed it is in
its log) and by source, the oldest and the newest, and a line per message
with the user's sub, the pool and the groups. It never prints a username, an
email address or another attribute.

It reads without consuming: each message is received with a visibility
timeout of 60 seconds and not deleted, until the queue has no more or --max
messages were read; then they are made visible again. Each read counts in a
message's ApproximateReceiveCount.

Nothing is moved without --redrive; with --to alone it shows what --redrive
would move. Once the cause is fixed (the group created, the permission
granted), --redrive --to QUEUE_URL moves the messages back to the retry
queue, one by one: it sends each body, unchanged, to QUEUE_URL, then deletes
it from the dead-letter queue. A crash between the two leaves a copy in
both, and a duplicate at worst adds a member twice, which is harmless. A
message that does not decode (not a retry message, or a newer version than
this tool reads) is reported and left where it is. Ctrl-C stops after the
message in flight (press it again to stop at once).

--stack NAME reads the outputs of the CloudFormation stack NAME: --queue
is its AssignmentRetryDeadLetterQueueUrl and, with --redrive, --to its
AssignmentRetryQueueUrl. A flag given wins over the output; a stack deployed
with RetryQueue=Disabled has no queues (exit 2).

With --json, prints one JSON object instead: queue, to, redrive, messages,
users, undecodable, truncated, byGroup, byReason, bySource, oldest, newest,
entries (messageId, sub, userPoolId, source, groups with name, reason and
code, enqueuedAt, firstFailedAt, error, moved), moved, failures (messageId,
sub, error) and interrupted.

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_SQS,
AWS_ENDPOINT_URL_CLOUDFORMATION, ...). IAM actions: sqs:ReceiveMessage and
sqs:ChangeMessageVisibility on the dead-letter queue; with --redrive also
sqs:DeleteMessage on it and sqs:SendMessage on QUEUE_URL; with --stack
cloudformation:DescribeStacks on the stack.

Examples:
  autogroup retries --queue https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry-dlq
  autogroup retries --queue DLQ_URL --to QUEUE_URL    # what --redrive would move
  autogroup retries --queue DLQ_URL --redrive --to QUEUE_URL
  autogroup retries --stack autogroup --redrive`,
	exitHelp: `Exit codes:
  0    the dead-letter queue was read; with --redrive, every message that
       decodes was moved
  1    a message could not be moved: it is listed with its message id and
       the error, and stays in (or comes back to) the dead-letter queue
  2    usage error or a queue that cannot be read: bad flags, no --queue,
       --redrive without --to, a wrong URL, a missing permission, a --stack
       that cannot be read or lacks an output it needs
  130  interrupted (SIGINT, SIGTERM)
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var f retriesFlags
		fs.StringVar(&f.queue, "queue", "", "the dead-letter queue's `URL`")
		fs.BoolVar(&f.redrive, "redrive", false, "move the messages back to --to (default: look only)")
		fs.StringVar(&f.to, "to", "", "the retry queue's `URL`, where --redrive moves the messages")
		fs.IntVar(&f.max, "max", defaultRetriesMax, "read at most `N` messages (default 1000)")
		fs.BoolVar(&f.json, "json", false, "print the report as one JSON object")
		stack := defineStackFlag(fs, "--queue and, with --redrive, --to")
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "retries", "unexpected argument %q", args[0])
			}
			fills := []stackFill{fillDeadLetterQueue}
			if f.redrive {
				fills = append(fills, fillRetryQueue)
			}
			if _, ok := stack.fill(e, "retries", fills...); !ok {
				return exitUsage
			}
			return e.retries(f)
		}
	},
}

// Limits and timing of retries.
const (
	defaultRetriesMax = 1000
	// peekVisibility is how long, in seconds, a message read stays
	// invisible to other readers, unless it is made visible earlier.
	peekVisibility = 60
	// staleReceives receives in a row that bring only messages already
	// read end the scan: their visibility timeout ran out.
	staleReceives = 3
	// resetWorkers make messages visible again at once.
	resetWorkers = 8
)

type retriesFlags struct {
	queue, to     string
	redrive, json bool
	max           int
}

// retriesRun is one run of the command.
type retriesRun struct {
	e        *env
	f        retriesFlags
	api      sqsAPI
	prog     *progress
	stopping chan struct{} // closed at the first interrupt
	mu       sync.Mutex    // guards rep while the progress line reads it
	rep      retriesReport
	seen     map[string]bool   // message ids read
	left     map[string]string // receipt handle by message id, of the messages left in the queue
	subs     map[string]bool
}

func (e *env) retries(f retriesFlags) int {
	switch {
	case f.queue == "":
		return usageError(e, "retries", "--queue or --stack is required")
	case f.redrive && f.to == "":
		return usageError(e, "retries", "--redrive needs --to, the retry queue's URL")
	case f.max < 1:
		return usageError(e, "retries", "--max must be at least 1, found %d", f.max)
	case f.to != "" && f.to == f.queue:
		return usageError(e, "retries", "--to is the dead-letter queue itself")
	}
	if err := checkQueueURL("--queue", f.queue); err != nil {
		return usageError(e, "retries", "%v", err)
	}
	if f.to != "" {
		if err := checkQueueURL("--to", f.to); err != nil {
			return usageError(e, "retries", "%v", err)
		}
	}
	api, ok := e.sqsClient("retries")
	if !ok {
		return exitUsage
	}
	r := &retriesRun{
		e: e, f: f, api: api, prog: newProgress(e.stderr), stopping: make(chan struct{}),
		seen: map[string]bool{}, left: map[string]string{}, subs: map[string]bool{},
	}
	r.rep.init(f)
	return r.run()
}

// run reads (and moves) the messages, makes those left visible again and
// reports.
func (r *retriesRun) run() int {
	e := r.e
	// The first interrupt stops after the message in flight; the second
	// cancels the calls in flight too.
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	sig := e.interrupts
	if sig == nil {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		sig = ch
	}
	finished := make(chan struct{})
	var watcher sync.WaitGroup
	defer watcher.Wait() // after close(finished): deferred calls run last first
	defer close(finished)
	watcher.Go(func() {
		select {
		case <-sig:
		case <-finished:
			return
		}
		r.prog.printf(e.stderr, "autogroup retries: interrupted: stopping after the message in flight (interrupt again to stop at once)\n")
		close(r.stopping)
		select {
		case <-sig:
			cancel()
		case <-finished:
		}
	})

	if !r.f.json {
		r.header()
	}
	r.prog.start(func() string {
		read, moved := r.progressCounts()
		return fmt.Sprintf("reading: %d messages, %d moved", read, moved)
	})
	readErr := r.scan(ctx)
	r.prog.finish()
	r.resetVisibility(ctx)
	r.rep.Interrupted = r.stopped()

	code := exitOK
	switch {
	case readErr != nil && !r.stopped():
		r.prog.printf(e.stderr, "autogroup retries: cannot %v\n", readErr)
		code = exitUsage
	case len(r.rep.Failures) > 0:
		code = exitProblems
	}
	if r.rep.Interrupted {
		code = exitInterrupted
	}
	if readErr != nil && len(r.rep.Entries) == 0 {
		return code // nothing was read: no report
	}
	return max(code, r.report())
}

func (r *retriesRun) stopped() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return false
	}
}

// progressCounts returns the messages read and moved so far; the
// progress line calls it from its own goroutine.
func (r *retriesRun) progressCounts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rep.Entries), r.rep.Moved
}

// add records a message read; m is what it decodes to, nil when it does
// not decode.
func (r *retriesRun) add(e retryEntry, m *retryqueue.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.add(e, m)
}

// scan receives messages until the queue has no more visible ones, --max
// were read, a move failed or an interrupt came, and handles each once.
func (r *retriesRun) scan(ctx context.Context) error {
	stale, halted := 0, false
	for len(r.rep.Entries) < r.f.max && !r.stopped() && !halted {
		out, err := r.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(r.f.queue),
			MaxNumberOfMessages:   int32(min(10, r.f.max-len(r.rep.Entries))),
			VisibilityTimeout:     peekVisibility,
			WaitTimeSeconds:       1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return &queueError{"sqs:ReceiveMessage", "read the dead-letter queue " + r.f.queue, err}
		}
		if len(out.Messages) == 0 {
			return nil
		}
		fresh := 0
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if r.seen[id] || len(r.rep.Entries) >= r.f.max || r.stopped() || halted {
				if _, ok := r.left[id]; ok || !r.seen[id] {
					r.left[id] = aws.ToString(m.ReceiptHandle) // the newest handle is the one that works
				}
				continue
			}
			r.seen[id] = true
			fresh++
			halted = !r.message(ctx, m) // a move failed: the run stops, and says why

		}
		if fresh > 0 {
			stale = 0
		} else if stale++; stale >= staleReceives {
			return nil
		}
	}
	r.rep.Truncated = !halted && len(r.rep.Entries) >= r.f.max
	return nil
}

// message records one message read, moves it with --redrive, and prints
// its line. It reports false when a move failed and the run must stop.
func (r *retriesRun) message(ctx context.Context, m types.Message) bool {
	id, handle, body := aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle), aws.ToString(m.Body)
	msg, err := retryqueue.Decode([]byte(body))
	if err != nil {
		r.left[id] = handle
		r.add(retryEntry{MessageID: id, Error: err.Error()}, nil)
		r.line("unreadable", id+"  "+err.Error())
		return true
	}
	entry := newRetryEntry(id, msg)
	r.subs[msg.Sub] = true
	if !r.f.redrive {
		r.left[id] = handle
		r.add(entry, &msg)
		verb := "waiting"
		if r.f.to != "" {
			verb = "would move"
		}
		r.line(verb, entry.describe())
		return true
	}
	if _, err := r.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(r.f.to), MessageBody: aws.String(body), MessageAttributes: m.MessageAttributes,
	}); err != nil {
		r.left[id] = handle
		r.add(entry, &msg)
		r.rep.fail(redriveFailure{MessageID: id, Sub: msg.Sub,
			Error: "not moved: " + (&queueError{"sqs:SendMessage", "send to " + r.f.to, err}).Error()})
		r.line("failed", entry.describe())
		return false
	}
	entry.Moved = true
	r.add(entry, &msg)
	if _, err := r.api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.f.queue), ReceiptHandle: aws.String(handle)}); err != nil {
		r.left[id] = handle
		r.rep.fail(redriveFailure{MessageID: id, Sub: msg.Sub,
			Error: "sent, but still in the dead-letter queue: a later --redrive sends it again, which is harmless: " +
				(&queueError{"sqs:DeleteMessage", "delete from the dead-letter queue", err}).Error()})
		r.line("failed", entry.describe())
		return false
	}
	r.line("moved", entry.describe())
	return true
}

// line prints a message's line, unless the report is JSON.
func (r *retriesRun) line(verb, text string) {
	if !r.f.json {
		r.prog.printf(r.e.stdout, "%-11s%s\n", verb, text)
	}
}

// resetVisibility makes the messages left in the queue visible again, so
// that the next reader (the next run of this command) sees them at once.
func (r *retriesRun) resetVisibility(ctx context.Context) {
	handles := make(chan string)
	var (
		mu     sync.Mutex
		failed int
		last   error
		wg     sync.WaitGroup
	)
	for range resetWorkers {
		wg.Go(func() {
			for h := range handles {
				_, err := r.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: aws.String(r.f.queue), ReceiptHandle: aws.String(h), VisibilityTimeout: 0,
				})
				if err != nil {
					mu.Lock()
					failed++
					last = err
					mu.Unlock()
				}
			}
		})
	}
	for _, h := range r.left {
		handles <- h
	}
	close(handles)
	wg.Wait()
	if failed > 0 {
		r.prog.printf(r.e.stderr, "autogroup retries: warning: %s stay invisible for up to %ds: %v\n",
			plural(failed, "message", "messages"), peekVisibility,
			&queueError{"sqs:ChangeMessageVisibility", "make them visible again", last})
	}
}

// newRetryEntry describes a message that decodes.
func newRetryEntry(id string, m retryqueue.Message) retryEntry {
	e := retryEntry{MessageID: id, Sub: m.Sub, UserPoolID: m.UserPoolID, Source: string(m.Source), EnqueuedAt: timestamp(m.EnqueuedAt)}
	if !m.FirstFailedAt.IsZero() {
		e.FirstFailedAt = timestamp(m.FirstFailedAt)
	}
	for _, g := range m.Groups {
		e.Groups = append(e.Groups, retryGroup{Name: g.Name, Reason: string(g.Reason), Code: g.Code})
	}
	return e
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
