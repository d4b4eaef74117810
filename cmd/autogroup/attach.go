package main

import (
	"bufio"
	"flag"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

const attachCommon = `UpdateUserPool resets every setting of the pool it is not given, so the
command reads the pool (DescribeUserPool) and sends its whole current
configuration back with only the trigger changed: the other triggers, the
policies, MFA, email and SMS settings, tags and so on stay as they are.
Without --yes it shows the change to LambdaConfig and asks for y before
changing anything.

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...).
IAM actions on the pool: cognito-idp:DescribeUserPool and
cognito-idp:UpdateUserPool; with --stack, cloudformation:DescribeStacks on
the stack.`

const attachExitHelp = `Exit codes:
  0  the pool has the triggers asked for (changed, or already so)
  1  not changed: the answer was not y, or (detach) the trigger runs another
     function
  2  usage error, a user pool that cannot be read or updated, or a --stack
     that cannot be read or lacks an output it needs
`

var attachCmd = &command{
	name:    "attach",
	aws:     true,
	args:    "(--pool POOL_ID --post-confirmation ARN [--pre-token-generation ARN [--token-event-version V1_0|V2_0]] | --stack NAME) [--add-permission] [--yes]",
	summary: "attach the functions to an existing user pool as its triggers",
	help: `Sets the pool's PostConfirmation trigger (and, with
--pre-token-generation, its PreTokenGeneration trigger) to the functions
given, such as the stack outputs PostConfirmationFunctionArn.

` + attachCommon + `

--token-event-version V1_0 works on every feature plan and sets the groups
in both tokens; V2_0 (access token claims) needs the Essentials or Plus plan.
The pool can invoke the functions only when their resource policies allow
it: the stack's template adds that permission for the pool it names
(ExistingUserPoolId). --add-permission adds it too, before the triggers are
set (lambda:AddPermission, principal cognito-idp.amazonaws.com, for this pool
and its account only); one that is already there is left as it is.

--stack NAME reads the outputs of the CloudFormation stack NAME: the
functions' ARNs (PostConfirmationFunctionArn, and PreTokenGenerationFunctionArn
with the stack's TokenEventVersion when it has the token function) and,
when the stack serves an existing pool (ExistingUserPoolId), the pool
(UserPoolId). A stack that created its pool set that pool's triggers
itself: --pool is then required. A PreTokenGeneration trigger of another
function is not replaced by the stack's (exit 1): pass
--pre-token-generation to replace it. Flags given win over the outputs.

Examples:
  autogroup attach --pool us-east-1_EXAMPLE --post-confirmation arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmation
  autogroup attach --pool us-east-1_EXAMPLE --post-confirmation ARN --pre-token-generation ARN2 --yes
  autogroup attach --stack autogroup`,
	exitHelp: attachExitHelp,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return triggerFlags(fs, "attach")
	},
}

var detachCmd = &command{
	name:    "detach",
	aws:     true,
	args:    "(--pool POOL_ID [--post-confirmation ARN] [--pre-token-generation ARN] | --stack NAME) [--yes]",
	summary: "remove the functions from a user pool's triggers",
	help: `Removes the pool's PostConfirmation and PreTokenGeneration triggers named by
the flags, at least one. A trigger that runs another function than the one
named is left as it is, and nothing is changed.

--stack NAME takes the pool and the ARNs from the outputs of the
CloudFormation stack NAME, as attach does; a PreTokenGeneration trigger
that is not set is then left alone, as the stack's token function may never
have been attached.

` + attachCommon + `

Example:
  autogroup detach --pool us-east-1_EXAMPLE --post-confirmation arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmation
  autogroup detach --stack autogroup`,
	exitHelp: attachExitHelp,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return triggerFlags(fs, "detach")
	},
}

// lambdaARN matches a Lambda function ARN, with an optional version or
// alias.
var lambdaARN = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$`)

// triggerFlags defines the flags of attach and detach (cmd) on fs.
func triggerFlags(fs *flag.FlagSet, cmd string) func(*env, []string) int {
	pool := fs.String("pool", "", "the user pool `POOL_ID`, such as us-east-1_EXAMPLE")
	post := fs.String("post-confirmation", "", "the PostConfirmation function's `ARN`")
	token := fs.String("pre-token-generation", "", "the PreTokenGeneration function's `ARN`")
	var version *string
	if cmd == "attach" {
		version = fs.String("token-event-version", "", "the PreTokenGeneration event `VERSION`, V1_0 (default) or V2_0")
	}
	var addPermission *bool
	if cmd == "attach" {
		addPermission = fs.Bool("add-permission", false, "also let the pool invoke the functions (lambda:AddPermission)")
	}
	yes := fs.Bool("yes", false, "change the pool without asking")
	fills := []stackFill{fillExistingPool, fillPostConfirmation, fillPreToken}
	what := "--pool, --post-confirmation and --pre-token-generation"
	if cmd == "attach" {
		fills = append(fills, fillTokenVersion)
		what = "--pool, --post-confirmation, --pre-token-generation and --token-event-version"
	}
	stack := defineStackFlag(fs, what)
	return func(e *env, args []string) int {
		if len(args) > 0 {
			return usageError(e, cmd, "unexpected argument %q", args[0])
		}
		filled, ok := stack.fill(e, cmd, fills...)
		if !ok {
			return exitUsage
		}
		if filled["token-event-version"] && *token == "" {
			*version = "" // the version of a token function left out
		}
		if *pool == "" {
			return usageError(e, cmd, "--pool or --stack is required")
		}
		c := triggerChange{postConfirmation: *post, preToken: *token, detach: cmd == "detach", addPermission: addPermission != nil && *addPermission,
			preTokenFromStack: filled["pre-token-generation"]}
		switch {
		case cmd == "attach" && *post == "":
			return usageError(e, cmd, "--post-confirmation is required")
		case cmd == "detach" && *post == "" && *token == "":
			return usageError(e, cmd, "--post-confirmation or --pre-token-generation is required")
		}
		for flagName, arn := range map[string]string{"--post-confirmation": *post, "--pre-token-generation": *token} {
			if arn != "" && !lambdaARN.MatchString(arn) {
				return usageError(e, cmd, "%s %q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", flagName, arn)
			}
		}
		if version != nil {
			switch {
			case *version != "" && *token == "":
				return usageError(e, cmd, "--token-event-version needs --pre-token-generation")
			case *version == "" || *version == "V1_0":
				c.tokenVersion = types.PreTokenGenerationLambdaVersionTypeV10
			case *version == "V2_0":
				c.tokenVersion = types.PreTokenGenerationLambdaVersionTypeV20
			default:
				return usageError(e, cmd, "--token-event-version %q, want V1_0 or V2_0", *version)
			}
		}
		return e.changeTriggers(cmd, *pool, c, *yes)
	}
}

// attachRate paces attach's and detach's calls, in requests per second.
const attachRate = 5

// changeTriggers reads the pool, shows the change c makes to its triggers,
// asks unless yes, and sends the pool's whole configuration back with it.
func (e *env) changeTriggers(cmd, poolID string, c triggerChange, yes bool) int {
	api, ok := e.cognitoClient(cmd, poolID)
	if !ok {
		return exitUsage
	}
	read := newReader(api, attachRate)
	out, err := read.pool(e.ctx, poolID)
	if err != nil {
		printf(e.stderr, "autogroup %s: cannot %v\n", cmd, err)
		return exitUsage
	}
	pool := out.UserPool
	lc, err := c.apply(pool.LambdaConfig)
	if err != nil {
		printf(e.stderr, "autogroup %s: user pool %s: %v\n", cmd, poolID, err)
		return exitProblems
	}
	diff, changed := triggerDiff(pool.LambdaConfig, lc)
	printf(e.stdout, "User pool %s (%s), LambdaConfig:\n", poolID, aws.ToString(pool.Name))
	for _, line := range diff {
		printf(e.stdout, "%s\n", line)
	}
	if !changed && !c.addPermission {
		fmt.Fprintln(e.stdout, "Nothing to change.")
		return exitOK
	}
	if !yes && !e.confirm() {
		fmt.Fprintln(e.stdout, "Not changed.")
		return exitProblems
	}
	// The permission first: a trigger the pool may not invoke fails every
	// sign-up.
	if c.addPermission {
		fns := []string{c.postConfirmation}
		if c.preToken != "" {
			fns = append(fns, c.preToken)
		}
		if err := e.addInvokePermissions(poolID, aws.ToString(pool.Arn), fns); err != nil {
			printf(e.stderr, "autogroup %s: %v; the pool was not changed\n", cmd, err)
			return exitUsage
		}
	}
	if !changed {
		fmt.Fprintln(e.stdout, "Nothing to change in the pool.")
		return exitOK
	}
	in := updateInput(pool)
	in.UserPoolId = aws.String(poolID)
	in.LambdaConfig = lc
	if err := read.limiter.Wait(e.ctx); err != nil {
		printf(e.stderr, "autogroup %s: %v\n", cmd, err)
		return exitUsage
	}
	if _, err := api.UpdateUserPool(e.ctx, in, read.opts); err != nil {
		printf(e.stderr, "autogroup %s: cannot %v\n", cmd, &readError{"UpdateUserPool", "update user pool " + poolID, err})
		return exitUsage
	}
	verb := map[string]string{"attach": "Attached", "detach": "Detached"}[cmd]
	fmt.Fprintf(e.stdout, "%s. The pool's other settings were sent back unchanged.\n", verb)
	return exitOK
}

// confirm asks on standard error whether to go on, and reports whether the
// answer read from standard input is y or yes.
func (e *env) confirm() bool {
	fmt.Fprint(e.stderr, "Update the user pool? UpdateUserPool is sent the whole current configuration with only these triggers changed. [y/N] ")
	if e.stdin == nil {
		fmt.Fprintln(e.stderr)
		return false
	}
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
