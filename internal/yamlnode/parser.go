package yamlnode

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parser is the base that the parser of one input format embeds: it
// collects the problems found and bounds the work done on any input. Set
// the limits, Decode the source, walk the top-level node with the methods
// below and the format's own, then return Err.
//
// Once the node budget is spent (Full), every method stops walking, so
// that a hostile document costs at most MaxNodes visits.
type Parser struct {
	// MaxNodes bounds the nodes visited, counting a node again each time
	// an alias refers to it, so that a document that expands
	// exponentially through aliases ("billion laughs") is rejected early.
	MaxNodes int
	// MaxDepth bounds the nesting of mappings and lists (see Enter).
	MaxDepth int

	problems []Problem
	visits   int
	full     bool
}

// Errorf records a problem at the position of n.
func (p *Parser) Errorf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)})
}

// NumProblems returns how many problems have been recorded so far, so that
// a caller can tell whether walking one part of the input found any.
func (p *Parser) NumProblems() int { return len(p.problems) }

// Err returns the problems recorded, sorted by position and without
// duplicates, joined into one error (see JoinProblems); nil when there are
// none.
func (p *Parser) Err() error { return JoinProblems(p.problems) }

// Full reports whether the node budget is spent; callers stop walking
// when it is.
func (p *Parser) Full() bool { return p.full }

// Resolve follows aliases and counts the visit of the node it returns.
// Once more than MaxNodes nodes have been visited it records one problem
// and Full reports true.
func (p *Parser) Resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	p.visits++
	if p.visits > p.MaxNodes && !p.full {
		p.full = true
		p.Errorf(n, "document too large: more than %d nodes once aliases are expanded", p.MaxNodes)
	}
	return n
}

// Enter reports whether the mapping or list n, at depth (the top level is
// 1), may be walked: not once the budget is spent, and not deeper than
// MaxDepth, which is recorded as a problem.
func (p *Parser) Enter(n *yaml.Node, depth int) bool {
	if p.full {
		return false
	}
	if depth > p.MaxDepth {
		p.Errorf(n, "nesting too deep: more than %d levels", p.MaxDepth)
		return false
	}
	return true
}

// Entry is one key of a mapping, after merges.
type Entry struct {
	Name string
	Key  *yaml.Node // the key, resolved
	Val  *yaml.Node // the value, not resolved: pass it to Resolve
}

// Mapping returns the entries of the mapping node m (resolved) at depth,
// in order, or nil when m may not be entered (see Enter). It stops early
// once the budget is spent. Keys that are not scalars and keys written
// twice are problems. YAML merge keys ("<<: *anchor", "<<: [*a, *b]") are
// applied: keys written in m win over merged ones, and among merged
// mappings the first wins.
func (p *Parser) Mapping(m *yaml.Node, depth int) []Entry {
	if !p.Enter(m, depth) {
		return nil
	}
	out := make([]Entry, 0, len(m.Content)/2)
	var merged []Entry
	// index finds keys in long mappings; short ones are searched in out.
	var index map[string]int
	find := func(name string) *Entry {
		if index != nil {
			if i, ok := index[name]; ok {
				return &out[i]
			}
			return nil
		}
		for i := range out {
			if out[i].Name == name {
				return &out[i]
			}
		}
		return nil
	}
	add := func(e Entry) {
		out = append(out, e)
		if index == nil && len(out) > 16 {
			index = make(map[string]int, len(m.Content)/2)
			for i, e := range out {
				index[e.Name] = i
			}
		} else if index != nil {
			index[e.Name] = len(out) - 1
		}
	}
	for i := 0; i+1 < len(m.Content) && !p.full; i += 2 {
		k := p.Resolve(m.Content[i])
		switch {
		case k.Kind != yaml.ScalarNode:
			p.Errorf(k, "expected a key, found %s", Describe(k))
		case k.ShortTag() == "!!merge":
			merged = append(merged, p.merge(m.Content[i+1], depth)...)
		default:
			if first := find(k.Value); first != nil {
				p.Errorf(k, "duplicate key %q; first at %d:%d", k.Value, first.Key.Line, first.Key.Column)
				break
			}
			add(Entry{Name: k.Value, Key: k, Val: m.Content[i+1]})
		}
	}
	for _, e := range merged {
		if find(e.Name) == nil {
			add(e)
		}
	}
	return out
}

// merge returns the entries a merge key of a mapping at depth brings in:
// its value v (not resolved) is a mapping or a list of mappings, one level
// deeper.
func (p *Parser) merge(v *yaml.Node, depth int) []Entry {
	v = p.Resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return p.Mapping(v, depth+1)
	case yaml.SequenceNode:
		if !p.Enter(v, depth+1) {
			return nil
		}
		var out []Entry
		for _, item := range v.Content {
			if p.full {
				break
			}
			m := p.Resolve(item)
			if m.Kind != yaml.MappingNode {
				p.Errorf(m, "<<: expected a mapping to merge, found %s", Describe(m))
			} else {
				out = append(out, p.Mapping(m, depth+2)...)
			}
		}
		return out
	default:
		p.Errorf(v, "<<: expected a mapping or a list of mappings to merge, found %s", Describe(v))
	}
	return nil
}

// UnknownKey records that e's key is not one of allowed, found where (as
// in "in rule"; may be empty), suggesting the closest allowed key.
func (p *Parser) UnknownKey(e Entry, where string, allowed []string) {
	p.Errorf(e.Key, "%s", unknownKey(e.Name, where, allowed))
}

// Str returns the string value of v (resolved), the value of key. Anything
// but a string is a problem, with the advice to quote a scalar that YAML
// read as something else.
func (p *Parser) Str(v *yaml.Node, key string) (string, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		return v.Value, true
	}
	p.Errorf(v, "%s: expected a string, found %s%s", key, Describe(v), QuoteHint(v))
	return "", false
}

// Bool returns the boolean value of v (resolved), the value of key.
// Anything but true or false is a problem; a quoted boolean or a YAML 1.1
// word (yes, on, ...) is told how to write it.
func (p *Parser) Bool(v *yaml.Node, key string) (bool, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		var b bool
		if err := v.Decode(&b); err == nil {
			return b, true
		}
	}
	hint := ""
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		switch strings.ToLower(v.Value) {
		case "true", "false":
			hint = "; remove the quotes"
		case "yes", "no", "on", "off", "y", "n":
			hint = "; write true or false"
		}
	}
	p.Errorf(v, "%s: expected true or false, found %s%s", key, Describe(v), hint)
	return false, false
}

// StringList returns the strings of v (resolved), the value of key at
// depth: a non-empty list of strings, or a single string when scalarOK.
// nodes are the nodes of the strings, for positions; list reports whether
// v is a list. ok is false when there was a problem.
func (p *Parser) StringList(v *yaml.Node, key string, depth int, scalarOK bool) (vals []string, nodes []*yaml.Node, list, ok bool) {
	switch {
	case v.Kind == yaml.SequenceNode:
		if !p.Enter(v, depth) {
			return nil, nil, true, false
		}
		if len(v.Content) == 0 {
			p.Errorf(v, "%s: expected at least one value, found an empty list", key)
			return nil, nil, true, false
		}
		ok = true
		for _, item := range v.Content {
			if p.full {
				return nil, nil, true, false
			}
			n := p.Resolve(item)
			s, good := p.Str(n, key)
			ok = ok && good
			vals = append(vals, s)
			nodes = append(nodes, n)
		}
		return vals, nodes, true, ok
	case scalarOK && v.Kind == yaml.ScalarNode:
		s, good := p.Str(v, key)
		return []string{s}, []*yaml.Node{v}, false, good
	case scalarOK:
		p.Errorf(v, "%s: expected a string or a list of strings, found %s", key, Describe(v))
	default:
		p.Errorf(v, "%s: expected a list of strings, found %s", key, Describe(v))
	}
	return nil, nil, false, false
}
