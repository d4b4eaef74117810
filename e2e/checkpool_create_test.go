package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// ownRules is a team's own ruleset, none of whose groups the pool has: one
// named by a rule, one by defaultGroups, two by a groupsFrom whose guard
// admits two values, and one memberOf reads (not to be created).
const ownRules = `version: 1
defaultGroups: [members]
rules:
  - name: employees
    when: {emailDomain: example.com}
    groups: [employees]
  - name: department
    when: {attribute: custom:department, exists: true}
    groupsFrom: {attribute: custom:department, matches: "platform|data", prefix: "dept-"}
  - name: keep-admins
    when: {memberOf: admins}
    groups: [employees]
`

// TestCheckPoolCreatesMissingGroups walks a team's first steps with its
// own ruleset against cognito-local: the dry run names the groups and
// creates none, the run creates them, and sign-ups through the function
// then get those groups instead of failing.
func TestCheckPoolCreatesMissingGroups(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "own-rules.yaml")
	if err := os.WriteFile(rulesFile, []byte(ownRules), 0o644); err != nil {
		t.Fatal(err)
	}
	env := start(t, harness.Options{RulesFile: rulesFile})
	ctx := testContext(t)
	pool, err := env.CreatePoolWithGroups(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	groups := func() []string {
		t.Helper()
		out, err := env.Cognito.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: aws.String(pool.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, g := range out.Groups {
			names = append(names, aws.ToString(g.GroupName))
		}
		slices.Sort(names)
		return names
	}
	want := []string{"dept-data", "dept-platform", "employees", "members"}

	dry := runCLI(t, ctx, env, "check-pool", "--pool", pool.ID, "--rules", rulesFile, "--create-missing-groups", "--dry-run")
	if dry.code != 1 || !strings.Contains(dry.stdout, "would create: group dept-platform\n") || strings.Contains(dry.stdout, "group admins") {
		t.Errorf("dry run: exit %d, want 1, dept-platform to be created and nothing about admins\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if got := groups(); len(got) != 0 {
		t.Fatalf("groups after the dry run = %v, want none", got)
	}

	r := runCLI(t, ctx, env, "check-pool", "--pool", pool.ID, "--rules", rulesFile, "--create-missing-groups")
	if r.code != 0 || !strings.Contains(r.stdout, "; 4 groups created\n") {
		t.Fatalf("check-pool --create-missing-groups: exit %d, want 0 and 4 groups created\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := groups(); !slices.Equal(got, want) {
		t.Fatalf("groups after the run = %v, want %v", got, want)
	}

	for _, tt := range []struct {
		user harness.User
		want []string
	}{
		{harness.User{Email: "raj.patel@example.com", EmailVerified: true, Attributes: map[string]string{"custom:department": "platform"}}, []string{"dept-platform", "employees"}},
		{harness.User{Email: "sam@elsewhere.example"}, []string{"members"}},
	} {
		sub, err := pool.SignUp(ctx, tt.user, harness.AdminConfirmSignUp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pool.GroupsOf(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("GroupsOf(%s) = %v, want %v\n%s", tt.user.Email, got, tt.want, env.Report(20))
		}
	}
}
