package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/appconfig"
	"github.com/aws/smithy-go"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

var publishCmd = &command{
	name:    "publish",
	args:    "(--app APP --env ENV --profile PROFILE | --stack NAME) [--strategy S] [--pool POOL_ID] [--dry-run] [--json] [--endpoint-url URL] FILE",
	summary: "publish a ruleset to AWS AppConfig and follow its deployment",
	help: `Validates the ruleset FILE (YAML or JSON) exactly as the functions do, then
publishes it to the AWS AppConfig configuration profile the functions read
(RULES_SOURCE=appconfig:APP/ENV/PROFILE): it creates a hosted configuration
version, starts a deployment of it to the environment with the deployment
strategy, and follows the deployment to its end, printing its progress on
standard error. AppConfig runs the profile's validators (the stack's
rules-validator function) before it deploys, and rolls the deployment back
when an alarm of the environment fires during it or its bake time.

With --pool POOL_ID it first shows the change's impact on the users the
pool has now, before anything is published: it reads the ruleset in force
(the version of the environment's latest COMPLETE deployment of the profile,
or the embedded ruleset when there is none), reads the pool as backfill does
(ListUsers, ListUsersInGroup, ListGroups), plans each user under both
rulesets on the groups the user holds, and prints per group how many users
the new ruleset would add (and, with reconcile.remove, remove) beside what
the ruleset in force would, how many users that changes, and up to 5 of
their subs. A pool that cannot be read stops it (exit 2): nothing is
published. Progress goes to standard error; the impact table to standard
output (standard error with --json).

--stack NAME reads the outputs of the CloudFormation stack NAME, deployed
with RulesSource=AppConfig: --app, --env and --profile come from
RulesSourceValue (appconfig:APP/ENV/PROFILE, what the functions read),
--strategy from RulesDeploymentStrategyId (the stack's strategy: all at
once, then a 10 minute bake under its alarm), and --pool from UserPoolId,
so that the impact on the stack's pool is shown before anything is
published (--pool= with no value skips it). A flag given
on the command line wins over the output; a stack deployed with
RulesSource=Embedded has no RulesSourceValue (exit 2).

APP, ENV, PROFILE and S are names or ids. --dry-run validates and shows what
would be published, without calling AWS (but for reading the stack, with
--stack); with --pool it reads AppConfig and
the pool to show the impact, and publishes nothing. With --json, standard
output is one JSON object: application, environment, profile, strategy
(ids), contentType, bytes, version, deployment, state, dryRun, and with
--pool impact (pool, inForce: the
version number or "embedded", inForceDeployment, inForceLoads, users,
changed, remove, groups: per group add, inForceAdd, remove, inForceRemove,
changed, sample, missing).

Credentials and region come from the standard AWS environment (AWS_PROFILE,
AWS_REGION, ...); the AppConfig endpoint from --endpoint-url or
AWS_ENDPOINT_URL_APPCONFIG, the Cognito one from
AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, the CloudFormation one from
AWS_ENDPOINT_URL_CLOUDFORMATION. IAM actions: with --stack
cloudformation:DescribeStacks on the stack;
appconfig:ListApplications, appconfig:ListEnvironments,
appconfig:ListConfigurationProfiles, appconfig:ListDeploymentStrategies,
appconfig:CreateHostedConfigurationVersion, appconfig:StartDeployment,
appconfig:GetDeployment; with --pool also appconfig:ListDeployments,
appconfig:GetHostedConfigurationVersion, cognito-idp:ListUsers,
cognito-idp:ListUsersInGroup, and cognito-idp:ListGroups (for rules with
groupsFrom, memberOf or reconcile.remove).

Examples:
  autogroup publish --stack autogroup --dry-run my-rules.yaml
  autogroup publish --stack autogroup my-rules.yaml
  autogroup publish --app autogroup --env prod --profile rules --dry-run my-rules.yaml
  autogroup publish --app autogroup --env prod --profile rules --pool us-east-1_EXAMPLE --dry-run my-rules.yaml
  autogroup publish --app autogroup --env prod --profile rules my-rules.yaml
  autogroup publish --app autogroup --env prod --profile rules \
      --strategy AppConfig.Linear20PercentEvery6Minutes my-rules.yaml`,
	exitHelp: `Exit codes:
  0  published: the deployment completed (or, with --dry-run, the ruleset loads)
  1  not deployed: the deployment rolled back, or AppConfig refused it (its
     validator found a problem)
  2  usage error or unloadable input: bad flags, a ruleset that cannot be read
     or does not load, an application, environment, profile or strategy not
     found, an AWS call that failed before anything was published, a
     user pool (--pool) that cannot be read, a --stack that cannot be read
     or lacks an output it needs
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o publishOptions
		fs.StringVar(&o.app, "app", "", "the AppConfig application `APP` (name or id)")
		fs.StringVar(&o.env, "env", "", "the AppConfig environment `ENV` (name or id)")
		fs.StringVar(&o.profile, "profile", "", "the configuration profile `PROFILE` (name or id)")
		fs.StringVar(&o.strategy, "strategy", "AppConfig.AllAtOnce", "the deployment strategy `S` (name or id)")
		fs.BoolVar(&o.dryRun, "dry-run", false, "validate and show what would be published, publishing nothing")
		fs.BoolVar(&o.asJSON, "json", false, "print the result as one JSON object")
		fs.StringVar(&o.pool, "pool", "", "first show the impact on the users of the user pool `POOL_ID`")
		fs.StringVar(&o.endpoint, "endpoint-url", "", "the AppConfig `URL` (an emulator's); default from the AWS environment")
		stack := defineStackFlag(fs, "--app, --env, --profile (RulesSourceValue), --strategy and --pool")
		return func(e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "publish", "expected one FILE, found %d arguments", len(args))
			}
			// The file first: a ruleset that does not load stops publish
			// before any AWS call, --stack's included.
			var f publishFile
			var ok bool
			if f.name, f.src, f.rs, ok = e.loadRulesSource("publish", args[0]); !ok {
				return exitUsage
			}
			if _, ok := stack.fill(e, "publish", fillRulesSource, fillStrategy, fillPool); !ok {
				return exitUsage
			}
			for _, f := range []struct{ name, v, or string }{{"app", o.app, " (or --stack)"}, {"env", o.env, " (or --stack)"}, {"profile", o.profile, " (or --stack)"}, {"strategy", o.strategy, ""}} {
				if f.v == "" {
					return usageError(e, "publish", "--%s%s is required", f.name, f.or)
				}
			}
			return e.publish(o, f)
		}
	},
}

// publishFile is the ruleset publish ships: its name, its bytes and what
// they load as.
type publishFile struct {
	name string
	src  []byte
	rs   *rules.Ruleset
}

type publishOptions struct {
	app, env, profile, strategy, endpoint string
	pool                                  string // --pool: preview the impact on it
	dryRun, asJSON                        bool
}

// publishResult is what --json prints.
type publishResult struct {
	Application string `json:"application"`
	Environment string `json:"environment"`
	Profile     string `json:"profile"`
	Strategy    string `json:"strategy"`
	ContentType string `json:"contentType"`
	Bytes       int    `json:"bytes"`
	Version     int32  `json:"version,omitempty"`
	Deployment  int32  `json:"deployment,omitempty"`
	State       string `json:"state,omitempty"`
	DryRun      bool   `json:"dryRun"`
	// Impact is the preview of --pool.
	Impact *publishImpact `json:"impact,omitempty"`
}

// deploymentPoll is how often publish asks for the deployment's state.
var deploymentPoll = 5 * time.Second

func (e *env) publish(o publishOptions, f publishFile) int {
	name, src, rs := f.name, f.src, f.rs
	var ok bool
	res := publishResult{Application: o.app, Environment: o.env, Profile: o.profile, Strategy: o.strategy,
		ContentType: contentType(src), Bytes: len(src), DryRun: o.dryRun}
	if o.dryRun {
		printf(e.stderr, "%s: ok (%s, %s); would publish %d bytes as %s to %s/%s/%s with %s\n", name,
			plural(len(rs.Rules()), "rule", "rules"), plural(len(rs.GroupNames()), "group", "groups"),
			res.Bytes, res.ContentType, o.app, o.env, o.profile, o.strategy)
		if o.pool == "" {
			return e.publishDone(o, res, exitOK)
		}
	}
	api, err := newAppConfigClient(e.ctx, o.endpoint)
	if err != nil {
		printf(e.stderr, "autogroup publish: %v\n", err)
		return exitUsage
	}
	ids, err := resolveIDs(e.ctx, api, o)
	if err != nil {
		printf(e.stderr, "autogroup publish: %v\n", err)
		return exitUsage
	}
	res.Application, res.Environment, res.Profile, res.Strategy = ids.app, ids.env, ids.profile, ids.strategy
	if o.pool != "" {
		w := e.stdout
		if o.asJSON {
			w = e.stderr // standard output holds the JSON only
		}
		if res.Impact, ok = e.impact(o, api, ids, rs, w); !ok {
			return exitUsage
		}
		if o.dryRun {
			return e.publishDone(o, res, exitOK)
		}
	}
	v, err := api.CreateHostedConfigurationVersion(e.ctx, &appconfig.CreateHostedConfigurationVersionInput{
		ApplicationId: &ids.app, ConfigurationProfileId: &ids.profile, Content: src,
		ContentType: aws.String(res.ContentType), Description: aws.String("autogroup publish " + name),
	})
	if err != nil {
		printf(e.stderr, "autogroup publish: create the hosted configuration version: %v\n", apiMessage(err))
		return exitUsage
	}
	res.Version = v.VersionNumber
	printf(e.stderr, "created version %d of %s/%s\n", res.Version, o.app, o.profile)
	d, err := api.StartDeployment(e.ctx, &appconfig.StartDeploymentInput{
		ApplicationId: &ids.app, EnvironmentId: &ids.env, ConfigurationProfileId: &ids.profile,
		ConfigurationVersion: aws.String(strconv.Itoa(int(res.Version))), DeploymentStrategyId: &ids.strategy,
		Description: aws.String("autogroup publish " + name),
	})
	if err != nil {
		printf(e.stderr, "autogroup publish: start the deployment of version %d: %v\n", res.Version, apiMessage(err))
		res.State = "REFUSED"
		return e.publishDone(o, res, exitProblems)
	}
	res.Deployment = d.DeploymentNumber
	printf(e.stderr, "deployment %d of version %d to %s with %s: started\n", res.Deployment, res.Version, o.env, o.strategy)
	state, err := e.follow(api, ids, res.Deployment)
	res.State = state
	if err != nil {
		printf(e.stderr, "autogroup publish: follow deployment %d: %v\n", res.Deployment, apiMessage(err))
		return e.publishDone(o, res, exitProblems)
	}
	if state != "COMPLETE" {
		printf(e.stderr, "deployment %d: %s: version %d is not in force\n", res.Deployment, state, res.Version)
		return e.publishDone(o, res, exitProblems)
	}
	printf(e.stderr, "deployment %d: COMPLETE: version %d is in force in %s\n", res.Deployment, res.Version, o.env)
	return e.publishDone(o, res, exitOK)
}

// publishDone prints res on stdout with --json and returns code.
func (e *env) publishDone(o publishOptions, res publishResult, code int) int {
	if o.asJSON {
		b, _ := json.Marshal(res)
		printf(e.stdout, "%s\n", b)
	}
	return code
}

// follow polls the deployment until it completes or rolls back, printing
// each change of state or progress, and returns the final state.
func (e *env) follow(api appConfigAPI, ids appConfigIDs, n int32) (string, error) {
	last := ""
	for {
		d, err := api.GetDeployment(e.ctx, &appconfig.GetDeploymentInput{ApplicationId: &ids.app, EnvironmentId: &ids.env, DeploymentNumber: &n})
		if err != nil {
			return "", err
		}
		state := string(d.State)
		if now := fmt.Sprintf("%s %.0f%%", state, aws.ToFloat32(d.PercentageComplete)); now != last {
			printf(e.stderr, "deployment %d: %s\n", n, now)
			last = now
		}
		switch state {
		case "COMPLETE", "ROLLED_BACK", "REVERTED":
			return state, nil
		}
		select {
		case <-e.ctx.Done():
			return state, e.ctx.Err()
		case <-time.After(deploymentPoll):
		}
	}
}

// contentType is the Content-Type a ruleset is published with: JSON when
// it starts with {, else YAML.
func contentType(src []byte) string {
	if t := bytes.TrimSpace(src); len(t) > 0 && t[0] == '{' {
		return "application/json"
	}
	return "application/x-yaml"
}

// apiMessage shortens an AWS error to its code and message.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// newAppConfigClient builds the AppConfig control-plane client from the
// standard AWS configuration, at endpoint when it is not empty.
func newAppConfigClient(ctx context.Context, endpoint string) (*appconfig.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return appconfig.NewFromConfig(cfg, func(o *appconfig.Options) {
		if endpoint != "" {
			o.BaseEndpoint = &endpoint
		}
	}), nil
}
