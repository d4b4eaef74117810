// Command rules-validator is the AWS AppConfig LAMBDA validator of the
// ruleset's configuration profile. AppConfig calls it with each version
// before deploying it: it answers nothing when the ruleset loads, and fails
// (so Lambda sets X-Amz-Function-Error and AppConfig refuses the version)
// with every problem as NAME:LINE:COL: message, the check the functions make
// when they load a ruleset (rulesource.ValidatorEvent.Validate).
//
// main only wires: logger, lambda.Start.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

func main() {
	lambda.Start(handler(lambdacontext.NewLogger()))
}

// handler returns the validator: it logs each verdict (the version and its
// problems, never the content) and returns Validate's error.
func handler(logger *slog.Logger) func(context.Context, rulesource.ValidatorEvent) error {
	return func(ctx context.Context, ev rulesource.ValidatorEvent) error {
		attrs := []any{"applicationId", ev.ApplicationID, "configurationProfileId", ev.ConfigurationProfileID,
			"configurationVersion", ev.ConfigurationVersion}
		if err := ev.Validate(); err != nil {
			logger.ErrorContext(ctx, "ruleset refused", append(attrs, "error", err.Error())...)
			return err
		}
		logger.InfoContext(ctx, "ruleset accepted", attrs...)
		return nil
	}
}
