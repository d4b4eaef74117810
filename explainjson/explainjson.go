// Package explainjson builds the JSON form of a rules.Explanation: the
// object `autogroup explain --json` prints and the playground shows as a
// tree. Both import it, so that the shape is written once.
package explainjson

import "github.com/cognito-autogroup/cognito-autogroup/rules"

// Explanation is the JSON form of a rules.Explanation. Lists are never
// null.
type Explanation struct {
	TriggerSource  string   `json:"triggerSource"`
	Handled        bool     `json:"handled"`
	Groups         []string `json:"groups"`
	DefaultApplied bool     `json:"defaultApplied"`
	DefaultGroups  []string `json:"defaultGroups"`
	Rules          []Rule   `json:"rules"`
	// Only when they apply, so that the output for a ruleset without
	// them stays as it was.
	CurrentGroups []string   `json:"currentGroups,omitempty"`
	Excluded      *bool      `json:"excluded,omitempty"`
	Exclude       *Condition `json:"exclude,omitempty"`
	Dropped       int        `json:"dropped,omitempty"`
}

// Rule is the JSON form of a rules.RuleResult. Condition is null when the
// rule was not evaluated.
type Rule struct {
	Name       string      `json:"name"`
	Evaluated  bool        `json:"evaluated"`
	Matched    bool        `json:"matched"`
	Stopped    bool        `json:"stopped"`
	Groups     []string    `json:"groups"`
	Condition  *Condition  `json:"condition"`
	GroupsFrom *GroupsFrom `json:"groupsFrom,omitempty"`
}

// GroupsFrom is the JSON form of a rules.GroupsFromResult.
type GroupsFrom struct {
	Text     string   `json:"text"`
	Values   int      `json:"values"`
	Groups   []string `json:"groups"`
	Rejected []string `json:"rejected"`
	Reason   string   `json:"reason"`
}

// Condition is the JSON form of a rules.ConditionResult, with the
// sub-conditions evaluated as Children.
type Condition struct {
	Form     string      `json:"form"`
	Text     string      `json:"text"`
	Held     bool        `json:"held"`
	Reason   string      `json:"reason"`
	Children []Condition `json:"children"`
}

// New returns the JSON form of x, the explanation rs gave for in.
func New(rs *rules.Ruleset, in rules.Input, x rules.Explanation) Explanation {
	out := Explanation{
		TriggerSource:  in.TriggerSource,
		Handled:        x.Handled,
		Groups:         nonNil(x.Groups),
		DefaultApplied: x.DefaultApplied,
		DefaultGroups:  nonNil(rs.DefaultGroups()),
		Rules:          make([]Rule, len(x.Rules)),
		CurrentGroups:  in.Groups,
		Dropped:        x.Dropped,
	}
	if rs.HasExclude() && x.Handled {
		out.Excluded = &x.Excluded
	}
	if x.Exclude != nil {
		c := condition(*x.Exclude)
		out.Exclude = &c
	}
	for i, r := range x.Rules {
		out.Rules[i] = Rule{
			Name:      r.Name,
			Evaluated: r.Evaluated,
			Matched:   r.Matched,
			Stopped:   r.Stopped,
			Groups:    nonNil(r.Groups),
		}
		if r.Condition != nil {
			c := condition(*r.Condition)
			out.Rules[i].Condition = &c
		}
		if f := r.GroupsFrom; f != nil {
			out.Rules[i].GroupsFrom = &GroupsFrom{Text: f.Text, Values: f.Values, Groups: nonNil(f.Groups), Rejected: nonNil(f.Rejected), Reason: f.Reason}
		}
	}
	return out
}

func condition(c rules.ConditionResult) Condition {
	out := Condition{Form: c.Form, Text: c.Text, Held: c.Held, Reason: c.Reason, Children: make([]Condition, len(c.Children))}
	for i, ch := range c.Children {
		out.Children[i] = condition(ch)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
