package rules

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Warning messages that tests and tools may recognise.
const (
	warnClientMetadata = "clientMetadata is sent by the client and not checked by Cognito: never grant privileges on it"
)

// truth is what is known of a condition without an input.
type truth int8

const (
	unknown truth = iota
	alwaysTrue
	alwaysFalse
)

// constant tells whether c holds, or fails, whatever the input.
func constant(c *condition) truth {
	switch c.form {
	case formAlways:
		return alwaysTrue
	case formNot:
		switch constant(c.children[0]) {
		case alwaysTrue:
			return alwaysFalse
		case alwaysFalse:
			return alwaysTrue
		}
	case formAll:
		t := alwaysTrue
		for _, ch := range c.children {
			switch constant(ch) {
			case alwaysFalse:
				return alwaysFalse
			case unknown:
				t = unknown
			}
		}
		return t
	case formAny:
		t := alwaysFalse
		for _, ch := range c.children {
			switch constant(ch) {
			case alwaysTrue:
				return alwaysTrue
			case unknown:
				t = unknown
			}
		}
		return t
	}
	return unknown
}

// lint returns the warnings of a ruleset that parsed without problems.
// ruleGroups is the number of distinct groups the rules name.
func (rs *Ruleset) lint(p *parser, ruleGroups int) []Problem {
	var ws []Problem
	warn := func(line, col int, format string, args ...any) {
		ws = append(ws, Problem{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	at := func(n *yaml.Node, format string, args ...any) {
		warn(n.Line, n.Column, format, args...)
	}
	usesEmailDomain := false
	var shadow *rule   // the first rule that always matches and stops
	var catchAll *rule // the first rule that always matches
	for i := range rs.rules {
		r := &rs.rules[i]
		walk(r.when, func(c *condition) {
			switch c.form {
			case formClientMetadata:
				warn(c.line, c.column, warnClientMetadata)
			case formEmailDomain:
				usesEmailDomain = true
			case formAttribute:
				if c.op == opExists && c.ignoreCase {
					warn(c.line, c.column, "ignoreCase has no effect on exists")
				}
			}
		})
		if shadow != nil {
			warn(r.line, r.column, "rule %q is never evaluated: rule %q (line %d) always matches and stops", r.name, shadow.name, shadow.line)
		}
		switch constant(r.when) {
		case alwaysFalse:
			warn(r.whenLine, r.whenColumn, "rule %q can never match: its condition is always false", r.name)
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
				at(r.groupNodes[j], "groups: duplicate group %q", g)
			}
			seen[g] = true
		}
	}
	if !rs.requireVerifiedEmail && usesEmailDomain && p.requireVerifiedEmailNode != nil {
		at(p.requireVerifiedEmailNode, "requireVerifiedEmail is false: emailDomain conditions hold for addresses nobody verified, which anyone can type at sign-up")
	}
	if ruleGroups > MaxGroupsPerUser && p.rulesKey != nil {
		at(p.rulesKey, "the rules can select %d distinct groups; a user can belong to at most %d", ruleGroups, MaxGroupsPerUser)
	}
	if catchAll != nil && len(rs.defaultGroups) > 0 && p.defaultGroupsKey != nil {
		at(p.defaultGroupsKey, "defaultGroups never apply: rule %q (line %d) always matches", catchAll.name, catchAll.line)
	}
	seen := make(map[string]bool, len(rs.defaultGroups))
	for j, g := range rs.defaultGroups {
		if seen[g] {
			at(p.defaultGroupNodes[j], "defaultGroups: duplicate group %q", g)
		}
		seen[g] = true
	}
	return ws
}
