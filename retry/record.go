package retry

import (
	"context"
	"log/slog"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// Outcome says how one message ended. Its values are stable strings, fit
// for logs, metrics and alarms.
type Outcome string

// The outcomes of a message.
const (
	// OutcomeOK: every group is in place; the message is deleted.
	OutcomeOK Outcome = "ok"
	// OutcomeExcluded: the Verify hook said the user is to be left alone;
	// nothing was added and the message is deleted.
	OutcomeExcluded Outcome = "excluded"
	// OutcomeRetry: a group could not be added, the user could not be
	// verified, or time ran out; the message is delivered again.
	OutcomeRetry Outcome = "retry"
	// OutcomeInvalid: the body is not a message this consumer reads, or it
	// names another user than Cognito holds. It can never succeed: it is
	// delivered again until the queue moves it to the dead-letter queue.
	OutcomeInvalid Outcome = "invalid"
)

// listed reports whether a message with this outcome goes in the batch
// item failures.
func (o Outcome) listed() bool { return o == OutcomeRetry || o == OutcomeInvalid }

// Decision is the record of one message, logged as "retry". It carries
// ids, group names, error kinds and counts, never the body or an attribute
// value.
type Decision struct {
	MessageID string
	// ReceiveCount is the record's ApproximateReceiveCount (1 on the first
	// delivery), 0 when absent.
	ReceiveCount int
	// Bytes is the body's size.
	Bytes int
	// Sub, UserPoolID, Source and Groups come from the message; they are
	// empty when it did not decode.
	Sub, UserPoolID string
	Source          retryqueue.Source
	Groups          []string
	// Age is the time since the message's EnqueuedAt.
	Age time.Duration
	// Results has one entry per group attempted; Failed counts those that
	// failed.
	Results []GroupResult
	Failed  int
	Outcome Outcome
	// Error says why the message was not acted on (it did not decode, the
	// user could not be verified, time ran out); empty otherwise.
	Error    string
	Duration time.Duration
}

// GroupResult is one group's outcome in the record.
type GroupResult struct {
	Group    string          `json:"group"`
	Kind     membership.Kind `json:"kind"`
	Attempts int             `json:"attempts"`
	// Error is the error's text, empty when Kind is ok. It names the group
	// and the pool, never the user.
	Error string `json:"error,omitempty"`
}

func (d *Decision) setMessage(m *retryqueue.Message, now time.Time) {
	d.Sub, d.UserPoolID, d.Source = m.Sub, m.UserPoolID, m.Source
	d.Groups = m.GroupNames()
	d.Age = now.Sub(m.EnqueuedAt)
}

// SetResults records the outcome of adding the groups: Results and Failed.
func (d *Decision) SetResults(results []membership.Result) {
	d.Results = make([]GroupResult, len(results))
	d.Failed = 0
	for i, r := range results {
		d.Results[i] = GroupResult{Group: r.Group, Kind: r.Kind, Attempts: r.Attempts}
		if r.Err != nil {
			d.Results[i].Error = r.Err.Error()
			d.Failed++
		}
	}
}

// Level is INFO for a message that succeeded, WARN for one to be retried
// and ERROR for an invalid one.
func (d *Decision) Level() slog.Level {
	switch d.Outcome {
	case OutcomeRetry:
		return slog.LevelWarn
	case OutcomeInvalid:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Attrs returns the record's fields as the log carries them: messageId,
// receiveCount, bytes, then (for a message that decoded) sub, userPoolId,
// source, groups, ageMs, results and failed, then outcome, error (when
// set) and durationMs. Lists are [] rather than null when empty.
func (d *Decision) Attrs() []slog.Attr {
	attrs := []slog.Attr{
		slog.String("messageId", d.MessageID),
		slog.Int("receiveCount", d.ReceiveCount),
		slog.Int("bytes", d.Bytes),
	}
	if d.Sub != "" {
		results := d.Results
		if results == nil {
			results = []GroupResult{}
		}
		attrs = append(attrs,
			slog.String("sub", d.Sub),
			slog.String("userPoolId", d.UserPoolID),
			slog.String("source", string(d.Source)),
			slog.Any("groups", d.Groups),
			slog.Float64("ageMs", ms(d.Age)),
			slog.Any("results", results),
			slog.Int("failed", d.Failed))
	}
	attrs = append(attrs, slog.String("outcome", string(d.Outcome)))
	if d.Error != "" {
		attrs = append(attrs, slog.String("error", d.Error))
	}
	return append(attrs, slog.Float64("durationMs", ms(d.Duration)))
}

// Metrics returns the record's metrics for target at t, in the decision
// records' Embedded Metric Format: Messages (1) by Function and by Function
// and Outcome; by Function only: AssignmentsRetried (groups attempted),
// GroupsAdded (groups in place), AssignmentsFailed (groups that failed
// this delivery), MessageAge (milliseconds since the sign-up queued it, 0
// when the body did not decode) and Duration (milliseconds).
func (d *Decision) Metrics(target trigger.MetricsTarget, t time.Time) trigger.EMF {
	added := 0
	for _, r := range d.Results {
		if r.Kind == membership.KindOK {
			added++
		}
	}
	return trigger.EMF{
		Namespace:  target.Namespace,
		Timestamp:  t,
		Dimensions: []trigger.Dimension{{Name: "Function", Value: target.Function}, {Name: "Outcome", Value: string(d.Outcome)}},
		Sets: []trigger.MetricSet{
			{Dimensions: [][]string{{"Function"}, {"Function", "Outcome"}}, Metrics: []trigger.Metric{{Name: "Messages", Unit: trigger.UnitCount, Value: 1}}},
			{Dimensions: [][]string{{"Function"}}, Metrics: []trigger.Metric{
				{Name: "AssignmentsRetried", Unit: trigger.UnitCount, Value: float64(len(d.Results))},
				{Name: "GroupsAdded", Unit: trigger.UnitCount, Value: float64(added)},
				{Name: "AssignmentsFailed", Unit: trigger.UnitCount, Value: float64(d.Failed)},
				{Name: "MessageAge", Unit: trigger.UnitMilliseconds, Value: ms(d.Age)},
				{Name: "Duration", Unit: trigger.UnitMilliseconds, Value: ms(d.Duration)},
			}},
		},
	}
}

// log writes the record as "retry": Attrs, then its Metrics for
// trigger.EnvMetricsTarget.
func (d *Decision) log(ctx context.Context, logger *slog.Logger) {
	attrs := append(d.Attrs(), d.Metrics(trigger.EnvMetricsTarget(), time.Now()).Attrs()...)
	logger.LogAttrs(ctx, d.Level(), "retry", attrs...)
}

// ms converts d to milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
