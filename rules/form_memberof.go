package rules

import (
	"fmt"
	"slices"
)

// memberOfForm is "memberOf: G" or "memberOf: [G, ...]": the user belongs
// now to one of the groups (Input.Groups). Callers read a user's groups
// only for a ruleset that has such a condition (Ruleset.UsesGroups).
var memberOfForm = form{name: "memberOf", compile: compileMemberOf}

func compileMemberOf(p *parser, k formKey) test {
	t := &memberOfTest{}
	vals, nodes, list, ok := p.StringList(p.Resolve(k.Val), k.Name, k.depth+1, true)
	if !ok {
		return t
	}
	for i, s := range vals {
		p.groupName(nodes[i], k.Name, s)
	}
	t.groups, t.display = vals, listText(vals, list)
	return t
}

// memberOfTest is the test of a memberOf condition.
type memberOfTest struct {
	defaults
	groups  []string
	display string // the groups as written
}

func (t *memberOfTest) eval(e *evaluator, out *ConditionResult) bool {
	for _, g := range e.in.Groups {
		if slices.Contains(t.groups, g) {
			if out != nil {
				out.Reason = fmt.Sprintf("member of %q", g)
			}
			return true
		}
	}
	if out != nil {
		switch len(e.in.Groups) {
		case 0:
			out.Reason = "the user belongs to no group"
		default:
			out.Reason = fmt.Sprintf("not a member of %s; the user's groups are %v", t.display, e.in.Groups)
		}
	}
	return false
}

func (t *memberOfTest) text() string { return "memberOf " + t.display }

// readsGroups marks the tests that read Input.Groups (see UsesGroups).
func (t *memberOfTest) readsGroups() bool { return true }
