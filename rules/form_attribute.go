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

func (t *attributeTest) lint(l *linter, c *condition) {
	if t.op == opExists && t.ignoreCase {
		l.warn(c.line, c.column, "ignoreCase has no effect on exists")
	}
	t.lintItems(l, c)
}
