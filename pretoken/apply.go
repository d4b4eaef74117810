package pretoken

import (
	"context"
	"slices"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// decide fills rec for an event whose source the ruleset handles and
// returns the token's groups: nil for as sent.
func (h *Handler) decide(ctx context.Context, rs *rules.Ruleset, ev *trigger.TokenEvent, rec *trigger.Record) []string {
	in := ev.Input()
	current := ev.Groups
	remove := rs.Remove() && h.c.Remover != nil
	c := plan(rs, in, current, remove)
	if !c.decided.Excluded && (len(c.missing) > 0 || len(c.extra) > 0) {
		parent := ctx
		ctx, cancel := context.WithTimeout(ctx, h.c.Budget)
		defer cancel()
		if h.c.Reader != nil {
			// Something would change: decide again on what Cognito holds,
			// so that what an event claims grants nothing.
			var ok bool
			if in, current, ok = h.verify(ctx, rs, ev, rec, in); !ok {
				rec.Outcome = trigger.OutcomeFailedKept
				return nil
			}
			c = plan(rs, in, current, remove)
		}
		if !c.decided.Excluded && (len(c.missing) > 0 || len(c.extra) > 0) {
			h.record(rec, c)
			return h.apply(ctx, parent, ev, rec, c, current)
		}
	}
	h.record(rec, c)
	if c.decided.Excluded {
		rec.Outcome = trigger.OutcomeExcluded
	} else {
		rec.Outcome = trigger.OutcomeOK
	}
	return nil
}

// record copies the decision into rec.
func (h *Handler) record(rec *trigger.Record, c change) {
	rec.MatchedRules, rec.DefaultApplied, rec.Groups = c.decided.MatchedRules, c.decided.DefaultApplied, c.decided.Groups
}

// verify reads the user (and, when the ruleset reads groups or the event
// has none, the user's groups) from Cognito and returns the input and
// current groups to decide on; ok is false when a read failed.
func (h *Handler) verify(ctx context.Context, rs *rules.Ruleset, ev *trigger.TokenEvent, rec *trigger.Record, in rules.Input) (_ rules.Input, current []string, ok bool) {
	rec.Verified = true
	current = ev.Groups
	read := h.c.Reader.GetUser(ctx, ev.UserPoolID, ev.UserName, ev.Sub())
	reads := []membership.Read{read}
	if read.Kind == membership.KindOK {
		in.UserAttributes = read.User.Attributes
		if h.c.Groups != nil && (rs.UsesGroups() || !ev.HasGroups) {
			gr := h.c.Groups.ListGroups(ctx, ev.UserPoolID, ev.UserName)
			reads = append(reads, gr.Read)
			current, in.Groups = gr.Groups, gr.Groups
		}
	}
	rec.SetReads(reads...)
	return in, current, !rec.ReadFailed()
}

// apply makes the changes c plans under ctx's budget, queues what could not
// be added (within parent, after the budget) and returns the token's
// groups: base (the event's groups, or current when the event has none),
// plus those added or durably queued, less those removed.
func (h *Handler) apply(ctx, parent context.Context, ev *trigger.TokenEvent, rec *trigger.Record, c change, current []string) []string {
	base := ev.Groups
	if !ev.HasGroups {
		base = current
	}
	token := slices.Clone(base)
	if token == nil {
		token = []string{}
	}
	var added []membership.Result
	if len(c.missing) > 0 {
		added = h.c.Adder.Add(ctx, ev.UserPoolID, ev.UserName, c.missing)
	}
	rec.SetResults(added)
	if len(c.extra) > 0 {
		removed := h.c.Remover.Remove(ctx, ev.UserPoolID, ev.UserName, c.extra)
		rec.AddRemovals(removed)
		for _, r := range removed {
			if r.Kind == membership.KindOK {
				token = slices.DeleteFunc(token, func(g string) bool { return g == r.Group })
			}
		}
	}
	var failed []membership.Result
	for _, r := range added {
		if r.Kind == membership.KindOK {
			token = appendNew(token, r.Group)
		} else {
			failed = append(failed, r)
		}
	}
	switch {
	case len(failed) > 0 && h.queue(parent, ev, failed):
		// The consumer will add them: claim those that it can.
		for _, r := range failed {
			if r.Kind.Retryable() || r.Kind == membership.KindTimeout {
				token = appendNew(token, r.Group)
			}
		}
		rec.Outcome = trigger.OutcomeQueued
	case rec.Failed > 0:
		rec.Outcome = trigger.OutcomeFailedKept
	default:
		rec.Outcome = trigger.OutcomeHealed
	}
	return token
}

// queue sends the groups not added to the retry queue and reports whether
// the message was sent.
func (h *Handler) queue(ctx context.Context, ev *trigger.TokenEvent, failed []membership.Result) bool {
	if h.c.Queue == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, queueTimeout)
	defer cancel()
	now := time.Now()
	m := retryqueue.Message{
		UserPoolID: ev.UserPoolID, Username: ev.UserName, Sub: ev.Sub(),
		Groups: retryqueue.FailedGroups(failed), Source: retryqueue.SourcePreTokenGeneration,
		FirstFailedAt: now, EnqueuedAt: now,
	}
	if _, err := h.c.Queue.Send(ctx, m); err != nil {
		h.c.Logger.ErrorContext(ctx, "retry queue send failed", "error", err.Error(), "sub", ev.Sub())
		return false
	}
	return true
}

// appendNew appends g to s unless s holds it.
func appendNew(s []string, g string) []string {
	if slices.Contains(s, g) {
		return s
	}
	return append(s, g)
}
