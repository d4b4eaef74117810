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
	topKeys = []string{"version", "triggerSources", "requireVerifiedEmail", "onError", "defaultGroups", "rules",
		"exclude", "reconcile", "tokenTriggerSources"}
	ruleKeys = []string{"name", "description", "when", "groups", "groupsFrom", "stop"}
)

var (
	// groupNameClasses are the Unicode categories Cognito allows in a group
	// name: letters, marks, symbols, numbers and punctuation. Checked per
	// character rather than with a regexp, whose compilation at package
	// initialisation cost the function's cold start about 1 to 2 ms.
	groupNameClasses = []*unicode.RangeTable{unicode.L, unicode.M, unicode.S, unicode.N, unicode.P}
)

// rulesetDocument is what Parse expects of its input.
var rulesetDocument = yamlnode.Document{Name: "ruleset", Expected: "a mapping with version and rules"}

// Parse checks and compiles a ruleset (format version 1, YAML or JSON). On
// failure the error lists every problem found, sorted by position (see
// Problems), and no ruleset is returned. Parse never panics; the work it
// does is bounded by the size of src, aliases included.
func Parse(src []byte) (*Ruleset, error) {
	p := &parser{Parser: yamlnode.Parser{MaxNodes: maxNodes, MaxDepth: maxDepth}}
	top := p.Decode(src, rulesetDocument)
	if top == nil {
		return nil, p.Err()
	}
	rs := p.ruleset(top)
	if err := p.Err(); err != nil {
		return nil, err
	}
	rs.compile(p)
	return rs, nil
}

// parser walks the YAML tree of a ruleset. The embedded yamlnode.Parser
// collects the problems and bounds the work (maxNodes, maxDepth).
type parser struct {
	yamlnode.Parser

	// Positions kept for warnings.
	requireVerifiedEmailNode *yaml.Node // the value, when set
	rulesKey                 *yaml.Node
	defaultGroupsKey         *yaml.Node
	defaultGroupNodes        []*yaml.Node
	excludeKey               *yaml.Node
	removeNode               *yaml.Node   // reconcile.remove's value, when set
	managedGroupNodes        []*yaml.Node // reconcile.managedGroups' values
}

// ruleset walks the top-level mapping.
func (p *parser) ruleset(top *yaml.Node) *Ruleset {
	top = p.Resolve(top)
	if top.Kind != yaml.MappingNode {
		p.Errorf(top, "expected a mapping at the top level, found %s", yamlnode.Describe(top))
		return nil
	}
	rs := &Ruleset{
		triggerSources:       []string{TriggerConfirmSignUp},
		tokenTriggerSources:  tokenSources,
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
	for _, e := range p.Mapping(top, depth) {
		if p.Full() {
			break
		}
		v := p.Resolve(e.Val)
		switch e.Name {
		case "version":
			sawVersion = true
			p.version(v)
		case "triggerSources":
			p.triggerSources(rs, v, depth+1)
		case "requireVerifiedEmail":
			if b, ok := p.Bool(v, e.Name); ok {
				rs.requireVerifiedEmail = b
				p.requireVerifiedEmailNode = v
			}
		case "onError":
			switch s := OnError(v.Value); {
			case v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str":
				p.Errorf(v, "onError: expected fail or continue, found %s", yamlnode.Describe(v))
			case s == OnErrorFail || s == OnErrorContinue:
				rs.onError = s
			default:
				p.Errorf(v, "onError: expected fail or continue, found %q", v.Value)
			}
		case "defaultGroups":
			sawDefault = true
			p.defaultGroupsKey = e.Key
			rs.defaultGroups, p.defaultGroupNodes, defaultsOK = p.groups(v, e.Name, depth+1, true)
		case "rules":
			sawRules = true
			p.rulesKey = e.Key
			rulesOK = p.rules(rs, v, depth+1)
			if v.Kind == yaml.SequenceNode {
				ruleItems = len(v.Content)
			}
		case "exclude":
			p.excludeKey = e.Key
			rs.exclude = p.condition(e.Val, depth+1, "exclude")
		case "reconcile":
			p.reconcile(rs, v, depth+1)
		case "tokenTriggerSources":
			p.tokenTriggerSources(rs, v, depth+1)
		default:
			p.UnknownKey(e, "", topKeys)
		}
	}
	if p.Full() {
		return nil
	}
	if !sawVersion {
		p.Errorf(top, "missing required key \"version\"; add version: 1")
	}
	if (!sawRules || rulesOK) && (!sawDefault || defaultsOK) && ruleItems == 0 && len(rs.defaultGroups) == 0 {
		p.Errorf(top, "the ruleset selects no group: add a rule or defaultGroups")
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
		p.Errorf(v, "version: expected the integer 1, found %s%s", yamlnode.Describe(v), hint)
		return
	}
	var n int64
	if err := v.Decode(&n); err != nil || n != 1 {
		p.Errorf(v, "version: unsupported version %s; expected 1", v.Value)
	}
}

// triggerSources checks and sets the trigger sources.
func (p *parser) triggerSources(rs *Ruleset, v *yaml.Node, depth int) {
	vals, nodes, _, ok := p.StringList(v, "triggerSources", depth, false)
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
			p.Errorf(nodes[i], "triggerSources: unknown trigger source %q; expected %s or %s", s, TriggerConfirmSignUp, TriggerConfirmForgotPassword)
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
	vals, nodes, _, ok := p.StringList(v, key, depth, false)
	if !ok {
		return nil, nil, false
	}
	if len(vals) > maxGroupsPerRule {
		p.Errorf(v, "%s: %d groups; at most %d are allowed", key, len(vals), maxGroupsPerRule)
		ok = false
	}
	for i, s := range vals {
		if !p.groupName(nodes[i], key, s) {
			ok = false
		}
	}
	return vals, nodes, ok
}

// groupName checks the group name s, the value n of key, and reports
// whether it is valid.
func (p *parser) groupName(n *yaml.Node, key, s string) bool {
	if why := badGroupName(s); why != "" {
		p.Errorf(n, "%s: invalid group name %q: %s; a group name is 1 to %d letters, marks, symbols, numbers or punctuation characters",
			key, s, why, maxGroupNameLen)
		return false
	}
	return true
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
		p.Errorf(v, "rules: expected a list of rules, found %s", yamlnode.Describe(v))
		return false
	}
	if !p.Enter(v, depth) {
		return false
	}
	names := make(map[string]*yaml.Node)
	for _, item := range v.Content {
		if p.Full() {
			return false
		}
		if r, ok := p.rule(p.Resolve(item), depth+1, names); ok {
			rs.rules = append(rs.rules, r)
		}
	}
	return true
}

// rule checks one rule.
func (p *parser) rule(n *yaml.Node, depth int, names map[string]*yaml.Node) (rule, bool) {
	r := rule{line: n.Line, column: n.Column}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "rules: expected a rule (a mapping with name, when and groups), found %s", yamlnode.Describe(n))
		return r, false
	}
	if !p.Enter(n, depth) {
		return r, false
	}
	before := p.NumProblems()
	var sawName, sawWhen, sawGroups, sawFrom bool
	for _, e := range p.Mapping(n, depth) {
		if p.Full() {
			return r, false
		}
		switch e.Name {
		case "name":
			sawName = true
			v := p.Resolve(e.Val)
			s, ok := p.Str(v, "name")
			if !ok {
				break
			}
			if !validRuleName(s) {
				p.Errorf(v, "name: invalid rule name %q; expected 1 to 64 letters, digits, '.', '_' or '-'", s)
				break
			}
			if first := names[s]; first != nil {
				p.Errorf(v, "name: duplicate rule name %q; first at %d:%d", s, first.Line, first.Column)
				break
			}
			names[s] = v
			r.name = s
		case "description":
			r.description, _ = p.Str(p.Resolve(e.Val), "description")
		case "when":
			sawWhen = true
			r.whenLine, r.whenColumn = e.Key.Line, e.Key.Column
			r.when = p.condition(e.Val, depth+1, "when")
		case "groups":
			sawGroups = true
			r.groups, r.groupNodes, _ = p.groups(p.Resolve(e.Val), "groups", depth+1, false)
		case "groupsFrom":
			sawFrom = true
			r.from = p.groupsFrom(e, depth+1)
		case "stop":
			r.stop, _ = p.Bool(p.Resolve(e.Val), "stop")
		default:
			p.UnknownKey(e, "in rule", ruleKeys)
		}
	}
	for _, req := range []struct {
		key string
		saw bool
	}{{"name", sawName}, {"when", sawWhen}} {
		if !req.saw {
			p.Errorf(n, "rule is missing required key %q", req.key)
		}
	}
	if !sawGroups && !sawFrom {
		p.Errorf(n, `rule is missing required key "groups" (or "groupsFrom")`)
	}
	return r, p.NumProblems() == before
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
