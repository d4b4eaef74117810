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
// detail of an Explanation: what a log record needs. It holds no attribute
// value, except in the names of the groups groupsFrom named.
type Decision struct {
	// Handled is false when the trigger source is in neither triggerSources
	// nor tokenTriggerSources.
	Handled bool
	// Groups is what Groups returns.
	Groups []string
	// MatchedRules names the rules that matched, in file order.
	MatchedRules []string
	// DefaultApplied is true when no rule matched and defaultGroups applied.
	DefaultApplied bool
	// Excluded is true when the ruleset's exclude condition held: the user
	// is left alone, no group added and none removed, and Groups is empty.
	Excluded bool
	// Dropped is the number of selected groups left out because a decision
	// selects at most MaxGroupsPerUser groups (the later ones are dropped).
	Dropped int
	// Rejected is the number of values (or items) of the matching rules'
	// groupsFrom that named no group: they do not match the guard or would
	// make an invalid group name. Explain says which, without the values.
	Rejected int
}

// Decide evaluates in as Groups does and also reports which rules matched.
// It costs about what Groups costs, far less than Explain. It is safe for
// concurrent use.
func (rs *Ruleset) Decide(in Input) Decision {
	var d Decision
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

// counts are what an evaluation counts besides the groups it selects.
type counts struct {
	dropped  int // groups beyond MaxGroupsPerUser
	rejected int // values of groupsFrom that named no group
	// droppedNames are the groups named by groupsFrom that were dropped,
	// so that each counts once.
	droppedNames []string
}

// add appends g to out, or counts it as dropped when out is full.
func (c *counts) add(out []string, g string) []string {
	if len(out) >= MaxGroupsPerUser {
		c.dropped++
		c.droppedNames = append(c.droppedNames, g)
		return out
	}
	return append(out, g)
}

// evaluate runs the rules on in. When x is not nil it also fills the
// explanation, and when d is not nil the decision's other fields; Groups
// passes neither, so that nothing more is built.
func (rs *Ruleset) evaluate(in *Input, x *Explanation, d *Decision) []string {
	handled := rs.Handles(in.TriggerSource) || rs.HandlesToken(in.TriggerSource)
	if x != nil {
		x.Handled = handled
		x.Rules = make([]RuleResult, len(rs.rules))
		for i := range rs.rules {
			x.Rules[i] = RuleResult{Name: rs.rules[i].name, Groups: slices.Clone(rs.rules[i].groups)}
		}
	}
	if d != nil {
		d.Handled = handled
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
	if rs.exclude != nil && rs.excluded(e, x, d) {
		return nil
	}
	// seen marks the groups already in out, by id.
	var small [4]uint64
	seen := small[:]
	if n := (len(rs.groupNames) + 63) / 64; n > len(small) {
		seen = make([]uint64, n)
	}
	// Most users get a few groups: one allocation for the result.
	out := make([]string, 0, min(len(rs.groupNames), 8))
	var c counts
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
		out = addGroups(out, seen, &c, r.groups, r.groupIDs)
		if r.from != nil {
			var res *GroupsFromResult
			if x != nil {
				res = new(GroupsFromResult)
				x.Rules[i].GroupsFrom = res
			}
			out = rs.addGroupsFrom(e, r.from, out, seen, &c, res)
		}
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
		out = addGroups(out, seen, &c, rs.defaultGroups, rs.defaultIDs)
		if d != nil {
			d.DefaultApplied = len(rs.defaultGroups) > 0
		}
		if x != nil {
			x.DefaultApplied = len(rs.defaultGroups) > 0
		}
	}
	if d != nil {
		d.Dropped, d.Rejected = c.dropped, c.rejected
	}
	if x != nil {
		x.Dropped = c.dropped
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// excluded evaluates the ruleset's exclude condition and records its
// outcome in x and d (when not nil).
func (rs *Ruleset) excluded(e *evaluator, x *Explanation, d *Decision) bool {
	var cr *ConditionResult
	if x != nil {
		cr = new(ConditionResult)
		x.Exclude = cr
	}
	held := e.eval(rs.exclude, cr)
	if x != nil {
		x.Excluded = held
	}
	if d != nil {
		d.Excluded = held
	}
	return held
}

// addGroups appends the groups not yet seen to out.
func addGroups(out []string, seen []uint64, c *counts, names []string, ids []int) []string {
	for i, id := range ids {
		out = addGroup(out, seen, c, names[i], id)
	}
	return out
}

// addGroup appends the group name, whose id is id, to out unless it was
// seen.
func addGroup(out []string, seen []uint64, c *counts, name string, id int) []string {
	if bit := uint64(1) << (id % 64); seen[id/64]&bit == 0 {
		seen[id/64] |= bit
		out = c.add(out, name)
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
