package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/ruletest"
)

var testCmd = &command{
	name:    "test",
	args:    "[--rules FILE] [-v] CASES_FILE...",
	summary: "run test cases: the exact groups each described user must get",
	help: `Runs the cases of each CASES_FILE against the ruleset and compares, for each
case, the groups selected with the groups expected, as sets. A cases file is
YAML:

  cases:
    - name: staff at a subdomain            # required, unique in the file
      userAttributes:                       # strings, as Cognito sends them
        email: ravi@eng.example.com
        email_verified: "true"
      triggerSource: PostConfirmation_ConfirmSignUp   # optional, the default
      clientId: 3n4b5urk1ft4fl3mg5e62d9ado  # optional
      clientMetadata: {source: web}         # optional
      groups: [staff]                       # required: the exact set; [] for none

Unknown keys, a missing name or groups, duplicate case names and values that
are not strings are errors, reported as FILE:LINE:COL: message.

For each failing case it prints, on standard output, FAIL FILE:LINE:COL: name,
the groups got and wanted, the missing and unexpected ones, and the rules that
decide them, condition by condition. It then names the rules no case matched,
and ends with the line "N passed, M failed".

Examples:
  autogroup test functions/post-confirmation/rules_test.yaml
  autogroup test --rules my-rules.yaml -v my-cases.yaml`,
	exitHelp: `Exit codes:
  0  every case passes
  1  a case fails
  2  usage error or unloadable input: bad flags, no CASES_FILE, a file that
     cannot be read, a ruleset or cases file that does not load
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		rulesPath := rulesFlag(fs)
		verbose := fs.Bool("v", false, "also list the cases that pass")
		return func(e *env, files []string) int {
			if len(files) == 0 {
				return usageError(e, "test", "expected at least one CASES_FILE")
			}
			_, rs, ok := e.loadRules("test", *rulesPath)
			if !ok {
				return exitUsage
			}
			type file struct {
				name  string
				cases []ruletest.Case
			}
			var loaded []file
			for _, path := range files {
				name, src, err := e.readInput(path)
				if err != nil {
					printf(e.stderr, "%s: cannot read the cases: %v\n", name, err)
					ok = false
					continue
				}
				cases, err := ruletest.Parse(src)
				if err != nil {
					printf(e.stderr, "%s: the cases do not load:\n", name)
					printProblems(e.stderr, name, err)
					ok = false
					continue
				}
				loaded = append(loaded, file{name, cases})
			}
			if !ok {
				return exitUsage
			}
			var results []ruletest.Result
			passed, failed := 0, 0
			for _, f := range loaded {
				for _, c := range f.cases {
					r := ruletest.Run(rs, c)
					results = append(results, r)
					where := fmt.Sprintf("%s:%d:%d", f.name, c.Line, c.Column)
					if r.Passed() {
						passed++
						if *verbose {
							printf(e.stdout, "ok   %s: %s\n", where, c.Name)
						}
						continue
					}
					failed++
					writeFailure(e.stdout, where, rs, &r)
				}
			}
			if names := ruletest.Unmatched(rs, results); len(names) > 0 {
				printf(e.stdout, "no case matches the rules: %s\n", strings.Join(names, ", "))
			}
			printf(e.stdout, "%d passed, %d failed\n", passed, failed)
			if failed > 0 {
				return exitProblems
			}
			return exitOK
		}
	},
}

// writeFailure prints a failing case: the sets, and the rules that decide
// the groups that differ.
func writeFailure(w io.Writer, where string, rs *rules.Ruleset, r *ruletest.Result) {
	x := r.Explanation
	printf(w, "FAIL %s: %s\n", where, r.Case.Name)
	printf(w, "    got:        %s\n", groupList(r.Got))
	printf(w, "    want:       %s\n", groupList(r.Case.Groups))
	if len(r.Missing) > 0 {
		printf(w, "    missing:    %s\n", strings.Join(r.Missing, ", "))
	}
	if len(r.Unexpected) > 0 {
		printf(w, "    unexpected: %s\n", strings.Join(r.Unexpected, ", "))
	}
	if !x.Handled {
		printf(w, "    why:        trigger source %s is not handled (triggerSources: %s): no rule is evaluated\n",
			r.Case.TriggerSource, strings.Join(rs.TriggerSources(), ", "))
		return
	}
	if x.Excluded {
		fmt.Fprintf(w, "    why:        exclude holds: the user is left alone and no rule is evaluated\n")
		writeCondition(w, *x.Exclude, "      ")
		return
	}
	matched := groupList(r.MatchedRules())
	if x.DefaultApplied {
		matched += " (defaultGroups applied)"
	}
	printf(w, "    matched:    %s\n", matched)
	printf(w, "    why:\n")
	defaults := rs.DefaultGroups()
	shown := make(map[string]bool)
	explain := func(group string, wantMatched bool) {
		found := false
		for _, rr := range x.Rules {
			named := rr.GroupsFrom != nil && slices.Contains(rr.GroupsFrom.Groups, group)
			decides := (slices.Contains(rr.Groups, group) || named) && rr.Matched == wantMatched
			// A missing group may be one that a matching rule's
			// groupsFrom did not name: show the values it rejected.
			refused := !wantMatched && rr.Matched && rr.GroupsFrom != nil && len(rr.GroupsFrom.Rejected) > 0
			if !decides && !refused {
				continue
			}
			found = true
			if !shown[rr.Name] {
				shown[rr.Name] = true
				writeRule(w, rr, "      ")
			}
		}
		inDefaults := slices.Contains(defaults, group)
		switch {
		case wantMatched && inDefaults && x.DefaultApplied:
			printf(w, "      %s: from defaultGroups, applied because no rule matched\n", group)
		case !wantMatched && inDefaults && !x.DefaultApplied:
			printf(w, "      %s: in defaultGroups, not applied because a rule matched\n", group)
		case !wantMatched && !found && !inDefaults:
			printf(w, "      %s: no rule of the ruleset selects this group\n", group)
		}
	}
	for _, g := range r.Missing {
		explain(g, false)
	}
	for _, g := range r.Unexpected {
		explain(g, true)
	}
}
