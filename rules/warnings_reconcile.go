package rules

import (
	"strings"
)

// cognitoSetAttributes are the user attributes that only Cognito sets
// (with those named "cognito:..."): app clients cannot write them, so users
// cannot choose their values. email_verified and phone_number_verified are
// also set by administrators, never by users themselves.
var cognitoSetAttributes = []string{"sub", "email_verified", "phone_number_verified", "identities"}

// userMayWrite reports whether users may be able to write the attribute
// through an app client: whether it is not one that Cognito alone sets.
func userMayWrite(attribute string) bool {
	return !strings.HasPrefix(attribute, "cognito:") && indexOf(cognitoSetAttributes, attribute) < 0
}

// lintReconcile records the warnings of groupsFrom, exclude and reconcile.
func (rs *Ruleset) lintReconcile(l *linter) {
	for i := range rs.rules {
		if f := rs.rules[i].from; f != nil && userMayWrite(f.attribute) {
			l.warn(f.attrLine, f.attrColumn, "groupsFrom: users may be able to write %s (Cognito alone sets only sub, email_verified, phone_number_verified, identities and cognito:*): a user who picks the value picks the group; make sure no app client can write it (autogroup check-pool reports those that can)", f.attribute)
		}
	}
	if c := rs.exclude; c != nil {
		walk(c, func(c *condition) { c.test.lint(l, c) })
		switch c.test.truth() {
		case alwaysTrue:
			l.warn(c.line, c.column, "exclude always holds: every user is left alone and no group is ever added")
		case alwaysFalse:
			l.warn(c.line, c.column, "exclude can never hold: its condition is always false")
		}
	}
	seen := make(map[string]bool, len(rs.reconcile.managed))
	for j, g := range rs.reconcile.managed {
		n := l.p.managedGroupNodes[j]
		switch {
		case seen[g]:
			l.at(n, "managedGroups: duplicate group %q", g)
		case !rs.CanSelect(g):
			l.at(n, "managedGroups: no rule can select group %q: with remove: true, reconciling removes every member from it (unless exclude holds for them)", g)
		}
		seen[g] = true
	}
	if rs.reconcile.remove && rs.reconcile.listed && len(rs.reconcile.managed) == 0 && l.p.removeNode != nil {
		l.at(l.p.removeNode, "reconcile: remove is true but managedGroups is empty: nothing is ever removed")
	}
}
