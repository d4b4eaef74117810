package cognitofake

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

func TestAdminGetUser(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	get := func(username string) (*cip.AdminGetUserOutput, error) {
		return c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String(username)})
	}

	var notFound *types.UserNotFoundException
	if _, err := get("u1"); !errors.As(err, &notFound) {
		t.Errorf("AdminGetUser in a pool without users = %v, want UserNotFoundException (no attributes to answer)", err)
	}

	s.PutUser(testPool, User{
		Username:   "u1",
		Attributes: map[string]string{"email": "a@example.com", "email_verified": "true", "custom:department": "sales"},
		Status:     "EXTERNAL_PROVIDER",
		Disabled:   true,
	})
	s.CreateUser(testPool, "u2")

	out, err := get("u1")
	if err != nil {
		t.Fatalf("AdminGetUser(u1): %v", err)
	}
	attrs := map[string]string{}
	for _, a := range out.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	want := map[string]string{"email": "a@example.com", "email_verified": "true", "custom:department": "sales", "sub": s.Sub(testPool, "u1")}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("AdminGetUser(u1) attributes (-want +got):\n%s", diff)
	}
	if aws.ToString(out.Username) != "u1" || out.UserStatus != types.UserStatusTypeExternalProvider || out.Enabled || out.UserCreateDate == nil {
		t.Errorf("AdminGetUser(u1) = username %q, status %q, enabled %v, created %v; want u1, EXTERNAL_PROVIDER, false, a date",
			aws.ToString(out.Username), out.UserStatus, out.Enabled, out.UserCreateDate)
	}

	out, err = get("u2")
	if err != nil || out.UserStatus != types.UserStatusTypeConfirmed || !out.Enabled || len(out.UserAttributes) != 1 {
		t.Errorf("AdminGetUser(u2) = %+v, %v; want a confirmed, enabled user with only a sub", out, err)
	}
	if _, err := get("someone"); !errors.As(err, &notFound) {
		t.Errorf("AdminGetUser(someone) = %v, want UserNotFoundException", err)
	}

	calls := s.CallsTo("AdminGetUser")
	if len(calls) != 4 || calls[1].Username != "u1" || calls[1].PoolID != testPool || calls[1].Outcome != "ok" || calls[3].Outcome != "UserNotFoundException" {
		t.Errorf("CallsTo(AdminGetUser) = %+v, want 4 calls recorded with their user and outcome", calls)
	}

	// Faults reach it like any other operation.
	s.Inject(Fault{Op: "AdminGetUser", Times: 1, Type: "TooManyRequestsException", Message: "Too many requests."})
	var throttled *types.TooManyRequestsException
	if _, err := get("u1"); !errors.As(err, &throttled) {
		t.Errorf("AdminGetUser with a fault = %v, want TooManyRequestsException", err)
	}
	if _, err := get("u1"); err != nil {
		t.Errorf("AdminGetUser after the fault = %v, want success", err)
	}
}
