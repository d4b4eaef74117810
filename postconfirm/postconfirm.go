// Package postconfirm is the Cognito PostConfirmation trigger as a library:
// what the packaged function (functions/post-confirmation) does, for a team
// that already has a PostConfirmation function of its own and calls this
// from it.
//
// A Handler decodes the event (package trigger), asks its rules for the
// ruleset in force, reads the user back from Cognito (AdminGetUser), decides
// the groups on the attributes Cognito holds, adds the user to them under
// the membership budget and retries, defers what it could not add to the
// retry queue when it has one (WithRetryQueue), else applies the ruleset's
// onError policy, and logs one decision record. Handle returns that record and the event
// bytes, unchanged; Invoke makes *Handler a lambda.Handler.
//
// Reading the user back is what makes a forged event grant nothing: Lambda
// lets any principal of the account whose policy allows
// lambda:InvokeFunction on the function invoke it, with an event that
// claims any attributes. A Handler built without a Reader (New with nil,
// or AUTOGROUP_VERIFY_USER=false) trusts the event instead, and permission
// to invoke the function then amounts to group-admin rights over every
// group the rules can select.
package postconfirm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
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

// Reader reads the user back from Cognito, checking that it has the event's
// sub; *membership.Reader implements it.
type Reader interface {
	GetUser(ctx context.Context, poolID, username, sub string) membership.Read
}

// GroupLister reads the user's groups from Cognito, for rulesets that use
// memberOf; *membership.GroupLister implements it.
type GroupLister interface {
	ListGroups(ctx context.Context, poolID, username string) membership.GroupsRead
}

// Rules gives the ruleset in force; *rulesource.Holder implements it.
type Rules interface {
	Ruleset(ctx context.Context) *rules.Ruleset
}

// versionedRules is Rules that also says which version it gave, for the
// decision record's rulesVersion; *rulesource.Holder implements it.
type versionedRules interface {
	RulesetVersion(ctx context.Context) (*rules.Ruleset, string)
}

// Handler handles PostConfirmation events. Build it with New or
// NewFromEnv. It is safe for concurrent use when its parts are.
type Handler struct {
	rules  Rules
	adder  Adder
	reader Reader      // nil: trust the event
	groups GroupLister // nil: memberOf sees no group
	log    *slog.Logger
	// queue, if set, takes the groups not added in the budget (defer.go).
	queue       Queue
	sendTimeout time.Duration
}

// New returns a Handler that asks rules for the ruleset on every event,
// reads each user back with reader before anything is added, adds users to
// groups with adder, and logs to logger (lambdacontext.NewLogger in a
// function). Build adder and reader on the same Cognito client and
// membership.Options (membership.NewAdder, membership.NewReader): the read
// and the adds of one event share the Options' budget.
//
// With a reader, the rules decide on the attributes Cognito holds for the
// event's user (cognito:user_status is its UserStatus), and on the event's
// trigger source, client id and client metadata; an event whose user
// Cognito does not hold, or holds with another sub, gets no group. A nil
// reader trusts the event's attributes: anyone allowed to invoke the
// function can then choose the groups (see the package documentation).
func New(rules Rules, adder Adder, reader Reader, logger *slog.Logger) *Handler {
	return &Handler{rules: rules, adder: adder, reader: reader, log: logger}
}

// WithGroupLister returns a copy of h that, for a ruleset that reads the
// user's groups (rules.Ruleset.UsesGroups: memberOf, in a rule or in
// exclude), reads them with l (AdminListGroupsForUser) before deciding,
// under the budget of the read and the adds. Without one, memberOf sees no
// group at post-confirmation. A failed read is a failed read of the user:
// nothing is added and onError applies.
func (h *Handler) WithGroupLister(l GroupLister) *Handler {
	c := *h
	c.groups = l
	return &c
}

// NewFromEnv builds the Handler the packaged function runs, from its
// environment: the ruleset from RULES_FILE or the embedded one
// (rulesource.FromEnv, read with readFile), the membership options
// (membership.OptionsFromEnv), whether to read users back
// (membership.VerifyUserFromEnv: AUTOGROUP_VERIFY_USER, true unless set to
// false), the Cognito client (membership.NewClientFromEnv), which the
// adds and the reads share, and the retry queue
// (retryqueue.NewSenderFromEnv: AUTOGROUP_RETRY_QUEUE_URL, none when
// unset or empty; with one, the options are DeferralOptions and the
// Handler is WithRetryQueue, DefaultSendReserve). ctx bounds the ruleset's first fetch. The error
// names what is wrong, listing every problem of a ruleset that does not
// load.
func NewFromEnv(ctx context.Context, logger *slog.Logger, getenv func(string) string, readFile func(string) ([]byte, error)) (*Handler, error) {
	holder, err := rulesource.Load(ctx, rulesource.FromEnv(getenv, readFile), logger)
	if err != nil {
		return nil, err
	}
	opts, err := membership.OptionsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	verify, err := membership.VerifyUserFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := membership.NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	sender, err := retryqueue.NewSenderFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if sender != nil {
		opts = DeferralOptions(opts, DefaultSendReserve)
	}
	var reader Reader
	if verify {
		reader = membership.NewReader(client, opts)
	}
	h := New(holder, membership.NewAdder(client, opts), reader, logger)
	h = h.WithGroupLister(membership.NewGroupLister(client, opts))
	if sender != nil {
		h = h.WithRetryQueue(sender, DefaultSendReserve)
	}
	return h, nil
}

// Handle handles one PostConfirmation event, logs its decision record and
// returns it with the event to return to Cognito: payload itself, byte for
// byte.
//
// An event whose trigger source the ruleset does not handle is passed
// through: no rule is evaluated and Cognito is not called. Otherwise the
// user is read back first (unless the Handler trusts events), and one
// budget covers the read and the adds. When the user cannot be read, or
// is not the event's, no group is added; when that happens or a selected
// group cannot be added, the outcome follows the ruleset's onError: fail
// returns ErrAssignment (and no event), continue returns the event, unless
// the Handler has a retry queue that took the groups (WithRetryQueue). An
// event that is malformed, or lacks the pool or user name a handled event
// needs, is logged as "rejected event" and refused with a
// *trigger.EventError; the record is then empty.
func (h *Handler) Handle(ctx context.Context, payload []byte) (trigger.Record, []byte, error) {
	start := time.Now()
	ev, err := trigger.DecodePostConfirmation(payload)
	if err != nil {
		trigger.LogRejected(ctx, h.log, err, len(payload), nil)
		return trigger.Record{}, nil, err
	}
	rs, version := h.ruleset(ctx)
	rec := trigger.Record{TriggerSource: ev.TriggerSource, Sub: ev.Sub(), UserPoolID: ev.UserPoolID, RulesVersion: version}
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

	invocation := ctx
	ctx, cancelWork := h.workContext(ctx)
	defer cancelWork()
	in := ev.Input()
	var reads []membership.Read
	if h.reader != nil {
		rec.Verified = true
		read := h.reader.GetUser(ctx, ev.UserPoolID, ev.UserName, ev.Sub())
		reads = append(reads, read)
		if read.Kind == membership.KindOK {
			// The adds spend what the read left of the budget.
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, read.Deadline)
			defer cancel()
			in.UserAttributes = read.User.Attributes
		}
	}
	if h.groups != nil && rs.UsesGroups() && (len(reads) == 0 || reads[0].Kind == membership.KindOK) {
		// memberOf (or an exclude on it) reads the user's groups.
		gr := h.groups.ListGroups(ctx, ev.UserPoolID, ev.UserName)
		reads = append(reads, gr.Read)
		in.Groups = gr.Groups
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, gr.Deadline)
		defer cancel()
	}
	if reads != nil {
		rec.SetReads(reads...)
	}
	var decided rules.Decision
	if !rec.ReadFailed() {
		decided = rs.Decide(in)
		rec.MatchedRules, rec.DefaultApplied, rec.Groups = decided.MatchedRules, decided.DefaultApplied, decided.Groups
	}
	if len(decided.Groups) > 0 {
		addStart := time.Now()
		results := h.adder.Add(ctx, ev.UserPoolID, ev.UserName, decided.Groups)
		rec.SetResults(results)
		if h.queue != nil && rec.Failed > 0 {
			h.deferFailed(invocation, &rec, ev, addStart, results)
		}
	}
	failed := rec.Failed > 0 || rec.ReadFailed()
	switch {
	case rec.Outcome == trigger.OutcomeDeferred:
	case failed && rs.OnError() == rules.OnErrorFail:
		rec.Outcome = trigger.OutcomeFailed
	case failed:
		rec.Outcome = trigger.OutcomeFailedContinued
	case decided.Excluded:
		rec.Outcome = trigger.OutcomeExcluded
	case len(decided.Groups) == 0:
		rec.Outcome = trigger.OutcomeNoGroups
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

// ruleset returns the ruleset in force and its version, "" when the Rules
// do not say.
func (h *Handler) ruleset(ctx context.Context) (*rules.Ruleset, string) {
	if v, ok := h.rules.(versionedRules); ok {
		return v.RulesetVersion(ctx)
	}
	return h.rules.Ruleset(ctx), ""
}
