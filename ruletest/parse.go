package ruletest

import (
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
	caseKeys = []string{"name", "userAttributes", "currentGroups", "triggerSource", "clientId", "clientMetadata", "groups"}
)

// casesDocument is what Parse expects of its input.
var casesDocument = yamlnode.Document{Name: "cases file", Expected: "a mapping with cases"}

// Parse reads a cases file. On failure the error carries every problem
// found, each a rules.Problem with its position (see rules.Problems), and no
// case is returned.
func Parse(src []byte) ([]Case, error) {
	p := &parser{Parser: yamlnode.Parser{MaxNodes: maxNodes, MaxDepth: maxDepth}}
	top := p.Decode(src, casesDocument)
	if top == nil {
		return nil, p.Err()
	}
	cases := p.file(top)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cases, nil
}

// parser walks the YAML tree of a cases file. The embedded yamlnode.Parser
// collects the problems and bounds the work (maxNodes, maxDepth).
type parser struct{ yamlnode.Parser }

// file walks the top-level mapping.
func (p *parser) file(top *yaml.Node) []Case {
	top = p.Resolve(top)
	if top.Kind != yaml.MappingNode {
		p.Errorf(top, "expected a mapping with cases at the top level, found %s", yamlnode.Describe(top))
		return nil
	}
	var cases []Case
	saw := false
	for _, e := range p.Mapping(top, 1) {
		v := p.Resolve(e.Val)
		switch e.Name {
		case "cases":
			saw = true
			cases = p.cases(v)
		default:
			p.UnknownKey(e, "", topKeys)
		}
	}
	if !saw && !p.Full() {
		p.Errorf(top, "missing required key \"cases\"")
	}
	return cases
}

// cases walks the list of cases.
func (p *parser) cases(v *yaml.Node) []Case {
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, "cases: expected a list of cases, found %s", yamlnode.Describe(v))
		return nil
	}
	if len(v.Content) == 0 {
		p.Errorf(v, "cases: expected at least one case, found an empty list")
		return nil
	}
	var out []Case
	names := make(map[string]*yaml.Node)
	for _, item := range v.Content {
		if p.Full() {
			return nil
		}
		if c, ok := p.testCase(p.Resolve(item), names); ok {
			out = append(out, c)
		}
	}
	return out
}

// testCase walks one case.
func (p *parser) testCase(n *yaml.Node, names map[string]*yaml.Node) (Case, bool) {
	c := Case{Line: n.Line, Column: n.Column, TriggerSource: rules.TriggerConfirmSignUp}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "cases: expected a case (a mapping with name, userAttributes and groups), found %s", yamlnode.Describe(n))
		return c, false
	}
	before := p.NumProblems()
	var sawName, sawGroups bool
	for _, e := range p.Mapping(n, 3) {
		v := p.Resolve(e.Val)
		switch e.Name {
		case "name":
			sawName = true
			s, ok := p.Str(v, "name")
			if !ok {
				break
			}
			if strings.TrimSpace(s) == "" {
				p.Errorf(v, "name: expected a name, found an empty string")
				break
			}
			if first := names[s]; first != nil {
				p.Errorf(v, "name: duplicate case name %q; first at %d:%d", s, first.Line, first.Column)
				break
			}
			names[s] = v
			c.Name = s
		case "userAttributes":
			c.UserAttributes = p.stringMap(v, e.Name)
		case "clientMetadata":
			c.ClientMetadata = p.stringMap(v, e.Name)
		case "triggerSource":
			if s, ok := p.Str(v, e.Name); ok {
				if s == "" {
					p.Errorf(v, "triggerSource: expected a trigger source, found an empty string")
				}
				c.TriggerSource = s
			}
		case "clientId":
			c.ClientID, _ = p.Str(v, e.Name)
		case "currentGroups":
			c.CurrentGroups = p.groups(v, e.Name)
		case "groups":
			sawGroups = true
			c.Groups = p.groups(v, e.Name)
		default:
			p.UnknownKey(e, "in case", caseKeys)
		}
	}
	for _, req := range []struct {
		key string
		saw bool
	}{{"name", sawName}, {"groups", sawGroups}} {
		if !req.saw && !p.Full() {
			p.Errorf(n, "case is missing required key %q", req.key)
		}
	}
	return c, p.NumProblems() == before
}

// stringMap reads a mapping of strings to strings (attributes, metadata).
// Cognito sends every value as a string, so other scalars are problems.
func (p *parser) stringMap(v *yaml.Node, key string) map[string]string {
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, "%s: expected a mapping of names to strings, found %s", key, yamlnode.Describe(v))
		return nil
	}
	out := make(map[string]string)
	for _, e := range p.Mapping(v, 4) {
		if s, ok := p.Str(p.Resolve(e.Val), key+"."+e.Name); ok {
			out[e.Name] = s
		}
	}
	return out
}

// groups reads the value of key, the expected or the current groups: a
// list of strings, possibly empty, without repetition.
func (p *parser) groups(v *yaml.Node, key string) []string {
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, "%s: expected a list of group names (or [] for none), found %s", key, yamlnode.Describe(v))
		return nil
	}
	out := []string{}
	seen := make(map[string]*yaml.Node)
	for _, item := range v.Content {
		n := p.Resolve(item)
		s, ok := p.Str(n, key)
		if !ok {
			continue
		}
		if first := seen[s]; first != nil {
			p.Errorf(n, "%s: duplicate group %q; first at %d:%d", key, s, first.Line, first.Column)
			continue
		}
		seen[s] = n
		out = append(out, s)
	}
	return out
}
