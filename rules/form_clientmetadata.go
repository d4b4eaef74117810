package rules

// clientMetadataForm is "clientMetadata: KEY" with one operator (see
// operand.go): the request.clientMetadata value under KEY satisfies the
// operator. The client sends these values and Cognito does not check them.
var clientMetadataForm = form{name: "clientMetadata", options: operandKeys, compile: func(p *parser, k formKey) test {
	return &clientMetadataTest{p.operand(k)}
}}

// warnClientMetadata is the warning on every clientMetadata condition.
const warnClientMetadata = "clientMetadata is sent by the client and not checked by Cognito: never grant privileges on it"

// clientMetadataTest is the test of a clientMetadata condition.
type clientMetadataTest struct{ operand }

func (t *clientMetadataTest) eval(e *evaluator, out *ConditionResult) bool {
	v, ok := e.in.ClientMetadata[t.key]
	return t.check(v, ok, out, "key")
}

func (t *clientMetadataTest) text() string { return t.describe("clientMetadata") }

func (t *clientMetadataTest) lint(l *linter, c *condition) {
	l.warn(c.line, c.column, warnClientMetadata)
	t.lintItems(l, c)
}
