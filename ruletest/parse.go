package ruletest

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
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
)

// casesDocument is what Parse expects of its input. Unlike a ruleset, a
// cases file may not be followed by an empty document, and an unknown
// anchor is reported at 1:1.
var casesDocument = yamlnode.Document{Name: "cases file", Expected: "a mapping with cases"}

// Parse reads a cases file. On failure the error carries every problem
// found, each a rules.Problem with its position (see rules.Problems), and no
// case is returned.
func Parse(src []byte) ([]Case, error) {
	top, prob := yamlnode.Decode(src, casesDocument)
	if prob != nil {
		return nil, yamlnode.JoinProblems([]rules.Problem{*prob})
	}
	p := &parser{}
	p.walk = yamlnode.Walker{Errorf: p.errorf, MaxNodes: maxNodes, Full: &p.full}
	cases := p.file(top)
	if len(p.problems) > 0 {
		return nil, yamlnode.JoinProblems(p.problems)
	}
	return cases, nil
}

// parser walks the YAML tree, collecting problems.
type parser struct {
	problems []rules.Problem
	walk     yamlnode.Walker // aliases within maxNodes visits; sets full
	full     bool
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, rules.Problem{Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and counts the visit, so that aliases cannot make
// the walk unbounded.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	return p.walk.Resolve(n)
}

// mapping returns the entries of m in order, values resolved, merge keys
// ("<<: *anchor") applied: keys written in m win over merged ones.
// Duplicate keys are problems.
func (p *parser) mapping(m *yaml.Node, depth int) []yamlnode.Entry {
	if depth > maxDepth {
		p.errorf(m, "nesting too deep: more than %d levels", maxDepth)
		return nil
	}
	return p.walk.Mapping(m, func(v *yaml.Node) []yamlnode.Entry { return p.merge(v, depth) }, true)
}

// merge returns the entries a merge key brings in: its value is a mapping
// or a list of mappings.
func (p *parser) merge(v *yaml.Node, depth int) []yamlnode.Entry {
	v = p.resolve(v)
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []yamlnode.Entry
	for _, item := range items {
		if item = p.resolve(item); item.Kind != yaml.MappingNode {
			p.errorf(item, "<<: expected a mapping to merge, found %s", describe(item))
			continue
		}
		out = append(out, p.mapping(item, depth+1)...)
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
		switch e.Name {
		case "cases":
			saw = true
			cases = p.cases(e.Val)
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
		switch e.Name {
		case "name":
			sawName = true
			s, ok := p.str(e.Val, "name")
			if !ok {
				break
			}
			if strings.TrimSpace(s) == "" {
				p.errorf(e.Val, "name: expected a name, found an empty string")
				break
			}
			if first := names[s]; first != nil {
				p.errorf(e.Val, "name: duplicate case name %q; first at %d:%d", s, first.Line, first.Column)
				break
			}
			names[s] = e.Val
			c.Name = s
		case "userAttributes":
			c.UserAttributes = p.stringMap(e.Val, e.Name)
		case "clientMetadata":
			c.ClientMetadata = p.stringMap(e.Val, e.Name)
		case "triggerSource":
			if s, ok := p.str(e.Val, e.Name); ok {
				if s == "" {
					p.errorf(e.Val, "triggerSource: expected a trigger source, found an empty string")
				}
				c.TriggerSource = s
			}
		case "clientId":
			c.ClientID, _ = p.str(e.Val, e.Name)
		case "groups":
			sawGroups = true
			c.Groups = p.groups(e.Val)
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
		if s, ok := p.str(e.Val, key+"."+e.Name); ok {
			out[e.Name] = s
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
	p.errorf(v, "%s: expected a string, found %s%s", key, describe(v), yamlnode.QuoteHint(v))
	return "", false
}

// unknownKey records an unknown key, listing the allowed ones and suggesting
// the closest.
func (p *parser) unknownKey(e yamlnode.Entry, where string, allowed []string) {
	p.errorf(e.Key, "%s", yamlnode.UnknownKey(e.Name, where, allowed))
}

// describe names what a node is, for "found ..." in messages. It is
// yamlnode.Describe, except that cases files have always named a !!binary
// value by its tag.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!binary" {
		return "a value tagged !!binary"
	}
	return yamlnode.Describe(n)
}
