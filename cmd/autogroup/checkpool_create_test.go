package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

const createRules = "testdata/check-pool-create-rules.yaml"

// createPool is a pool for createRules that has one of its groups (staff)
// and the group memberOf reads (admins).
func createPool(t *testing.T) *cognitofake.Server {
	t.Helper()
	s := cognitofake.New(t)
	s.SetPageSize(2)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{
		Name:             "shop",
		PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:autogroup",
		CustomAttributes: []string{"custom:team", "custom:tenant"},
	})
	s.CreateGroup(fakePool, "staff")
	s.CreateGroup(fakePool, "admins")
	return s
}

// createdGroups returns the groups CreateGroup was called for, in order.
func createdGroups(s *cognitofake.Server) []string {
	var out []string
	for _, c := range s.CallsTo("CreateGroup") {
		out = append(out, c.Group)
	}
	return out
}

// createReport is check-pool's --json output with --create-missing-groups.
type createReport struct {
	Pool        string    `json:"pool"`
	Rules       string    `json:"rules"`
	Errors      []string  `json:"errors"`
	Warnings    []string  `json:"warnings"`
	OK          []string  `json:"ok"`
	Created     *[]string `json:"created"`
	WouldCreate *[]string `json:"wouldCreate"`
}

func decodeCreateReport(t *testing.T, r fakeRun) createReport {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	var rep createReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("--json output: %v\n%s%s", err, r.stdout, r.stderr)
	}
	return rep
}

// TestCheckPoolCreateMissingGroups checks that only the missing groups the
// rules can select are created, with the description, that the report and
// the exit code are those of the pool after the creation, and that a
// second run has nothing to create.
func TestCheckPoolCreateMissingGroups(t *testing.T) {
	s := createPool(t)
	args := []string{"check-pool", "--pool", fakePool, "--rules", createRules, "--create-missing-groups"}
	r := runFake(t, s, nil, args...)
	if r.code != exitOK {
		t.Errorf("exit %d, want 0: every missing group was created", r.code)
	}
	golden(t, filepath.Join("testdata", "golden", "check-pool-create.golden"), r.golden(args))
	want := []string{"employees", "customers", "team-eng", "team-ops"}
	if diff := cmp.Diff(want, createdGroups(s)); diff != "" {
		t.Errorf("CreateGroup calls (-want +got):\n%s", diff)
	}
	descriptions := map[string]string{}
	for p := cip.NewListGroupsPaginator(s.Client(t), &cip.ListGroupsInput{UserPoolId: aws.String(fakePool)}); p.HasMorePages(); {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Groups {
			descriptions[aws.ToString(g.GroupName)] = aws.ToString(g.Description)
		}
	}
	for _, g := range want {
		if descriptions[g] != groupDescription {
			t.Errorf("group %s has description %q, want %q", g, descriptions[g], groupDescription)
		}
	}
	if _, ok := descriptions["tenant-"]; ok || len(descriptions) != 6 {
		t.Errorf("groups after the run: %v, want staff, admins and the 4 created", descriptions)
	}

	// Nothing is missing now.
	j := runFake(t, s, nil, append(args, "--json")...)
	rep := decodeCreateReport(t, j)
	if j.code != exitOK || rep.Created == nil || len(*rep.Created) != 0 || rep.WouldCreate != nil || len(s.CallsTo("CreateGroup")) != 4 {
		t.Errorf("second run: exit %d, created %v, wouldCreate %v, %d CreateGroup calls; want 0, [], absent, still 4",
			j.code, rep.Created, rep.WouldCreate, len(s.CallsTo("CreateGroup")))
	}
}

// TestCheckPoolCreateDryRun checks that --dry-run creates nothing, names
// what it would create, and reports the pool as it is.
func TestCheckPoolCreateDryRun(t *testing.T) {
	s := createPool(t)
	args := []string{"check-pool", "--pool", fakePool, "--rules", createRules, "--create-missing-groups", "--dry-run"}
	r := runFake(t, s, nil, args...)
	if r.code != exitProblems {
		t.Errorf("exit %d, want 1: the pool still lacks the groups", r.code)
	}
	golden(t, filepath.Join("testdata", "golden", "check-pool-create-dry-run.golden"), r.golden(args))
	if n := len(s.CallsTo("CreateGroup")); n != 0 {
		t.Errorf("%d CreateGroup calls, want none", n)
	}

	j := runFake(t, s, nil, append(args, "--json")...)
	rep := decodeCreateReport(t, j)
	want := []string{"employees", "customers", "team-eng", "team-ops"}
	if rep.WouldCreate == nil || !cmp.Equal(*rep.WouldCreate, want) || rep.Created == nil || len(*rep.Created) != 0 || len(rep.Errors) != 4 {
		t.Errorf("--json: wouldCreate %v, created %v, errors %q; want %v, [] and the 4 missing groups", rep.WouldCreate, rep.Created, rep.Errors, want)
	}
}

// TestCheckPoolCreateRace checks that a group created by someone else
// between the listing and the creation counts as present.
func TestCheckPoolCreateRace(t *testing.T) {
	s := createPool(t)
	s.Inject(cognitofake.Fault{Op: "CreateGroup", Group: "team-eng", Type: "GroupExistsException", Message: "A group with the name already exists."})
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", createRules, "--create-missing-groups", "--json")
	rep := decodeCreateReport(t, r)
	if r.code != exitOK || len(rep.Errors) != 0 {
		t.Errorf("exit %d, errors %q; want 0 and none", r.code, rep.Errors)
	}
	if want := []string{"employees", "customers", "team-ops"}; rep.Created == nil || !cmp.Equal(*rep.Created, want) {
		t.Errorf("created %v, want %v", rep.Created, want)
	}
	if !slices.Contains(rep.OK, `group "team-eng" exists: it was created since the pool's groups were listed`) {
		t.Errorf("ok = %q, want team-eng found to exist", rep.OK)
	}
}

// TestCheckPoolCreateFailure checks that a group that cannot be created is
// an error naming the permission, that the others are created all the
// same, and that the exit code is 1.
func TestCheckPoolCreateFailure(t *testing.T) {
	s := createPool(t)
	s.Inject(cognitofake.Fault{Op: "CreateGroup", Group: "employees", Type: "AccessDeniedException", Message: "denied"})
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", createRules, "--create-missing-groups")
	if r.code != exitProblems {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{
		`error: cannot create group "employees": AccessDeniedException: denied (the caller needs IAM permission cognito-idp:CreateGroup)`,
		`error: group "employees" (rule staff) does not exist in the pool`,
		"created: group customers\ncreated: group team-eng\ncreated: group team-ops\n",
		"\n2 errors, 3 warnings; 3 groups created\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if got, want := createdGroups(s), []string{"employees", "customers", "team-eng", "team-ops"}; !cmp.Equal(got, want) {
		t.Errorf("CreateGroup calls %v, want %v", got, want)
	}
}

// TestCheckPoolCreateLimit checks that a pool that holds as many groups as
// it may (LimitExceededException, which the SDK takes for throttling) is
// asked once per group, not retried with backoff.
func TestCheckPoolCreateLimit(t *testing.T) {
	s := createPool(t)
	s.Inject(cognitofake.Fault{Op: "CreateGroup", Group: "team-eng", Type: "LimitExceededException", Message: "The number of groups exceeds the limit."})
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", createRules, "--create-missing-groups")
	if want := `error: cannot create group "team-eng": LimitExceededException: The number of groups exceeds the limit.`; r.code != exitProblems || !strings.Contains(r.stdout, want) {
		t.Errorf("exit %d, stdout:\n%s\nwant 1 and %q", r.code, r.stdout, want)
	}
	if got, want := createdGroups(s), []string{"employees", "customers", "team-eng", "team-ops"}; !cmp.Equal(got, want) {
		t.Errorf("CreateGroup calls %v, want %v: one each", got, want)
	}
}

// TestCheckPoolJSONWithoutCreate checks that the JSON report keeps its
// shape without --create-missing-groups: no created, no wouldCreate.
func TestCheckPoolJSONWithoutCreate(t *testing.T) {
	s := createPool(t)
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", createRules, "--json")
	rep := decodeCreateReport(t, r)
	if rep.Created != nil || rep.WouldCreate != nil || len(s.CallsTo("CreateGroup")) != 0 {
		t.Errorf("created %v, wouldCreate %v, %d CreateGroup calls; want both absent and none", rep.Created, rep.WouldCreate, len(s.CallsTo("CreateGroup")))
	}
}

func TestCheckPoolDryRunNeedsCreate(t *testing.T) {
	s := createPool(t)
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", createRules, "--dry-run")
	if want := "autogroup check-pool: --dry-run needs --create-missing-groups"; r.code != exitUsage || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
	if n := len(s.Calls()); n != 0 {
		t.Errorf("%d calls, want none", n)
	}
}
