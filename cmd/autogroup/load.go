package main

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"

	"github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// defaultRules is the ruleset the commands use without --rules: the shipped
// one, relative to the current directory (the repository root).
const defaultRules = autogroup.ShippedRulesPath

// stdinName is how messages name the standard input, read for "-".
const stdinName = "<stdin>"

// rulesFlag defines --rules on fs.
func rulesFlag(fs *flag.FlagSet) *string {
	return fs.String("rules", "", "the ruleset `FILE` (default "+defaultRules+")")
}

// readInput reads the file named by path, or standard input for "-". It
// returns the name to print in messages.
func (e *env) readInput(path string) (name string, src []byte, err error) {
	if path == "-" {
		src, err = io.ReadAll(e.stdin)
		return stdinName, src, err
	}
	src, err = os.ReadFile(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the message names the file already
	}
	return path, src, err
}

// loadRules reads and parses the ruleset of a command: path, or
// defaultRules when path is empty. On failure it prints why to stderr, every
// problem as FILE:LINE:COL: message, and returns ok false.
func (e *env) loadRules(cmd, path string) (name string, rs *rules.Ruleset, ok bool) {
	name, _, rs, ok = e.loadRulesSource(cmd, path)
	return name, rs, ok
}

// loadRulesSource is loadRules that also returns the ruleset's source.
func (e *env) loadRulesSource(cmd, path string) (name string, src []byte, rs *rules.Ruleset, ok bool) {
	if path == "" {
		path = defaultRules
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			printf(e.stderr, "autogroup %s: no ruleset: %s does not exist in this directory; pass --rules FILE\n", cmd, path)
			return path, nil, nil, false
		}
	}
	name, src, err := e.readInput(path)
	if err != nil {
		printf(e.stderr, "%s: cannot read the ruleset: %v\n", name, err)
		return name, nil, nil, false
	}
	rs, err = rules.Parse(src)
	if err != nil {
		printf(e.stderr, "%s: the ruleset does not load:\n", name)
		printProblems(e.stderr, name, err)
		return name, nil, nil, false
	}
	return name, src, rs, true
}

// printProblems prints the problems carried by err, one per line, as
// NAME:LINE:COL: message (see rules.FormatProblems), or NAME: err when it
// carries none.
func printProblems(w io.Writer, name string, err error) {
	ps := rules.Problems(err)
	if len(ps) == 0 {
		printf(w, "%s: %v\n", name, err)
	}
	for _, p := range ps {
		printf(w, "%s\n", p.Format(name))
	}
}
