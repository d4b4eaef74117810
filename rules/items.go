package rules

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// itemsList is the items setting that reads Cognito's multi-valued form: a
// JSON array of strings, or the bracketed form SAML mappings produce.
const itemsList = "list"

// itemsOption checks the value of an items key (in a condition or in
// groupsFrom): "list" or a non-empty separator.
func (p *parser) itemsOption(v *yaml.Node) string {
	s, ok := p.Str(v, "items")
	if !ok {
		return ""
	}
	if s == "" {
		p.Errorf(v, `items: expected "list" or a separator such as ",", found an empty string`)
	}
	return s
}

// itemsText renders an items setting as written: list, or a quoted
// separator.
func itemsText(mode string) string {
	if mode == itemsList {
		return itemsList
	}
	return strconv.Quote(mode)
}

// splitItems splits the value v into its items as the items setting mode
// says (see the format reference):
//
//   - "list": a JSON array of strings gives its strings, as they are; a
//     value in brackets ("[eng, ops]") gives the text between them split on
//     commas, spaces around each item trimmed and empty items dropped; any
//     other value is a single item. An empty value and "[]" have no items.
//   - any other string is a separator: the items between separators,
//     spaces around each trimmed, empty items dropped.
func splitItems(v, mode string) []string {
	if mode == itemsList {
		t := strings.TrimSpace(v)
		switch {
		case t == "":
			return nil
		case t[0] != '[' || t[len(t)-1] != ']':
			return []string{v}
		}
		if arr, ok := jsonStrings(t); ok {
			return arr
		}
		return splitTrim(t[1:len(t)-1], ",")
	}
	return splitTrim(v, mode)
}

// jsonStrings decodes s when it is a JSON array of strings (null is not a
// string). The common case, strings without escapes, is read without
// encoding/json and without copying.
func jsonStrings(s string) ([]string, bool) {
	if out, ok := plainJSONStrings(s); ok {
		return out, true
	}
	return decodeJSONStrings(s)
}

// plainJSONStrings reads s when it is a JSON array of strings that have no
// escape and no control character and s is valid UTF-8; ok is false for
// anything else, which decodeJSONStrings then reads.
func plainJSONStrings(s string) (out []string, ok bool) {
	if !utf8.ValidString(s) {
		return nil, false
	}
	i := 0
	ws := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	ws()
	if i == len(s) || s[i] != '[' {
		return nil, false
	}
	i++
	ws()
	if i < len(s) && s[i] == ']' {
		i++
		ws()
		return []string{}, i == len(s)
	}
	for {
		if i == len(s) || s[i] != '"' {
			return nil, false
		}
		start := i + 1
		for i = start; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' || s[i] < 0x20 {
				return nil, false
			}
		}
		if i == len(s) {
			return nil, false
		}
		out = append(out, s[start:i])
		i++
		ws()
		if i == len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i++
			ws()
		case ']':
			i++
			ws()
			return out, i == len(s)
		default:
			return nil, false
		}
	}
}

// decodeJSONStrings is jsonStrings with encoding/json.
func decodeJSONStrings(s string) ([]string, bool) {
	var arr []*string
	if json.Unmarshal([]byte(s), &arr) != nil {
		return nil, false
	}
	out := make([]string, len(arr))
	for i, p := range arr {
		if p == nil {
			return nil, false
		}
		out[i] = *p
	}
	return out, true
}

// splitTrim splits s on sep, trims spaces around each part and drops the
// empty ones.
func splitTrim(s, sep string) []string {
	var out []string
	for part := range strings.SplitSeq(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// negated reports whether the operator holds when no item satisfies its
// positive form: notEquals and notIn.
func (o op) negated() bool { return o == opNotEquals || o == opNotIn }

// positive returns the operator a negated one negates.
func (o op) positive() op {
	switch o {
	case opNotEquals:
		return opEquals
	case opNotIn:
		return opIn
	}
	return o
}

// compareItems applies the operator to the items of v: equals, in,
// startsWith, endsWith, contains and matches hold when one item does;
// notEquals and notIn when no item is equal or in the list, so they hold
// when there is no item; exists tests the attribute itself. It returns the
// items and the index of the item that decided, or -1 when none did (no
// item satisfies the positive form of the operator).
func (o *operand) compareItems(v string, present bool) (held bool, items []string, decided int) {
	if o.op == opExists {
		return present == o.exists, nil, -1
	}
	items = splitItems(v, o.items)
	pos := *o
	pos.op = o.op.positive()
	for i, item := range items {
		if pos.compare(item, true) {
			return !o.op.negated(), items, i
		}
	}
	return o.op.negated(), items, -1
}

// itemsReason explains the outcome of compareItems. what is "attribute" or
// "key".
func (o *operand) itemsReason(v string, present bool, items []string, decided int, what string) string {
	if o.op == opExists {
		return o.reason(v, present, present == o.exists, what)
	}
	verb := positiveVerbs[o.op.positive()]
	var s string
	switch {
	case decided >= 0:
		s = fmt.Sprintf("item %q (%d of %d) %s %s", items[decided], decided+1, len(items), verb, o.display)
	case !present:
		s = fmt.Sprintf("%s is absent, so no item %s %s", what, verb, o.display)
	case len(items) == 0:
		s = fmt.Sprintf("value %q has no items, so no item %s %s", v, verb, o.display)
	default:
		s = fmt.Sprintf("no item of %q %s %s", items, verb, o.display)
	}
	if o.ignoreCase {
		s += " (ignoring case)"
	}
	return s
}

// positiveVerbs say what an item that satisfies an operator does.
var positiveVerbs = map[op]string{
	opEquals:     "equals",
	opIn:         "is one of",
	opStartsWith: "starts with",
	opEndsWith:   "ends with",
	opContains:   "contains",
	opMatches:    "matches",
}

// check evaluates the operand on the value v (present tells whether the
// attribute or key exists) and, when out is not nil, sets its reason.
// what is "attribute" or "key".
func (o *operand) check(v string, present bool, out *ConditionResult, what string) bool {
	if o.items == "" {
		held := o.compare(v, present)
		if out != nil {
			out.Reason = o.reason(v, present, held, what)
		}
		return held
	}
	held, items, decided := o.compareItems(v, present)
	if out != nil {
		out.Reason = o.itemsReason(v, present, items, decided, what)
	}
	return held
}

// lintItems warns about items that cannot matter: on exists, which tests
// the attribute itself.
func (o *operand) lintItems(l *linter, c *condition) {
	if o.op == opExists && o.items != "" {
		l.warn(c.line, c.column, "items has no effect on exists, which tests the attribute itself")
	}
}
