package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// TestAttachKeepsThePool checks autogroup attach against cognito-local,
// whose UpdateUserPool resets what it is not given as Cognito's does: the
// trigger is set, the pool's other trigger and settings stay.
func TestAttachKeepsThePool(t *testing.T) {
	env := start(t, harness.Options{})
	ctx := testContext(t)
	pool, err := env.CreatePoolWithGroups(ctx, []string{"staff"})
	if err != nil {
		t.Fatal(err)
	}
	const (
		preSignUp = "arn:aws:lambda:us-east-1:123456789012:function:shop-pre-sign-up"
		fn        = "arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmation"
	)
	_, err = env.Cognito.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{
		UserPoolId:               aws.String(pool.ID),
		AutoVerifiedAttributes:   []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		EmailVerificationSubject: aws.String("Your shop code"),
		Policies:                 &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(14), RequireSymbols: true}},
		LambdaConfig:             &types.LambdaConfigType{PreSignUp: aws.String(preSignUp)},
	})
	if err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, ctx, env, "attach", "--pool", pool.ID, "--post-confirmation", fn, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "+ PostConfirmation: "+fn) {
		t.Fatalf("attach: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	out, err := env.Cognito.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool.ID)})
	if err != nil {
		t.Fatal(err)
	}
	p := out.UserPool
	if p.LambdaConfig == nil || aws.ToString(p.LambdaConfig.PostConfirmation) != fn || aws.ToString(p.LambdaConfig.PreSignUp) != preSignUp {
		t.Errorf("LambdaConfig after attach = %+v, want PostConfirmation %s and PreSignUp kept", p.LambdaConfig, fn)
	}
	if aws.ToString(p.EmailVerificationSubject) != "Your shop code" || p.Policies == nil || aws.ToInt32(p.Policies.PasswordPolicy.MinimumLength) != 14 ||
		len(p.AutoVerifiedAttributes) != 1 {
		t.Errorf("settings after attach: subject %q, policies %+v, auto-verified %v; want them kept",
			aws.ToString(p.EmailVerificationSubject), p.Policies, p.AutoVerifiedAttributes)
	}

	// check-pool agrees, and detach undoes it.
	if c := runCLI(t, ctx, env, "check-pool", "--pool", pool.ID, "--rules", env.RulesFile(), "--post-confirmation", fn); !strings.Contains(c.stdout, "as asked") {
		t.Errorf("check-pool after attach:\n%s%s", c.stdout, c.stderr)
	}
	if d := runCLI(t, ctx, env, "detach", "--pool", pool.ID, "--post-confirmation", fn, "--yes"); d.code != 0 {
		t.Fatalf("detach: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	out, err = env.Cognito.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if lc := out.UserPool.LambdaConfig; lc == nil || lc.PostConfirmation != nil || aws.ToString(lc.PreSignUp) != preSignUp {
		t.Errorf("LambdaConfig after detach = %+v, want PreSignUp only", lc)
	}
}
