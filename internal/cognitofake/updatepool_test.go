package cognitofake

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

func TestUpdateUserPool(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	describe := func() *types.UserPoolType {
		t.Helper()
		out, err := c.DescribeUserPool(t.Context(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(testPool)})
		if err != nil {
			t.Fatalf("DescribeUserPool: %v", err)
		}
		return out.UserPool
	}

	var notFound *types.ResourceNotFoundException
	if _, err := c.UpdateUserPool(t.Context(), &cip.UpdateUserPoolInput{UserPoolId: aws.String(testPool)}); !errors.As(err, &notFound) {
		t.Errorf("UpdateUserPool of an unknown pool = %v, want ResourceNotFoundException", err)
	}

	s.ConfigurePool(testPool, PoolConfig{Name: "shop", PostConfirmation: "arn:pc", PreSignUp: "arn:ps"})
	s.SetPoolSettings(testPool, map[string]any{"MfaConfiguration": "OPTIONAL", "UserPoolTags": map[string]string{"team": "id"}})
	p := describe()
	if p.MfaConfiguration != types.UserPoolMfaTypeOptional || p.UserPoolTags["team"] != "id" || aws.ToString(p.LambdaConfig.PreSignUp) != "arn:ps" || aws.ToString(p.Name) != "shop" {
		t.Errorf("DescribeUserPool after SetPoolSettings = MFA %q, tags %v, PreSignUp %q, name %q; want OPTIONAL, team=id, arn:ps, shop",
			p.MfaConfiguration, p.UserPoolTags, aws.ToString(p.LambdaConfig.PreSignUp), aws.ToString(p.Name))
	}

	// The update sets only the trigger and a name: everything else is reset.
	in := &cip.UpdateUserPoolInput{UserPoolId: aws.String(testPool), PoolName: aws.String("shop2"),
		LambdaConfig: &types.LambdaConfigType{PostConfirmation: aws.String("arn:new")}}
	if _, err := c.UpdateUserPool(t.Context(), in); err != nil {
		t.Fatalf("UpdateUserPool: %v", err)
	}
	p = describe()
	if aws.ToString(p.LambdaConfig.PostConfirmation) != "arn:new" || p.LambdaConfig.PreSignUp != nil || p.MfaConfiguration != "" || p.UserPoolTags != nil || aws.ToString(p.Name) != "shop2" {
		t.Errorf("DescribeUserPool after UpdateUserPool = %+v, want only the update's LambdaConfig and name", p)
	}

	if _, err := c.UpdateUserPool(t.Context(), &cip.UpdateUserPoolInput{UserPoolId: aws.String(testPool)}); err != nil {
		t.Fatalf("UpdateUserPool: %v", err)
	}
	if p := describe(); p.LambdaConfig != nil {
		t.Errorf("LambdaConfig after an update without one = %+v, want none (reset)", p.LambdaConfig)
	}

	updates := s.PoolUpdates(testPool)
	if len(updates) != 2 {
		t.Fatalf("PoolUpdates = %d bodies, want 2 (the failed call is not recorded)", len(updates))
	}
	var first map[string]any
	if err := json.Unmarshal(updates[0], &first); err != nil {
		t.Fatal(err)
	}
	if first["PoolName"] != "shop2" || first["UserPoolId"] != testPool || first["LambdaConfig"] == nil {
		t.Errorf("first update recorded as %s, want the whole input", updates[0])
	}
}
