package trigger

import (
	"context"
	"log/slog"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// Outcome says how an invocation ended. Its values are stable strings, fit
// for logs, metrics and alarms.
type Outcome string

// The outcomes of a decision.
const (
	// OutcomeOK: every group selected was added (or the user already was a
	// member).
	OutcomeOK Outcome = "ok"
	// OutcomeNoGroups: the rules selected no group; Cognito was not called.
	OutcomeNoGroups Outcome = "no_groups"
	// OutcomeFailed: a group could not be added and the ruleset says
	// onError: fail, so the function returned an error.
	OutcomeFailed Outcome = "failed"
	// OutcomeFailedContinued: a group could not be added and the ruleset
	// says onError: continue, so the function returned the event.
	OutcomeFailedContinued Outcome = "failed_continued"
	// OutcomeDeferred: a group could not be added inside the budget, and
	// every such group was put on the retry queue in one message; the
	// function returned the event whatever onError says, and the
	// assignment-retry function adds them later.
	OutcomeDeferred Outcome = "deferred"
	// OutcomePassedThrough: the trigger source is not handled by the
	// ruleset; nothing was evaluated and the event was returned.
	OutcomePassedThrough Outcome = "passed_through"
)

// Record is the decision record: one per invocation, logged as
// "decision". It carries ids and names only, never an attribute value.
type Record struct {
	TriggerSource string
	// Sub is the user's sub attribute (Event.Sub).
	Sub        string
	UserPoolID string
	// RulesVersion is the version of the ruleset that decided, as its
	// source labels it (an AppConfig version number; "fallback"), "" when
	// the source has none (embedded, RULES_FILE).
	RulesVersion string
	// Verified is true when the user was read back from Cognito and the
	// rules decided on the attributes Cognito holds, false when they
	// decided on the event's (AUTOGROUP_VERIFY_USER=false).
	Verified bool
	// Reads has one entry per Cognito read made before deciding, such as
	// the user's AdminGetUser; SetReads fills it.
	Reads []ReadResult
	// MatchedRules names the rules that matched, in file order.
	MatchedRules []string
	// DefaultApplied is true when no rule matched and defaultGroups applied.
	DefaultApplied bool
	// Groups are the groups the rules selected.
	Groups []string
	// Results has one entry per group of Groups that was attempted; Failed
	// counts those that failed. SetResults fills both.
	Results []GroupResult
	Failed  int
	// Deferred names the groups put on the retry queue (OutcomeDeferred),
	// and RetryMessageID is the id SQS gave that message.
	Deferred       []string
	RetryMessageID string
	// SendError is the kind of error that stopped the send to the retry
	// queue (such as timed_out or access_denied), empty when none failed:
	// onError then applied.
	SendError string
	Outcome   Outcome
	Duration  time.Duration
}

// GroupResult is how one group's outcome appears in the record.
type GroupResult struct {
	// Op is "remove" for a removal (AddRemovals); empty, and left out of
	// the log, for an add.
	Op       string          `json:"op,omitempty"`
	Group    string          `json:"group"`
	Kind     membership.Kind `json:"kind"`
	Attempts int             `json:"attempts"`
	// Ms is the time from the start of the additions to this group's
	// outcome, in milliseconds.
	Ms float64 `json:"ms"`
	// Error is the error's text, empty when Kind is ok. It names the group
	// and the pool, never the user.
	Error string `json:"error,omitempty"`
}

// ReadResult is how one Cognito read appears in the record.
type ReadResult struct {
	// Op is the operation, such as "AdminGetUser".
	Op       string          `json:"op"`
	Kind     membership.Kind `json:"kind"`
	Attempts int             `json:"attempts"`
	// Ms is the time the read took, in milliseconds.
	Ms float64 `json:"ms"`
	// Error is the error's text, empty when Kind is ok. It names the pool
	// (and, for a sub mismatch, the two subs), never the user name.
	Error string `json:"error,omitempty"`
}

// SetReads records the outcome of the reads made before deciding: Reads.
func (r *Record) SetReads(reads ...membership.Read) {
	r.Reads = make([]ReadResult, len(reads))
	for i, rd := range reads {
		r.Reads[i] = ReadResult{Op: rd.Op, Kind: rd.Kind, Attempts: rd.Attempts, Ms: ms(rd.Duration)}
		if rd.Err != nil {
			r.Reads[i].Error = rd.Err.Error()
		}
	}
}

// ReadFailed reports whether a read of Reads failed.
func (r *Record) ReadFailed() bool {
	for _, rd := range r.Reads {
		if rd.Kind != membership.KindOK {
			return true
		}
	}
	return false
}

// SetResults records the outcome of adding the user to groups: Results and
// Failed.
func (r *Record) SetResults(results []membership.Result) {
	r.Results = make([]GroupResult, len(results))
	r.Failed = 0
	for i, res := range results {
		r.Results[i] = GroupResult{Group: res.Group, Kind: res.Kind, Attempts: res.Attempts, Ms: ms(res.Duration)}
		if res.Err != nil {
			r.Results[i].Error = res.Err.Error()
			r.Failed++
		}
	}
}

// AddRemovals records the outcome of removing the user from groups: it
// appends them to Results with Op "remove" and counts those that failed in
// Failed.
func (r *Record) AddRemovals(results []membership.Result) {
	for _, res := range results {
		gr := GroupResult{Op: "remove", Group: res.Group, Kind: res.Kind, Attempts: res.Attempts, Ms: ms(res.Duration)}
		if res.Err != nil {
			gr.Error = res.Err.Error()
			r.Failed++
		}
		r.Results = append(r.Results, gr)
	}
}

// Level is the level the record is logged at: WARN when the failed groups
// were deferred to the retry queue, ERROR when a group or a read failed
// otherwise, else INFO.
func (r *Record) Level() slog.Level {
	if r.Outcome == OutcomeDeferred {
		return slog.LevelWarn
	}
	if r.Failed > 0 || r.ReadFailed() {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Attrs returns the record's fields as the log carries them, in this order:
// triggerSource, sub, userPoolId, rulesVersion (only when not empty),
// verified, reads, matchedRules, defaultApplied, groups, results, failed,
// then deferred and retryMessageId (only when groups were deferred) and
// sendError (only when the send to the retry queue failed), outcome,
// durationMs (milliseconds, to the microsecond).
// Lists are [] rather than null when empty. A passed-through record carries
// only triggerSource, sub, outcome and durationMs: nothing else was decided.
func (r *Record) Attrs() []slog.Attr {
	if r.Outcome == OutcomePassedThrough {
		return []slog.Attr{
			slog.String("triggerSource", r.TriggerSource),
			slog.String("sub", r.Sub),
			slog.String("outcome", string(r.Outcome)),
			slog.Float64("durationMs", ms(r.Duration)),
		}
	}
	results := r.Results
	if results == nil {
		results = []GroupResult{}
	}
	reads := r.Reads
	if reads == nil {
		reads = []ReadResult{}
	}
	attrs := []slog.Attr{
		slog.String("triggerSource", r.TriggerSource),
		slog.String("sub", r.Sub),
		slog.String("userPoolId", r.UserPoolID),
	}
	if r.RulesVersion != "" {
		attrs = append(attrs, slog.String("rulesVersion", r.RulesVersion))
	}
	attrs = append(attrs,
		slog.Bool("verified", r.Verified),
		slog.Any("reads", reads),
		slog.Any("matchedRules", nonNil(r.MatchedRules)),
		slog.Bool("defaultApplied", r.DefaultApplied),
		slog.Any("groups", nonNil(r.Groups)),
		slog.Any("results", results),
		slog.Int("failed", r.Failed),
	)
	if len(r.Deferred) > 0 {
		attrs = append(attrs, slog.Any("deferred", r.Deferred), slog.String("retryMessageId", r.RetryMessageID))
	}
	if r.SendError != "" {
		attrs = append(attrs, slog.String("sendError", r.SendError))
	}
	return append(attrs,
		slog.String("outcome", string(r.Outcome)),
		slog.Float64("durationMs", ms(r.Duration)),
	)
}

// Log writes the record to logger as "decision", at Level: Attrs, then the
// record's Metrics in Embedded Metric Format for EnvMetricsTarget, so that
// the same line is the decision record and CloudWatch's metrics.
func (r *Record) Log(ctx context.Context, logger *slog.Logger) {
	attrs := append(r.Attrs(), r.Metrics(EnvMetricsTarget(), time.Now()).Attrs()...)
	logger.LogAttrs(ctx, r.Level(), "decision", attrs...)
}

// LogRejected logs, at ERROR, "rejected event" for an event that was
// refused with err: the error's text (an *EventError's names fields, never
// values) and, when the event did not decode (ev is nil), the payload's
// size; else the event's trigger source and sub. It never logs the payload.
func LogRejected(ctx context.Context, logger *slog.Logger, err error, payloadSize int, ev *Event) {
	if ev == nil {
		logger.LogAttrs(ctx, slog.LevelError, "rejected event", slog.String("error", err.Error()), slog.Int("bytes", payloadSize))
		return
	}
	logger.LogAttrs(ctx, slog.LevelError, "rejected event",
		slog.String("error", err.Error()), slog.String("triggerSource", ev.TriggerSource), slog.String("sub", ev.Sub()))
}

// nonNil makes an empty list log as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ms converts d to milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
