package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// Exit codes, the same for every command.
const (
	exitOK          = 0   // success
	exitProblems    = 1   // problems found: a ruleset that does not load (validate), a failing case (test), ...
	exitUsage       = 2   // usage error or unloadable input
	exitChanges     = 3   // a dry run found changes to make (backfill), as terraform plan -detailed-exitcode
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM (backfill), as a shell reports Ctrl-C
)

const exitCodesHelp = `Exit codes:
  0    success
  1    problems found: a file that does not load or cannot be read
       (validate), a failing case (test), a membership not added (backfill),
       an error in the user pool (check-pool), a message not moved (retries)
  2    usage error or unloadable input: bad flags or arguments, an unreadable
       file, a ruleset or cases file that does not load, a user pool or a
       queue that cannot be read
  3    changes pending: a dry run of backfill found memberships to change
  130  interrupted (backfill, retries): backfill's progress is saved in the
       --state file
`

// env is what a command reads and writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// ctx is the context of the Cognito calls.
	ctx context.Context
	// interrupts delivers the signals that ask backfill to stop; nil means
	// the process's SIGINT and SIGTERM.
	interrupts <-chan os.Signal
	// cognito returns the Cognito client of backfill and check-pool; nil
	// means newCognitoClient, configured from the standard AWS
	// environment.
	cognito func(ctx context.Context) (cognitoAPI, error)
	// lambda returns the Lambda client of attach --add-permission; nil
	// means newLambdaClient.
	lambda func(ctx context.Context) (permissionAdder, error)
	// aws are the command's --region, --profile and --endpoint-url; nil
	// for a command that does not talk to AWS.
	aws *awsOptions
	// sqs returns the SQS client of retries and backfill --via-queue; nil
	// means newSQSClient, configured from the standard AWS environment.
	sqs func(ctx context.Context) (sqsAPI, error)
	// stacks returns the CloudFormation client of --stack; nil means
	// newStackClient, configured from the standard AWS environment.
	stacks func(ctx context.Context) (stackAPI, error)
}

// command is one subcommand. New commands (backfill, check-pool, ...) are
// one more entry in commands.
type command struct {
	name     string
	args     string // the synopsis after the name, e.g. "[--json] EVENT_FILE"
	summary  string // one line, for the tool's usage
	help     string // description and examples, for the command's usage
	exitHelp string // exit codes, when they differ from exitCodesHelp
	// aws is true for a command that talks to AWS: it gets --region,
	// --profile and --endpoint-url.
	aws bool
	// setup defines the command's flags on fs and returns the function
	// that runs it on the arguments left after the flags.
	setup func(fs *flag.FlagSet) func(e *env, args []string) int
}

// commands is the table of subcommands, in the order usage lists them.
var commands []*command

func init() {
	// Assigned here, not in the declaration: the help command refers to
	// the table.
	commands = []*command{validateCmd, explainCmd, testCmd, backfillCmd, checkPoolCmd, attachCmd, detachCmd, retriesCmd, publishCmd, versionCmd, helpCmd}
}

// define defines c's flags on fs, the AWS ones included, and returns the
// function that runs it; e receives the AWS flags.
func (c *command) define(e *env, fs *flag.FlagSet) func(*env, []string) int {
	if c.aws {
		e.aws = defineAWSFlags(fs)
	}
	return c.setup(fs)
}

// synopsis returns "autogroup NAME ARGS", without a trailing space for a
// command that takes no arguments.
func (c *command) synopsis() string {
	return strings.TrimSpace("autogroup " + c.name + " " + c.args)
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
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, ctx: context.Background()}
	return e.run(args)
}

// run runs the command named by args[0] in e and returns the exit code.
func (e *env) run(args []string) int {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 {
		toolUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		toolUsage(stdout)
		return exitOK
	case "-version", "--version":
		if len(args) > 1 {
			return usageError(e, "version", "expected no arguments, found %d", len(args)-1)
		}
		fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		printf(stderr, "autogroup: unknown command %q; run 'autogroup help'%s\n", args[0], didYouMean(args[0]))
		return exitUsage
	}
	fs := flag.NewFlagSet("autogroup "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed below
	runCmd := c.define(e, fs)
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

// didYouMean returns " (did you mean \"NAME\"?)" naming the command closest
// to name, when one is close (at most two edits, or a prefix); else "".
func didYouMean(name string) string {
	best, bestD := "", 3
	for _, c := range commands {
		d := editDistance(strings.ToLower(name), c.name)
		if len(name) >= 3 && strings.HasPrefix(c.name, strings.ToLower(name)) {
			d = 1
		}
		if d < bestD {
			best, bestD = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// usageError reports a usage error of the command named name and returns
// exitUsage.
func usageError(e *env, name string, format string, args ...any) int {
	c := lookup(name)
	printf(e.stderr, "autogroup %s: %s\n", c.name, fmt.Sprintf(format, args...))
	fmt.Fprintf(e.stderr, "usage: %s\nRun 'autogroup help %s' for details.\n", c.synopsis(), c.name)
	return exitUsage
}

// toolUsage prints the tool's usage.
func toolUsage(w io.Writer) {
	fmt.Fprint(w, `autogroup checks cognito-autogroup rulesets before they reach a user: it
validates them, explains the groups an event gets, and runs test cases, with
the engine the function runs. It also applies a ruleset to the users a pool
already has (backfill), checks a pool against a ruleset (check-pool),
attaches the functions to an existing pool (attach, detach), shows and moves
back what waits in the retry queue's dead-letter queue (retries), and
publishes a ruleset to AWS AppConfig (publish).

Usage:
  autogroup COMMAND [FLAGS] [ARGS]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'autogroup help COMMAND' or 'autogroup COMMAND --help' for a command's
flags and examples. Flags may be written -flag or --flag.
'autogroup --version' (or 'autogroup version') prints the version.

Example:
  autogroup validate functions/post-confirmation/rules.yaml

`)
	fmt.Fprint(w, exitCodesHelp)
}

// commandUsage prints the usage of c, whose flags are defined on fs.
func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis(), strings.TrimSpace(c.help))
	type row struct{ left, usage string }
	var rows []row
	width := 14 // at least; wider when a flag needs it
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if len(f.Name) == 1 {
			left = "-" + f.Name
		}
		if name != "" {
			left += " " + name
		}
		width = max(width, len(left)+1)
		rows = append(rows, row{left, usage})
	})
	rows = append(rows, row{"-h, --help", "show this help"})
	var flags strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&flags, "  %-*s %s\n", width, r.left, r.usage)
	}
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
				printf(e.stderr, "autogroup help: unknown command %q; run 'autogroup help'%s\n", args[0], didYouMean(args[0]))
				return exitUsage
			}
			cfs := flag.NewFlagSet("autogroup "+c.name, flag.ContinueOnError)
			c.define(e, cfs)
			commandUsage(e.stdout, c, cfs)
			return exitOK
		}
	},
}

var versionCmd = &command{
	name:    "version",
	args:    "",
	summary: "print the tool's version and the commit it was built from",
	help: `Prints the module version and, when the build recorded them, the VCS
revision, whether the tree had uncommitted changes, and the Go version.
"autogroup --version" does the same. A build from a clone (go build, go run)
is "(devel)" or a pseudo-version, with the revision; "go install
github.com/cognito-autogroup/cognito-autogroup/cmd/autogroup@v0.1.0" is
v0.1.0.

Example:
  autogroup version
  autogroup (devel) revision 4cdf4237e1a0 (modified) go1.26.8`,
	exitHelp: `Exit codes:
  0  success
  2  usage error (an argument was given)
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "version", "expected no arguments, found %d", len(args))
			}
			fmt.Fprintln(e.stdout, versionLine(debug.ReadBuildInfo()))
			return exitOK
		}
	},
}

// versionLine describes the build info of the tool, as debug.ReadBuildInfo
// returns it, in one line: "autogroup VERSION [revision REV [(modified)]]
// [GOVERSION]". The version is the main module's: a tag or pseudo-version
// (go install, and go build since Go 1.24), or "(devel)".
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "autogroup (unknown: no build information)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	line := "autogroup " + v
	var rev string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		line += " revision " + rev[:min(len(rev), 12)]
		if modified {
			line += " (modified)"
		}
	}
	if info.GoVersion != "" {
		line += " " + info.GoVersion
	}
	return line
}
