package cognitofake

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

func TestIdentityProviders(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	mapping := map[string]string{"email": "mail", "email_verified": "verified"}
	s.ConfigurePool(testPool, PoolConfig{IdentityProviders: []IdentityProvider{
		{Name: "Google", Type: "Google", AttributeMapping: map[string]string{"email": "email"}},
		{Name: "CorporateSSO", Type: "SAML", AttributeMapping: mapping},
		{Name: "Okta", Type: "OIDC"},
	}})
	mapping["email"] = "changed" // ConfigurePool keeps its own copy
	s.SetPageSize(2)

	var names []string
	p := cip.NewListIdentityProvidersPaginator(c, &cip.ListIdentityProvidersInput{UserPoolId: aws.String(testPool)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range out.Providers {
			names = append(names, aws.ToString(d.ProviderName)+" "+string(d.ProviderType))
		}
	}
	if diff := cmp.Diff([]string{"CorporateSSO SAML", "Google Google", "Okta OIDC"}, names); diff != "" {
		t.Errorf("ListIdentityProviders (-want +got):\n%s", diff)
	}
	if n := len(s.CallsTo("ListIdentityProviders")); n != 2 {
		t.Errorf("%d ListIdentityProviders calls, want 2 pages of at most 2", n)
	}

	out, err := c.DescribeIdentityProvider(t.Context(), &cip.DescribeIdentityProviderInput{UserPoolId: aws.String(testPool), ProviderName: aws.String("CorporateSSO")})
	if err != nil {
		t.Fatal(err)
	}
	got := out.IdentityProvider
	if aws.ToString(got.ProviderName) != "CorporateSSO" || got.ProviderType != types.IdentityProviderTypeTypeSaml ||
		!cmp.Equal(got.AttributeMapping, map[string]string{"email": "mail", "email_verified": "verified"}) {
		t.Errorf("DescribeIdentityProvider(CorporateSSO) = %+v", got)
	}
	var notFound *types.ResourceNotFoundException
	_, err = c.DescribeIdentityProvider(t.Context(), &cip.DescribeIdentityProviderInput{UserPoolId: aws.String(testPool), ProviderName: aws.String("corporatesso")})
	if !errors.As(err, &notFound) {
		t.Errorf("DescribeIdentityProvider(corporatesso) = %v, want ResourceNotFoundException (names are case-sensitive)", err)
	}
	_, err = c.ListIdentityProviders(t.Context(), &cip.ListIdentityProvidersInput{UserPoolId: aws.String("us-east-1_other")})
	if !errors.As(err, &notFound) {
		t.Errorf("ListIdentityProviders of an unconfigured pool = %v, want ResourceNotFoundException", err)
	}
}

func TestDescribeUserPoolTriggers(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	describe := func() *types.UserPoolType {
		t.Helper()
		out, err := c.DescribeUserPool(t.Context(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(testPool)})
		if err != nil {
			t.Fatal(err)
		}
		return out.UserPool
	}
	s.ConfigurePool(testPool, PoolConfig{PostConfirmation: "arn:pc", PreSignUp: "arn:psu", UserMigration: "arn:um"})
	if lc := describe().LambdaConfig; lc == nil || aws.ToString(lc.PostConfirmation) != "arn:pc" ||
		aws.ToString(lc.PreSignUp) != "arn:psu" || aws.ToString(lc.UserMigration) != "arn:um" {
		t.Errorf("LambdaConfig = %+v, want the three triggers", lc)
	}
	s.ConfigurePool(testPool, PoolConfig{})
	if lc := describe().LambdaConfig; lc == nil || lc.PostConfirmation != nil || lc.PreSignUp != nil {
		t.Errorf("LambdaConfig = %+v, want an empty one", lc)
	}
	s.ConfigurePool(testPool, PoolConfig{NoLambdaConfig: true, PostConfirmation: "arn:pc"})
	if lc := describe().LambdaConfig; lc != nil {
		t.Errorf("LambdaConfig = %+v, want none", lc)
	}
}

func TestDescribeUserPoolClientSecret(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.AddAppClient(testPool, AppClient{ClientID: "public", ClientName: "spa"})
	s.AddAppClient(testPool, AppClient{ClientID: "confidential", ClientName: "backend", Secret: "s3cr3t"})
	for id, want := range map[string]string{"public": "", "confidential": "s3cr3t"} {
		out, err := c.DescribeUserPoolClient(t.Context(), &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(testPool), ClientId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.UserPoolClient.ClientSecret; aws.ToString(got) != want || (want == "") != (got == nil) {
			t.Errorf("DescribeUserPoolClient(%s).ClientSecret = %v, want %q", id, got, want)
		}
	}
}
