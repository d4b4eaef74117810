package main

import (
	"flag"
	"fmt"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

var validateCmd = &command{
	name:    "validate",
	args:    "FILE...",
	summary: "check rulesets: every problem and warning, as FILE:LINE:COL",
	help: `Checks each ruleset FILE (YAML or JSON, format version 1) exactly as the
function does when it loads one, and reports every problem at once. "-" reads
standard input.

Output, on standard output, one line each, in file order:
  FILE:LINE:COL: message            a problem: the file does not load
  FILE:LINE:COL: warning: message   the file loads, but something is doubtful
                                    (clientMetadata conditions, a rule that
                                    never matches or is never evaluated, ...)
  FILE: ok (N rules, M groups)      the file loads; M groups can be selected
                                    (and K warnings, when there are any)
A file that cannot be read is reported on standard error as
"FILE: cannot read: reason".
The FILE:LINE:COL lines suit editors' and CI problem matchers.

Examples:
  autogroup validate functions/post-confirmation/rules.yaml
  autogroup validate rules/*.yaml`,
	exitHelp: `Exit codes:
  0  every file loads (warnings do not change it)
  1  a file does not load or cannot be read
  2  usage error: no FILE, bad flags
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, files []string) int {
			if len(files) == 0 {
				return usageError(e, "validate", "expected at least one FILE")
			}
			code := exitOK
			for _, f := range files {
				if !e.validate(f) {
					code = exitProblems
				}
			}
			return code
		}
	},
}

// validate checks one file and reports whether it loads.
func (e *env) validate(path string) bool {
	name, src, err := e.readInput(path)
	if err != nil {
		printf(e.stderr, "%s: cannot read: %v\n", name, err)
		return false
	}
	rs, err := rules.Parse(src)
	if err != nil {
		printProblems(e.stdout, name, err)
		return false
	}
	for _, w := range rs.Warnings() {
		w.Message = "warning: " + w.Message
		printf(e.stdout, "%s\n", w.Format(name))
	}
	counts := plural(len(rs.Rules()), "rule", "rules") + ", " + plural(len(rs.GroupNames()), "group", "groups")
	if n := len(rs.GroupPatterns()); n > 0 {
		counts += ", " + plural(n, "groupsFrom", "groupsFrom")
	}
	if n := len(rs.Warnings()); n > 0 {
		counts += ", " + plural(n, "warning", "warnings")
	}
	printf(e.stdout, "%s: ok (%s)\n", name, counts)
	return true
}

// plural formats n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
