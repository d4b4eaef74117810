// Command post-confirmation is the Lambda function attached to a Cognito
// user pool as its PostConfirmation trigger. It evaluates the ruleset
// (rules.yaml, embedded; RULES_FILE replaces it) on the confirmed user and
// adds the user to the groups it selects, then returns the event unchanged.
//
// main only wires: logger, configuration, ruleset, SDK client, lambda.Start.
package main

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

//go:embed rules.yaml
var embeddedRules []byte

func main() {
	logger := lambdacontext.NewLogger()
	h, err := newHandler(logger, os.Getenv, os.ReadFile)
	if err != nil {
		// Exiting during init fails the function's start; the message holds
		// every problem, so the log says exactly what to fix.
		logger.Error("function did not start", "error", err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// newHandler builds the handler from the environment: the ruleset, the
// membership options and the Cognito client.
func newHandler(logger *slog.Logger, getenv func(string) string, readFile func(string) ([]byte, error)) (*handler, error) {
	rs, err := loadRules(getenv("RULES_FILE"), readFile)
	if err != nil {
		return nil, err
	}
	opts, err := membershipOptions(getenv)
	if err != nil {
		return nil, err
	}
	client, err := membership.NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return &handler{rules: rs, adder: membership.NewAdder(client, opts), log: logger}, nil
}

// loadRules parses the ruleset named by path, or the embedded one when path
// is empty. The error lists every problem as NAME:LINE:COL: message.
func loadRules(path string, readFile func(string) ([]byte, error)) (*rules.Ruleset, error) {
	name, src := "rules.yaml (embedded)", embeddedRules
	if path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("RULES_FILE: %w", err)
		}
		name, src = path, b
	}
	rs, err := rules.Parse(src)
	if err != nil {
		problems := rules.Problems(err)
		if len(problems) == 0 {
			return nil, fmt.Errorf("ruleset %s: %w", name, err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "ruleset %s does not load (%d problems):", name, len(problems))
		for _, p := range problems {
			fmt.Fprintf(&b, "\n%s:%s", name, p.Error())
		}
		return nil, errors.New(b.String())
	}
	return rs, nil
}

// membershipOptions reads the tuning variables. Unset means the default.
func membershipOptions(getenv func(string) string) (membership.Options, error) {
	var o membership.Options
	if v := getenv("AUTOGROUP_BUDGET_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 60000 {
			return o, fmt.Errorf("AUTOGROUP_BUDGET_MS: want milliseconds from 100 to 60000, got %q", v)
		}
		o.Budget = time.Duration(n) * time.Millisecond
	}
	if v := getenv("AUTOGROUP_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return o, fmt.Errorf("AUTOGROUP_CONCURRENCY: want a number from 1 to 100, got %q", v)
		}
		o.Concurrency = n
	}
	return o, nil
}
