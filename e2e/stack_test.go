package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// stackTemplate has one resource that creates nothing and the outputs of
// template.yaml that attach and check-pool read, for a stack that serves
// an existing pool.
const stackTemplate = `
Parameters:
  ExistingUserPoolId:
    Type: String
Resources:
  Nothing:
    Type: AWS::CloudFormation::WaitConditionHandle
Outputs:
  UserPoolId:
    Value: !Ref ExistingUserPoolId
  PostConfirmationFunctionArn:
    Value: arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmation
  AttachTriggerToExistingPool:
    Value: attach the trigger with autogroup attach
`

// startMoto starts moto_server, whose CloudFormation answers
// DescribeStacks as AWS does, and returns its URL.
func startMoto(t *testing.T, ctx context.Context) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		harness.SkipOrFail(t, &harness.MissingError{What: "moto_server is not installed", Fix: "pip install 'moto[server]'"})
	}
	port, err := supervise.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := supervise.Start(supervise.Options{Name: "moto_server", Env: supervise.Environ([]string{"AWS_*"}),
		Log: filepath.Join(t.TempDir(), "moto.log")}, path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	if err := p.WaitForPort(ctx, addr, 20*time.Second); err != nil {
		t.Fatalf("moto_server: %v\n%s", err, p.Tail(20))
	}
	return "http://" + addr
}

// TestStackOutputs creates a stack in moto with the outputs of a stack
// that serves an existing pool, then runs attach --stack and check-pool
// --stack against cognito-local: the pool and the function come from the
// stack.
func TestStackOutputs(t *testing.T) {
	env := start(t, harness.Options{})
	ctx := testContext(t)
	motoURL := startMoto(t, ctx)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfn := cloudformation.New(cloudformation.Options{Region: harness.Region, BaseEndpoint: aws.String(motoURL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		})})
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("autogroup"), TemplateBody: aws.String(stackTemplate),
		Parameters: []types.Parameter{{ParameterKey: aws.String("ExistingUserPoolId"), ParameterValue: aws.String(pool.ID)}}}); err != nil {
		t.Fatal(err)
	}
	waiter := cloudformation.NewStackCreateCompleteWaiter(cfn, func(o *cloudformation.StackCreateCompleteWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := waiter.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("autogroup")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmation"
	cli := func(args ...string) cliRun {
		t.Helper()
		cmd := exec.CommandContext(ctx, buildCLI(t), args...)
		cmd.Env = append(env.CLIEnv(), "AWS_ENDPOINT_URL_CLOUDFORMATION="+motoURL)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		var exitErr *exec.ExitError
		if err := cmd.Run(); err != nil && !errors.As(err, &exitErr) {
			t.Fatalf("run autogroup %s: %v", strings.Join(args, " "), err)
		}
		return cliRun{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
	}

	if r := cli("attach", "--stack", "autogroup", "--yes"); r.code != 0 || !strings.Contains(r.stdout, "User pool "+pool.ID) || !strings.Contains(r.stdout, "+ PostConfirmation: "+fn) {
		t.Fatalf("attach --stack: exit %d, want 0 and %s attached to %s\nstdout:\n%s\nstderr:\n%s", r.code, fn, pool.ID, r.stdout, r.stderr)
	}
	r := cli("check-pool", "--stack", "autogroup", "--rules", env.RulesFile())
	if r.code != 0 || !strings.Contains(r.stdout, "user pool: "+pool.ID) || !strings.Contains(r.stdout, "the PostConfirmation trigger is "+fn+", as asked") {
		t.Errorf("check-pool --stack: exit %d, want 0, pool %s and its trigger checked against %s\nstdout:\n%s\nstderr:\n%s", r.code, pool.ID, fn, r.stdout, r.stderr)
	}
	// moto answers a stack it lacks as CloudFormation does.
	if r := cli("check-pool", "--stack", "nope"); r.code != 2 || !strings.Contains(r.stderr, "stack nope not found") {
		t.Errorf("check-pool --stack nope: exit %d, stderr %q; want 2 and not found", r.code, r.stderr)
	}
}
