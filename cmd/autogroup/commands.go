package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes, the same for every command.
const (
	exitOK       = 0 // success
	exitProblems = 1 // problems found: a ruleset that does not load (validate), a failing case (test)
	exitUsage    = 2 // usage error or unloadable input
)

const exitCodesHelp = `Exit codes:
  0  success
  1  problems found: a file that does not load or cannot be read (validate),
     a failing case (test)
  2  usage error or unloadable input: bad flags or arguments, an unreadable
     file, a ruleset or cases file that does not load (explain, test)
`

// env is what a command reads and writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand. New commands (backfill, check-pool, ...) are
// one more entry in commands.
type command struct {
	name     string
	args     string // the synopsis after the name, e.g. "[--json] EVENT_FILE"
	summary  string // one line, for the tool's usage
	help     string // description and examples, for the command's usage
	exitHelp string // exit codes, when they differ from exitCodesHelp
	// setup defines the command's flags on fs and returns the function
	// that runs it on the arguments left after the flags.
	setup func(fs *flag.FlagSet) func(e *env, args []string) int
}

// commands is the table of subcommands, in the order usage lists them.
var commands []*command

func init() {
	// Assigned here, not in the declaration: the help command refers to
	// the table.
	commands = []*command{validateCmd, explainCmd, testCmd, helpCmd}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole tool: it runs the command named by args[0] and returns
// the process's exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		toolUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		toolUsage(stdout)
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "autogroup: unknown command %q\n\n", args[0])
		toolUsage(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet("autogroup "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed below
	runCmd := c.setup(fs)
	rest, err := parseFlags(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, c, fs)
		return exitOK
	}
	if err != nil {
		return usageError(e, c.name, "%v", err)
	}
	return runCmd(e, rest)
}

// parseFlags parses the flags of fs in args, which may come before or after
// the positional arguments (explain EVENT --json); "--" ends the flags. It
// returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage error of the command named name and returns
// exitUsage.
func usageError(e *env, name string, format string, args ...any) int {
	c := lookup(name)
	fmt.Fprintf(e.stderr, "autogroup %s: %s\n", c.name, fmt.Sprintf(format, args...))
	fmt.Fprintf(e.stderr, "usage: autogroup %s %s\nRun 'autogroup help %s' for details.\n", c.name, c.args, c.name)
	return exitUsage
}

// toolUsage prints the tool's usage.
func toolUsage(w io.Writer) {
	fmt.Fprint(w, `autogroup checks cognito-autogroup rulesets before they reach a user: it
validates them, explains the groups an event gets, and runs test cases, with
the engine the function runs.

Usage:
  autogroup COMMAND [FLAGS] [ARGS]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'autogroup help COMMAND' or 'autogroup COMMAND --help' for a command's
flags and examples. Flags may be written -flag or --flag.

Example:
  autogroup validate functions/post-confirmation/rules.yaml

`)
	fmt.Fprint(w, exitCodesHelp)
}

// commandUsage prints the usage of c, whose flags are defined on fs.
func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: autogroup %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.help))
	var flags strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if len(f.Name) == 1 {
			left = "-" + f.Name
		}
		if name != "" {
			left += " " + name
		}
		fmt.Fprintf(&flags, "  %-14s %s\n", left, usage)
	})
	fmt.Fprintf(&flags, "  %-14s %s\n", "-h, --help", "show this help")
	fmt.Fprintf(w, "\nFlags:\n%s\n", flags.String())
	if c.exitHelp != "" {
		fmt.Fprint(w, c.exitHelp)
	} else {
		fmt.Fprint(w, exitCodesHelp)
	}
}

var helpCmd = &command{
	name:    "help",
	args:    "[COMMAND]",
	summary: "show the usage of the tool or of a command",
	help: `Prints the usage of COMMAND, or of the tool without one.

Example:
  autogroup help explain`,
	exitHelp: `Exit codes:
  0  success
  2  unknown command
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			switch len(args) {
			case 0:
				toolUsage(e.stdout)
				return exitOK
			case 1:
			default:
				return usageError(e, "help", "expected at most one command, found %d arguments", len(args))
			}
			c := lookup(args[0])
			if c == nil {
				fmt.Fprintf(e.stderr, "autogroup help: unknown command %q\n\n", args[0])
				toolUsage(e.stderr)
				return exitUsage
			}
			cfs := flag.NewFlagSet("autogroup "+c.name, flag.ContinueOnError)
			c.setup(cfs)
			commandUsage(e.stdout, c, cfs)
			return exitOK
		}
	},
}
