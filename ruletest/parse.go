package ruletest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// Limits that bound the work Parse does on any input.
const (
	// maxNodes bounds the YAML nodes visited, aliases expanded.
	maxNodes = 100000
	// maxDepth bounds the nesting of mappings and lists.
	maxDepth = 16
)

var (
	topKeys  = []string{"cases"}
	caseKeys = []string{"name", "userAttributes", "triggerSource", "clientId", "clientMetadata", "groups"}

	yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// Parse reads a cases file. On failure the error carries every problem
// found, each a rules.Problem with its position (see rules.Problems), and no
// case is returned.
func Parse(src []byte) ([]Case, error) {
	top, prob := decode(src)
	if prob != nil {
		return nil, errors.Join(*prob)
	}
	p := &parser{}
	cases := p.file(top)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b rules.Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		// A node reached through several aliases reports its problem once.
		p.problems = slices.Compact(p.problems)
		errs := make([]error, len(p.problems))
		for i, pr := range p.problems {
			errs[i] = pr
		}
		return nil, errors.Join(errs...)
	}
	return cases, nil
}

// decode parses src as one YAML document and returns its top-level node.
func decode(src []byte) (top *yaml.Node, prob *rules.Problem) {
	defer func() {
		if r := recover(); r != nil {
			top, prob = nil, &rules.Problem{Line: 1, Column: 1, Message: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	empty := &rules.Problem{Line: 1, Column: 1, Message: "empty cases file; expected a mapping with cases"}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, empty
	} else if err != nil {
		return nil, syntaxProblem(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && err != io.EOF {
		return nil, syntaxProblem(err)
	} else if err == nil {
		return nil, &rules.Problem{Line: next.Line, Column: next.Column, Message: "several YAML documents; a cases file is one document"}
	}
	if len(doc.Content) == 0 {
		return nil, empty
	}
	top = doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" && top.Value == "" {
		return nil, empty
	}
	return top, nil
}

// syntaxProblem turns an error of the YAML library into a problem at the
// line it names (it gives no column).
func syntaxProblem(err error) *rules.Problem {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &rules.Problem{Line: max(line, 1), Column: 1, Message: "invalid YAML: " + m[2]}
	}
	return &rules.Problem{Line: 1, Column: 1, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// parser walks the YAML tree, collecting problems.
type parser struct {
	problems []rules.Problem
	visits   int
	full     bool
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, rules.Problem{Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and counts the visit, so that aliases cannot make
// the walk unbounded.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	p.visits++
	if p.visits > maxNodes && !p.full {
		p.full = true
		p.errorf(n, "document too large: more than %d nodes once aliases are expanded", maxNodes)
	}
	return n
}

// entry is one key of a mapping, after merges; val is resolved.
type entry struct {
	name     string
	key, val *yaml.Node
}

// mapping returns the entries of m in order, merge keys ("<<: *anchor")
// applied: keys written in m win over merged ones. Duplicate keys are
// problems.
func (p *parser) mapping(m *yaml.Node, depth int) []entry {
	if depth > maxDepth {
		p.errorf(m, "nesting too deep: more than %d levels", maxDepth)
		return nil
	}
	var out, merged []entry
	index := make(map[string]int) // position in out, by name
	find := func(name string) *entry {
		if i, ok := index[name]; ok {
			return &out[i]
		}
		return nil
	}
	add := func(e entry) {
		index[e.name] = len(out)
		out = append(out, e)
	}
	for i := 0; i+1 < len(m.Content) && !p.full; i += 2 {
		k := p.resolve(m.Content[i])
		switch {
		case k.Kind != yaml.ScalarNode:
			p.errorf(k, "expected a key, found %s", describe(k))
		case k.ShortTag() == "!!merge":
			v := p.resolve(m.Content[i+1])
			items := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				items = v.Content
			}
			for _, item := range items {
				if item = p.resolve(item); item.Kind != yaml.MappingNode {
					p.errorf(item, "<<: expected a mapping to merge, found %s", describe(item))
					continue
				}
				merged = append(merged, p.mapping(item, depth+1)...)
			}
		default:
			if first := find(k.Value); first != nil {
				p.errorf(k, "duplicate key %q; first at %d:%d", k.Value, first.key.Line, first.key.Column)
				continue
			}
			add(entry{name: k.Value, key: k, val: p.resolve(m.Content[i+1])})
		}
	}
	for _, e := range merged {
		if find(e.name) == nil {
			add(e)
		}
	}
	return out
}

// file walks the top-level mapping.
func (p *parser) file(top *yaml.Node) []Case {
	top = p.resolve(top)
	if top.Kind != yaml.MappingNode {
		p.errorf(top, "expected a mapping with cases at the top level, found %s", describe(top))
		return nil
	}
	var cases []Case
	saw := false
	for _, e := range p.mapping(top, 1) {
		switch e.name {
		case "cases":
			saw = true
			cases = p.cases(e.val)
		default:
			p.unknownKey(e, "", topKeys)
		}
	}
	if !saw && !p.full {
		p.errorf(top, "missing required key \"cases\"")
	}
	return cases
}

// cases walks the list of cases.
func (p *parser) cases(v *yaml.Node) []Case {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "cases: expected a list of cases, found %s", describe(v))
		return nil
	}
	if len(v.Content) == 0 {
		p.errorf(v, "cases: expected at least one case, found an empty list")
		return nil
	}
	var out []Case
	names := make(map[string]*yaml.Node)
	for _, item := range v.Content {
		if p.full {
			return nil
		}
		if c, ok := p.testCase(p.resolve(item), names); ok {
			out = append(out, c)
		}
	}
	return out
}

// testCase walks one case.
func (p *parser) testCase(n *yaml.Node, names map[string]*yaml.Node) (Case, bool) {
	c := Case{Line: n.Line, Column: n.Column, TriggerSource: rules.TriggerConfirmSignUp}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "cases: expected a case (a mapping with name, userAttributes and groups), found %s", describe(n))
		return c, false
	}
	before := len(p.problems)
	var sawName, sawGroups bool
	for _, e := range p.mapping(n, 3) {
		switch e.name {
		case "name":
			sawName = true
			s, ok := p.str(e.val, "name")
			if !ok {
				break
			}
			if strings.TrimSpace(s) == "" {
				p.errorf(e.val, "name: expected a name, found an empty string")
				break
			}
			if first := names[s]; first != nil {
				p.errorf(e.val, "name: duplicate case name %q; first at %d:%d", s, first.Line, first.Column)
				break
			}
			names[s] = e.val
			c.Name = s
		case "userAttributes":
			c.UserAttributes = p.stringMap(e.val, e.name)
		case "clientMetadata":
			c.ClientMetadata = p.stringMap(e.val, e.name)
		case "triggerSource":
			if s, ok := p.str(e.val, e.name); ok {
				if s == "" {
					p.errorf(e.val, "triggerSource: expected a trigger source, found an empty string")
				}
				c.TriggerSource = s
			}
		case "clientId":
			c.ClientID, _ = p.str(e.val, e.name)
		case "groups":
			sawGroups = true
			c.Groups = p.groups(e.val)
		default:
			p.unknownKey(e, "in case", caseKeys)
		}
	}
	for _, req := range []struct {
		key string
		saw bool
	}{{"name", sawName}, {"groups", sawGroups}} {
		if !req.saw && !p.full {
			p.errorf(n, "case is missing required key %q", req.key)
		}
	}
	return c, len(p.problems) == before
}

// stringMap reads a mapping of strings to strings (attributes, metadata).
// Cognito sends every value as a string, so other scalars are problems.
func (p *parser) stringMap(v *yaml.Node, key string) map[string]string {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "%s: expected a mapping of names to strings, found %s", key, describe(v))
		return nil
	}
	out := make(map[string]string)
	for _, e := range p.mapping(v, 4) {
		if s, ok := p.str(e.val, key+"."+e.name); ok {
			out[e.name] = s
		}
	}
	return out
}

// groups reads the expected groups: a list of strings, possibly empty,
// without repetition.
func (p *parser) groups(v *yaml.Node) []string {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "groups: expected a list of group names (or [] for none), found %s", describe(v))
		return nil
	}
	out := []string{}
	seen := make(map[string]*yaml.Node)
	for _, item := range v.Content {
		n := p.resolve(item)
		s, ok := p.str(n, "groups")
		if !ok {
			continue
		}
		if first := seen[s]; first != nil {
			p.errorf(n, "groups: duplicate group %q; first at %d:%d", s, first.Line, first.Column)
			continue
		}
		seen[s] = n
		out = append(out, s)
	}
	return out
}

// str returns the string value of v.
func (p *parser) str(v *yaml.Node, key string) (string, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		return v.Value, true
	}
	hint := ""
	if v.Kind == yaml.ScalarNode {
		switch v.ShortTag() {
		case "!!int", "!!float", "!!bool", "!!timestamp":
			hint = "; quote it"
		case "!!null":
			if v.Value != "" {
				hint = "; quote it"
			}
		}
	}
	p.errorf(v, "%s: expected a string, found %s%s", key, describe(v), hint)
	return "", false
}

// unknownKey records an unknown key, listing the allowed ones and suggesting
// the closest.
func (p *parser) unknownKey(e entry, where string, allowed []string) {
	msg := fmt.Sprintf("unknown key %q", e.name)
	if where != "" {
		msg += " " + where
	}
	msg += "; expected one of " + strings.Join(allowed, ", ")
	if s := suggest(e.name, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.errorf(e.key, "%s", msg)
}

// suggest returns the allowed word closest to s when it is a likely typo:
// the same ignoring case, or at most two edits away.
func suggest(s string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(a)); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes; large
// for long strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names what a node is, for "found ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			if n.Value == "" {
				return "nothing"
			}
			return "null"
		case "!!timestamp":
			return "a timestamp"
		default:
			return "a value tagged " + n.ShortTag()
		}
	}
	return "an unexpected YAML node"
}
