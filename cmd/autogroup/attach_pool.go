package main

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// updateInput returns the UpdateUserPool input that sets every setting of p
// to what it is now. UpdateUserPool resets each setting it is not given, so
// every settable member of UserPoolType is copied; TestUpdateInputCopiesAll
// fails when the SDK grows one that is not. The deprecated
// AdminCreateUserConfig.UnusedAccountValidityDays is left out: Cognito
// answers it beside Policies.PasswordPolicy.TemporaryPasswordValidityDays
// and refuses an update that has both.
func updateInput(p *types.UserPoolType) *cip.UpdateUserPoolInput {
	in := &cip.UpdateUserPoolInput{
		UserPoolId:                  p.Id,
		AccountRecoverySetting:      p.AccountRecoverySetting,
		AdminCreateUserConfig:       p.AdminCreateUserConfig,
		AutoVerifiedAttributes:      p.AutoVerifiedAttributes,
		DeletionProtection:          p.DeletionProtection,
		DeviceConfiguration:         p.DeviceConfiguration,
		EmailConfiguration:          p.EmailConfiguration,
		EmailVerificationMessage:    p.EmailVerificationMessage,
		EmailVerificationSubject:    p.EmailVerificationSubject,
		IssuerConfiguration:         p.IssuerConfiguration,
		KeyConfiguration:            p.KeyConfiguration,
		LambdaConfig:                p.LambdaConfig,
		MfaConfiguration:            p.MfaConfiguration,
		Policies:                    p.Policies,
		PoolName:                    p.Name,
		SmsAuthenticationMessage:    p.SmsAuthenticationMessage,
		SmsConfiguration:            p.SmsConfiguration,
		SmsVerificationMessage:      p.SmsVerificationMessage,
		UserAttributeUpdateSettings: p.UserAttributeUpdateSettings,
		UserPoolAddOns:              p.UserPoolAddOns,
		UserPoolTags:                p.UserPoolTags,
		UserPoolTier:                p.UserPoolTier,
		VerificationMessageTemplate: p.VerificationMessageTemplate,
	}
	if c := p.AdminCreateUserConfig; c != nil && c.UnusedAccountValidityDays != 0 {
		copied := *c
		copied.UnusedAccountValidityDays = 0
		in.AdminCreateUserConfig = &copied
	}
	return in
}

// triggerChange is what attach or detach does to a pool's LambdaConfig.
// An empty ARN leaves that trigger alone.
type triggerChange struct {
	postConfirmation string
	preToken         string
	tokenVersion     types.PreTokenGenerationLambdaVersionType
	detach           bool
	// addPermission also lets the pool invoke the functions (attach).
	addPermission bool
	// preTokenFromStack is set when preToken came from --stack, not from
	// the user: attach does not replace another function's trigger with
	// it, and detach leaves a trigger that is not set alone.
	preTokenFromStack bool
}

// apply returns a copy of lc (nil meaning no trigger) with the change made.
// Detaching a trigger that runs another function than the one named is
// refused: that function is someone else's.
func (c triggerChange) apply(lc *types.LambdaConfigType) (*types.LambdaConfigType, error) {
	out := types.LambdaConfigType{}
	if lc != nil {
		out = *lc
	}
	if c.detach {
		if c.postConfirmation != "" {
			if cur := aws.ToString(out.PostConfirmation); cur != c.postConfirmation {
				return nil, fmt.Errorf("the PostConfirmation trigger is %s, not %s: left as it is", orNone(cur), c.postConfirmation)
			}
			out.PostConfirmation = nil
		}
		if c.preToken != "" {
			switch cur := preTokenARN(out); {
			case cur == "" && c.preTokenFromStack:
			case cur != c.preToken:
				return nil, fmt.Errorf("the PreTokenGeneration trigger is %s, not %s: left as it is", orNone(cur), c.preToken)
			default:
				out.PreTokenGeneration, out.PreTokenGenerationConfig = nil, nil
			}
		}
		return &out, nil
	}
	if cur := preTokenARN(out); c.preToken != "" && c.preTokenFromStack && cur != "" && cur != c.preToken {
		return nil, fmt.Errorf("the PreTokenGeneration trigger is %s, another function than the stack's %s: left as it is; pass --pre-token-generation to replace it", cur, c.preToken)
	}
	if c.postConfirmation != "" {
		out.PostConfirmation = aws.String(c.postConfirmation)
	}
	if c.preToken != "" {
		out.PreTokenGeneration = aws.String(c.preToken)
		out.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(c.preToken), LambdaVersion: c.tokenVersion}
	}
	return &out, nil
}

// preTokenARN returns the function lc's PreTokenGeneration trigger runs,
// or "".
func preTokenARN(lc types.LambdaConfigType) string {
	if lc.PreTokenGenerationConfig != nil {
		return aws.ToString(lc.PreTokenGenerationConfig.LambdaArn)
	}
	return aws.ToString(lc.PreTokenGeneration)
}

func orNone(arn string) string {
	if arn == "" {
		return "not set"
	}
	return arn
}

// triggerLines returns the triggers of lc as "Name: value" lines, in the
// order of LambdaConfigType's fields, leaving out those not set.
func triggerLines(lc *types.LambdaConfigType) map[string]string {
	lines := map[string]string{}
	if lc == nil {
		return lines
	}
	v := reflect.ValueOf(*lc)
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if !v.Type().Field(i).IsExported() || f.IsZero() {
			continue
		}
		if s, ok := f.Interface().(*string); ok {
			lines[name] = *s
			continue
		}
		b, _ := json.Marshal(f.Interface())
		lines[name] = string(b)
	}
	return lines
}

// triggerDiff shows the change from old to new, one trigger a line: "-"
// for what goes, "+" for what comes, " " for what stays. It reports
// whether anything changes.
func triggerDiff(old, new *types.LambdaConfigType) ([]string, bool) {
	before, after := triggerLines(old), triggerLines(new)
	var lines []string
	changed := false
	t := reflect.TypeFor[types.LambdaConfigType]()
	for i := range t.NumField() {
		name := t.Field(i).Name
		o, hadOld := before[name]
		n, hasNew := after[name]
		switch {
		case hadOld && hasNew && o == n:
			lines = append(lines, "  "+name+": "+o)
		default:
			if hadOld {
				lines = append(lines, "- "+name+": "+o)
				changed = true
			}
			if hasNew {
				lines = append(lines, "+ "+name+": "+n)
				changed = true
			}
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "  (no trigger)")
	}
	return lines, changed
}

// checkTriggers reports whether the pool's triggers (lc) are the functions
// want names, for check-pool: an error for each that is not.
func (r *poolReport) checkTriggers(lc *types.LambdaConfigType, want triggerChange) {
	if lc == nil {
		lc = &types.LambdaConfigType{}
	}
	token := aws.ToString(lc.PreTokenGeneration)
	if lc.PreTokenGenerationConfig != nil {
		token = aws.ToString(lc.PreTokenGenerationConfig.LambdaArn)
	}
	for _, c := range []struct{ name, want, got string }{
		{"PostConfirmation", want.postConfirmation, aws.ToString(lc.PostConfirmation)},
		{"PreTokenGeneration", want.preToken, token},
	} {
		switch {
		case c.want == "":
		case c.got == c.want:
			r.okf("the %s trigger is %s, as asked", c.name, c.want)
		default:
			r.errorf("the %s trigger is %s, not %s: autogroup attach sets it", c.name, orNone(c.got), c.want)
		}
	}
}
