package rules

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

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

// operandKeys are the options of attribute and clientMetadata conditions:
// an operator, ignoreCase and items.
var operandKeys = append(slices.Clone(opNames), "ignoreCase", "items")

// operandOnly says which forms take operandKeys, for an option written
// beside another form.
const operandOnly = "only attribute and clientMetadata conditions take an operator, ignoreCase or items"

// setThreshold is the length from which in and notIn use a map.
const setThreshold = 16

// operand is what attribute and clientMetadata conditions share: the name
// of the value they read and the operator they apply to it.
type operand struct {
	defaults
	key        string
	op         op
	ignoreCase bool
	items      string              // the items setting (items.go); "" for a single value
	value      string              // equals ... contains; folded when ignoreCase
	values     []string            // in, notIn; folded when ignoreCase
	set        map[string]struct{} // values as a set, when there are many
	re         *regexp.Regexp      // matches
	exists     bool                // exists
	display    string              // the operand as written: "pro" (quoted) or [pro enterprise]
}

// operand checks the key k of an attribute or clientMetadata condition:
// the name of the value and, when the form is alone, its options.
func (p *parser) operand(k formKey) operand {
	var o operand
	v := p.Resolve(k.Val)
	if s, ok := p.Str(v, k.Name); ok {
		if s == "" {
			p.Errorf(v, "%s: expected a name, found an empty string", k.Name)
		}
		o.key = s
	}
	if k.alone && !p.Full() {
		p.operator(&o, k)
	}
	return o
}

// operator checks the operator, ignoreCase and items written beside k
// into o.
func (p *parser) operator(o *operand, k formKey) {
	var ops []yamlnode.Entry
	for _, e := range k.opts {
		switch e.Name {
		case "ignoreCase":
			o.ignoreCase, _ = p.Bool(p.Resolve(e.Val), "ignoreCase")
		case "items":
			o.items = p.itemsOption(p.Resolve(e.Val))
		default:
			ops = append(ops, e)
		}
	}
	switch len(ops) {
	case 0:
		p.Errorf(k.Key, "%s condition has no operator; expected one of %s", k.Name, strings.Join(opNames, ", "))
		return
	case 1:
	default:
		names := make([]string, len(ops))
		for i, e := range ops {
			names[i] = e.Name
		}
		p.Errorf(ops[1].Key, "%s condition has several operators (%s); expected exactly one", k.Name, strings.Join(names, ", "))
	}
	for i, e := range ops {
		target := o
		if i > 0 {
			target = &operand{} // checked for its problems only
		}
		p.operatorValue(target, e, k.depth)
	}
}

// operatorValue checks the value of the operator e and stores it in o.
func (p *parser) operatorValue(o *operand, e yamlnode.Entry, depth int) {
	o.op = op(indexOf(opNames, e.Name))
	v := p.Resolve(e.Val)
	switch o.op {
	case opEquals, opNotEquals, opStartsWith, opEndsWith, opContains:
		s, ok := p.Str(v, e.Name)
		if !ok {
			return
		}
		o.value = s
		if o.ignoreCase {
			o.value = fold(s)
		}
		o.display = strconv.Quote(s)
	case opIn, opNotIn:
		vals, _, _, ok := p.StringList(v, e.Name, depth+1, false)
		if !ok {
			return
		}
		o.display = listText(vals, true)
		o.values = make([]string, len(vals))
		for i, s := range vals {
			if o.ignoreCase {
				s = fold(s)
			}
			o.values[i] = s
		}
		if len(o.values) >= setThreshold {
			o.set = make(map[string]struct{}, len(o.values))
			for _, s := range o.values {
				o.set[s] = struct{}{}
			}
		}
	case opMatches:
		s, ok := p.Str(v, e.Name)
		if !ok {
			return
		}
		if o.re = p.pattern(v, s, o.ignoreCase); o.re != nil {
			o.display = strconv.Quote(s)
		}
	case opExists:
		b, ok := p.Bool(v, e.Name)
		if !ok {
			return
		}
		o.exists = b
		o.display = strconv.FormatBool(b)
	}
}

// pattern compiles the RE2 pattern s, the value v of a matches key,
// anchored at both ends (and case-insensitive when ignoreCase). It returns
// nil when s is not a valid pattern, which it records.
func (p *parser) pattern(v *yaml.Node, s string, ignoreCase bool) *regexp.Regexp {
	// Check the pattern alone first: its errors then quote what was
	// written, and it cannot close the group that anchors it.
	if _, err := syntax.Parse(s, syntax.Perl); err != nil {
		p.Errorf(v, "matches: invalid regular expression: %v", err)
		return nil
	}
	expr := `^(?:` + s + `)$`
	if ignoreCase {
		expr = `(?i)` + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		p.Errorf(v, "matches: invalid regular expression: %v", err)
		return nil
	}
	return re
}

// describe renders the condition as written, for its form's text.
func (o *operand) describe(form string) string {
	s := fmt.Sprintf("%s %s %s %s", form, o.key, o.op, o.display)
	if o.items != "" {
		s += " (items " + itemsText(o.items) + ")"
	}
	if o.ignoreCase {
		s += " (ignoreCase)"
	}
	return s
}

// compare applies the operator to v; present tells whether the attribute
// or key exists. An absent value compares as "".
func (o *operand) compare(v string, present bool) bool {
	if o.op == opExists {
		return present == o.exists
	}
	if o.op == opMatches {
		return o.re.MatchString(v) // (?i) already in the pattern
	}
	if o.ignoreCase {
		v = fold(v)
	}
	switch o.op {
	case opEquals:
		return v == o.value
	case opNotEquals:
		return v != o.value
	case opIn:
		return o.in(v)
	case opNotIn:
		return !o.in(v)
	case opStartsWith:
		return strings.HasPrefix(v, o.value)
	case opEndsWith:
		return strings.HasSuffix(v, o.value)
	case opContains:
		return strings.Contains(v, o.value)
	}
	return false
}

// in reports whether v is one of the (folded) values of an in or notIn.
func (o *operand) in(v string) bool {
	if o.set != nil {
		_, ok := o.set[v]
		return ok
	}
	return slices.Contains(o.values, v)
}

// reason explains the outcome of compare. what is "attribute" or "key".
func (o *operand) reason(v string, present, held bool, what string) string {
	if o.op == opExists {
		if present {
			return what + " is present"
		}
		return what + " is absent"
	}
	subject := fmt.Sprintf("value %q", v)
	if !present {
		subject = what + ` is absent, so value ""`
	}
	var verb string
	switch o.op {
	case opEquals:
		verb = pick(held, "equals", "is not")
	case opNotEquals:
		verb = pick(held, "is not", "equals")
	case opIn:
		verb = pick(held, "is one of", "is not one of")
	case opNotIn:
		verb = pick(held, "is none of", "is one of")
	case opStartsWith:
		verb = pick(held, "starts with", "does not start with")
	case opEndsWith:
		verb = pick(held, "ends with", "does not end with")
	case opContains:
		verb = pick(held, "contains", "does not contain")
	case opMatches:
		verb = pick(held, "matches", "does not match")
	}
	s := subject + " " + verb + " " + o.display
	if o.ignoreCase {
		s += " (ignoring case)"
	}
	return s
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
