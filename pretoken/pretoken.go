// Package pretoken is the Cognito PreTokenGeneration trigger as a library:
// what the packaged function (functions/pre-token-generation) does, for a
// team whose pool already has a PreTokenGeneration function (custom claims,
// say) and calls this from it.
//
// A Handler decodes the event (package trigger; versions 1, 2 and 3), asks
// its rules for the ruleset in force and, for a trigger source in the
// ruleset's tokenTriggerSources, evaluates the rules on the user's
// attributes and current groups as the event carries them. With nothing
// missing (and nothing to remove) it makes no Cognito call and returns the
// event with the groups, roles and preferred role exactly as Cognito sent
// them. Otherwise it first reads the user back from Cognito (unless built
// to trust events) and decides again on what Cognito holds, then adds the
// missing groups in the pool under a short budget (sign-in latency is felt:
// DefaultBudget), removes managed groups no longer selected when the ruleset
// says reconcile.remove, and puts what it could not add on the retry queue
// when it has one. The token's groupsToOverride is the current groups plus
// those added or durably queued, less those removed: never a group the
// pool will not hold.
//
// Its own trouble (throttling, timeouts, a missing group, any Cognito
// error) never fails a sign-in: the response then keeps the groups as they
// were. Only a malformed event is an error.
package pretoken

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// DefaultBudget is the time for Cognito work in one invocation of the token
// function when AUTOGROUP_BUDGET_MS is unset: shorter than the sign-up
// function's, because every sign-in and refresh waits for it.
const DefaultBudget = 1500 * time.Millisecond

// queueTimeout bounds the send of a retry queue message, after the budget.
const queueTimeout = 500 * time.Millisecond

// Adder adds one user to groups; *membership.Adder implements it.
type Adder interface {
	Add(ctx context.Context, poolID, username string, groups []string) []membership.Result
}

// Remover removes one user from groups; *membership.Remover implements it.
type Remover interface {
	Remove(ctx context.Context, poolID, username string, groups []string) []membership.Result
}

// Reader reads the user back from Cognito, checking its sub;
// *membership.Reader implements it.
type Reader interface {
	GetUser(ctx context.Context, poolID, username, sub string) membership.Read
}

// GroupLister reads the user's groups from Cognito;
// *membership.GroupLister implements it.
type GroupLister interface {
	ListGroups(ctx context.Context, poolID, username string) membership.GroupsRead
}

// Queue puts the groups that could not be added on the retry queue;
// *retryqueue.Sender implements it.
type Queue interface {
	Send(ctx context.Context, m retryqueue.Message) (string, error)
}

// Rules gives the ruleset in force; *rulesource.Holder implements it.
type Rules interface {
	Ruleset(ctx context.Context) *rules.Ruleset
}

// Config holds the parts of a Handler. Rules, Adder and Logger are
// required.
type Config struct {
	Rules Rules
	Adder Adder
	// Remover removes users from managed groups when the ruleset says
	// reconcile.remove; nil: nothing is removed.
	Remover Remover
	// Reader and Groups read the user back before anything is changed.
	// A nil Reader trusts the event's attributes (AUTOGROUP_VERIFY_USER=
	// false): anyone allowed to invoke the function can then choose the
	// groups. Groups is asked for the user's groups when the ruleset reads
	// them (memberOf) or the event has no groupConfiguration; nil: the
	// event's groups.
	Reader Reader
	Groups GroupLister
	// Queue is the retry queue; nil: none.
	Queue Queue
	// Budget bounds the Cognito work of one event (reads, adds and
	// removals together); zero means DefaultBudget.
	Budget time.Duration
	// Logger gets the decision records (lambdacontext.NewLogger in a
	// function).
	Logger *slog.Logger
}

// Handler handles PreTokenGeneration events. Build it with New or
// NewFromEnv. It is safe for concurrent use when its parts are.
type Handler struct {
	c Config
}

// New returns a Handler made of c's parts. Build the Adder, Remover, Reader
// and GroupLister on the same Cognito client and membership.Options.
func New(c Config) *Handler {
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	return &Handler{c: c}
}

// Handle handles one PreTokenGeneration event, logs its decision record and
// returns it with the event to return to Cognito: payload with the
// response's groupOverrideDetails filled in (see trigger.TokenEvent.Response)
// and every other byte kept.
//
// A trigger source outside the ruleset's tokenTriggerSources
// (TokenGeneration_ClientCredentials always) is passed through with the
// groups as sent. The only error is a malformed event (a
// *trigger.EventError, logged as "rejected event"); every failure of the
// Handler's own ends in a response with the groups as they were, plus what
// was done.
func (h *Handler) Handle(ctx context.Context, payload []byte) (trigger.Record, []byte, error) {
	start := time.Now()
	ev, err := trigger.DecodePreTokenGeneration(payload)
	if err != nil {
		trigger.LogRejected(ctx, h.c.Logger, err, len(payload), nil)
		return trigger.Record{}, nil, err
	}
	rs := h.c.Rules.Ruleset(ctx)
	rec := trigger.Record{TriggerSource: ev.TriggerSource, Sub: ev.Sub(), UserPoolID: ev.UserPoolID}
	if rs.HandlesToken(ev.TriggerSource) {
		if err := ev.RequireTarget(); err != nil {
			trigger.LogRejected(ctx, h.c.Logger, err, len(payload), &ev.Event)
			return trigger.Record{}, nil, err
		}
	}
	var groups []string // nil: as sent
	if !rs.HandlesToken(ev.TriggerSource) {
		rec.Outcome = trigger.OutcomePassedThrough
	} else {
		groups = h.decide(ctx, rs, ev, &rec)
	}
	out, err := ev.Response(payload, groups)
	if err != nil {
		// The event decoded, so it is valid JSON: this does not happen.
		trigger.LogRejected(ctx, h.c.Logger, err, len(payload), &ev.Event)
		return trigger.Record{}, nil, err
	}
	rec.Duration = time.Since(start)
	rec.Log(ctx, h.c.Logger)
	return rec, out, nil
}

// Invoke handles one event as Handle does and returns the event or the
// error, so that *Handler is a lambda.Handler.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	_, out, err := h.Handle(ctx, payload)
	return out, err
}

// change is what a decision changes: groups to add and to remove.
type change struct {
	decided        rules.Decision
	missing, extra []string
}

// plan decides on in and compares with the user's current groups; with
// remove, managed groups the rules no longer select are to be removed.
func plan(rs *rules.Ruleset, in rules.Input, current []string, remove bool) change {
	c := change{decided: rs.Decide(in)}
	if c.decided.Excluded {
		return c
	}
	for _, g := range c.decided.Groups {
		if !slices.Contains(current, g) {
			c.missing = append(c.missing, g)
		}
	}
	if remove {
		for _, g := range current {
			if rs.Managed(g) && !slices.Contains(c.decided.Groups, g) && !slices.Contains(c.extra, g) {
				c.extra = append(c.extra, g)
			}
		}
	}
	return c
}
