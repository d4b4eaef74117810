// Command autogroup checks, explains and tests cognito-autogroup rulesets
// before they reach a user, with the engine the function runs (package
// rules): no logic of its own.
//
//	autogroup validate FILE...                        every problem and warning, FILE:LINE:COL
//	autogroup explain [--rules FILE] [--json] EVENT   which groups an event gets, and why
//	autogroup test [--rules FILE] CASES...            expected groups per user, checked
//
// Run "autogroup help" for the flags, the exit codes and examples.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
