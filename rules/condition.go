package rules

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// A condition form is one unit, in its own file form_NAME.go: a form value
// (its name, its options, its compile function) and the type of its
// compiled test, which evaluates and explains the condition and says what
// it reads, what is known of it without an input and what is doubtful about
// it. Adding a form is that file, its entry in forms below, its definition
// in schema.json and its row in the format reference; no switch elsewhere
// names forms.

// form is one condition form: the key that names it in a ruleset and how
// its value compiles.
type form struct {
	// name is the form's key, as in "emailDomain".
	name string
	// options are the other keys a condition of this form may have (the
	// operators and ignoreCase of attribute and clientMetadata); nil for a
	// form that takes none.
	options []string
	// compile checks the form's key k and returns its test. It records
	// every problem in p; the test is dropped when there is one.
	compile func(p *parser, k formKey) test
}

// formKey is a form's key in a condition, as its compile function sees it.
type formKey struct {
	yamlnode.Entry     // the key and its value, not resolved
	depth          int // the depth of the condition
	// alone is set when this is the only form of its condition; opts are
	// then the option keys written beside it. A condition with several
	// forms is wrong already: only each key's value is checked.
	alone bool
	opts  []yamlnode.Entry
}

// forms are the condition forms, in the order messages list them. They are
// set by init: the forms that hold conditions compile them with
// parser.condition, which looks forms up here.
var forms []*form

// formNames are the names of forms, in order, for messages.
var formNames []string

func init() {
	forms = []*form{
		&alwaysForm,
		&emailDomainForm,
		&attributeForm,
		&clientMetadataForm,
		&clientIDForm,
		&identityProviderForm,
		&memberOfForm,
		&allForm,
		&anyForm,
		&notForm,
	}
	for _, f := range forms {
		formNames = append(formNames, f.name)
	}
}

// formNamed returns the form called name, or nil.
func formNamed(name string) *form {
	for _, f := range forms {
		if f.name == name {
			return f
		}
	}
	return nil
}

// isOption reports whether name is an option of some form.
func isOption(name string) bool {
	for _, f := range forms {
		if indexOf(f.options, name) >= 0 {
			return true
		}
	}
	return false
}

// test is the compiled test of one condition of one form. It is never
// modified after Parse, and is safe for concurrent use.
type test interface {
	// eval reports whether the condition holds for e's input. When out is
	// not nil it sets out.Reason, and out.Children for the forms that
	// hold conditions; when out is nil it builds no string.
	eval(e *evaluator, out *ConditionResult) bool
	// text renders the condition as written, for explanations, as in
	// `attribute custom:plan equals "pro"`.
	text() string
	// reads calls add with each user attribute the condition itself (not
	// its sub-conditions) reads.
	reads(rs *Ruleset, add func(attribute string))
	// sub returns the conditions the condition holds (all, any, not).
	sub() []*condition
	// truth tells what is known of the condition without an input.
	truth() truth
	// lint records what is doubtful about the condition c itself; l.path
	// tells what is known of c from the conditions around it.
	lint(l *linter, c *condition)
	// info sets what ConditionInfo says of the form beyond its name and
	// position: Attribute and Values.
	info(ci *ConditionInfo)
	// verified reports whether the condition holds only for a user whose
	// email_verified attribute is "true".
	verified(rs *Ruleset) bool
	// negates reports whether the condition holds when its only
	// sub-condition does not (not).
	negates() bool
}

// defaults gives a test the most common answers: it holds no condition,
// reads no user attribute, depends on its input, has nothing doubtful about
// it, names no attribute or value in its ConditionInfo, does not require a
// verified email address and negates nothing. Tests embed it and override
// what differs.
type defaults struct{}

func (defaults) reads(*Ruleset, func(string)) {}
func (defaults) sub() []*condition            { return nil }
func (defaults) truth() truth                 { return unknown }
func (defaults) lint(*linter, *condition)     {}
func (defaults) info(*ConditionInfo)          {}
func (defaults) verified(*Ruleset) bool       { return false }
func (defaults) negates() bool                { return false }

// condition is a compiled condition: its form, its test, and what
// explanations and warnings say of it. It is never modified after Parse.
type condition struct {
	form *form
	test test
	// text is the condition as written, for explanations.
	text string
	// line and column are the position of the form's key.
	line, column int
}

// walk calls f for c and its sub-conditions, depth first, in order.
func walk(c *condition, f func(*condition)) {
	f(c)
	for _, ch := range c.test.sub() {
		walk(ch, f)
	}
}

// path is what is known of a condition from the conditions around it in
// its rule, and from itself.
type path struct {
	// negated is set under an odd number of not.
	negated bool
	// guarded is set when the condition can only help a user whose
	// email_verified is "true": it, or a condition around it, holds only
	// for such a user and is under an even number of not. The rule can
	// then hold because of the condition only when that one holds too.
	guarded bool
}

// walkPath calls f for c and its sub-conditions, depth first, in order,
// with the path of each; at is the path of c from the conditions around
// it (path{} for a rule's when).
func walkPath(rs *Ruleset, c *condition, at path, f func(*condition, path)) {
	if !at.negated && c.test.verified(rs) {
		at.guarded = true
	}
	f(c, at)
	if c.test.negates() {
		at.negated = !at.negated
	}
	for _, ch := range c.test.sub() {
		walkPath(rs, ch, at, f)
	}
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
	var found []*form
	var keys, opts, unknownKeys []yamlnode.Entry
	for _, e := range p.Mapping(n, depth) {
		switch f := formNamed(e.Name); {
		case f != nil:
			found, keys = append(found, f), append(keys, e)
		case isOption(e.Name):
			opts = append(opts, e)
		default:
			unknownKeys = append(unknownKeys, e)
		}
	}
	var only *form // the form, when there is exactly one
	if len(found) == 1 {
		only = found[0]
	}
	if only != nil && only.options != nil {
		// Options of other forms are unknown keys here.
		own := opts[:0] // filtered in place
		for _, e := range opts {
			if indexOf(only.options, e.Name) >= 0 {
				own = append(own, e)
			} else {
				unknownKeys = append(unknownKeys, e)
			}
		}
		opts = own
	}
	for _, e := range unknownKeys {
		if only != nil && only.options != nil {
			p.UnknownKey(e, "in "+only.name+" condition", only.options)
		} else {
			p.UnknownKey(e, "in condition", formNames)
		}
	}
	switch len(found) {
	case 0:
		if len(unknownKeys) == 0 {
			p.Errorf(n, "condition has no form; expected one of %s", strings.Join(formNames, ", "))
		}
		return nil
	case 1:
		if only.options == nil {
			for _, e := range opts {
				p.Errorf(e.Key, "%s: %s, not %s", e.Name, operandOnly, only.name)
			}
		}
	default:
		names := make([]string, len(found))
		for i, f := range found {
			names[i] = f.name
		}
		p.Errorf(keys[1].Key, "condition has several forms (%s); expected exactly one: combine conditions with all or any",
			strings.Join(names, ", "))
	}
	var c *condition
	for i, f := range found {
		if p.Full() {
			return nil
		}
		k := formKey{Entry: keys[i], depth: depth, alone: only != nil}
		if k.alone {
			k.opts = opts
		}
		t := f.compile(p, k)
		if i == 0 {
			c = &condition{form: f, test: t, line: k.Key.Line, column: k.Key.Column}
		}
	}
	if p.NumProblems() > before || p.Full() {
		return nil
	}
	c.text = c.test.text()
	return c
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
