package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/explainjson"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

var explainCmd = &command{
	name:    "explain",
	aws:     true,
	args:    "[--rules FILE] [--groups G1,G2] [--json] EVENT_FILE | --pool POOL_ID --user SUB",
	summary: "show which groups an event gets, and why, condition by condition",
	help: `Evaluates the ruleset on a PostConfirmation event, as the function would,
and prints the groups selected and why: for each rule, whether it matched and
the outcome of each condition evaluated, with its reason (✓ holds, ✗ fails);
the rules after a matching rule with stop: true are "not evaluated"; then
whether defaultGroups applied. EVENT_FILE is the event as Cognito sends it
(see events/); "-" reads standard input. Attribute and clientMetadata values
must be strings, as Cognito sends them.

A ruleset with exclude shows its outcome first: a user it holds for is left
alone and no rule is evaluated. A rule with groupsFrom shows the groups it
named and why each value that named none was rejected (without the value).
--groups gives the user's current groups, which memberOf conditions (and so
a hold group in exclude) read; a PostConfirmation event carries none, and
a PreTokenGeneration event (a triggerSource TokenGeneration_...) carries the
user's groups in groupConfiguration, which --groups replaces.

With --pool POOL_ID --user SUB instead of EVENT_FILE, it evaluates the rules
on the user as Cognito holds them: the attributes from ListUsers (found by
sub), cognito:user_status set to the user's status, and the current groups
from AdminListGroupsForUser, as a PostConfirmation_ConfirmSignUp; then it
shows what a backfill would change for the user: the groups to add and, with
reconcile.remove, to remove (the backfill's planner, for one user). IAM
actions: cognito-idp:ListUsers, cognito-idp:ListGroups and
cognito-idp:AdminListGroupsForUser.

Reasons quote attribute values: share the output with care.

With --json, prints one JSON object: triggerSource, handled, groups,
defaultApplied, defaultGroups, and rules, each with name, evaluated, matched,
stopped, groups and condition (form, text, held, reason, children; null when
the rule was not evaluated). Only when they apply: currentGroups; excluded and
exclude (a condition) for a ruleset with exclude; dropped, the groups beyond
the 100 one decision may select; and a rule's groupsFrom (text, values,
groups, rejected, reason).

Examples:
  autogroup explain events/signup-engineer.json
  autogroup explain --rules my-rules.yaml --json events/federated-google.json
  autogroup explain --rules my-rules.yaml --groups autogroup-hold events/signup-engineer.json
  autogroup explain --pool us-east-1_EXAMPLE --user 4a1c7d52-0000-4000-8000-000000000000`,
	exitHelp: `Exit codes:
  0  explained, whatever the groups (none included)
  2  usage error or unloadable input: bad flags, an unreadable or malformed
     event, a ruleset that cannot be read or does not load, a user pool
     that cannot be read, no user with the --user sub
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		rulesPath := rulesFlag(fs)
		asJSON := fs.Bool("json", false, "print the explanation as one JSON object")
		var current groupsFlag
		fs.Var(&current, "groups", "the user's current `GROUPS`, comma separated, as memberOf reads them")
		var pf explainPoolFlags
		fs.StringVar(&pf.pool, "pool", "", "explain a user of the user pool `POOL_ID` (with --user) instead of an event")
		fs.StringVar(&pf.user, "user", "", "with --pool, the `SUB` of the user to explain")
		return func(e *env, args []string) int {
			if pf.pool != "" || pf.user != "" {
				return e.explainPoolUser(pf, *rulesPath, *asJSON, args)
			}
			if len(args) != 1 {
				return usageError(e, "explain", "expected one EVENT_FILE, found %d arguments", len(args))
			}
			rulesName, rs, ok := e.loadRules("explain", *rulesPath)
			if !ok {
				return exitUsage
			}
			name, src, err := e.readInput(args[0])
			if err != nil {
				printf(e.stderr, "%s: cannot read the event: %v\n", name, err)
				return exitUsage
			}
			in, err := trigger.DecodeInput(src)
			if err != nil {
				var evErr *trigger.EventError
				if errors.As(err, &evErr) {
					for _, p := range evErr.Problems {
						printf(e.stderr, "%s\n", p.Format(name))
					}
				} else {
					printf(e.stderr, "%s: %v\n", name, err)
				}
				return exitUsage
			}
			// --groups replaces the groups a token event carries.
			if current.groups != nil {
				in.Groups = current.groups
			}
			x := rs.Explain(in)
			if *asJSON {
				return writeJSON(e, explainjson.New(rs, in, x))
			}
			writeExplanation(e.stdout, rulesName, name, rs, in, x)
			return exitOK
		}
	},
}

// writeExplanation prints x as text.
func writeExplanation(w io.Writer, rulesName, eventName string, rs *rules.Ruleset, in rules.Input, x rules.Explanation) {
	printf(w, "ruleset: %s\n", rulesName)
	printf(w, "event:   %s\n", eventName)
	if !x.Handled {
		printf(w, "trigger: %s, not handled (triggerSources: %s)\n", in.TriggerSource, strings.Join(rs.TriggerSources(), ", "))
		printf(w, "groups:  none\n\n")
		printf(w, "trigger source %s is not handled: no groups; no rule is evaluated and Cognito is not called\n", in.TriggerSource)
		return
	}
	printf(w, "trigger: %s, handled\n", in.TriggerSource)
	if in.Groups != nil || rs.UsesGroups() {
		printf(w, "current: %s\n", groupList(in.Groups))
	}
	printf(w, "groups:  %s\n\n", groupList(x.Groups))
	if x.Exclude != nil {
		printf(w, "exclude:\n")
		writeCondition(w, *x.Exclude, "    ")
		if x.Excluded {
			printf(w, "\nexcluded: the user is left alone: no group is added or removed, and no rule is evaluated\n")
			return
		}
		printf(w, "\n")
	}
	for _, r := range x.Rules {
		writeRule(w, r, "")
	}
	printf(w, "\n")
	writeDefaults(w, rs.DefaultGroups(), x)
	if x.Dropped > 0 {
		printf(w, "dropped: %d more groups were selected; one decision selects at most %d (Cognito's limit per user)\n", x.Dropped, rules.MaxGroupsPerUser)
	}
}

// groupsFlag is a comma-separated list of group names.
type groupsFlag struct{ groups []string }

func (f *groupsFlag) String() string { return strings.Join(f.groups, ",") }

func (f *groupsFlag) Set(s string) error {
	f.groups = []string{}
	for g := range strings.SplitSeq(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			f.groups = append(f.groups, g)
		}
	}
	return nil
}

// writeRule prints one rule's outcome and its condition tree, indented.
func writeRule(w io.Writer, r rules.RuleResult, indent string) {
	switch {
	case !r.Evaluated:
		printf(w, "%s- %s: not evaluated (after stop)\n", indent, r.Name)
		return
	case r.Matched && r.Stopped:
		printf(w, "%s✓ %s: matched, adds %s; stop: later rules are not evaluated\n", indent, r.Name, ruleAdds(r))
	case r.Matched:
		printf(w, "%s✓ %s: matched, adds %s\n", indent, r.Name, ruleAdds(r))
	default:
		printf(w, "%s✗ %s: no match\n", indent, r.Name)
	}
	if r.Condition != nil {
		writeCondition(w, *r.Condition, indent+"    ")
	}
	if f := r.GroupsFrom; f != nil {
		printf(w, "%s    groupsFrom %s — %s\n", indent, f.Text, f.Reason)
		for _, g := range f.Groups {
			printf(w, "%s        ✓ %s\n", indent, g)
		}
		for _, why := range f.Rejected {
			printf(w, "%s        ✗ %s\n", indent, why)
		}
	}
}

// ruleAdds lists the groups a matching rule adds: its groups, then those
// its groupsFrom named.
func ruleAdds(r rules.RuleResult) string {
	groups := r.Groups
	if r.GroupsFrom != nil {
		groups = append(slices.Clone(groups), r.GroupsFrom.Groups...)
	}
	if len(groups) == 0 {
		return "no group"
	}
	return strings.Join(groups, ", ")
}

// writeCondition prints a condition's outcome and those of the
// sub-conditions evaluated.
func writeCondition(w io.Writer, c rules.ConditionResult, indent string) {
	mark := "✗"
	if c.Held {
		mark = "✓"
	}
	printf(w, "%s%s %s — %s\n", indent, mark, c.Text, c.Reason)
	for _, ch := range c.Children {
		writeCondition(w, ch, indent+"    ")
	}
}

// writeDefaults says whether defaultGroups applied.
func writeDefaults(w io.Writer, defaults []string, x rules.Explanation) {
	switch {
	case x.DefaultApplied:
		printf(w, "defaultGroups %s: applied, no rule matched\n", groupList(defaults))
	case len(defaults) > 0:
		printf(w, "defaultGroups %s: not applied, a rule matched\n", groupList(defaults))
	case len(x.Groups) == 0:
		printf(w, "no rule matched and defaultGroups is empty: no groups\n")
	}
}

// groupList formats groups for text output.
func groupList(groups []string) string {
	if len(groups) == 0 {
		return "none"
	}
	return strings.Join(groups, ", ")
}

// writeJSON prints v as indented JSON on stdout, made visible (see
// visibleJSON).
func writeJSON(e *env, v any) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		printf(e.stderr, "autogroup: %v\n", err)
		return exitUsage
	}
	if _, err := e.stdout.Write(visibleJSON(b.Bytes())); err != nil {
		printf(e.stderr, "autogroup: %v\n", err)
		return exitUsage
	}
	return exitOK
}
