package harness

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// TestLimiter sends calls through the rate-enforcing proxy to a fake
// Cognito with the production client: beyond the bucket, the limited
// operation is refused as Cognito refuses it (the SDK decodes a
// TooManyRequestsException, which membership classifies as throttled) and
// never reaches Cognito; other operations pass.
func TestLimiter(t *testing.T) {
	const pool = "us-east-1_LIMIT"
	fake := cognitofake.New(t)
	fake.CreateGroup(pool, "staff")
	fake.CreateUser(pool, "user-1")
	lim, err := newLimiter(RateLimit{Op: "AdminAddUserToGroup", PerSecond: 5}, fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(lim)
	defer srv.Close()
	client := cip.New(cip.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "x", SecretAccessKey: "y"}, nil
		}),
	}, membership.ConfigureClient)
	add := func() membership.Kind {
		_, err := client.AdminAddUserToGroup(t.Context(), &cip.AdminAddUserToGroupInput{
			UserPoolId: aws.String(pool), Username: aws.String("user-1"), GroupName: aws.String("staff"),
		})
		return membership.Classify(err)
	}

	kinds := map[membership.Kind]int{}
	for range 12 {
		kinds[add()]++
	}
	// One second's worth of burst, then (well within a second) throttles.
	if kinds[membership.KindOK] < 5 || kinds[membership.KindOK] > 6 || kinds[membership.KindThrottled] != 12-kinds[membership.KindOK] {
		t.Errorf("12 calls at once at 5/s: %v, want 5 (or 6) ok and the rest throttled", kinds)
	}
	if n := len(fake.CallsTo("AdminAddUserToGroup")); n != kinds[membership.KindOK] {
		t.Errorf("Cognito saw %d calls, want only the %d let through", n, kinds[membership.KindOK])
	}
	if allowed, throttled := lim.allowed, lim.throttled; allowed != kinds[membership.KindOK] || throttled != kinds[membership.KindThrottled] {
		t.Errorf("counted %d allowed, %d throttled; want %v", allowed, throttled, kinds)
	}
	if _, err := client.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String("user-1")}); err != nil {
		t.Errorf("AdminGetUser through the proxy: %v, want it not limited", err)
	}

	lim.set(0)
	if k := add(); k != membership.KindThrottled {
		t.Errorf("at rate 0: %s, want throttled", k)
	}
	lim.set(math.Inf(1))
	for range 20 {
		if k := add(); k != membership.KindOK {
			t.Fatalf("without a limit: %s, want ok", k)
		}
	}
}
