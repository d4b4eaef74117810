package rules

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// form is the kind of a condition.
type form uint8

// The condition forms, in the order messages list them.
const (
	formAlways form = iota
	formEmailDomain
	formAttribute
	formClientMetadata
	formClientID
	formIdentityProvider
	formAll
	formAny
	formNot
)

var formNames = []string{"always", "emailDomain", "attribute", "clientMetadata", "clientId", "identityProvider", "all", "any", "not"}

func (f form) String() string { return formNames[f] }

// op is an operator of an attribute or clientMetadata condition.
type op uint8

// The operators, in the order messages list them.
const (
	opEquals op = iota
	opNotEquals
	opIn
	opNotIn
	opStartsWith
	opEndsWith
	opContains
	opMatches
	opExists
)

var opNames = []string{"equals", "notEquals", "in", "notIn", "startsWith", "endsWith", "contains", "matches", "exists"}

func (o op) String() string { return opNames[o] }

// operandKeys are the keys allowed beside attribute or clientMetadata.
var operandKeys = append(append([]string(nil), opNames...), "ignoreCase")

// setThreshold is the length from which in and notIn use a map.
const setThreshold = 16

// condition is a compiled condition. It is never modified after Parse.
type condition struct {
	form form
	// text is the condition as written, for explanations.
	text string
	// line and column are the position of the form's key.
	line, column int

	// emailDomain
	domains []domainPattern

	// attribute and clientMetadata
	key        string
	op         op
	ignoreCase bool
	value      string              // equals ... contains; folded when ignoreCase
	values     []string            // in, notIn; folded when ignoreCase. Also clientId and identityProvider.
	set        map[string]struct{} // values as a set, when there are many
	re         *regexp.Regexp      // matches
	exists     bool                // exists
	display    string              // the operand as written: "pro" (quoted) or [pro enterprise]

	// all, any and not (one child)
	children []*condition
}

// condition checks and compiles the condition v (not resolved) at depth.
// where names the key it is the value of, for messages. It returns nil when
// there is a problem.
func (p *parser) condition(v *yaml.Node, depth int, where string) *condition {
	n := p.Resolve(v)
	if p.Full() {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "%s: expected a condition (a mapping with one of %s), found %s", where, strings.Join(formNames, ", "), yamlnode.Describe(n))
		return nil
	}
	if !p.Enter(n, depth) {
		return nil
	}
	before := p.NumProblems()
	var forms, ops, unknown []yamlnode.Entry
	var ignoreCase *yamlnode.Entry
	for _, e := range p.Mapping(n, depth) {
		switch {
		case indexOf(formNames, e.Name) >= 0:
			forms = append(forms, e)
		case indexOf(opNames, e.Name) >= 0:
			ops = append(ops, e)
		case e.Name == "ignoreCase":
			ignoreCase = &e
		default:
			unknown = append(unknown, e)
		}
	}
	operand := len(forms) == 1 && (forms[0].Name == "attribute" || forms[0].Name == "clientMetadata")
	for _, e := range unknown {
		if operand {
			p.UnknownKey(e, "in "+forms[0].Name+" condition", operandKeys)
		} else {
			p.UnknownKey(e, "in condition", formNames)
		}
	}
	switch len(forms) {
	case 0:
		if len(unknown) == 0 {
			p.Errorf(n, "condition has no form; expected one of %s", strings.Join(formNames, ", "))
		}
		return nil
	case 1:
	default:
		names := make([]string, len(forms))
		for i, f := range forms {
			names[i] = f.Name
		}
		p.Errorf(forms[1].Key, "condition has several forms (%s); expected exactly one: combine conditions with all or any",
			strings.Join(names, ", "))
	}
	if !operand && len(forms) == 1 {
		extra := ops
		if ignoreCase != nil {
			extra = append(extra, *ignoreCase)
		}
		for _, e := range extra {
			p.Errorf(e.Key, "%s: only attribute and clientMetadata conditions take an operator or ignoreCase, not %s", e.Name, forms[0].Name)
		}
	}
	var c *condition
	for i, f := range forms {
		if p.Full() {
			return nil
		}
		fc := p.form(f, depth)
		if i == 0 {
			c = fc
		}
	}
	if operand && !p.Full() {
		p.operator(c, forms[0], ops, ignoreCase, depth)
	}
	if p.NumProblems() > before || p.Full() {
		return nil
	}
	c.text = conditionText(c)
	return c
}

// form checks the value of a form key and returns the condition it starts.
func (p *parser) form(f yamlnode.Entry, depth int) *condition {
	c := &condition{form: form(indexOf(formNames, f.Name)), line: f.Key.Line, column: f.Key.Column}
	v := p.Resolve(f.Val)
	switch c.form {
	case formAlways:
		if b, ok := p.Bool(v, f.Name); ok && !b {
			p.Errorf(v, "always: only true is allowed; to negate a condition use not, or delete the rule")
		}
	case formEmailDomain:
		vals, nodes, list, ok := p.StringList(v, f.Name, depth+1, true)
		if !ok {
			return c
		}
		for i, s := range vals {
			d, err := parseDomainPattern(s)
			if err != nil {
				p.Errorf(nodes[i], "emailDomain: invalid domain pattern %q: %s", s, strings.TrimPrefix(err.Error(), "idna: "))
			}
			c.domains = append(c.domains, d)
		}
		c.display = listText(vals, list)
	case formAttribute, formClientMetadata:
		if s, ok := p.Str(v, f.Name); ok {
			if s == "" {
				p.Errorf(v, "%s: expected a name, found an empty string", f.Name)
			}
			c.key = s
		}
	case formClientID, formIdentityProvider:
		vals, nodes, list, ok := p.StringList(v, f.Name, depth+1, true)
		if !ok {
			return c
		}
		for i, s := range vals {
			if s == "" {
				p.Errorf(nodes[i], "%s: expected a name, found an empty string", f.Name)
			}
		}
		c.values = vals
		c.display = listText(vals, list)
	case formAll, formAny:
		if v.Kind != yaml.SequenceNode {
			p.Errorf(v, "%s: expected a list of conditions, found %s", f.Name, yamlnode.Describe(v))
			return c
		}
		if !p.Enter(v, depth+1) {
			return c
		}
		if len(v.Content) == 0 {
			p.Errorf(v, "%s: expected at least one condition, found an empty list", f.Name)
		}
		for _, item := range v.Content {
			if p.Full() {
				return c
			}
			c.children = append(c.children, p.condition(item, depth+2, f.Name))
		}
	case formNot:
		c.children = []*condition{p.condition(f.Val, depth+1, "not")}
	}
	return c
}

// operator checks the operator and ignoreCase of an attribute or
// clientMetadata condition c, whose form key is f.
func (p *parser) operator(c *condition, f yamlnode.Entry, ops []yamlnode.Entry, ignoreCase *yamlnode.Entry, depth int) {
	if ignoreCase != nil {
		c.ignoreCase, _ = p.Bool(p.Resolve(ignoreCase.Val), "ignoreCase")
	}
	switch len(ops) {
	case 0:
		p.Errorf(f.Key, "%s condition has no operator; expected one of %s", f.Name, strings.Join(opNames, ", "))
		return
	case 1:
	default:
		names := make([]string, len(ops))
		for i, o := range ops {
			names[i] = o.Name
		}
		p.Errorf(ops[1].Key, "%s condition has several operators (%s); expected exactly one", f.Name, strings.Join(names, ", "))
	}
	for i, o := range ops {
		target := c
		if i > 0 {
			target = &condition{} // checked for its problems only
		}
		p.operand(target, o, depth)
	}
}

// operand checks the value of the operator o and stores it in c.
func (p *parser) operand(c *condition, o yamlnode.Entry, depth int) {
	c.op = op(indexOf(opNames, o.Name))
	v := p.Resolve(o.Val)
	switch c.op {
	case opEquals, opNotEquals, opStartsWith, opEndsWith, opContains:
		s, ok := p.Str(v, o.Name)
		if !ok {
			return
		}
		c.value = s
		if c.ignoreCase {
			c.value = fold(s)
		}
		c.display = strconv.Quote(s)
	case opIn, opNotIn:
		vals, _, _, ok := p.StringList(v, o.Name, depth+1, false)
		if !ok {
			return
		}
		c.display = listText(vals, true)
		c.values = make([]string, len(vals))
		for i, s := range vals {
			if c.ignoreCase {
				s = fold(s)
			}
			c.values[i] = s
		}
		if len(c.values) >= setThreshold {
			c.set = make(map[string]struct{}, len(c.values))
			for _, s := range c.values {
				c.set[s] = struct{}{}
			}
		}
	case opMatches:
		s, ok := p.Str(v, o.Name)
		if !ok {
			return
		}
		// Check the pattern alone first: its errors then quote what was
		// written, and it cannot close the group that anchors it.
		if _, err := syntax.Parse(s, syntax.Perl); err != nil {
			p.Errorf(v, "matches: invalid regular expression: %v", err)
			return
		}
		expr := `^(?:` + s + `)$`
		if c.ignoreCase {
			expr = `(?i)` + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			p.Errorf(v, "matches: invalid regular expression: %v", err)
			return
		}
		c.re = re
		c.display = strconv.Quote(s)
	case opExists:
		b, ok := p.Bool(v, o.Name)
		if !ok {
			return
		}
		c.exists = b
		c.display = strconv.FormatBool(b)
	}
}

// conditionText renders a condition as written, for explanations.
func conditionText(c *condition) string {
	switch c.form {
	case formAlways:
		return "always"
	case formAttribute, formClientMetadata:
		s := fmt.Sprintf("%s %s %s %s", c.form, c.key, c.op, c.display)
		if c.ignoreCase {
			s += " (ignoreCase)"
		}
		return s
	case formAll, formAny:
		return fmt.Sprintf("%s of %d", c.form, len(c.children))
	case formNot:
		return "not"
	default:
		return c.form.String() + " " + c.display
	}
}

// listText renders values as written: a single value as is, a list in
// brackets.
func listText(vals []string, list bool) string {
	if !list {
		return vals[0]
	}
	return "[" + strings.Join(vals, " ") + "]"
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
