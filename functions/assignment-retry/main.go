// Command assignment-retry is the Lambda function behind the retry queue's
// event source mapping (ReportBatchItemFailures). For each SQS message it
// adds the user to the message's groups, at AUTOGROUP_RETRY_RATE calls per
// second, and answers with the messages SQS is to deliver again; the logic
// is package retry's. With AUTOGROUP_VERIFY_USER (true unless false) it
// first reads the user back, as the sign-up function does.
//
// main only wires: logger, ruleset, configuration, SDK client, lambda.Start.
// The ruleset (the embedded one, or RULES_FILE) is loaded as the sign-up
// function loads it, and the function refuses to start on one that does not
// load, so that both always act on the same rules.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retry"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

func main() {
	logger := lambdacontext.NewLogger()
	c, err := newConsumer(context.Background(), logger, os.Getenv, os.ReadFile)
	if err != nil {
		// Exiting during init fails the function's start; the message holds
		// every problem, so the log says exactly what to fix.
		logger.Error("function did not start", "error", err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(c.Handle)
}

// newConsumer builds the consumer from the environment: the ruleset, the
// rate, the Cognito client and, unless AUTOGROUP_VERIFY_USER is false, the
// check that the message's user is the one Cognito holds and is not
// excluded (retry.VerifyUser).
func newConsumer(ctx context.Context, logger *slog.Logger, getenv func(string) string, readFile func(string) ([]byte, error)) (*retry.Consumer, error) {
	holder, err := rulesource.Load(ctx, rulesource.FromEnv(getenv, readFile), logger)
	if err != nil {
		return nil, err
	}
	opts, err := retry.OptionsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	verify, err := membership.VerifyUserFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := membership.NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	if verify {
		// AdminGetUser and AdminListGroupsForUser are in the
		// UserResourceRead category, not UserUpdate: the rate does not
		// bound them.
		opts.Verify = retry.VerifyUser(membership.NewReader(client, membership.Options{}), client)
	}
	return retry.New(client, holder, logger, opts)
}
