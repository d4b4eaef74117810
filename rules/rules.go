// Package rules parses and evaluates group-assignment rulesets (format
// version 1, see docs/rules.md) for Amazon Cognito post-confirmation and
// token-generation events, and for the paths that re-apply the rules later
// (backfill, sync).
//
// Parse checks and compiles a ruleset once, reporting every problem with its
// line and column (see Problems); regular expressions and domain patterns
// are compiled there, never per event. The returned *Ruleset is immutable
// and safe for concurrent use. Evaluation is a pure function of the ruleset
// and an Input: it performs no I/O and knows nothing of AWS. Groups is the
// fast path; Explain returns the same groups with the reasons, rule by rule
// and condition by condition, as data.
package rules

import "github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"

// Trigger sources a ruleset may name in triggerSources.
const (
	TriggerConfirmSignUp         = "PostConfirmation_ConfirmSignUp"
	TriggerConfirmForgotPassword = "PostConfirmation_ConfirmForgotPassword"
)

// Trigger sources of token events a ruleset may name in
// tokenTriggerSources; by default it names all of them.
// TriggerTokenClientCredentials (machine tokens, which have no user) is
// never acted on and may not be named.
const (
	TriggerTokenHostedAuth           = "TokenGeneration_HostedAuth"
	TriggerTokenAuthentication       = "TokenGeneration_Authentication"
	TriggerTokenNewPasswordChallenge = "TokenGeneration_NewPasswordChallenge"
	TriggerTokenAuthenticateDevice   = "TokenGeneration_AuthenticateDevice"
	TriggerTokenRefreshTokens        = "TokenGeneration_RefreshTokens"
	TriggerTokenClientCredentials    = "TokenGeneration_ClientCredentials"
)

// OnError says what the function does when a selected group cannot be added.
type OnError string

// The two onError policies.
const (
	OnErrorFail     OnError = "fail"
	OnErrorContinue OnError = "continue"
)

// MaxGroupsPerUser is Cognito's limit on the groups one user may belong to.
const MaxGroupsPerUser = 100

// Input is the data a ruleset is evaluated on: the parts of a trigger event
// (or of a user as the pool holds it) that conditions can test. Nil maps
// are empty.
type Input struct {
	TriggerSource  string
	ClientID       string
	UserAttributes map[string]string
	ClientMetadata map[string]string
	// Groups are the groups the user belongs to now, which memberOf
	// conditions test; nil means none. Callers need to fill it only when
	// Ruleset.UsesGroups reports that the ruleset reads it.
	Groups []string
}

// Problem is one error or warning found in a ruleset, at a 1-based line
// and column (in characters) of the source. Its Error method returns
// "LINE:COL: message" and its Format method "NAME:LINE:COL: message". The
// cases files of package ruletest report their problems with the same type.
type Problem = yamlnode.Problem

// Explanation reports how a ruleset decided on one Input.
type Explanation struct {
	// Handled is false when the input's trigger source is in neither the
	// ruleset's triggerSources nor its tokenTriggerSources; then no rule is
	// evaluated and Groups is empty.
	Handled bool
	// Groups is the result, as Groups would return it.
	Groups []string
	// Rules has one entry per rule of the ruleset, in file order.
	Rules []RuleResult
	// DefaultApplied is true when no rule matched and defaultGroups applied.
	DefaultApplied bool
	// Exclude is the outcome of the ruleset's exclude condition; nil when
	// the ruleset has none or the input is not handled.
	Exclude *ConditionResult
	// Excluded is true when the exclude condition held: the user is left
	// alone (no group added, none removed), no rule is evaluated and Groups
	// is empty.
	Excluded bool
	// Dropped is the number of selected groups left out because a decision
	// selects at most MaxGroupsPerUser groups (the later ones are dropped).
	Dropped int
}

// RuleResult is the outcome of one rule.
type RuleResult struct {
	Name string
	// Evaluated is false for rules after a matching rule with stop: true,
	// and for every rule when the trigger source is not handled.
	Evaluated bool
	Matched   bool
	// Stopped is true when this rule matched and ended the evaluation.
	Stopped bool
	// Groups are the rule's groups as written (not those of groupsFrom).
	Groups []string
	// Condition is the rule's when condition; nil when not evaluated.
	Condition *ConditionResult
	// GroupsFrom is the outcome of the rule's groupsFrom; nil when the rule
	// has none or did not match.
	GroupsFrom *GroupsFromResult
}

// GroupsFromResult is the outcome of the groupsFrom of a rule that matched.
// It never holds the attribute's value, except as part of a group named
// from it.
type GroupsFromResult struct {
	// Text is the groupsFrom as written, e.g.
	// `custom:tenant matches "[a-z0-9-]{1,40}" prefix "tenant-"`.
	Text string
	// Values is the number of values the attribute gave: its items with
	// items, else 1, or 0 when it is absent, empty or has no items.
	Values int
	// Groups are the groups named, in the order of the values.
	Groups []string
	// Rejected says, for each value that named no group, why, without the
	// value: "value does not match the guard", "item 2 of 3 does not match
	// the guard", "item 1 of 2 would name an invalid group: ...".
	Rejected []string
	// Reason sums up, e.g. "attribute is absent: no group" or "3 items: 2
	// groups, 1 rejected".
	Reason string
}

// ConditionResult is the outcome of one condition, with its sub-conditions
// for all, any and not.
type ConditionResult struct {
	// Form is the condition's form: always, emailDomain, attribute,
	// clientMetadata, clientId, identityProvider, memberOf, all, any or not.
	Form string
	// Text is the condition as written, e.g. `attribute custom:plan equals "pro"`.
	Text string
	Held bool
	// Reason says what decided, e.g. `value "free" is not one of [pro enterprise]`
	// or `email_verified is not "true"`.
	// It may contain attribute values: print it to the operator, never log it.
	Reason string
	// Children are the results of the sub-conditions that were evaluated
	// (all and any stop at the first one that decides).
	Children []ConditionResult
}

// RuleInfo describes one rule of a parsed ruleset, for tools that inspect it.
type RuleInfo struct {
	Name string
	// Description is the rule's description, empty when it has none.
	Description string
	// Line is the line where the rule starts.
	Line int
	// Groups are the rule's groups as written.
	Groups []string
	// GroupsFrom describes the rule's groupsFrom; nil when it has none.
	GroupsFrom *GroupPattern
	Stop       bool
	// Forms lists the condition forms the rule uses anywhere in its when,
	// without repetition, e.g. [all emailDomain attribute].
	Forms []string
	// Attributes lists the user attributes the rule reads, without
	// repetition: those named by attribute conditions, plus "email" (and
	// "email_verified" when requireVerifiedEmail is true) for emailDomain and
	// "identities" for identityProvider, then the attribute of groupsFrom.
	Attributes []string
}

// ConditionInfo describes one leaf condition (not all, any or not) of a rule.
type ConditionInfo struct {
	Rule         string // the rule's name
	Line, Column int    // where the condition starts
	Form         string // always, emailDomain, attribute, clientMetadata, clientId, identityProvider, memberOf
	Attribute    string // attribute: its name; emailDomain: "email"; identityProvider: "identities"; else ""
	// Values are, for clientId, the ids; for identityProvider, the names;
	// for emailDomain, the patterns as written; else nil.
	Values  []string
	Negated bool // under an odd number of not
	// VerifiedGuard is true when the condition can only help a user whose
	// email_verified is "true": an emailDomain condition with
	// requireVerifiedEmail, or any condition inside an all that also
	// requires attribute email_verified equals "true" (or an emailDomain
	// condition with requireVerifiedEmail). A guard under not guards
	// nothing: for the condition and the conditions around it, only those
	// under an even number of not count.
	VerifiedGuard bool
}

// GroupPattern describes the groups a rule's groupsFrom can name: prefix +
// value + suffix, for each value (or item) of the user attribute that
// matches the guard.
type GroupPattern struct {
	// Rule is the name of the rule.
	Rule      string
	Attribute string
	// Items is the items setting ("list" or a separator); empty without.
	Items  string
	Prefix string
	Suffix string
	// Matches is the guard as written (anchored at both ends when used).
	Matches string
}
