// Package rules parses and evaluates group-assignment rulesets (format
// version 1, see README.md) for Amazon Cognito post-confirmation events.
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

// OnError says what the function does when a selected group cannot be added.
type OnError string

// The two onError policies.
const (
	OnErrorFail     OnError = "fail"
	OnErrorContinue OnError = "continue"
)

// MaxGroupsPerUser is Cognito's limit on the groups one user may belong to.
const MaxGroupsPerUser = 100

// Input is the data a ruleset is evaluated on: the parts of a
// post-confirmation event that conditions can test. Nil maps are empty.
type Input struct {
	TriggerSource  string
	ClientID       string
	UserAttributes map[string]string
	ClientMetadata map[string]string
}

// Problem is one error or warning found in a ruleset, at a 1-based line
// and column (in characters) of the source. Its Error method returns
// "LINE:COL: message" and its Format method "NAME:LINE:COL: message". The
// cases files of package ruletest report their problems with the same type.
type Problem = yamlnode.Problem

// Explanation reports how a ruleset decided on one Input.
type Explanation struct {
	// Handled is false when the input's trigger source is not in the
	// ruleset's triggerSources; then no rule is evaluated and Groups is empty.
	Handled bool
	// Groups is the result, as Groups would return it.
	Groups []string
	// Rules has one entry per rule of the ruleset, in file order.
	Rules []RuleResult
	// DefaultApplied is true when no rule matched and defaultGroups applied.
	DefaultApplied bool
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
	Groups  []string
	// Condition is the rule's when condition; nil when not evaluated.
	Condition *ConditionResult
}

// ConditionResult is the outcome of one condition, with its sub-conditions
// for all, any and not.
type ConditionResult struct {
	// Form is the condition's form: always, emailDomain, attribute,
	// clientMetadata, clientId, identityProvider, all, any or not.
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
	Line   int
	Groups []string
	Stop   bool
	// Forms lists the condition forms the rule uses anywhere in its when,
	// without repetition, e.g. [all emailDomain attribute].
	Forms []string
	// Attributes lists the user attributes the rule reads, without
	// repetition: those named by attribute conditions, plus "email" (and
	// "email_verified" when requireVerifiedEmail is true) for emailDomain and
	// "identities" for identityProvider.
	Attributes []string
}

// ConditionInfo describes one leaf condition (not all, any or not) of a rule.
type ConditionInfo struct {
	Rule         string // the rule's name
	Line, Column int    // where the condition starts
	Form         string // always, emailDomain, attribute, clientMetadata, clientId, identityProvider
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
