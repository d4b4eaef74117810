package rules

import (
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// Ruleset is a parsed, checked and compiled ruleset. It is immutable: its
// methods never modify it and return copies of what they expose, so one
// Ruleset may be used by any number of goroutines at once.
type Ruleset struct {
	triggerSources       []string
	tokenTriggerSources  []string
	requireVerifiedEmail bool
	onError              OnError
	defaultGroups        []string
	defaultIDs           []int
	defaultAt            []position // where each of defaultGroups is written
	rules                []rule
	exclude              *condition // nil when there is none
	reconcile            reconcile
	usesGroups           bool // see UsesGroups
	// groupNames are all groups, rules first, then defaultGroups; a
	// group's id is its index here.
	groupNames []string
	// groupIDs maps groupNames to their ids, for the groups that groupsFrom
	// names; nil when no rule has groupsFrom.
	groupIDs   map[string]int
	infos      []RuleInfo
	conditions []ConditionInfo
	warnings   []Problem
}

// rule is one compiled rule.
type rule struct {
	name, description    string
	line, column         int
	whenLine, whenColumn int
	when                 *condition
	groups               []string
	groupIDs             []int
	from                 *groupsFrom // nil when the rule has no groupsFrom
	stop                 bool

	groupAt    []position   // where each of groups is written
	groupNodes []*yaml.Node // positions of groups, for warnings; nil after Parse
}

// position is a 1-based line and column of the source.
type position struct{ line, column int }

// positions returns where the nodes are.
func positions(nodes []*yaml.Node) []position {
	out := make([]position, len(nodes))
	for i, n := range nodes {
		out[i] = position{n.Line, n.Column}
	}
	return out
}

// Problems returns the problems carried by an error from Parse (or from
// ruletest.Parse), in source order and without duplicates. It looks through
// errors that wrap the one Parse returned (with fmt.Errorf and %w, or
// errors.Join). It returns nil when err carries none.
func Problems(err error) []Problem { return yamlnode.Problems(err) }

// FormatProblems returns the problems carried by err (see Problems) as
// "NAME:LINE:COL: message" lines, where name names the source, separated by
// newlines and without a final one. When err carries no problem it returns
// "NAME: " followed by err's message. It is how the command-line tool and
// the functions print a ruleset that does not load.
func FormatProblems(name string, err error) string { return yamlnode.FormatProblems(name, err) }

// Warnings returns what Parse found doubtful in a ruleset that loads
// (conditions on clientMetadata, rules that can never match or are never
// evaluated, duplicate groups, more groups than a user can hold, ...), in
// source order.
func (rs *Ruleset) Warnings() []Problem { return slices.Clone(rs.warnings) }

// Handles reports whether events with this trigger source are evaluated:
// whether it is one of TriggerSources.
func (rs *Ruleset) Handles(triggerSource string) bool {
	return slices.Contains(rs.triggerSources, triggerSource)
}

// OnError returns the ruleset's onError policy.
func (rs *Ruleset) OnError() OnError { return rs.onError }

// RequireVerifiedEmail returns the ruleset's requireVerifiedEmail setting.
func (rs *Ruleset) RequireVerifiedEmail() bool { return rs.requireVerifiedEmail }

// TriggerSources returns the trigger sources the ruleset handles.
func (rs *Ruleset) TriggerSources() []string { return slices.Clone(rs.triggerSources) }

// DefaultGroups returns the groups of a user that no rule matched.
func (rs *Ruleset) DefaultGroups() []string { return slices.Clone(rs.defaultGroups) }

// Rules describes the rules in file order.
func (rs *Ruleset) Rules() []RuleInfo {
	out := make([]RuleInfo, len(rs.infos))
	for i, info := range rs.infos {
		info.Groups = slices.Clone(info.Groups)
		if info.GroupsFrom != nil {
			pat := *info.GroupsFrom
			info.GroupsFrom = &pat
		}
		info.Forms = slices.Clone(info.Forms)
		info.Attributes = slices.Clone(info.Attributes)
		out[i] = info
	}
	return out
}

// Conditions describes the leaf conditions (not all, any or not) of every
// rule, in file order, for tools that judge each condition on its own: who
// controls what it reads (clientId and clientMetadata come from the client)
// and whether it can grant a group to a user whose address nobody verified.
func (rs *Ruleset) Conditions() []ConditionInfo {
	out := slices.Clone(rs.conditions)
	for i := range out {
		out[i].Values = slices.Clone(out[i].Values)
	}
	return out
}

// GroupNames returns every group name the ruleset writes out, rules first,
// then defaultGroups, deduplicated in order of first appearance. The groups
// that groupsFrom names are not among them: see GroupPatterns and
// CanSelect.
func (rs *Ruleset) GroupNames() []string { return slices.Clone(rs.groupNames) }

// compile finishes a ruleset that parsed without problems: group ids, rule
// and condition descriptions, and warnings.
func (rs *Ruleset) compile(p *parser) {
	ruleGroups := rs.assignGroupIDs()
	rs.usesGroups = rs.readsGroups()
	rs.infos = make([]RuleInfo, len(rs.rules))
	for i := range rs.rules {
		r := &rs.rules[i]
		rs.infos[i] = r.info(rs)
		walkPath(rs, r.when, path{}, func(c *condition, at path) {
			if len(c.test.sub()) > 0 {
				return // all, any, not
			}
			ci := ConditionInfo{
				Rule: r.name, Line: c.line, Column: c.column, Form: c.form.name,
				Negated: at.negated, VerifiedGuard: at.guarded,
			}
			c.test.info(&ci)
			rs.conditions = append(rs.conditions, ci)
		})
	}
	rs.warnings = yamlnode.SortProblems(rs.lint(p, ruleGroups))
	rs.defaultAt = positions(p.defaultGroupNodes)
	for i := range rs.rules {
		rs.rules[i].groupAt = positions(rs.rules[i].groupNodes)
		rs.rules[i].groupNodes = nil
	}
}

// assignGroupIDs sets groupNames and the group ids of the rules and of
// defaultGroups, and returns the number of distinct groups the rules name.
func (rs *Ruleset) assignGroupIDs() int {
	rs.groupNames = nil
	ids := make(map[string]int)
	id := func(g string) int {
		i, ok := ids[g]
		if !ok {
			i = len(rs.groupNames)
			ids[g] = i
			rs.groupNames = append(rs.groupNames, g)
		}
		return i
	}
	from := false
	for i := range rs.rules {
		r := &rs.rules[i]
		r.groupIDs = make([]int, len(r.groups))
		for j, g := range r.groups {
			r.groupIDs[j] = id(g)
		}
		from = from || r.from != nil
	}
	ruleGroups := len(rs.groupNames)
	rs.defaultIDs = make([]int, len(rs.defaultGroups))
	for j, g := range rs.defaultGroups {
		rs.defaultIDs[j] = id(g)
	}
	rs.groupIDs = nil
	if from {
		rs.groupIDs = ids
	}
	return ruleGroups
}

// info describes a rule of rs.
func (r *rule) info(rs *Ruleset) RuleInfo {
	info := RuleInfo{
		Name:        r.name,
		Description: r.description,
		Line:        r.line,
		Groups:      slices.Clone(r.groups),
		Stop:        r.stop,
	}
	add := func(list *[]string, s string) {
		if !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	walk(r.when, func(c *condition) {
		add(&info.Forms, c.form.name)
		c.test.reads(rs, func(attr string) { add(&info.Attributes, attr) })
	})
	if r.from != nil {
		pat := r.from.pattern(r.name)
		info.GroupsFrom = &pat
		add(&info.Attributes, r.from.attribute)
	}
	return info
}
