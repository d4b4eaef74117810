package postconfirm

import (
	"context"
	"errors"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// Queue puts a message on the retry queue; *retryqueue.Sender implements
// it.
type Queue interface {
	Send(ctx context.Context, m retryqueue.Message) (messageID string, err error)
}

// DefaultSendReserve is the part of the budget NewFromEnv keeps for the
// send to the retry queue when one is configured: the read and the adds get
// AUTOGROUP_BUDGET_MS less this (3.5 s of the default 4 s), the send at
// most this. A SendMessage in the same Region takes tens of milliseconds;
// 500 ms covers it and one retry.
const DefaultSendReserve = 500 * time.Millisecond

// WithRetryQueue returns a copy of h that defers to q: when a selected group
// could not be added inside the budget, for any reason, every such group
// goes to q in one message (retryqueue.Message, source post-confirmation)
// and the sign-up succeeds with outcome deferred, whatever onError says.
// When the send fails, onError applies and the record's SendError says
// why. When the user could not be read back, nothing was decided and
// nothing is queued: onError applies.
//
// Each send gets at most sendTimeout (DefaultSendReserve when 0 or less),
// and the read and the adds end that long before the invocation's deadline.
// Build the adder and reader with a Budget shortened by sendTimeout and a
// low ThrottleAttempts (DeferralOptions), so that the whole still fits in
// Cognito's five seconds and a throttled group is deferred at once rather
// than retried against a quota that cannot serve it.
func (h *Handler) WithRetryQueue(q Queue, sendTimeout time.Duration) *Handler {
	if sendTimeout <= 0 {
		sendTimeout = DefaultSendReserve
	}
	c := *h
	c.queue, c.sendTimeout = q, sendTimeout
	return &c
}

// DeferralOptions returns o as a function with a retry queue uses it: a
// Budget (the default when zero) less reserve, never less than half of
// it, and ThrottleAttempts 1, so that the first throttle defers the group
// instead of retrying it.
func DeferralOptions(o membership.Options, reserve time.Duration) membership.Options {
	if o.Budget <= 0 {
		o.Budget = membership.DefaultBudget
	}
	o.Budget = max(o.Budget-reserve, o.Budget/2)
	o.ThrottleAttempts = 1
	return o
}

// workContext returns the context the read and the adds run under: ctx,
// ending sendTimeout before its deadline when a retry queue is configured.
func (h *Handler) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && h.queue != nil {
		return context.WithDeadline(ctx, d.Add(-h.sendTimeout))
	}
	return context.WithCancel(ctx)
}

// deferFailed puts the groups of results that were not added on the retry
// queue, in one message, and records the outcome in rec: OutcomeDeferred
// with Deferred and RetryMessageID, or SendError. ctx is the invocation's
// (not the budget's): the send has its own sendTimeout.
func (h *Handler) deferFailed(ctx context.Context, rec *trigger.Record, ev *trigger.Event, addStart time.Time, results []membership.Result) {
	groups := retryqueue.FailedGroups(results)
	firstFailed := time.Now()
	for _, r := range results {
		if t := addStart.Add(r.Duration); r.Kind != membership.KindOK && t.Before(firstFailed) {
			firstFailed = t
		}
	}
	m := retryqueue.Message{
		UserPoolID:    ev.UserPoolID,
		Username:      ev.UserName,
		Sub:           ev.Sub(),
		Groups:        groups,
		Source:        retryqueue.SourcePostConfirmation,
		FirstFailedAt: firstFailed,
		EnqueuedAt:    time.Now(),
	}
	ctx, cancel := context.WithTimeout(ctx, h.sendTimeout)
	defer cancel()
	id, err := h.queue.Send(ctx, m)
	if err != nil {
		rec.SendError = sendErrorKind(err)
		return
	}
	rec.Deferred = m.GroupNames()
	rec.RetryMessageID = id
	rec.Outcome = trigger.OutcomeDeferred
}

// sendErrorKind is the kind of a failed send, as the record carries it:
// invalid_message for a message the queue package refused to encode (a
// username shaped like an email address, say), else membership.Classify's
// kind, which reads AWS error codes, timeouts and transport errors alike.
func sendErrorKind(err error) string {
	var de *retryqueue.DecodeError
	if errors.As(err, &de) {
		return "invalid_message"
	}
	return string(membership.Classify(err))
}
