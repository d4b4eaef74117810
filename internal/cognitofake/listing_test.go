package cognitofake

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

func attributeMap(attrs []types.AttributeType) map[string]string {
	m := map[string]string{}
	for _, a := range attrs {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

func TestListUsersPages(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	for _, u := range []string{"e", "a", "c", "b", "d"} {
		s.PutUser(testPool, User{Username: u, Attributes: map[string]string{"email": u + "@example.com"}})
	}
	s.PutUser(testPool, User{Username: "f", Status: "UNCONFIRMED", Disabled: true, Attributes: map[string]string{"sub": "sub-f"}})
	s.SetPageSize(2)

	var names []string
	pages := 0
	p := cip.NewListUsersPaginator(c, &cip.ListUsersInput{UserPoolId: aws.String(testPool)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if len(out.Users) > 2 {
			t.Errorf("page %d has %d users, want at most 2", pages, len(out.Users))
		}
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.Username))
			attrs := attributeMap(u.Attributes)
			switch aws.ToString(u.Username) {
			case "a":
				if attrs["email"] != "a@example.com" || attrs["sub"] != s.Sub(testPool, "a") || attrs["sub"] == "" ||
					u.UserStatus != types.UserStatusTypeConfirmed || !u.Enabled {
					t.Errorf("user a = %+v, attributes %v", u, attrs)
				}
			case "f":
				if attrs["sub"] != "sub-f" || u.UserStatus != types.UserStatusTypeUnconfirmed || u.Enabled {
					t.Errorf("user f = %+v, attributes %v", u, attrs)
				}
			}
		}
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e", "f"}, names); diff != "" {
		t.Errorf("users listed (-want +got):\n%s", diff)
	}
	if pages != 3 || len(s.CallsTo("ListUsers")) != 3 {
		t.Errorf("%d pages in %d calls, want 3", pages, len(s.CallsTo("ListUsers")))
	}

	// A request's Limit below the page size wins; above 60 is refused.
	s.SetPageSize(0)
	out, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(testPool), Limit: aws.Int32(4)})
	if err != nil || len(out.Users) != 4 || out.PaginationToken == nil {
		t.Errorf("ListUsers Limit 4 = %d users, token %v, %v; want 4 and a token", len(out.Users), out.PaginationToken, err)
	}
	var invalid *types.InvalidParameterException
	if _, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(testPool), Limit: aws.Int32(61)}); !errors.As(err, &invalid) {
		t.Errorf("ListUsers Limit 61 = %v, want InvalidParameterException", err)
	}
	if _, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(testPool), PaginationToken: aws.String("bogus")}); !errors.As(err, &invalid) {
		t.Errorf("ListUsers with a bad token = %v, want InvalidParameterException", err)
	}
}

func TestListUsersInGroupAndListGroupsPages(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	for _, g := range []string{"g1", "g2", "g3"} {
		s.CreateGroup(testPool, g)
	}
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		s.PutUser(testPool, User{Username: u})
		s.AddToGroup(testPool, "g1", u)
	}
	s.SetPageSize(2)

	var members []string
	p := cip.NewListUsersInGroupPaginator(c, &cip.ListUsersInGroupInput{UserPoolId: aws.String(testPool), GroupName: aws.String("g1")})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			members = append(members, aws.ToString(u.Username))
			if attributeMap(u.Attributes)["sub"] != s.Sub(testPool, aws.ToString(u.Username)) {
				t.Errorf("member %s has attributes %v, want its sub", aws.ToString(u.Username), attributeMap(u.Attributes))
			}
		}
	}
	if diff := cmp.Diff([]string{"u1", "u2", "u3", "u4", "u5"}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if n := len(s.CallsTo("ListUsersInGroup")); n != 3 {
		t.Errorf("%d ListUsersInGroup calls, want 3", n)
	}
	var notFound *types.ResourceNotFoundException
	if _, err := c.ListUsersInGroup(t.Context(), &cip.ListUsersInGroupInput{UserPoolId: aws.String(testPool), GroupName: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Errorf("ListUsersInGroup of a missing group = %v, want ResourceNotFoundException", err)
	}

	var groups []string
	gp := cip.NewListGroupsPaginator(c, &cip.ListGroupsInput{UserPoolId: aws.String(testPool)})
	for gp.HasMorePages() {
		out, err := gp.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	if diff := cmp.Diff([]string{"g1", "g2", "g3"}, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	// A token is bound to its operation.
	out, err := c.ListGroups(t.Context(), &cip.ListGroupsInput{UserPoolId: aws.String(testPool), Limit: aws.Int32(1)})
	if err != nil || out.NextToken == nil {
		t.Fatalf("ListGroups Limit 1 = %v, %v; want a token", out, err)
	}
	var invalid *types.InvalidParameterException
	if _, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(testPool), PaginationToken: out.NextToken}); !errors.As(err, &invalid) {
		t.Errorf("ListUsers with a ListGroups token = %v, want InvalidParameterException", err)
	}
}

func TestDescribePoolAndClients(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	var notFound *types.ResourceNotFoundException
	if _, err := c.DescribeUserPool(t.Context(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(testPool)}); !errors.As(err, &notFound) {
		t.Errorf("DescribeUserPool of an unconfigured pool = %v, want ResourceNotFoundException", err)
	}
	s.ConfigurePool(testPool, PoolConfig{Name: "p", PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f", CustomAttributes: []string{"custom:plan"}})
	out, err := c.DescribeUserPool(t.Context(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(testPool)})
	if err != nil {
		t.Fatal(err)
	}
	var schema []string
	for _, a := range out.UserPool.SchemaAttributes {
		schema = append(schema, aws.ToString(a.Name))
	}
	for _, want := range []string{"sub", "email", "email_verified", "identities", "custom:plan"} {
		if !slices.Contains(schema, want) {
			t.Errorf("schema %v lacks %s", schema, want)
		}
	}
	if got := aws.ToString(out.UserPool.LambdaConfig.PostConfirmation); got != "arn:aws:lambda:us-east-1:123456789012:function:f" {
		t.Errorf("LambdaConfig.PostConfirmation = %q", got)
	}
	if aws.ToString(out.UserPool.Name) != "p" || aws.ToString(out.UserPool.Id) != testPool {
		t.Errorf("pool = %q %q", aws.ToString(out.UserPool.Id), aws.ToString(out.UserPool.Name))
	}

	s.AddAppClient(testPool, AppClient{ClientID: "c2", ClientName: "open"})
	s.AddAppClient(testPool, AppClient{ClientID: "c1", ClientName: "web", WriteAttributes: []string{"email", "name"}})
	s.AddAppClient(testPool, AppClient{ClientID: "c3", ClientName: "admin", WriteAttributes: []string{}})
	s.SetPageSize(2)
	var ids []string
	p := cip.NewListUserPoolClientsPaginator(c, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(testPool)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range out.UserPoolClients {
			ids = append(ids, aws.ToString(cl.ClientId)+"="+aws.ToString(cl.ClientName))
		}
	}
	if diff := cmp.Diff([]string{"c1=web", "c2=open", "c3=admin"}, ids); diff != "" {
		t.Errorf("clients (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		id    string
		write []string
	}{{"c1", []string{"email", "name"}}, {"c2", nil}, {"c3", nil}} {
		out, err := c.DescribeUserPoolClient(t.Context(), &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(testPool), ClientId: aws.String(tt.id)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.UserPoolClient.WriteAttributes, tt.write) {
			t.Errorf("client %s WriteAttributes = %v, want %v", tt.id, out.UserPoolClient.WriteAttributes, tt.write)
		}
	}
	if _, err := c.DescribeUserPoolClient(t.Context(), &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(testPool), ClientId: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Errorf("DescribeUserPoolClient of a missing client = %v, want ResourceNotFoundException", err)
	}
}
