package rules

import (
	"regexp/syntax"
	"slices"
	"unicode/utf8"
)

// maxGuardValues is the most values a groupsFrom guard may admit for the
// groups it names to be known statically (see KnownGroups).
const maxGuardValues = 100

// KnownGroup is a group a ruleset can select that is known without a
// user: see KnownGroups.
type KnownGroup struct {
	Name string
	// SelectedBy says what selects the group, in the order KnownGroups
	// visits the ruleset, each rule (or its groupsFrom) and defaultGroups
	// once, at its first mention.
	SelectedBy []GroupSource
}

// GroupSource is one part of a ruleset that selects a group: a rule's
// groups, its groupsFrom, or defaultGroups.
type GroupSource struct {
	// Rule is the rule's name, "" for defaultGroups.
	Rule string
	// GroupsFrom is true when the rule's groupsFrom names the group.
	GroupsFrom bool
	// Line and Column are where the group's name is written, or for
	// groupsFrom where its guard (matches) is.
	Line, Column int
}

// String names the source as messages do: "rule staff", "defaultGroups"
// or "rule tenant, groupsFrom".
func (s GroupSource) String() string {
	switch {
	case s.Rule == "":
		return "defaultGroups"
	case s.GroupsFrom:
		return "rule " + s.Rule + ", groupsFrom"
	}
	return "rule " + s.Rule
}

// KnownGroups returns the groups the ruleset can select that can be known
// before any user has an attribute value: those its rules name (in file
// order), then those of defaultGroups, then those a groupsFrom names from
// a guard that admits only a few literal values (matches: "eng|ops"; at
// most 100), each once. Those are the groups a user pool must hold for
// the ruleset to assign them. open lists, in file order, the groupsFrom
// whose guard admits too many values or values that cannot be listed
// ("[a-z0-9-]{1,40}", "(?i)eng"): the groups they name cannot be known.
// The groups memberOf names are read, not selected, and are not among
// them.
func (rs *Ruleset) KnownGroups() (groups []KnownGroup, open []GroupPattern) {
	index := map[string]int{}
	add := func(g string, src GroupSource) {
		i, ok := index[g]
		if !ok {
			i = len(groups)
			index[g] = i
			groups = append(groups, KnownGroup{Name: g})
		}
		same := func(s GroupSource) bool { return s.Rule == src.Rule && s.GroupsFrom == src.GroupsFrom }
		if !slices.ContainsFunc(groups[i].SelectedBy, same) {
			groups[i].SelectedBy = append(groups[i].SelectedBy, src)
		}
	}
	for i := range rs.rules {
		r := &rs.rules[i]
		for j, g := range r.groups {
			at := positionOf(r.groupAt, j)
			add(g, GroupSource{Rule: r.name, Line: at.line, Column: at.column})
		}
	}
	for j, g := range rs.defaultGroups {
		at := positionOf(rs.defaultAt, j)
		add(g, GroupSource{Line: at.line, Column: at.column})
	}
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.from == nil {
			continue
		}
		values, ok := guardValues(r.from.matches, maxGuardValues)
		if !ok {
			open = append(open, r.from.pattern(r.name))
			continue
		}
		for _, v := range values {
			// name applies the guard as evaluation does (anchored) and the
			// group name rules, which the enumeration does not. A value is
			// never empty.
			if g, why := r.from.name(v); v != "" && why == "" {
				add(g, GroupSource{Rule: r.name, GroupsFrom: true, Line: r.from.matchesAt.line, Column: r.from.matchesAt.column})
			}
		}
	}
	return groups, open
}

// positionOf returns at[i], or the zero position when at is short (a
// ruleset that was not compiled from a source).
func positionOf(at []position, i int) position {
	if i < len(at) {
		return at[i]
	}
	return position{}
}

// guardValues returns the strings the regular expression expr matches
// when they are at most limit, all of them literal: alternations, classes,
// optional parts and bounded repeats of literals. Anything that matches an
// unbounded or case-folded set (x*, ., (?i)) reports false.
func guardValues(expr string, limit int) ([]string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	return language(re.Simplify(), limit)
}

// language returns the strings re matches, or false when they are more
// than limit or not known. Anchors match the empty string: the guard is
// anchored at both ends anyway, and every candidate is checked with the
// engine afterwards.
func language(re *syntax.Regexp, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return nil, true
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if int(hi-lo)+1+len(out) > limit {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				if utf8.ValidRune(r) {
					out = append(out, string(r))
				}
			}
		}
		return out, true
	case syntax.OpCapture:
		return language(re.Sub[0], limit)
	case syntax.OpQuest:
		sub, ok := language(re.Sub[0], limit)
		if !ok {
			return nil, false
		}
		return union([]string{""}, sub, limit)
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := language(s, limit)
			if !ok {
				return nil, false
			}
			if out, ok = union(out, sub, limit); !ok {
				return nil, false
			}
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := language(s, limit)
			if !ok || len(out)*len(sub) > limit {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			if out, ok = union(nil, next, limit); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false // star, plus, any character, word boundaries
}

// union returns a with the strings of b it lacks, in order, or false when
// that makes more than limit.
func union(a, b []string, limit int) ([]string, bool) {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a, len(a) <= limit
}
