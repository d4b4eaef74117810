package rules

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
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
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
	ruleNameRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	groupNameRE = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`)
	yamlLineRE  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	anchorRE    = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// Parse checks and compiles a ruleset (format version 1, YAML or JSON). On
// failure the error lists every problem found, sorted by position (see
// Problems), and no ruleset is returned. Parse never panics; the work it
// does is bounded by the size of src, aliases included.
func Parse(src []byte) (*Ruleset, error) {
	top, prob := decode(src)
	if prob != nil {
		return nil, errors.Join(*prob)
	}
	p := &parser{}
	rs := p.ruleset(top)
	if len(p.problems) > 0 {
		return nil, joinProblems(p.problems)
	}
	rs.compile(p)
	return rs, nil
}

// joinProblems sorts problems by position, drops exact duplicates (a node
// reached through several aliases) and joins them into one error.
func joinProblems(ps []Problem) error {
	ps = sortProblems(ps)
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// sortProblems sorts problems by position, keeping the order in which they
// were found at one position, and removes exact duplicates.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	seen := make(map[Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// decode parses src as one YAML document and returns its top-level node,
// or the problem that prevents it.
func decode(src []byte) (top *yaml.Node, prob *Problem) {
	defer func() {
		// The YAML library reports its errors by panicking internally and
		// recovering; should one escape, it is still only a bad input.
		if r := recover(); r != nil {
			top, prob = nil, &Problem{Line: 1, Column: 1, Message: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	empty := &Problem{Line: 1, Column: 1, Message: "empty ruleset; expected a mapping with version and rules"}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, empty
	} else if err != nil {
		return nil, syntaxProblem(src, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && err != io.EOF {
		return nil, syntaxProblem(src, err)
	} else if err == nil && !isEmptyDocument(&next) {
		return nil, &Problem{Line: next.Line, Column: next.Column, Message: "several YAML documents; a ruleset is one document"}
	}
	if isEmptyDocument(&doc) {
		return nil, empty
	}
	top = &doc
	if doc.Kind == yaml.DocumentNode {
		top = doc.Content[0]
	}
	return top, nil
}

// isEmptyDocument reports whether a decoded document holds nothing (only
// "---", "..." or comments).
func isEmptyDocument(doc *yaml.Node) bool {
	if doc.Kind != yaml.DocumentNode {
		return doc.Kind == 0
	}
	if len(doc.Content) == 0 {
		return true
	}
	c := doc.Content[0]
	return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" && c.Value == ""
}

// syntaxProblem turns an error of the YAML library into a Problem at the
// line it reports (the library gives no column). Errors on the first line
// come without a line number.
func syntaxProblem(src []byte, err error) *Problem {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: max(line, 1), Column: 1, Message: "invalid YAML: " + m[2]}
	}
	if m := anchorRE.FindStringSubmatch(msg); m != nil {
		line, col := position(src, bytes.Index(src, []byte("*"+m[1])))
		return &Problem{Line: line, Column: col, Message: fmt.Sprintf("invalid YAML: unknown anchor %q referenced", m[1])}
	}
	return &Problem{Line: 1, Column: 1, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// position returns the 1-based line and column (in characters) of byte
// offset off of src; 1:1 when off is negative.
func position(src []byte, off int) (line, col int) {
	if off < 0 {
		return 1, 1
	}
	before := src[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// parser walks the YAML tree, collecting problems as it goes.
type parser struct {
	problems []Problem
	// visits counts nodes visited, aliases expanded; over maxNodes, full
	// is set and the walk stops.
	visits int
	full   bool

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
// keys and keys that are not scalars are problems.
func (p *parser) mapping(m *yaml.Node, depth int) []entry {
	out := make([]entry, 0, len(m.Content)/2)
	var merged []entry
	// index finds keys in long mappings; short ones are searched in out.
	var index map[string]int
	find := func(name string) *entry {
		if index != nil {
			if i, ok := index[name]; ok {
				return &out[i]
			}
			return nil
		}
		for i := range out {
			if out[i].name == name {
				return &out[i]
			}
		}
		return nil
	}
	add := func(e entry) {
		out = append(out, e)
		if index == nil && len(out) > 16 {
			index = make(map[string]int, len(m.Content)/2)
			for i, e := range out {
				index[e.name] = i
			}
		} else if index != nil {
			index[e.name] = len(out) - 1
		}
	}
	for i := 0; i+1 < len(m.Content) && !p.full; i += 2 {
		k := p.resolve(m.Content[i])
		switch {
		case k.Kind != yaml.ScalarNode:
			p.errorf(k, "expected a key, found %s", describe(k))
		case k.ShortTag() == "!!merge":
			merged = append(merged, p.merge(m.Content[i+1], depth)...)
		default:
			if first := find(k.Value); first != nil {
				p.errorf(k, "duplicate key %q; first at %d:%d", k.Value, first.key.Line, first.key.Column)
				break
			}
			add(entry{name: k.Value, key: k, val: m.Content[i+1]})
		}
	}
	for _, e := range merged {
		if find(e.name) == nil {
			add(e)
		}
	}
	return out
}

// merge returns the entries a merge key brings in: its value is a mapping
// or a list of mappings.
func (p *parser) merge(v *yaml.Node, depth int) []entry {
	v = p.resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		if p.enter(v, depth+1) {
			return p.mapping(v, depth+1)
		}
	case yaml.SequenceNode:
		if !p.enter(v, depth+1) {
			return nil
		}
		var out []entry
		for _, item := range v.Content {
			if p.full {
				break
			}
			m := p.resolve(item)
			if m.Kind != yaml.MappingNode {
				p.errorf(m, "<<: expected a mapping to merge, found %s", describe(m))
			} else if p.enter(m, depth+2) {
				out = append(out, p.mapping(m, depth+2)...)
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

// suggest returns the allowed word closest to s, if it is close enough to be
// a likely typo: same letters ignoring case, or at most two edits away.
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

// editDistance is the Levenshtein distance between a and b, in bytes; it
// gives up (returning a large value) for long strings.
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
		switch tag := n.ShortTag(); tag {
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
		case "!!binary":
			return "binary data"
		default:
			return "a value tagged " + tag
		}
	}
	return "an unexpected YAML node"
}

// quoteHint is the advice for a scalar that YAML did not read as a string.
func quoteHint(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!timestamp":
		return "; quote it"
	case "!!null":
		if n.Value != "" {
			return "; quote it"
		}
	}
	return ""
}

// str returns the string value of v (resolved).
func (p *parser) str(v *yaml.Node, key string) (string, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		return v.Value, true
	}
	p.errorf(v, "%s: expected a string, found %s%s", key, describe(v), quoteHint(v))
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
	if groupNameRE.MatchString(s) {
		return ""
	}
	for _, r := range s {
		if !groupNameRE.MatchString(string(r)) {
			return fmt.Sprintf("it contains %q", r)
		}
	}
	return "it is not valid UTF-8"
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
			if !ruleNameRE.MatchString(s) {
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
