// Command pre-token-generation is the Lambda function attached to a Cognito
// user pool as its PreTokenGeneration trigger (event versions 1, 2 and 3).
// It evaluates the same ruleset as the sign-up function (the shipped
// rules.yaml, embedded; RULES_FILE replaces it) on the user who signs in or
// refreshes, adds the groups the user is missing and returns the event with
// the token's groups filled in. What it does is package pretoken, which a
// team's own PreTokenGeneration function can call instead.
//
// main only wires: logger, handler from the environment, lambda.Start.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-autogroup/cognito-autogroup/pretoken"
)

func main() {
	logger := lambdacontext.NewLogger()
	h, err := pretoken.NewFromEnv(context.Background(), logger, os.Getenv, os.ReadFile)
	if err != nil {
		// Exiting during init fails the function's start; the message holds
		// every problem, so the log says exactly what to fix.
		logger.Error("function did not start", "error", err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h)
}
