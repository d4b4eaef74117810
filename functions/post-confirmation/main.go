// Command post-confirmation is the Lambda function attached to a Cognito
// user pool as its PostConfirmation trigger. It evaluates the ruleset (the
// shipped rules.yaml, embedded; RULES_FILE replaces it) on the confirmed user
// and adds the user to the groups it selects, then returns the event
// unchanged. What it does is package postconfirm, which a team's own
// PostConfirmation function can call instead.
//
// main only wires: logger, handler from the environment, lambda.Start.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-autogroup/cognito-autogroup/postconfirm"
)

func main() {
	logger := lambdacontext.NewLogger()
	h, err := postconfirm.NewFromEnv(context.Background(), logger, os.Getenv, os.ReadFile)
	if err != nil {
		// Exiting during init fails the function's start; the message holds
		// every problem, so the log says exactly what to fix.
		logger.Error("function did not start", "error", err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h)
}
