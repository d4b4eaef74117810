package rules

import (
	"slices"
	"sync"
)

// Groups returns the groups selected for in, deduplicated in order of first
// appearance, or nil when none is selected or the trigger source is not
// handled. It is safe for concurrent use and builds no explanation.
func (rs *Ruleset) Groups(in Input) []string {
	return rs.evaluate(&in, nil, nil)
}

// Decision is the outcome of evaluating a ruleset, without the per-condition
// detail of an Explanation: what a log record needs.
type Decision struct {
	// Handled is false when the trigger source is not in triggerSources.
	Handled bool
	// Groups is what Groups returns.
	Groups []string
	// MatchedRules names the rules that matched, in file order.
	MatchedRules []string
	// DefaultApplied is true when no rule matched and defaultGroups applied.
	DefaultApplied bool
}

// Decide evaluates in as Groups does and also reports which rules matched.
// It costs about what Groups costs, far less than Explain. It is safe for
// concurrent use.
func (rs *Ruleset) Decide(in Input) Decision {
	d := Decision{Handled: rs.Handles(in.TriggerSource)}
	d.Groups = rs.evaluate(&in, nil, &d)
	return d
}

// Explain evaluates in as Groups does and reports, rule by rule and
// condition by condition, what held and why. Its Groups field is what
// Groups returns for in. It is safe for concurrent use.
func (rs *Ruleset) Explain(in Input) Explanation {
	var x Explanation
	x.Groups = rs.evaluate(&in, &x, nil)
	return x
}

// evaluate runs the rules on in. When x is not nil it also fills the
// explanation, and when d is not nil the matched rules and DefaultApplied;
// Groups passes neither, so that nothing more is built.
func (rs *Ruleset) evaluate(in *Input, x *Explanation, d *Decision) []string {
	handled := rs.Handles(in.TriggerSource)
	if x != nil {
		x.Handled = handled
		x.Rules = make([]RuleResult, len(rs.rules))
		for i := range rs.rules {
			x.Rules[i] = RuleResult{Name: rs.rules[i].name, Groups: slices.Clone(rs.rules[i].groups)}
		}
	}
	if !handled {
		return nil
	}
	e := evaluators.Get().(*evaluator)
	*e = evaluator{rs: rs, in: *in}
	defer func() {
		*e = evaluator{} // no attribute value stays in the pool
		evaluators.Put(e)
	}()
	// seen marks the groups already in out, by id.
	var small [4]uint64
	seen := small[:]
	if n := (len(rs.groupNames) + 63) / 64; n > len(small) {
		seen = make([]uint64, n)
	}
	// Most users get a few groups: one allocation for the result.
	out := make([]string, 0, min(len(rs.groupNames), 8))
	matched := false
	for i := range rs.rules {
		r := &rs.rules[i]
		var cr *ConditionResult
		if x != nil {
			cr = new(ConditionResult)
			x.Rules[i].Evaluated = true
			x.Rules[i].Condition = cr
		}
		if !e.eval(r.when, cr) {
			continue
		}
		matched = true
		out = addGroups(out, seen, r.groups, r.groupIDs)
		if d != nil {
			d.MatchedRules = append(d.MatchedRules, r.name)
		}
		if x != nil {
			x.Rules[i].Matched = true
			x.Rules[i].Stopped = r.stop
		}
		if r.stop {
			break
		}
	}
	if !matched {
		out = addGroups(out, seen, rs.defaultGroups, rs.defaultIDs)
		if d != nil {
			d.DefaultApplied = len(rs.defaultGroups) > 0
		}
		if x != nil {
			x.DefaultApplied = len(rs.defaultGroups) > 0
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// addGroups appends the groups not yet seen to out.
func addGroups(out []string, seen []uint64, names []string, ids []int) []string {
	for i, id := range ids {
		if bit := uint64(1) << (id % 64); seen[id/64]&bit == 0 {
			seen[id/64] |= bit
			out = append(out, names[i])
		}
	}
	return out
}

// evaluator evaluates the conditions of one ruleset on one input. It
// caches what several conditions may need (the email domain, the identity
// providers) so that it is computed at most once per evaluation.
type evaluator struct {
	rs *Ruleset
	in Input

	email      emailCache      // for emailDomain
	identities identitiesCache // for identityProvider
}

// evaluators recycles evaluators. The forms' tests are called through an
// interface, so the compiler cannot keep an evaluator on the stack of
// evaluate; reusing them keeps Groups and Decide from allocating one per
// call.
var evaluators = sync.Pool{New: func() any { return new(evaluator) }}

// eval reports whether c holds. When out is not nil it fills it with the
// explanation; when out is nil it builds no strings.
func (e *evaluator) eval(c *condition, out *ConditionResult) bool {
	held := c.test.eval(e, out)
	if out != nil {
		out.Form = c.form.name
		out.Text = c.text
		out.Held = held
	}
	return held
}

// child appends an empty result to out's children and returns it; nil when
// out is nil. The caller gave the children enough capacity, so earlier
// results do not move.
func child(out *ConditionResult) *ConditionResult {
	if out == nil {
		return nil
	}
	out.Children = append(out.Children, ConditionResult{})
	return &out.Children[len(out.Children)-1]
}
