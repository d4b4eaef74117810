// Package ruletest runs test cases against a ruleset: for each user
// described in a cases file, the exact set of groups the ruleset must select.
//
// A cases file is YAML:
//
//	cases:
//	  - name: staff with a verified company address
//	    userAttributes: {email: ana@example.com, email_verified: "true"}
//	    groups: [staff]
//	  - name: password reset assigns nothing
//	    triggerSource: PostConfirmation_ConfirmForgotPassword
//	    userAttributes: {email: ana@example.com, email_verified: "true"}
//	    groups: []
//
// Each case has a name (unique in the file), the user's attributes, and
// optionally currentGroups (the groups the user belongs to now, which
// memberOf conditions and exclude read), triggerSource
// (PostConfirmation_ConfirmSignUp by default; a token event's source, such
// as TokenGeneration_RefreshTokens, is evaluated when tokenTriggerSources
// lists it), clientId and clientMetadata; groups is the expected set, in
// any order.
// Parse reports every problem of a cases file at once, as rules.Problem
// values with their line and column, like rules.Parse. Run evaluates a case
// with the engine (rules.Ruleset.Explain) and compares sets; it has no
// evaluation logic of its own. The autogroup command's test subcommand and
// the function's tests both use it.
package ruletest

import (
	"slices"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// Case is one test case of a cases file.
type Case struct {
	// Name is the case's name, unique in its file.
	Name string
	// Line and Column are the position of the case in its file.
	Line, Column int
	// TriggerSource is the event's trigger source; Parse sets it to
	// rules.TriggerConfirmSignUp when the case does not name one.
	TriggerSource  string
	ClientID       string
	UserAttributes map[string]string
	ClientMetadata map[string]string
	// CurrentGroups are the groups the user belongs to now, as written.
	CurrentGroups []string
	// Groups is the expected set of groups, as written; order does not
	// matter. Empty means the user must get no group.
	Groups []string
}

// Input returns the engine input the case describes.
func (c *Case) Input() rules.Input {
	return rules.Input{
		TriggerSource:  c.TriggerSource,
		ClientID:       c.ClientID,
		UserAttributes: c.UserAttributes,
		ClientMetadata: c.ClientMetadata,
		Groups:         c.CurrentGroups,
	}
}

// Result is the outcome of one case.
type Result struct {
	Case Case
	// Got is what the ruleset selected, in its order; never nil.
	Got []string
	// Missing are the expected groups not selected, in the case's order.
	Missing []string
	// Unexpected are the selected groups not expected, in Got's order.
	Unexpected []string
	// Explanation is the engine's account of the decision.
	Explanation rules.Explanation
}

// Passed reports whether the ruleset selected exactly the expected set.
func (r *Result) Passed() bool { return len(r.Missing) == 0 && len(r.Unexpected) == 0 }

// MatchedRules returns the names of the rules that matched, in order.
func (r *Result) MatchedRules() []string {
	var names []string
	for _, rr := range r.Explanation.Rules {
		if rr.Matched {
			names = append(names, rr.Name)
		}
	}
	return names
}

// Run evaluates c with rs and compares the result with c.Groups as sets.
func Run(rs *rules.Ruleset, c Case) Result {
	x := rs.Explain(c.Input())
	got := x.Groups
	if got == nil {
		got = []string{}
	}
	r := Result{Case: c, Got: got, Explanation: x}
	for _, g := range c.Groups {
		if !slices.Contains(got, g) {
			r.Missing = append(r.Missing, g)
		}
	}
	for _, g := range got {
		if !slices.Contains(c.Groups, g) {
			r.Unexpected = append(r.Unexpected, g)
		}
	}
	return r
}

// Unmatched returns, in file order, the names of the rules of rs that no
// result matched: rules the cases do not cover.
func Unmatched(rs *rules.Ruleset, results []Result) []string {
	matched := make(map[string]bool)
	for i := range results {
		for _, name := range results[i].MatchedRules() {
			matched[name] = true
		}
	}
	var out []string
	for _, info := range rs.Rules() {
		if !matched[info.Name] {
			out = append(out, info.Name)
		}
	}
	return out
}
