package rules

// attributeForm is "attribute: NAME" with one operator (see operand.go):
// the user attribute NAME satisfies the operator.
var attributeForm = form{name: "attribute", options: operandKeys, compile: func(p *parser, k formKey) test {
	return &attributeTest{p.operand(k)}
}}

// attributeTest is the test of an attribute condition.
type attributeTest struct{ operand }

func (t *attributeTest) eval(e *evaluator, out *ConditionResult) bool {
	v, ok := e.in.UserAttributes[t.key]
	return t.check(v, ok, out, "attribute")
}

func (t *attributeTest) text() string { return t.describe("attribute") }

func (t *attributeTest) reads(_ *Ruleset, add func(string)) { add(t.key) }

func (t *attributeTest) info(ci *ConditionInfo) { ci.Attribute = t.key }

// verified is true for the guard written as
// {attribute: email_verified, equals: "true"}, without ignoreCase.
func (t *attributeTest) verified(*Ruleset) bool {
	return t.key == "email_verified" && t.op == opEquals && t.value == "true" && !t.ignoreCase
}

// warnUnverifiedEmail is the warning on an attribute email condition that
// an unverified address can satisfy.
const warnUnverifiedEmail = `attribute email holds for addresses nobody verified, which anyone can type at sign-up: ` +
	`put it in an all with {attribute: email_verified, equals: "true"}, or use emailDomain`

func (t *attributeTest) lint(l *linter, c *condition) {
	if t.op == opExists && t.ignoreCase {
		l.warn(c.line, c.column, "ignoreCase has no effect on exists")
	}
	if t.key == "email" && !l.path.guarded && !l.path.negated {
		l.warn(c.line, c.column, warnUnverifiedEmail)
	}
	t.lintItems(l, c)
}
