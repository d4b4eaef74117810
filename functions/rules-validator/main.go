// Command rules-validator is the AWS AppConfig LAMBDA validator of the
// ruleset's configuration profile. AppConfig calls it with each version
// before deploying it: it answers nothing when the ruleset loads, and fails
// (so Lambda sets X-Amz-Function-Error and AppConfig refuses the version)
// with every problem as NAME:LINE:COL: message, the check the functions make
// when they load a ruleset (rulesource.ValidatorEvent.Ruleset).
//
// With AUTOGROUP_USER_POOL_ID set, a ruleset that loads must also find in
// that user pool every group it can be known to select
// (rules.Ruleset.KnownGroups), checked with GetGroup: a group the pool
// lacks, or one that cannot be checked in time, refuses the version.
//
// main only wires: logger, Cognito client, lambda.Start.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/poolcheck"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

func main() {
	logger := lambdacontext.NewLogger()
	check, err := newPoolCheck(os.Getenv, poolcheck.Options{})
	if err != nil {
		logger.Error("the validator cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler(logger, check))
}

// handler returns the validator: it logs each verdict (the version, the
// pool and the problems, never the content) and returns the ruleset's
// error, or with check (nil: none) the pool's.
func handler(logger *slog.Logger, check *poolcheck.Check) func(context.Context, rulesource.ValidatorEvent) error {
	return func(ctx context.Context, ev rulesource.ValidatorEvent) error {
		start := time.Now()
		attrs := []any{"applicationId", ev.ApplicationID, "configurationProfileId", ev.ConfigurationProfileID,
			"configurationVersion", ev.ConfigurationVersion}
		rs, err := ev.Ruleset()
		if err == nil && check != nil {
			var n int
			n, err = check.Run(ctx, start, ev, rs)
			attrs = append(attrs, "userPoolId", check.PoolID(), "groupsChecked", n, "durationMs", time.Since(start).Milliseconds())
		}
		if err != nil {
			logger.ErrorContext(ctx, "ruleset refused", append(attrs, "error", err.Error())...)
			return err
		}
		logger.InfoContext(ctx, "ruleset accepted", attrs...)
		return nil
	}
}

// poolVariable names the user pool whose groups a version must find.
const poolVariable = "AUTOGROUP_USER_POOL_ID"

// newPoolCheck returns the check of the pool AUTOGROUP_USER_POOL_ID names,
// through a client with membership's settings (membership.NewClientFromEnv),
// bounded by o; nil when the variable is unset or empty: no pool check.
func newPoolCheck(getenv func(string) string, o poolcheck.Options) (*poolcheck.Check, error) {
	id := getenv(poolVariable)
	if id == "" {
		return nil, nil
	}
	api, err := membership.NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: Cognito client: %w", poolVariable, err)
	}
	return poolcheck.New(api, id, o), nil
}
