package rules

import (
	"fmt"
	"slices"
)

// clientIDForm is "clientId: ID" or "clientId: [ID, ...]": the app client
// (callerContext.clientId) is one of them.
var clientIDForm = form{name: "clientId", compile: compileClientID}

// WarnClientID is the message of the warning Parse gives on every clientId
// condition, at the condition's position (the Line and Column of its
// ConditionInfo, whose Values are the ids). An app client without a secret
// proves nothing but its id, which is public (it is in every web and mobile
// app that uses it), so whoever signs up chooses the condition as they
// choose clientMetadata. A tool that knows every client the condition names
// has a secret may drop the warning, as autogroup check-pool does.
const WarnClientID = "clientId is chosen by the client: an app client without a secret is known by its id alone, which is public; grant privileges on it only if every client it names has a secret (autogroup check-pool checks)"

func compileClientID(p *parser, k formKey) test {
	t := &clientIDTest{}
	t.ids, t.display, _ = p.names(k)
	return t
}

// names checks the value of a form that lists names (clientId,
// identityProvider): a non-empty string or a non-empty list of them. It
// returns them with their text as written.
func (p *parser) names(k formKey) (vals []string, display string, ok bool) {
	vals, nodes, list, ok := p.StringList(p.Resolve(k.Val), k.Name, k.depth+1, true)
	if !ok {
		return nil, "", false
	}
	for i, s := range vals {
		if s == "" {
			p.Errorf(nodes[i], "%s: expected a name, found an empty string", k.Name)
		}
	}
	return vals, listText(vals, list), true
}

// clientIDTest is the test of a clientId condition.
type clientIDTest struct {
	defaults
	ids     []string
	display string // the ids as written
}

func (t *clientIDTest) eval(e *evaluator, out *ConditionResult) bool {
	id := e.in.ClientID
	held := slices.Contains(t.ids, id)
	if out != nil {
		switch {
		case held:
			out.Reason = fmt.Sprintf("client id %q is listed", id)
		case id == "":
			out.Reason = "client id is empty"
		default:
			out.Reason = fmt.Sprintf("client id %q is not listed", id)
		}
	}
	return held
}

func (t *clientIDTest) text() string { return "clientId " + t.display }

func (t *clientIDTest) lint(l *linter, c *condition) { l.warn(c.line, c.column, WarnClientID) }

func (t *clientIDTest) info(ci *ConditionInfo) { ci.Values = slices.Clone(t.ids) }
