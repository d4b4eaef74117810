// Command autogroup checks, explains and tests cognito-autogroup rulesets
// before they reach a user, with the engine the function runs (package
// rules): no logic of its own. It also applies a ruleset to the users a pool
// already has, adding memberships with package membership as the function
// does, and checks a pool's configuration against a ruleset.
//
//	autogroup validate FILE...                        every problem and warning, FILE:LINE:COL
//	autogroup explain [--rules FILE] [--json] EVENT   which groups an event gets, and why
//	autogroup test [--rules FILE] CASES...            expected groups per user, checked
//	autogroup backfill --pool ID [--apply] [--state FILE]  existing users added to their groups
//	autogroup check-pool --pool ID                    groups, attributes, app clients, trigger
//	autogroup version                                 the version and commit (also --version)
//
// Run "autogroup help" for the flags, the exit codes and examples.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
