package rules

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// allForm is "all: [C, ...]": every condition holds.
var allForm = form{name: "all", compile: func(p *parser, k formKey) test { return &allTest{children: p.conditionList(k)} }}

// anyForm is "any: [C, ...]": at least one condition holds.
var anyForm = form{name: "any", compile: func(p *parser, k formKey) test { return &anyTest{children: p.conditionList(k)} }}

// conditionList checks the value of all or any: a non-empty list of
// conditions.
func (p *parser) conditionList(k formKey) []*condition {
	v := p.Resolve(k.Val)
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, "%s: expected a list of conditions, found %s", k.Name, yamlnode.Describe(v))
		return nil
	}
	if !p.Enter(v, k.depth+1) {
		return nil
	}
	if len(v.Content) == 0 {
		p.Errorf(v, "%s: expected at least one condition, found an empty list", k.Name)
	}
	var out []*condition
	for _, item := range v.Content {
		if p.Full() {
			return out
		}
		out = append(out, p.condition(item, k.depth+2, k.Name))
	}
	return out
}

// allTest is the test of an all condition. Evaluation stops at the first
// condition that does not hold.
type allTest struct {
	defaults
	children []*condition
}

func (t *allTest) eval(e *evaluator, out *ConditionResult) bool {
	if out != nil {
		out.Children = make([]ConditionResult, 0, len(t.children))
	}
	for i, ch := range t.children {
		if !e.eval(ch, child(out)) {
			if out != nil {
				out.Reason = fmt.Sprintf("condition %d of %d does not hold", i+1, len(t.children))
			}
			return false
		}
	}
	if out != nil {
		out.Reason = fmt.Sprintf("all %d conditions hold", len(t.children))
	}
	return true
}

func (t *allTest) text() string      { return fmt.Sprintf("all of %d", len(t.children)) }
func (t *allTest) sub() []*condition { return t.children }

// verified is true when one of the conditions requires a verified address.
func (t *allTest) verified(rs *Ruleset) bool {
	return slices.ContainsFunc(t.children, func(c *condition) bool { return c.test.verified(rs) })
}

func (t *allTest) truth() truth {
	known := alwaysTrue
	for _, ch := range t.children {
		switch ch.test.truth() {
		case alwaysFalse:
			return alwaysFalse
		case unknown:
			known = unknown
		}
	}
	return known
}

// anyTest is the test of an any condition. Evaluation stops at the first
// condition that holds.
type anyTest struct {
	defaults
	children []*condition
}

func (t *anyTest) eval(e *evaluator, out *ConditionResult) bool {
	if out != nil {
		out.Children = make([]ConditionResult, 0, len(t.children))
	}
	for i, ch := range t.children {
		if e.eval(ch, child(out)) {
			if out != nil {
				out.Reason = fmt.Sprintf("condition %d of %d holds", i+1, len(t.children))
			}
			return true
		}
	}
	if out != nil {
		out.Reason = fmt.Sprintf("none of the %d conditions holds", len(t.children))
	}
	return false
}

func (t *anyTest) text() string      { return fmt.Sprintf("any of %d", len(t.children)) }
func (t *anyTest) sub() []*condition { return t.children }

// verified is true when every condition requires a verified address.
func (t *anyTest) verified(rs *Ruleset) bool {
	return !slices.ContainsFunc(t.children, func(c *condition) bool { return !c.test.verified(rs) })
}

func (t *anyTest) truth() truth {
	known := alwaysFalse
	for _, ch := range t.children {
		switch ch.test.truth() {
		case alwaysTrue:
			return alwaysTrue
		case unknown:
			known = unknown
		}
	}
	return known
}
