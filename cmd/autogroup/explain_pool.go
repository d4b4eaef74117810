package main

import (
	"io"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/explainjson"
	"github.com/cognito-autogroup/cognito-autogroup/plan"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// explainPoolFlags are explain's flags for a user of a pool.
type explainPoolFlags struct{ pool, user string }

// explainPoolRate paces explain's few reads.
const explainPoolRate = 5.0

// explainPoolOut is the JSON of explain --pool: the explanation, and what
// a backfill would change for the user. The user is named by sub only.
type explainPoolOut struct {
	Pool        string                  `json:"pool"`
	Sub         string                  `json:"sub"`
	Status      string                  `json:"status"`
	Explanation explainjson.Explanation `json:"explanation"`
	Backfill    plan.UserPlan           `json:"backfill"`
}

// explainPoolUser explains the rules on a user as the pool holds them and
// shows the backfill's plan for the user.
func (e *env) explainPoolUser(f explainPoolFlags, rulesPath string, asJSON bool, args []string) int {
	switch {
	case f.pool == "" || f.user == "":
		return usageError(e, "explain", "--pool and --user go together")
	case len(args) > 0:
		return usageError(e, "explain", "with --pool, expected no EVENT_FILE, found %d arguments", len(args))
	}
	rulesName, rs, ok := e.loadRules("explain", rulesPath)
	if !ok {
		return exitUsage
	}
	api, ok := e.cognitoClient("explain", f.pool)
	if !ok {
		return exitUsage
	}
	read := newReader(api, explainPoolRate)
	u, err := read.userBySub(e.ctx, f.pool, f.user)
	if err != nil {
		printf(e.stderr, "autogroup explain: cannot %v\n", err)
		return exitUsage
	}
	existing, err := read.groups(e.ctx, f.pool)
	if err != nil {
		printf(e.stderr, "autogroup explain: cannot %v\n", err)
		return exitUsage
	}
	attrs := make(map[string]string, len(u.Attributes)+1)
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	attrs["cognito:user_status"] = u.Status
	in := rules.Input{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: attrs, Groups: u.Groups}
	if in.Groups == nil {
		in.Groups = []string{}
	}
	x := rs.Explain(in)
	up := plan.NewPlanner(rs).User(plan.Pool{ID: f.pool, Existing: existing}, u)
	if asJSON {
		up.Username = "" // it may be an email address
		return writeJSON(e, explainPoolOut{Pool: f.pool, Sub: f.user, Status: u.Status, Explanation: explainjson.New(rs, in, x), Backfill: up})
	}
	writeExplanation(e.stdout, rulesName, "user "+f.user+" of user pool "+f.pool+" (as Cognito holds them, status "+u.Status+")", rs, in, x)
	writeUserPlan(e.stdout, rs, &up)
	return exitOK
}

// writeUserPlan says what a backfill would change for one user.
func writeUserPlan(w io.Writer, rs *rules.Ruleset, up *plan.UserPlan) {
	printf(w, "\nbackfill:\n")
	switch up.Skip {
	case plan.ReasonStatus:
		printf(w, "  skipped: status %s is not evaluated (the function runs when the user confirms)\n", up.Status)
		return
	case plan.ReasonDisabled:
		printf(w, "  skipped: the user is disabled (backfill --include-disabled evaluates them)\n")
		return
	case plan.ReasonExcluded:
		printf(w, "  nothing: exclude holds for the user, who is left alone\n")
		return
	}
	if wanted := up.Wanted(); len(wanted) > 0 {
		printf(w, "  would add     %s\n", strings.Join(wanted, ", "))
	}
	for _, s := range up.Skipped {
		if s.Reason == plan.ReasonGroupMissing {
			printf(w, "  missing:      group %q does not exist in the pool\n", s.Group)
		}
	}
	if len(up.Remove) > 0 {
		printf(w, "  would remove  %s (managed; no rule selects them)\n", strings.Join(up.Remove, ", "))
	}
	for _, k := range up.Kept {
		printf(w, "  keeps         %s (a rule backfill skips may have given it)\n", k.Group)
	}
	if !up.Changes() {
		printf(w, "  nothing to change\n")
	}
	if !rs.Remove() {
		printf(w, "  (reconcile.remove is off: backfill never removes)\n")
	}
}
