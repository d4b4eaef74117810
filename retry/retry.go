// Package retry is the retry queue's consumer, the logic of the
// assignment-retry function: for each message of an SQS event it decodes
// the retryqueue.Message, asks a Verify hook whether the user is still to be
// added, adds the message's groups with membership under a rate limit, and
// answers with the messages SQS is to deliver again (the event source
// mapping's ReportBatchItemFailures).
//
// A message whose groups are all in place (already a member counts)
// succeeds. One with a group that failed for any reason is listed, comes
// back after the queue's visibility timeout, and after its maxReceiveCount
// lands in the dead-letter queue; so does one that does not decode, which
// can never succeed. Each message gets one decision record, "retry", with
// ids, group names and error kinds only.
//
// The rate: AdminAddUserToGroup is in Cognito's UserUpdate category, 25
// calls per second per account and Region, not adjustable, and shared with
// every other admin write (the sign-up function among them). DefaultRate, 5
// calls per second per instance, with the mapping's MaximumConcurrency of 2
// takes at most 10 of those 25, and leaves 15 for sign-ups and everything
// else, so that draining a backlog never starves the sign-ups that caused
// it.
package retry

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/time/rate"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// Rates of AdminAddUserToGroup calls, per second and per instance.
const (
	// DefaultRate is the rate when AUTOGROUP_RETRY_RATE is unset: 2
	// instances (the mapping's MaximumConcurrency) times 5 is 10 calls per
	// second, well under the UserUpdate quota of 25.
	DefaultRate = 5.0
	// MaxRate is the UserUpdate quota itself: one instance above it would
	// only be throttled.
	MaxRate = 25.0
)

// DefaultReserve is the time a Consumer keeps, before the invocation's
// deadline, to answer: no message is started and no call is waited for in
// it.
const DefaultReserve = 500 * time.Millisecond

// Verdict is what a Verify hook decided about a message's user.
type Verdict int

// The verdicts.
const (
	// Proceed: add the message's groups.
	Proceed Verdict = iota
	// Excluded: the user is to be left alone (the ruleset's exclude holds
	// for them): nothing is added and the message succeeds.
	Excluded
	// Mismatch: the user Cognito holds is not the one the message names
	// (another sub, or no such user): nothing is added and the message is
	// treated as invalid, so that it ends in the dead-letter queue.
	Mismatch
)

// Verify decides, before anything is added, whether the message's user is
// still to be added: the seam for AUTOGROUP_VERIFY_USER (read the user from
// Cognito and require its sub to equal m.Sub) and for the ruleset's
// exclude, which is why it gets the ruleset in force. An error means the
// check could not be made now (Cognito throttled the read, say): the message
// is delivered again. Its text goes to the log, so it must name no
// attribute value.
type Verify func(ctx context.Context, m *retryqueue.Message, rs *rules.Ruleset) (Verdict, error)

// Options configure a Consumer.
type Options struct {
	// Rate is the most AdminAddUserToGroup calls per second, retries
	// included; DefaultRate when 0. At most MaxRate.
	Rate float64
	// Verify, if set, is asked about every decoded message. Nil acts on
	// every message as it stands.
	Verify Verify
	// Reserve is the time kept to answer before the invocation's deadline;
	// DefaultReserve when 0.
	Reserve time.Duration
}

// OptionsFromEnv reads AUTOGROUP_RETRY_RATE: calls per second, a number
// above 0 and at most MaxRate (fractions allowed: 0.5 is one call every 2
// seconds). Unset or empty means DefaultRate. A bad value is an error naming
// the variable.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	if v := getenv("AUTOGROUP_RETRY_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r > 0 && r <= MaxRate) {
			return o, fmt.Errorf("AUTOGROUP_RETRY_RATE: want calls per second above 0 and at most %g, got %q", MaxRate, v)
		}
		o.Rate = r
	}
	return o, nil
}

// Consumer handles the SQS events of the retry queue. Build it with New; it
// is safe for concurrent use, and its rate limit is shared by every
// invocation it handles.
type Consumer struct {
	adder   *membership.Adder
	rules   *rulesource.Holder
	verify  Verify
	log     *slog.Logger
	reserve time.Duration
}

// New returns a Consumer that adds groups through api, asks holder for the
// ruleset in force and logs to logger.
func New(api membership.API, holder *rulesource.Holder, logger *slog.Logger, o Options) (*Consumer, error) {
	r := o.Rate
	if r == 0 {
		r = DefaultRate
	}
	if !(r > 0 && r <= MaxRate) {
		return nil, fmt.Errorf("retry rate %g: want above 0 and at most %g calls per second", r, MaxRate)
	}
	if holder == nil || logger == nil {
		return nil, fmt.Errorf("retry: a ruleset holder and a logger are required")
	}
	reserve := o.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	limiter := rate.NewLimiter(rate.Limit(r), 1)
	adder := membership.NewAdder(api, membership.Options{
		// The invocation's deadline, less the reserve, bounds the work;
		// membership's own budget must not cut it shorter.
		Budget: 15 * time.Minute,
		Wait:   limitWait(limiter),
	})
	return &Consumer{adder: adder, rules: holder, verify: o.Verify, log: logger, reserve: reserve}, nil
}

// limitWait waits for the limiter. A wait that the context's deadline would
// cut short returns at once with an error that wraps
// context.DeadlineExceeded, so that membership classifies the group as
// timed out rather than failed.
func limitWait(l *rate.Limiter) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := l.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("rate limit: the next call would start after the deadline: %w", context.DeadlineExceeded)
		}
		return nil
	}
}

// Handle handles one SQS event: the messages in order, one at a time (the
// rate limit, not parallelism, sets the pace). The response lists the
// messageId of every message that did not fully succeed, each once, and is
// an empty list (not null) when all succeeded. A
// message that is not reached before the deadline, less the reserve, is
// listed without an attempt. Handle returns an error, so that SQS delivers
// the whole batch again, only when a message to be delivered again has no
// messageId, which a response cannot name.
func (c *Consumer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	work, cancel := c.workContext(ctx)
	defer cancel()
	rs := c.rules.Ruleset(ctx)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	listed := map[string]bool{}
	unnamed := 0
	for i := range ev.Records {
		rec := &ev.Records[i]
		d := c.handleRecord(work, rec, rs)
		d.log(ctx, c.log)
		if !d.Outcome.listed() {
			continue
		}
		switch {
		case rec.MessageId == "":
			unnamed++
		case !listed[rec.MessageId]:
			listed[rec.MessageId] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	if unnamed > 0 {
		return events.SQSEventResponse{}, fmt.Errorf("%d messages to deliver again have no messageId; failing the whole batch", unnamed)
	}
	return resp, nil
}

// workContext returns ctx with its deadline moved earlier by the reserve.
func (c *Consumer) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-c.reserve))
	}
	return context.WithCancel(ctx)
}

// handleRecord decides one message.
func (c *Consumer) handleRecord(ctx context.Context, rec *events.SQSMessage, rs *rules.Ruleset) *Decision {
	start := time.Now()
	d := &Decision{MessageID: rec.MessageId, ReceiveCount: receiveCount(rec), Bytes: len(rec.Body)}
	defer func() { d.Duration = time.Since(start) }()
	m, err := retryqueue.Decode([]byte(rec.Body))
	if err != nil {
		d.Outcome, d.Error = OutcomeInvalid, err.Error()
		return d
	}
	d.setMessage(&m, start)
	if expired(ctx) {
		d.Outcome, d.Error = OutcomeRetry, "not attempted: the invocation's time ran out"
		return d
	}
	if c.verify != nil {
		v, err := c.verify(ctx, &m, rs)
		switch {
		case err != nil:
			d.Outcome, d.Error = OutcomeRetry, "verify the user: "+err.Error()
			return d
		case v == Excluded:
			d.Outcome = OutcomeExcluded
			return d
		case v == Mismatch:
			d.Outcome, d.Error = OutcomeInvalid, "the user in Cognito is not the one the message names"
			return d
		}
	}
	d.SetResults(c.adder.Add(ctx, m.UserPoolID, m.Username, m.GroupNames()))
	d.Outcome = OutcomeOK
	if d.Failed > 0 {
		d.Outcome = OutcomeRetry
	}
	return d
}

// expired reports whether ctx has ended or its deadline has passed (its
// timer may not have fired yet).
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// receiveCount returns the record's ApproximateReceiveCount, 0 when absent.
func receiveCount(rec *events.SQSMessage) int {
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return n
}
