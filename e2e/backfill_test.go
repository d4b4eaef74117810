package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// cli is the command-line tool, built once per run.
var cli struct {
	once sync.Once
	path string
	err  error
}

// buildCLI returns the path of the autogroup tool, built from the shared
// build (start must have run).
func buildCLI(t *testing.T) string {
	t.Helper()
	cli.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cli.path, cli.err = shared.build.BuildCLI(ctx)
	})
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.path
}

// cliRun is the outcome of one run of the tool.
type cliRun struct {
	code           int
	stdout, stderr string
}

// runCLI runs the tool against env's cognito-local.
func runCLI(t *testing.T, ctx context.Context, env *harness.Env, args ...string) cliRun {
	t.Helper()
	cmd := exec.CommandContext(ctx, buildCLI(t), args...)
	cmd.Env = env.CLIEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run autogroup %s: %v", strings.Join(args, " "), err)
	}
	return cliRun{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// backfillSummary is the part of backfill's JSON summary the test reads.
type backfillSummary struct {
	DryRun          bool           `json:"dryRun"`
	Users           int            `json:"users"`
	UsersEvaluated  int            `json:"usersEvaluated"`
	UsersSkipped    int            `json:"usersSkipped"`
	SkippedByStatus map[string]int `json:"skippedByStatus"`
	UsersResumed    int            `json:"usersResumed"`
	Planned         int            `json:"planned"`
	AlreadyMember   int            `json:"alreadyMember"`
	Added           int            `json:"added"`
	Failed          int            `json:"failed"`
	SkippedRules    []string       `json:"skippedRules"`
	Interrupted     bool           `json:"interrupted"`
}

func summaryOf(t *testing.T, stdout string) backfillSummary {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var s backfillSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last line of stdout is not the JSON summary: %v\n%s", err, stdout)
	}
	return s
}

// backfillUser is a user created without the trigger, and the groups the
// shipped ruleset gives them.
type backfillUser struct {
	email  string
	attrs  map[string]string
	groups []string
	sub    string
}

// backfillUsers returns n users, six kinds in turn, chosen against the
// shipped functions/post-confirmation/rules.yaml.
func backfillUsers(n int) []*backfillUser {
	var users []*backfillUser
	for i := range n {
		u := &backfillUser{attrs: map[string]string{"email_verified": "true"}}
		switch i % 6 {
		case 0:
			u.email, u.groups = fmt.Sprintf("staff%03d@example.com", i), []string{"staff"}
		case 1:
			u.email, u.groups = fmt.Sprintf("eng%03d@eng.example.com", i), []string{"engineering", "staff"}
			u.attrs["custom:department"] = "Platform"
		case 2:
			u.email, u.groups = fmt.Sprintf("buyer%03d@shop.example.net", i), []string{"customers", "paid"}
			u.attrs["custom:plan"] = "pro"
		case 3:
			u.email, u.groups = fmt.Sprintf("user%03d@mail.example.org", i), []string{"customers"}
		case 4:
			u.email, u.groups = fmt.Sprintf("qa+%03d@qa.example.com", i), []string{"qa"}
		case 5:
			u.email, u.groups = fmt.Sprintf("unverified%03d@example.com", i), []string{"customers"}
			u.attrs["email_verified"] = "false"
		}
		u.attrs["email"] = u.email
		users = append(users, u)
	}
	return users
}

// groupMembers returns the members (subs) of each group.
func groupMembers(t *testing.T, ctx context.Context, env *harness.Env, poolID string, groups []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, g := range groups {
		p := cognitoidentityprovider.NewListUsersInGroupPaginator(env.Cognito, &cognitoidentityprovider.ListUsersInGroupInput{UserPoolId: &poolID, GroupName: &g})
		members := []string{}
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Users {
				members = append(members, aws.ToString(u.Username))
			}
		}
		slices.Sort(members)
		out[g] = members
	}
	return out
}

func TestBackfillAgainstCognitoLocal(t *testing.T) {
	env := start(t, harness.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	buildCLI(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := env.RulesetGroups()
	if err != nil {
		t.Fatal(err)
	}
	rules := env.RulesFile()

	// 300 users created by AdminCreateUser, which runs no trigger
	// (FORCE_CHANGE_PASSWORD); the first 30 of them set a password
	// (CONFIRMED).
	created := time.Now()
	users := backfillUsers(300)
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				u := users[i]
				_, sub, err := pool.CreateUser(ctx, u.email, u.attrs)
				if err == nil && i < 30 {
					_, err = env.Cognito.AdminSetUserPassword(ctx, &cognitoidentityprovider.AdminSetUserPasswordInput{
						UserPoolId: &pool.ID, Username: &sub, Password: aws.String(harness.DefaultPassword), Permanent: true,
					})
				}
				u.sub = sub
				errs <- err
			}
		})
	}
	for i := range users {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Five users who signed up but never confirmed: skipped.
	for i := range 5 {
		if _, err := env.Cognito.SignUp(ctx, &cognitoidentityprovider.SignUpInput{
			ClientId: &pool.ClientID, Username: aws.String(fmt.Sprintf("pending%d@example.com", i)), Password: aws.String(harness.DefaultPassword),
			UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(fmt.Sprintf("pending%d@example.com", i))}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Memberships that exist already: ten staff (who then lack nothing),
	// ten paying customers (who still lack paid).
	already, complete := 0, 0
	for i, u := range users[:60] {
		var g string
		switch i % 6 {
		case 0:
			g = "staff"
			complete++
		case 2:
			g = "customers"
		default:
			continue
		}
		if _, err := env.Cognito.AdminAddUserToGroup(ctx, &cognitoidentityprovider.AdminAddUserToGroupInput{UserPoolId: &pool.ID, Username: &u.sub, GroupName: &g}); err != nil {
			t.Fatal(err)
		}
		already++
	}
	wantTotal := 0
	for _, u := range users {
		wantTotal += len(u.groups)
	}
	t.Logf("created %d users and %d memberships in %s", len(users)+5, already, time.Since(created).Round(time.Millisecond))

	// Dry run: the plan, and nothing changed.
	before := groupMembers(t, ctx, env, pool.ID, groups)
	dry := runCLI(t, ctx, env, "backfill", "--pool", pool.ID, "--rules", rules, "--json")
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", dry.code, dry.stdout, dry.stderr)
	}
	sum := summaryOf(t, dry.stdout)
	want := backfillSummary{
		DryRun: true, Users: 305, UsersEvaluated: 300, UsersSkipped: 5, SkippedByStatus: map[string]int{"UNCONFIRMED": 5},
		Planned: wantTotal - already, AlreadyMember: already, SkippedRules: []string{},
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("dry run summary (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, groupMembers(t, ctx, env, pool.ID, groups)); diff != "" {
		t.Errorf("the dry run changed memberships (-before +after):\n%s", diff)
	}
	if n := strings.Count(dry.stdout, "\nwould add  "); n != 300-complete {
		t.Errorf("dry run plans %d users, want %d", n, 300-complete)
	}
	if strings.Contains(dry.stdout, "@") {
		t.Errorf("the dry run prints an email address")
	}

	// An apply interrupted after 40 users, then resumed from its state.
	state := filepath.Join(t.TempDir(), "backfill.json")
	args := []string{"backfill", "--pool", pool.ID, "--rules", rules, "--apply", "--rate", "100", "--state", state, "--json"}
	cmd := exec.CommandContext(ctx, buildCLI(t), args...)
	cmd.Env = env.CLIEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	applyStart := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	sc := bufio.NewScanner(pipe)
	added := 0
	for sc.Scan() {
		stdout.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "added ") {
			if added++; added == 40 {
				if err := cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("interrupted apply: exit %d (%v), want 130\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	first := summaryOf(t, stdout.String())
	var saved struct{ Done []string }
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	k := len(saved.Done)
	if !first.Interrupted || k < 40 || k >= 300-complete {
		t.Fatalf("interrupted apply saved %d users, summary %+v; want at least 40 and not all", k, first)
	}

	resumed := runCLI(t, ctx, env, args...)
	if resumed.code != 0 {
		t.Fatalf("resumed apply: exit %d\nstdout:\n%s\nstderr:\n%s", resumed.code, resumed.stdout, resumed.stderr)
	}
	second := summaryOf(t, resumed.stdout)
	if second.UsersResumed != k || first.Added+second.Added != wantTotal-already || second.Failed != 0 {
		t.Errorf("resumed apply: %d resumed (want %d), %d + %d added (want %d), %d failed",
			second.UsersResumed, k, first.Added, second.Added, wantTotal-already, second.Failed)
	}
	t.Logf("apply of %d memberships, interrupted and resumed, in %s", wantTotal-already, time.Since(applyStart).Round(time.Millisecond))

	// Every user has exactly the groups the rules give.
	wantMembers := map[string][]string{}
	for _, g := range groups {
		wantMembers[g] = []string{}
	}
	for _, u := range users {
		for _, g := range u.groups {
			wantMembers[g] = append(wantMembers[g], u.sub)
		}
	}
	for _, m := range wantMembers {
		slices.Sort(m)
	}
	if diff := cmp.Diff(wantMembers, groupMembers(t, ctx, env, pool.ID, groups)); diff != "" {
		t.Errorf("memberships after the backfill (-want +got):\n%s", diff)
	}

	// A second apply, without state, adds nothing.
	again := runCLI(t, ctx, env, "backfill", "--pool", pool.ID, "--rules", rules, "--apply", "--json")
	if s := summaryOf(t, again.stdout); again.code != 0 || s.Planned != 0 || s.Added != 0 || s.AlreadyMember != wantTotal {
		t.Errorf("second apply: exit %d, summary %+v; want 0 planned, 0 added, %d already there", again.code, s, wantTotal)
	}
}

func TestCheckPoolAgainstCognitoLocal(t *testing.T) {
	env := start(t, harness.Options{})
	ctx := testContext(t)
	buildCLI(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}

	ok := runCLI(t, ctx, env, "check-pool", "--pool", pool.ID, "--rules", env.RulesFile())
	if ok.code != 0 {
		t.Errorf("check-pool of the harness pool: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", ok.code, ok.stdout, ok.stderr)
	}
	for _, want := range []string{
		"ok: the 5 groups the rules select exist: qa, staff, engineering, customers, paid\n",
		"ok: the attributes the rules read are in the pool's schema: custom:department, custom:plan, email, email_verified, identities\n",
		// cognito-local invokes the function from its own configuration:
		// the pool's LambdaConfig is empty.
		"warning: the pool has no PostConfirmation trigger",
		// The harness's app client sets no WriteAttributes.
		"sets no WriteAttributes, so it may write custom:plan",
		// cognito-local lacks ListIdentityProviders: check-pool goes on
		// without the providers, and says so.
		"warning: cannot list the identity providers of user pool " + pool.ID + ": Unsupported: ",
	} {
		if !strings.Contains(ok.stdout, want) {
			t.Errorf("check-pool output lacks %q:\n%s", want, ok.stdout)
		}
	}

	// A ruleset that names a group the pool does not have.
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(strings.Replace(missingGroupRules, "%s", "fail", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := runCLI(t, ctx, env, "check-pool", "--pool", pool.ID, "--rules", rules)
	if want := `error: group "contractors" (rule staff) does not exist in the pool`; bad.code != 1 || !strings.Contains(bad.stdout, want) {
		t.Errorf("check-pool with a missing group: exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", bad.code, want, bad.stdout, bad.stderr)
	}

	// A pool that does not exist cannot be read.
	gone := runCLI(t, ctx, env, "check-pool", "--pool", "local_nope", "--rules", env.RulesFile())
	if gone.code != 2 || !strings.Contains(gone.stderr, "cannot describe user pool local_nope") {
		t.Errorf("check-pool of a missing pool: exit %d, stderr %q; want 2", gone.code, gone.stderr)
	}
}
