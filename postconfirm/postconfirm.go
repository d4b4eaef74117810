// Package postconfirm is the Cognito PostConfirmation trigger as a library:
// what the packaged function (functions/post-confirmation) does, for a team
// that already has a PostConfirmation function of its own and calls this
// from it.
//
// A Handler decodes the event (package trigger), asks its rules for the
// ruleset in force, decides the groups, adds the user to them under the
// membership budget and retries, applies the ruleset's onError policy, and
// logs one decision record. Handle returns that record and the event bytes,
// unchanged; Invoke makes *Handler a lambda.Handler.
package postconfirm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// ErrAssignment is the error Handle returns when a group could not be
// added and the ruleset says onError: fail. Cognito shows it to the client
// as "PostConfirmation failed with error group assignment failed.", so it
// says nothing about groups, pools or the cause: those are in the decision
// record.
var ErrAssignment = errors.New("group assignment failed")

// Adder adds one user to groups; *membership.Adder implements it.
type Adder interface {
	Add(ctx context.Context, poolID, username string, groups []string) []membership.Result
}

// Rules gives the ruleset in force; *rulesource.Holder implements it.
type Rules interface {
	Ruleset(ctx context.Context) *rules.Ruleset
}

// Handler handles PostConfirmation events. Build it with New or
// NewFromEnv. It is safe for concurrent use when its parts are.
type Handler struct {
	rules Rules
	adder Adder
	log   *slog.Logger
}

// New returns a Handler that asks rules for the ruleset on every event,
// adds users to groups with adder (membership.NewAdder on a Cognito client,
// with the budget and retries of its Options), and logs to logger
// (lambdacontext.NewLogger in a function).
func New(rules Rules, adder Adder, logger *slog.Logger) *Handler {
	return &Handler{rules: rules, adder: adder, log: logger}
}

// NewFromEnv builds the Handler the packaged function runs, from its
// environment: the ruleset from RULES_FILE or the embedded one
// (rulesource.FromEnv, read with readFile), the membership options
// (membership.OptionsFromEnv) and the Cognito client
// (membership.NewClientFromEnv). ctx bounds the ruleset's first fetch. The
// error names what is wrong, listing every problem of a ruleset that does
// not load.
func NewFromEnv(ctx context.Context, logger *slog.Logger, getenv func(string) string, readFile func(string) ([]byte, error)) (*Handler, error) {
	holder, err := rulesource.Load(ctx, rulesource.FromEnv(getenv, readFile), logger)
	if err != nil {
		return nil, err
	}
	opts, err := membership.OptionsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := membership.NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return New(holder, membership.NewAdder(client, opts), logger), nil
}

// Handle handles one PostConfirmation event, logs its decision record and
// returns it with the event to return to Cognito: payload itself, byte for
// byte.
//
// An event whose trigger source the ruleset does not handle is passed
// through: no rule is evaluated and Cognito is not called. When a selected
// group cannot be added, the outcome follows the ruleset's onError: fail
// returns ErrAssignment (and no event), continue returns the event. An event
// that is malformed, or lacks the pool or user name a handled event needs,
// is logged as "rejected event" and refused with a *trigger.EventError;
// the record is then empty.
func (h *Handler) Handle(ctx context.Context, payload []byte) (trigger.Record, []byte, error) {
	start := time.Now()
	ev, err := trigger.DecodePostConfirmation(payload)
	if err != nil {
		trigger.LogRejected(ctx, h.log, err, len(payload), nil)
		return trigger.Record{}, nil, err
	}
	rs := h.rules.Ruleset(ctx)
	rec := trigger.Record{TriggerSource: ev.TriggerSource, Sub: ev.Sub(), UserPoolID: ev.UserPoolID}
	if !rs.Handles(ev.TriggerSource) {
		rec.Outcome = trigger.OutcomePassedThrough
		rec.Duration = time.Since(start)
		rec.Log(ctx, h.log)
		return rec, payload, nil
	}
	if err := ev.RequireTarget(); err != nil {
		trigger.LogRejected(ctx, h.log, err, len(payload), ev)
		return trigger.Record{}, nil, err
	}

	decided := rs.Decide(ev.Input())
	rec.MatchedRules, rec.DefaultApplied, rec.Groups = decided.MatchedRules, decided.DefaultApplied, decided.Groups
	if len(decided.Groups) > 0 {
		rec.SetResults(h.adder.Add(ctx, ev.UserPoolID, ev.UserName, decided.Groups))
	}
	switch {
	case len(decided.Groups) == 0:
		rec.Outcome = trigger.OutcomeNoGroups
	case rec.Failed > 0 && rs.OnError() == rules.OnErrorFail:
		rec.Outcome = trigger.OutcomeFailed
	case rec.Failed > 0:
		rec.Outcome = trigger.OutcomeFailedContinued
	default:
		rec.Outcome = trigger.OutcomeOK
	}
	rec.Duration = time.Since(start)
	rec.Log(ctx, h.log)
	if rec.Outcome == trigger.OutcomeFailed {
		return rec, nil, ErrAssignment
	}
	return rec, payload, nil
}

// Invoke handles one event as Handle does and returns the event or the
// error, so that *Handler is a lambda.Handler (which sees, and returns, the
// raw bytes).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	_, out, err := h.Handle(ctx, payload)
	return out, err
}
