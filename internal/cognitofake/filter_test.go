package cognitofake

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"
)

func TestRemoveAndFilter(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.PutUser(testPool, User{Username: "a"})
	s.PutUser(testPool, User{Username: "b"})
	s.CreateGroup(testPool, "g")
	s.AddToGroup(testPool, "g", "a")
	for range 2 { // the second removal finds no membership and succeeds too
		if _, err := c.AdminRemoveUserFromGroup(t.Context(), &cip.AdminRemoveUserFromGroupInput{
			UserPoolId: aws.String(testPool), Username: aws.String("a"), GroupName: aws.String("g")}); err != nil {
			t.Fatalf("AdminRemoveUserFromGroup: %v", err)
		}
	}
	if got := s.Members(testPool, "g"); len(got) != 0 {
		t.Errorf("Members(g) = %v after removal, want none", got)
	}
	out, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(testPool),
		Filter: aws.String(`sub = "` + s.Sub(testPool, "b") + `"`)})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var got []string
	for _, u := range out.Users {
		got = append(got, aws.ToString(u.Username))
	}
	if diff := cmp.Diff([]string{"b"}, got); diff != "" {
		t.Errorf("ListUsers(sub filter) (-want +got):\n%s", diff)
	}
}
