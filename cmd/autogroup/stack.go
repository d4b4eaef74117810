package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// stackAPI is what --stack calls. *cloudformation.Client implements it.
type stackAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// stackFill is one output of the stack and the flags it fills.
type stackFill struct {
	output string // the output's key, such as UserPoolId
	// parameter reads the stack's parameter of that key instead.
	parameter bool
	flags     []string // the flags it fills, without the dashes
	// split turns the value into one value per flag; nil: the value fills
	// the one flag.
	split func(string) ([]string, error)
	// need makes a missing output a usage error, when one of the flags it
	// fills was not given; else a missing output leaves them empty.
	need bool
	// onlyWith names an output the stack must also have for this one to
	// fill anything (the stack's mode); missing, it counts as missing.
	onlyWith string
	// missing says why the output may be missing and what to do; the
	// message goes on with "pass --FLAG".
	missing string
}

// The outputs of template.yaml that --stack reads, with the reason each
// may be missing.
var (
	fillPool = stackFill{output: "UserPoolId", flags: []string{"pool"}, need: true,
		missing: "is it a cognito-autogroup stack, and is its deployment complete?"}
	fillPostConfirmation = stackFill{output: "PostConfirmationFunctionArn", flags: []string{"post-confirmation"}, need: true,
		missing: "is it a cognito-autogroup stack, and is its deployment complete?"}
	// fillPreToken is optional: a stack deployed with
	// TokenFunction=Disabled has no token function.
	fillPreToken = stackFill{output: "PreTokenGenerationFunctionArn", flags: []string{"pre-token-generation"}}
	// fillTokenVersion is the stack's TokenEventVersion parameter, for its
	// token function (attach drops it when that is left out).
	fillTokenVersion = stackFill{output: "TokenEventVersion", parameter: true, flags: []string{"token-event-version"}}
	fillRulesSource  = stackFill{output: "RulesSourceValue", flags: []string{"app", "env", "profile"}, need: true,
		split:   splitRulesSource,
		missing: "it was deployed with RulesSource=Embedded, so its functions read no AppConfig profile; deploy it with RulesSource=AppConfig"}
	// fillStrategy is optional: a stack deployed before the output existed
	// lacks it, and publish keeps its default strategy.
	fillStrategy        = stackFill{output: "RulesDeploymentStrategyId", flags: []string{"strategy"}}
	fillDeadLetterQueue = stackFill{output: "AssignmentRetryDeadLetterQueueUrl", flags: []string{"queue"}, need: true,
		missing: "it was deployed with RetryQueue=Disabled, so it has no retry queue"}
	fillRetryQueue = stackFill{output: "AssignmentRetryQueueUrl", flags: []string{"to"}, need: true,
		missing: "it was deployed with RetryQueue=Disabled, so it has no retry queue"}
	// fillExistingPool fills --pool only for a stack that serves a pool it
	// does not manage: a stack that created its pool set the pool's
	// triggers itself, and attach or detach would drift from it.
	fillExistingPool = stackFill{output: "UserPoolId", flags: []string{"pool"}, need: true, onlyWith: "AttachTriggerToExistingPool",
		missing: "the stack created its user pool and set the pool's triggers itself (CloudFormation manages them); to attach its functions to another pool"}
)

// splitRulesSource splits a RulesSourceValue, appconfig:APP/ENV/PROFILE,
// into APP, ENV and PROFILE.
func splitRulesSource(v string) ([]string, error) {
	id, err := rulesource.ParseAppConfigID(v)
	if err != nil {
		return nil, err
	}
	return []string{id.Application, id.Environment, id.Profile}, nil
}

// stackFlag is the --stack flag of a command.
type stackFlag struct {
	fs   *flag.FlagSet
	name string
}

// defineStackFlag defines --stack on fs; fills lists the flags the command
// takes from the stack, for the flag's usage.
func defineStackFlag(fs *flag.FlagSet, fills string) *stackFlag {
	s := &stackFlag{fs: fs}
	fs.StringVar(&s.name, "stack", "", "take "+fills+" from the outputs of the CloudFormation stack `NAME` (cloudformation:DescribeStacks); flags given win")
	return s
}

// fill sets the flags of fills that were not given on the command line
// from the outputs of the stack --stack names; without --stack it does
// nothing. It returns the flags it set, or false after reporting on
// standard error why it could not (a usage error: exit 2).
func (s *stackFlag) fill(e *env, cmd string, fills ...stackFill) (map[string]bool, bool) {
	if s.name == "" {
		return nil, true
	}
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	st, err := e.describeStack(s.name)
	if err != nil {
		printf(e.stderr, "autogroup %s: %v\n", cmd, err)
		return nil, false
	}
	outputs, params := map[string]string{}, map[string]string{}
	for _, o := range st.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range st.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	set := map[string]bool{}
	for _, f := range fills {
		var wanted []string
		for _, name := range f.flags {
			if !given[name] {
				wanted = append(wanted, name)
			}
		}
		if len(wanted) == 0 {
			continue
		}
		v, ok := outputs[f.output]
		if f.parameter {
			v, ok = params[f.output]
		}
		if f.onlyWith != "" {
			_, with := outputs[f.onlyWith]
			ok = ok && with
		}
		if !ok || v == "" {
			if !f.need {
				continue
			}
			printf(e.stderr, "autogroup %s: stack %s (%s) has no output %s: %s; pass --%s\n",
				cmd, s.name, st.StackStatus, f.output, f.missing, strings.Join(wanted, ", --"))
			return nil, false
		}
		values := []string{v}
		if f.split != nil {
			if values, err = f.split(v); err != nil {
				printf(e.stderr, "autogroup %s: stack %s: output %s: %v\n", cmd, s.name, f.output, err)
				return nil, false
			}
		}
		for i, name := range f.flags {
			if given[name] {
				continue
			}
			if err := s.fs.Set(name, values[i]); err != nil {
				printf(e.stderr, "autogroup %s: stack %s: output %s: --%s: %v\n", cmd, s.name, f.output, name, err)
				return nil, false
			}
			set[name] = true
		}
	}
	return set, true
}

// describeStack reads the stack named name with DescribeStacks.
func (e *env) describeStack(name string) (*types.Stack, error) {
	var (
		api stackAPI
		err error
	)
	if e.stacks != nil {
		api, err = e.stacks(e.ctx)
	} else {
		api, err = newStackClient(e.ctx, e.aws)
	}
	if err != nil {
		return nil, err
	}
	out, err := api.DescribeStacks(e.ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist"),
		err == nil && len(out.Stacks) == 0:
		return nil, fmt.Errorf("stack %s not found: check --stack, and the region (--region or AWS_REGION)", name)
	case errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "AccessDenied"):
		return nil, fmt.Errorf("cannot read stack %s: %s (the caller needs IAM permission cloudformation:DescribeStacks on the stack)", name, apiMessage(err))
	case err != nil:
		return nil, fmt.Errorf("cannot read stack %s: %s", name, apiMessage(err))
	}
	return &out.Stacks[0], nil
}

// newStackClient builds the CloudFormation client from the standard AWS
// configuration and the flags o (nil: none). AWS_ENDPOINT_URL_CLOUDFORMATION
// points it at an emulator.
func newStackClient(ctx context.Context, o *awsOptions) (*cloudformation.Client, error) {
	if o == nil {
		o = &awsOptions{none: true}
	}
	cfg, err := loadAWSConfig(ctx, o, "")
	if err != nil {
		return nil, err
	}
	return cloudformation.NewFromConfig(cfg), nil
}
