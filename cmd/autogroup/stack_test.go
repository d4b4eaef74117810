package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

// fakeStacks answers DescribeStacks with its stacks, as CloudFormation
// does: a stack it lacks is a ValidationError.
type fakeStacks struct {
	stacks map[string]types.Stack
	err    error    // when set, every call fails with it
	calls  []string // the stack names asked for
}

func (f *fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	name := aws.ToString(in.StackName)
	f.calls = append(f.calls, name)
	if f.err != nil {
		return nil, f.err
	}
	s, ok := f.stacks[name]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + name + " does not exist"}
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []types.Stack{s}}, nil
}

// stack returns a stack with these outputs and parameters.
func stack(name string, status types.StackStatus, outputs, params map[string]string) types.Stack {
	s := types.Stack{StackName: aws.String(name), StackStatus: status}
	for k, v := range outputs {
		s.Outputs = append(s.Outputs, types.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	for k, v := range params {
		s.Parameters = append(s.Parameters, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	return s
}

// testStacks are the stacks of the tests: "existing" serves the fake pool
// it does not manage, with every optional part (the token function, the
// retry queue, AppConfig); "created" created its pool, with none of them;
// "impact" serves the pool of the publish --pool tests; "broken" failed to
// create; "odd" has a RulesSourceValue that does not parse.
func testStacks() *fakeStacks {
	return &fakeStacks{stacks: map[string]types.Stack{
		"existing": stack("existing", types.StackStatusUpdateComplete, map[string]string{
			"UserPoolId":                        fakePool,
			"PostConfirmationFunctionArn":       postARN,
			"PreTokenGenerationFunctionArn":     tokenARN,
			"AttachTriggerToExistingPool":       "(1) aws cognito-idp describe-user-pool ...",
			"AssignmentRetryQueueUrl":           testRetry,
			"AssignmentRetryDeadLetterQueueUrl": testDLQ,
			"RulesSourceValue":                  "appconfig:autogroup/prod/rules",
		}, map[string]string{"TokenEventVersion": "V2_0", "ExistingUserPoolId": fakePool}),
		"created": stack("created", types.StackStatusCreateComplete, map[string]string{
			"UserPoolId":                  fakePool,
			"PostConfirmationFunctionArn": postARN,
			"UserPoolClientId":            "3n4b5urk1ft4fl3mg5e62d9ado",
		}, map[string]string{"TokenEventVersion": "V1_0", "ExistingUserPoolId": ""}),
		"impact": stack("impact", types.StackStatusCreateComplete, map[string]string{
			"UserPoolId":                impactPool,
			"RulesSourceValue":          "appconfig:autogroup/prod/rules",
			"RulesDeploymentStrategyId": impactStrategy,
		}, nil),
		"broken": stack("broken", types.StackStatusRollbackComplete, nil, nil),
		"odd":    stack("odd", types.StackStatusCreateComplete, map[string]string{"RulesSourceValue": "appconfig:autogroup/prod", "UserPoolId": fakePool}, nil),
	}}
}

// rig is what a --stack run talks to; a nil fake is never called.
type rig struct {
	stacks *fakeStacks
	cog    *cognitofake.Server
	sqs    *fakeSQS
}

func (r rig) run(t *testing.T, args ...string) fakeRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, ctx: t.Context(), interrupts: make(chan os.Signal),
		stacks: func(context.Context) (stackAPI, error) { return r.stacks, nil }}
	if r.cog != nil {
		client := r.cog.Client(t)
		e.cognito = func(context.Context) (cognitoAPI, error) { return client, nil }
	}
	if r.sqs != nil {
		e.sqs = func(context.Context) (sqsAPI, error) { return r.sqs, nil }
	}
	code := e.run(args)
	return fakeRun{code, stdout.String(), stderr.String()}
}

// TestStackCheckPool checks that check-pool --stack checks the stack's
// pool against the stack's functions, and that a flag given wins.
func TestStackCheckPool(t *testing.T) {
	s := attachPool(t)
	for _, g := range []string{"customers", "staff"} {
		s.CreateGroup(fakePool, g)
	}
	stacks := testStacks()
	r := rig{stacks: stacks, cog: s}.run(t, "check-pool", "--stack", "existing", "--rules", backfillRules, "--json")
	var rep poolReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not JSON: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	wantErrs := []string{"the PostConfirmation trigger is not set, not " + postARN, "the PreTokenGeneration trigger is not set, not " + tokenARN}
	if r.code != exitProblems || rep.Pool != fakePool || !containsAll(rep.Errors, wantErrs) {
		t.Errorf("check-pool --stack: exit %d, pool %q, errors %q; want 1, %s and %q", r.code, rep.Pool, rep.Errors, fakePool, wantErrs)
	}
	if !slices.Equal(stacks.calls, []string{"existing"}) {
		t.Errorf("DescribeStacks calls %q, want one for existing", stacks.calls)
	}

	// The flags given win; --pre-token-generation= turns that check off.
	r = rig{stacks: testStacks(), cog: s}.run(t, "check-pool", "--stack", "existing", "--rules", backfillRules, "--json",
		"--post-confirmation", otherARN, "--pre-token-generation=")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not JSON: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if all := strings.Join(rep.Errors, "\n"); !strings.Contains(all, "not "+otherARN) || strings.Contains(all, postARN) || strings.Contains(all, tokenARN) {
		t.Errorf("check-pool --stack with flags: errors %q; want the trigger checked against %s only", rep.Errors, otherARN)
	}
}

func containsAll(list, want []string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || strings.Contains(l, w)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestStackErrors checks the usage errors of --stack: a stack not found,
// one that cannot be read, an output it lacks; each exits 2 before any
// other AWS call.
func TestStackErrors(t *testing.T) {
	awsEnvForFake(t)
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudformation:DescribeStacks"}
	tests := []struct {
		name string
		err  error // DescribeStacks' answer
		args []string
		want []string // in standard error
	}{
		{"not found", nil, []string{"check-pool", "--stack", "nope"},
			[]string{"autogroup check-pool: stack nope not found: check --stack, and the region"}},
		{"denied", denied, []string{"backfill", "--stack", "existing"},
			[]string{"cannot read stack existing: AccessDenied: ", "(the caller needs IAM permission cloudformation:DescribeStacks on the stack)"}},
		{"embedded rules", nil, []string{"publish", "--stack", "created", "--dry-run", "--pool=", shippedRules},
			[]string{"stack created (CREATE_COMPLETE) has no output RulesSourceValue: it was deployed with RulesSource=Embedded", "deploy it with RulesSource=AppConfig; pass --app, --env, --profile"}},
		{"embedded rules, some given", nil, []string{"publish", "--stack", "created", "--app", "a", "--env", "e", shippedRules},
			[]string{"has no output RulesSourceValue", "; pass --profile\n"}},
		{"no retry queue", nil, []string{"retries", "--stack", "created"},
			[]string{"stack created (CREATE_COMPLETE) has no output AssignmentRetryDeadLetterQueueUrl: it was deployed with RetryQueue=Disabled", "pass --queue"}},
		{"no retry queue to redrive to", nil, []string{"retries", "--stack", "created", "--queue", testDLQ, "--redrive"},
			[]string{"has no output AssignmentRetryQueueUrl", "pass --to"}},
		{"attach to a created pool", nil, []string{"attach", "--stack", "created", "--yes"},
			[]string{"stack created (CREATE_COMPLETE) has no output UserPoolId: the stack created its user pool and set the pool's triggers itself", "pass --pool"}},
		{"failed stack", nil, []string{"backfill", "--stack", "broken"},
			[]string{"stack broken (ROLLBACK_COMPLETE) has no output UserPoolId", "pass --pool"}},
		{"bad rules source", nil, []string{"publish", "--stack", "odd", "--dry-run", shippedRules},
			[]string{"stack odd: output RulesSourceValue: RULES_SOURCE \"appconfig:autogroup/prod\": want appconfig:APPLICATION/ENVIRONMENT/PROFILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stacks := testStacks()
			stacks.err = tt.err
			s := cognitofake.New(t)
			q := newFakeSQS()
			r := rig{stacks: stacks, cog: s, sqs: q}.run(t, tt.args...)
			for _, w := range tt.want {
				if r.code != exitUsage || !strings.Contains(r.stderr, w) {
					t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, w)
				}
			}
			if calls := s.Calls(); len(calls) != 0 || len(q.calls) != 0 {
				t.Errorf("Cognito calls %v, SQS calls %v; want none", calls, q.calls)
			}
		})
	}

	// Flags given make the output unneeded.
	r := rig{stacks: testStacks()}.run(t, "publish", "--stack", "created", "--app", "a", "--env", "e", "--profile", "p", "--dry-run", "--pool=", shippedRules)
	if r.code != exitOK || !strings.Contains(r.stderr, "to a/e/p with") {
		t.Errorf("publish --stack created with --app, --env, --profile: exit %d, stderr %q; want 0, to a/e/p", r.code, r.stderr)
	}
}

// TestStackAttach checks that attach --stack sets the stack's functions,
// with its event version, on the pool it serves, and that detach --stack
// removes them.
func TestStackAttach(t *testing.T) {
	s := attachPool(t)
	x := rig{stacks: testStacks(), cog: s}
	if r := x.run(t, "attach", "--stack", "existing", "--yes"); r.code != exitOK {
		t.Fatalf("attach --stack: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lc := poolUpdate(t, s)["LambdaConfig"].(map[string]any)
	want := map[string]any{"PostConfirmation": postARN, "PreTokenGeneration": tokenARN,
		"PreTokenGenerationConfig": map[string]any{"LambdaArn": tokenARN, "LambdaVersion": "V2_0"}}
	for k, v := range want {
		if !jsonEqual(t, lc[k], v) {
			t.Errorf("LambdaConfig.%s = %v, want %v", k, lc[k], v)
		}
	}
	if r := x.run(t, "detach", "--stack", "existing", "--yes"); r.code != exitOK {
		t.Fatalf("detach --stack: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if lc := lastLambdaConfig(t, s); lc["PostConfirmation"] != nil || lc["PreTokenGenerationConfig"] != nil || lc["PreSignUp"] != otherARN {
		t.Errorf("LambdaConfig after detach --stack = %v, want the pool's own triggers only", lc)
	}
}

// TestStackTokenTrigger checks that the stack's token function never
// replaces another function's trigger, and that detach --stack leaves a
// token trigger that was never attached alone.
func TestStackTokenTrigger(t *testing.T) {
	s := attachPool(t)
	x := rig{stacks: testStacks(), cog: s}
	// Only the PostConfirmation function: --pre-token-generation= leaves
	// the stack's token function out.
	if r := x.run(t, "attach", "--stack", "existing", "--pre-token-generation=", "--yes"); r.code != exitOK {
		t.Fatalf("attach --stack --pre-token-generation=: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if lc := lastLambdaConfig(t, s); lc["PostConfirmation"] != postARN || lc["PreTokenGenerationConfig"] != nil {
		t.Fatalf("LambdaConfig = %v, want the PostConfirmation function only", lc)
	}
	if r := x.run(t, "detach", "--stack", "existing", "--yes"); r.code != exitOK {
		t.Fatalf("detach --stack with no token trigger: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if lc := lastLambdaConfig(t, s); lc["PostConfirmation"] != nil {
		t.Errorf("LambdaConfig after detach --stack = %v, want no PostConfirmation", lc)
	}

	// Another function's token trigger stays; given as a flag, the
	// stack's replaces it.
	s.SetPoolSettings(fakePool, map[string]any{"LambdaConfig": map[string]any{"PreTokenGeneration": otherARN}})
	updates := len(s.PoolUpdates(fakePool))
	r := x.run(t, "attach", "--stack", "existing", "--yes")
	if want := "the PreTokenGeneration trigger is " + otherARN + ", another function than the stack's"; r.code != exitProblems || !strings.Contains(r.stderr, want) || len(s.PoolUpdates(fakePool)) != updates {
		t.Errorf("attach --stack over another token trigger: exit %d, stderr %q, %d updates; want 1, %q, none", r.code, r.stderr, len(s.PoolUpdates(fakePool))-updates, want)
	}
	if r := x.run(t, "attach", "--stack", "existing", "--pre-token-generation", tokenARN, "--yes"); r.code != exitOK {
		t.Errorf("attach --stack --pre-token-generation ARN: exit %d, want 0\n%s", r.code, r.stderr)
	}
}

// lastLambdaConfig returns the LambdaConfig of the last UpdateUserPool of
// the fake pool.
func lastLambdaConfig(t *testing.T, s *cognitofake.Server) map[string]any {
	t.Helper()
	bodies := s.PoolUpdates(fakePool)
	if len(bodies) == 0 {
		t.Fatal("no UpdateUserPool call")
	}
	var body struct{ LambdaConfig map[string]any }
	if err := json.Unmarshal(bodies[len(bodies)-1], &body); err != nil {
		t.Fatal(err)
	}
	return body.LambdaConfig
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

// TestStackRetries checks that retries --stack reads the stack's
// dead-letter queue and, with --redrive, moves to its retry queue.
func TestStackRetries(t *testing.T) {
	q, _ := newDLQ(t)
	x := rig{stacks: testStacks(), sqs: q}
	r := x.run(t, "retries", "--stack", "existing", "--json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"queue":"`+testDLQ+`"`) || !strings.Contains(r.stdout, `"to":""`) {
		t.Fatalf("retries --stack: exit %d, stdout %s; want 0, the stack's dead-letter queue and no --to\n%s", r.code, r.stdout, r.stderr)
	}
	r = x.run(t, "retries", "--stack", "existing", "--redrive")
	sent := q.callsOf("SendMessage")
	if r.code != exitOK || len(sent) == 0 {
		t.Fatalf("retries --stack --redrive: exit %d, %d sends; want 0 and some\n%s%s", r.code, len(sent), r.stdout, r.stderr)
	}
	for _, c := range sent {
		if !strings.HasPrefix(c, "SendMessage "+testRetry+" ") {
			t.Errorf("send %q, want to the stack's retry queue %s", c, testRetry)
		}
	}
}

// TestStackBackfill checks that backfill --stack plans for the stack's
// pool.
func TestStackBackfill(t *testing.T) {
	s := newTestPool(t)
	r := rig{stacks: testStacks(), cog: s}.run(t, "backfill", "--stack", "existing", "--rules", backfillRules, "--json")
	if r.code != exitChanges {
		t.Fatalf("exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if sum := r.summary(t); sum.Pool != fakePool || sum.Users != len(testUsers) {
		t.Errorf("summary pool %q, %d users; want %s and %d", sum.Pool, sum.Users, fakePool, len(testUsers))
	}
}

// TestStackPublish checks that publish --stack publishes to the profile
// RulesSourceValue names, after the impact on the stack's pool, and that
// --pool= skips the impact.
func TestStackPublish(t *testing.T) {
	awsEnvForFake(t)
	old := deploymentPoll
	deploymentPoll = 0
	t.Cleanup(func() { deploymentPoll = old })
	ac := appconfigfake.New(t)
	ac.AddProfile("autogroup", "prod", "rules")
	cog := newImpactPool(t)
	x := rig{stacks: testStacks(), cog: cog}
	r := x.run(t, "publish", "--stack", "impact", "--dry-run", "--endpoint-url", ac.URL(), impactRules)
	if r.code != exitOK || !strings.Contains(r.stdout, "impact on user pool "+impactPool) {
		t.Fatalf("publish --stack --dry-run: exit %d, stdout %q; want 0 and the impact on %s\n%s", r.code, r.stdout, impactPool, r.stderr)
	}
	if v, _ := ac.Deployed("autogroup", "prod", "rules"); v != 0 {
		t.Errorf("the dry run published version %d", v)
	}
	listed := len(cog.CallsTo("ListUsers"))
	r = x.run(t, "publish", "--stack", "impact", "--pool=", "--endpoint-url", ac.URL(), impactRules)
	if r.code != exitOK || strings.Contains(r.stdout, "impact") || len(cog.CallsTo("ListUsers")) != listed {
		t.Errorf("publish --stack --pool=: exit %d, stdout %q, %d more ListUsers; want 0, no impact, none\n%s", r.code, r.stdout, len(cog.CallsTo("ListUsers"))-listed, r.stderr)
	}
	if v, _ := ac.Deployed("autogroup", "prod", "rules"); v != 1 {
		t.Errorf("the fake serves version %d, want 1", v)
	}
	// The stack's strategy, unless --strategy says otherwise.
	if want := "with " + impactStrategy + ": started"; !strings.Contains(r.stderr, want) {
		t.Errorf("publish --stack: stderr %q, want the stack's strategy (%q)", r.stderr, want)
	}
	r = x.run(t, "publish", "--stack", "impact", "--pool=", "--strategy", "AppConfig.AllAtOnce", "--endpoint-url", ac.URL(), impactRules)
	if want := "with AppConfig.AllAtOnce: started"; r.code != exitOK || !strings.Contains(r.stderr, want) {
		t.Errorf("publish --stack --strategy: exit %d, stderr %q; want 0 and %q", r.code, r.stderr, want)
	}
}

// impactStrategy is the impact stack's RulesDeploymentStrategyId: one of
// the strategies the fake knows.
const impactStrategy = "AppConfig.Linear20PercentEvery6Minutes"

// TestStackPublishValidatesFirst: a ruleset that does not load stops
// publish --stack before the stack is read, so the user sees the
// ruleset's problems even when AWS cannot be reached.
func TestStackPublishValidatesFirst(t *testing.T) {
	x := rig{stacks: testStacks()}
	r := x.run(t, "publish", "--stack", "impact", "--dry-run", "testdata/invalid.yaml")
	if r.code != exitUsage || !strings.Contains(r.stderr, "testdata/invalid.yaml:") {
		t.Errorf("publish --stack of a ruleset that does not load: exit %d, stderr %q; want 2 and its problems", r.code, r.stderr)
	}
	if len(x.stacks.calls) != 0 {
		t.Errorf("publish read the stack %v before refusing the ruleset", x.stacks.calls)
	}
}

// TestStackFillsNameTheTemplate keeps --stack in step with template.yaml:
// every output (and parameter) a command reads from the stack is one the
// template declares, so a renamed output fails here, not in a user's
// shell.
func TestStackFillsNameTheTemplate(t *testing.T) {
	src, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]map[string]bool{} // section -> its keys
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		section := map[string]bool{}
		for j := 0; j+1 < len(top.Content[i+1].Content); j += 2 {
			section[top.Content[i+1].Content[j].Value] = true
		}
		keys[top.Content[i].Value] = section
	}
	if len(keys["Outputs"]) == 0 || len(keys["Parameters"]) == 0 {
		t.Fatalf("template.yaml: %d outputs, %d parameters; want both", len(keys["Outputs"]), len(keys["Parameters"]))
	}
	for _, f := range []stackFill{fillPool, fillPostConfirmation, fillPreToken, fillTokenVersion, fillRulesSource,
		fillStrategy, fillDeadLetterQueue, fillRetryQueue, fillExistingPool} {
		section := "Outputs"
		if f.parameter {
			section = "Parameters"
		}
		if !keys[section][f.output] {
			t.Errorf("--stack reads %s %s, which template.yaml does not declare", section, f.output)
		}
		if f.onlyWith != "" && !keys["Outputs"][f.onlyWith] {
			t.Errorf("--stack reads output %s, which template.yaml does not declare", f.onlyWith)
		}
	}
}
