package rules

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// Limits that bound the work Parse does on any input.
const (
	// maxNodes bounds the YAML nodes Parse visits, counting a node again
	// each time an alias refers to it, so that a document that expands
	// exponentially through aliases ("billion laughs") is rejected early.
	maxNodes = 100000
	// maxDepth bounds the nesting of mappings and lists.
	maxDepth = 64
	// maxGroupsPerRule bounds the groups one rule (or defaultGroups) names.
	maxGroupsPerRule = 100
	// maxGroupNameLen is Cognito's limit on a group name, in characters.
	maxGroupNameLen = 128
)

// Keys allowed at each level, in the order the messages list them.
var (
	topKeys  = []string{"version", "triggerSources", "requireVerifiedEmail", "onError", "defaultGroups", "rules"}
	ruleKeys = []string{"name", "description", "when", "groups", "stop"}
)

var (
	// groupNameClasses are the Unicode categories Cognito allows in a group
	// name: letters, marks, symbols, numbers and punctuation. Checked per
	// character rather than with a regexp, whose compilation at package
	// initialisation cost the function's cold start about 1 to 2 ms.
	groupNameClasses = []*unicode.RangeTable{unicode.L, unicode.M, unicode.S, unicode.N, unicode.P}
)

// rulesetDocument is what Parse expects of its input.
var rulesetDocument = yamlnode.Document{
	Name:          "ruleset",
	Expected:      "a mapping with version and rules",
	EmptyTrailing: true,
	LocateAnchors: true,
}

// Parse checks and compiles a ruleset (format version 1, YAML or JSON). On
// failure the error lists every problem found, sorted by position (see
// Problems), and no ruleset is returned. Parse never panics; the work it
// does is bounded by the size of src, aliases included.
func Parse(src []byte) (*Ruleset, error) {
	top, prob := yamlnode.Decode(src, rulesetDocument)
	if prob != nil {
		return nil, yamlnode.JoinProblems([]Problem{*prob})
	}
	p := &parser{}
	p.walk = yamlnode.Walker{Errorf: p.errorf, MaxNodes: maxNodes, Full: &p.full}
	rs := p.ruleset(top)
	if len(p.problems) > 0 {
		return nil, yamlnode.JoinProblems(p.problems)
	}
	rs.compile(p)
	return rs, nil
}

// parser walks the YAML tree, collecting problems as it goes.
type parser struct {
	problems []Problem
	// walk follows aliases within maxNodes visits and collects mappings;
	// once the budget is spent, full is set and the walk stops.
	walk yamlnode.Walker
	full bool

	// Positions kept for warnings.
	requireVerifiedEmailNode *yaml.Node // the value, when set
	rulesKey                 *yaml.Node
	defaultGroupsKey         *yaml.Node
	defaultGroupNodes        []*yaml.Node
}

// errorf records a problem at the position of n.
func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and counts the visit of the node it returns.
// Once the budget is spent it records one problem and sets p.full; callers
// stop walking when p.full is set.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	return p.walk.Resolve(n)
}

// enter reports whether a mapping or list at this depth may be walked,
// recording a problem when it is nested too deep.
func (p *parser) enter(n *yaml.Node, depth int) bool {
	if p.full {
		return false
	}
	if depth > maxDepth {
		p.errorf(n, "nesting too deep: more than %d levels", maxDepth)
		return false
	}
	return true
}

// entry is one key of a mapping, after merges.
type entry struct {
	name string
	key  *yaml.Node // the key, resolved
	val  *yaml.Node // the value, not resolved
}

// mapping returns the entries of the mapping node m (at depth), in order,
// with YAML merge keys ("<<: *anchor") applied: keys written in m win over
// merged ones, and earlier merged mappings win over later ones. Duplicate
// keys and keys that are not scalars are problems. The entries are copied
// from the shared yamlnode.Entry into entry, the form the rest of the
// package uses.
func (p *parser) mapping(m *yaml.Node, depth int) []entry {
	es := p.entries(m, depth)
	out := make([]entry, len(es))
	for i, e := range es {
		out[i] = entry{name: e.Name, key: e.Key, val: e.Val}
	}
	return out
}

// entries is mapping, in the shared form merge returns.
func (p *parser) entries(m *yaml.Node, depth int) []yamlnode.Entry {
	return p.walk.Mapping(m, func(v *yaml.Node) []yamlnode.Entry { return p.merge(v, depth) }, false)
}

// merge returns the entries a merge key brings in: its value is a mapping
// or a list of mappings.
func (p *parser) merge(v *yaml.Node, depth int) []yamlnode.Entry {
	v = p.resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		if p.enter(v, depth+1) {
			return p.entries(v, depth+1)
		}
	case yaml.SequenceNode:
		if !p.enter(v, depth+1) {
			return nil
		}
		var out []yamlnode.Entry
		for _, item := range v.Content {
			if p.full {
				break
			}
			m := p.resolve(item)
			if m.Kind != yaml.MappingNode {
				p.errorf(m, "<<: expected a mapping to merge, found %s", describe(m))
			} else if p.enter(m, depth+2) {
				out = append(out, p.entries(m, depth+2)...)
			}
		}
		return out
	default:
		p.errorf(v, "<<: expected a mapping or a list of mappings to merge, found %s", describe(v))
	}
	return nil
}

// unknownKey records an unknown key, listing the allowed ones and
// suggesting the closest.
func (p *parser) unknownKey(e entry, where string, allowed []string) {
	p.errorf(e.key, "%s", yamlnode.UnknownKey(e.name, where, allowed))
}

// describe names what a node is, for "found ..." in messages.
func describe(n *yaml.Node) string {
	return yamlnode.Describe(n)
}

// str returns the string value of v (resolved).
func (p *parser) str(v *yaml.Node, key string) (string, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		return v.Value, true
	}
	p.errorf(v, "%s: expected a string, found %s%s", key, describe(v), yamlnode.QuoteHint(v))
	return "", false
}

// boolean returns the boolean value of v (resolved).
func (p *parser) boolean(v *yaml.Node, key string) (bool, bool) {
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
	p.errorf(v, "%s: expected true or false, found %s%s", key, describe(v), hint)
	return false, false
}

// stringList returns the strings of v (resolved): a list of strings, or a
// single string when scalarOK. The list must not be empty. nodes are the
// nodes of the strings, for positions; list reports whether v is a list.
func (p *parser) stringList(v *yaml.Node, key string, depth int, scalarOK bool) (vals []string, nodes []*yaml.Node, list, ok bool) {
	switch {
	case v.Kind == yaml.SequenceNode:
		if !p.enter(v, depth) {
			return nil, nil, true, false
		}
		if len(v.Content) == 0 {
			p.errorf(v, "%s: expected at least one value, found an empty list", key)
			return nil, nil, true, false
		}
		ok = true
		for _, item := range v.Content {
			if p.full {
				return nil, nil, true, false
			}
			n := p.resolve(item)
			s, good := p.str(n, key)
			ok = ok && good
			vals = append(vals, s)
			nodes = append(nodes, n)
		}
		return vals, nodes, true, ok
	case scalarOK && v.Kind == yaml.ScalarNode:
		s, good := p.str(v, key)
		return []string{s}, []*yaml.Node{v}, false, good
	case scalarOK:
		p.errorf(v, "%s: expected a string or a list of strings, found %s", key, describe(v))
	default:
		p.errorf(v, "%s: expected a list of strings, found %s", key, describe(v))
	}
	return nil, nil, false, false
}

// ruleset walks the top-level mapping.
func (p *parser) ruleset(top *yaml.Node) *Ruleset {
	top = p.resolve(top)
	if top.Kind != yaml.MappingNode {
		p.errorf(top, "expected a mapping at the top level, found %s", describe(top))
		return nil
	}
	rs := &Ruleset{
		triggerSources:       []string{TriggerConfirmSignUp},
		requireVerifiedEmail: true,
		onError:              OnErrorFail,
	}
	var (
		sawVersion           bool
		rulesOK, defaultsOK  = true, true
		sawRules, sawDefault bool
		ruleItems            int
	)
	const depth = 1
	for _, e := range p.mapping(top, depth) {
		if p.full {
			break
		}
		v := p.resolve(e.val)
		switch e.name {
		case "version":
			sawVersion = true
			p.version(v)
		case "triggerSources":
			p.triggerSources(rs, v, depth+1)
		case "requireVerifiedEmail":
			if b, ok := p.boolean(v, e.name); ok {
				rs.requireVerifiedEmail = b
				p.requireVerifiedEmailNode = v
			}
		case "onError":
			switch s := OnError(v.Value); {
			case v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str":
				p.errorf(v, "onError: expected fail or continue, found %s", describe(v))
			case s == OnErrorFail || s == OnErrorContinue:
				rs.onError = s
			default:
				p.errorf(v, "onError: expected fail or continue, found %q", v.Value)
			}
		case "defaultGroups":
			sawDefault = true
			p.defaultGroupsKey = e.key
			rs.defaultGroups, p.defaultGroupNodes, defaultsOK = p.groups(v, e.name, depth+1, true)
		case "rules":
			sawRules = true
			p.rulesKey = e.key
			rulesOK = p.rules(rs, v, depth+1)
			if v.Kind == yaml.SequenceNode {
				ruleItems = len(v.Content)
			}
		default:
			p.unknownKey(e, "", topKeys)
		}
	}
	if p.full {
		return nil
	}
	if !sawVersion {
		p.errorf(top, "missing required key \"version\"; add version: 1")
	}
	if (!sawRules || rulesOK) && (!sawDefault || defaultsOK) && ruleItems == 0 && len(rs.defaultGroups) == 0 {
		p.errorf(top, "the ruleset selects no group: add a rule or defaultGroups")
	}
	return rs
}

// version checks the version value.
func (p *parser) version(v *yaml.Node) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		hint := ""
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && strings.TrimSpace(v.Value) == "1" {
			hint = "; remove the quotes"
		}
		p.errorf(v, "version: expected the integer 1, found %s%s", describe(v), hint)
		return
	}
	var n int64
	if err := v.Decode(&n); err != nil || n != 1 {
		p.errorf(v, "version: unsupported version %s; expected 1", v.Value)
	}
}

// triggerSources checks and sets the trigger sources.
func (p *parser) triggerSources(rs *Ruleset, v *yaml.Node, depth int) {
	vals, nodes, _, ok := p.stringList(v, "triggerSources", depth, false)
	if !ok {
		return
	}
	var out []string
	for i, s := range vals {
		switch s {
		case TriggerConfirmSignUp, TriggerConfirmForgotPassword:
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		default:
			p.errorf(nodes[i], "triggerSources: unknown trigger source %q; expected %s or %s", s, TriggerConfirmSignUp, TriggerConfirmForgotPassword)
		}
	}
	rs.triggerSources = out
}

// groups checks a list of group names (a rule's groups or defaultGroups).
// defaultGroups may be empty.
func (p *parser) groups(v *yaml.Node, key string, depth int, emptyOK bool) ([]string, []*yaml.Node, bool) {
	if emptyOK && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
		return nil, nil, true
	}
	vals, nodes, _, ok := p.stringList(v, key, depth, false)
	if !ok {
		return nil, nil, false
	}
	if len(vals) > maxGroupsPerRule {
		p.errorf(v, "%s: %d groups; at most %d are allowed", key, len(vals), maxGroupsPerRule)
		ok = false
	}
	for i, s := range vals {
		if why := badGroupName(s); why != "" {
			p.errorf(nodes[i], "%s: invalid group name %q: %s; a group name is 1 to %d letters, marks, symbols, numbers or punctuation characters",
				key, s, why, maxGroupNameLen)
			ok = false
		}
	}
	return vals, nodes, ok
}

// badGroupName says what is wrong with a group name, or returns "".
func badGroupName(s string) string {
	if s == "" {
		return "it is empty"
	}
	if n := utf8.RuneCountInString(s); n > maxGroupNameLen {
		return fmt.Sprintf("it has %d characters", n)
	}
	if !utf8.ValidString(s) {
		return "it is not valid UTF-8"
	}
	for _, r := range s {
		if !unicode.In(r, groupNameClasses...) {
			return fmt.Sprintf("it contains %q", r)
		}
	}
	return ""
}

// rules checks the list of rules. It reports whether the list itself (not
// its rules) was well formed.
func (p *parser) rules(rs *Ruleset, v *yaml.Node, depth int) bool {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "rules: expected a list of rules, found %s", describe(v))
		return false
	}
	if !p.enter(v, depth) {
		return false
	}
	names := make(map[string]*yaml.Node)
	for _, item := range v.Content {
		if p.full {
			return false
		}
		if r, ok := p.rule(p.resolve(item), depth+1, names); ok {
			rs.rules = append(rs.rules, r)
		}
	}
	return true
}

// rule checks one rule.
func (p *parser) rule(n *yaml.Node, depth int, names map[string]*yaml.Node) (rule, bool) {
	r := rule{line: n.Line, column: n.Column}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "rules: expected a rule (a mapping with name, when and groups), found %s", describe(n))
		return r, false
	}
	if !p.enter(n, depth) {
		return r, false
	}
	before := len(p.problems)
	var sawName, sawWhen, sawGroups bool
	for _, e := range p.mapping(n, depth) {
		if p.full {
			return r, false
		}
		switch e.name {
		case "name":
			sawName = true
			v := p.resolve(e.val)
			s, ok := p.str(v, "name")
			if !ok {
				break
			}
			if !validRuleName(s) {
				p.errorf(v, "name: invalid rule name %q; expected 1 to 64 letters, digits, '.', '_' or '-'", s)
				break
			}
			if first := names[s]; first != nil {
				p.errorf(v, "name: duplicate rule name %q; first at %d:%d", s, first.Line, first.Column)
				break
			}
			names[s] = v
			r.name = s
		case "description":
			r.description, _ = p.str(p.resolve(e.val), "description")
		case "when":
			sawWhen = true
			r.whenLine, r.whenColumn = e.key.Line, e.key.Column
			r.when = p.condition(e.val, depth+1, "when")
		case "groups":
			sawGroups = true
			r.groups, r.groupNodes, _ = p.groups(p.resolve(e.val), "groups", depth+1, false)
		case "stop":
			r.stop, _ = p.boolean(p.resolve(e.val), "stop")
		default:
			p.unknownKey(e, "in rule", ruleKeys)
		}
	}
	for _, req := range []struct {
		key string
		saw bool
	}{{"name", sawName}, {"when", sawWhen}, {"groups", sawGroups}} {
		if !req.saw {
			p.errorf(n, "rule is missing required key %q", req.key)
		}
	}
	return r, len(p.problems) == before
}

// validRuleName reports whether s is a rule name: 1 to 64 ASCII letters,
// digits, '.', '_' or '-'.
func validRuleName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
