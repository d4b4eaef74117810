package rules

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// truth is what is known of a condition without an input.
type truth int8

const (
	unknown truth = iota
	alwaysTrue
	alwaysFalse
)

// linter collects the warnings of a ruleset that parsed without problems.
// The forms' tests add theirs (test.lint).
type linter struct {
	rs       *Ruleset
	p        *parser // the positions kept for warnings
	warnings []Problem
	// path is what is known of the condition being linted from the
	// conditions around it.
	path path
}

// warn records a warning at line and col.
func (l *linter) warn(line, col int, format string, args ...any) {
	l.warnings = append(l.warnings, Problem{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// at records a warning at the position of n.
func (l *linter) at(n *yaml.Node, format string, args ...any) {
	l.warn(n.Line, n.Column, format, args...)
}

// lint returns the warnings of a ruleset that parsed without problems, in
// the order found (compile sorts them). ruleGroups is the number of
// distinct groups the rules name.
func (rs *Ruleset) lint(p *parser, ruleGroups int) []Problem {
	l := &linter{rs: rs, p: p}
	var shadow *rule   // the first rule that always matches and stops
	var catchAll *rule // the first rule that always matches
	for i := range rs.rules {
		r := &rs.rules[i]
		walkPath(rs, r.when, path{}, func(c *condition, at path) {
			l.path = at
			c.test.lint(l, c)
		})
		if shadow != nil {
			l.warn(r.line, r.column, "rule %q is never evaluated: rule %q (line %d) always matches and stops", r.name, shadow.name, shadow.line)
		}
		switch r.when.test.truth() {
		case alwaysFalse:
			l.warn(r.whenLine, r.whenColumn, "rule %q can never match: its condition is always false", r.name)
		case alwaysTrue:
			if catchAll == nil && shadow == nil {
				catchAll = r
			}
			if r.stop && shadow == nil {
				shadow = r
			}
		}
		seen := make(map[string]bool, len(r.groups))
		for j, g := range r.groups {
			if seen[g] {
				l.at(r.groupNodes[j], "groups: duplicate group %q", g)
			}
			seen[g] = true
		}
	}
	if ruleGroups > MaxGroupsPerUser && p.rulesKey != nil {
		l.at(p.rulesKey, "the rules can select %d distinct groups; a user can belong to at most %d", ruleGroups, MaxGroupsPerUser)
	}
	if catchAll != nil && len(rs.defaultGroups) > 0 && p.defaultGroupsKey != nil {
		l.at(p.defaultGroupsKey, "defaultGroups never apply: rule %q (line %d) always matches", catchAll.name, catchAll.line)
	}
	seen := make(map[string]bool, len(rs.defaultGroups))
	for j, g := range rs.defaultGroups {
		if seen[g] {
			l.at(p.defaultGroupNodes[j], "defaultGroups: duplicate group %q", g)
		}
		seen[g] = true
	}
	rs.lintReconcile(l)
	return l.warnings
}
