package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/plan"
)

const reconcileRules = "testdata/reconcile-rules.yaml"

// newReconcilePool returns a pool for testdata/reconcile-rules.yaml: ana
// left the company (staff and admins to remove, her hand-granted auditors
// stays), ben is on hold, cid matches (nothing to do), dot is disabled and
// lacks staff.
func newReconcilePool(t *testing.T) *cognitofake.Server {
	t.Helper()
	s := cognitofake.New(t)
	for _, g := range []string{"staff", "admins", "hold", "auditors"} {
		s.CreateGroup(fakePool, g)
	}
	users := []struct {
		name   string
		email  string
		groups []string
		off    bool
	}{
		{"ana", "ana@elsewhere.example", []string{"staff", "admins", "auditors"}, false},
		{"ben", "ben@elsewhere.example", []string{"staff", "hold"}, false},
		{"cid", "cid@example.com", []string{"staff"}, false},
		{"dot", "dot@example.com", nil, true},
	}
	for _, u := range users {
		s.PutUser(fakePool, cognitofake.User{Username: u.name, Disabled: u.off, Attributes: map[string]string{"email": u.email, "email_verified": "true"}})
		for _, g := range u.groups {
			s.AddToGroup(fakePool, g, u.name)
		}
	}
	return s
}

func userGroupsIn(s *cognitofake.Server, user string) []string {
	g := s.GroupsForUser(fakePool, user)
	slices.Sort(g)
	return g
}

func TestBackfillReconcile(t *testing.T) {
	s := newReconcilePool(t)
	dry := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--json")
	if dry.code != exitChanges {
		t.Fatalf("dry run: exit %d, want 3\nstdout:\n%s\nstderr:\n%s", dry.code, dry.stdout, dry.stderr)
	}
	sum := dry.summary(t)
	if sum.Removals != 2 || sum.RemovalUsers != 1 || sum.UsersExcluded != 1 || sum.UsersDisabled != 1 || sum.Planned != 0 {
		t.Errorf("dry run summary = %+v, want 2 removals for 1 user, 1 excluded, 1 disabled, nothing to add", sum)
	}
	wantGroups := map[string]plan.GroupCounts{"admins": {Remove: 1}, "staff": {Remove: 1}}
	if diff := cmp.Diff(wantGroups, sum.Groups); diff != "" {
		t.Errorf("per-group counts (-want +got):\n%s", diff)
	}
	if !strings.Contains(dry.stderr, "would remove  "+s.Sub(fakePool, "ana")+"  admins, staff") {
		t.Errorf("report lacks ana's removals:\n%s", dry.stderr)
	}
	if n := len(s.CallsTo("AdminRemoveUserFromGroup")); n != 0 {
		t.Errorf("a dry run made %d AdminRemoveUserFromGroup calls, want none", n)
	}

	// --max-removals 0 (the default) refuses, before any change.
	refused := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--apply")
	if refused.code != exitProblems || !strings.Contains(refused.stderr, "more than --max-removals 0: nothing was changed") {
		t.Errorf("apply without --max-removals: exit %d, stderr %q; want 1 and a refusal", refused.code, refused.stderr)
	}
	if n := len(s.CallsTo("AdminRemoveUserFromGroup")) + len(s.CallsTo("AdminAddUserToGroup")); n != 0 {
		t.Errorf("a refused apply made %d calls, want none", n)
	}

	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--apply", "--max-removals", "2", "--rate", "100")
	if r.code != exitOK {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for user, want := range map[string][]string{
		"ana": {"auditors"},      // unmanaged, granted by hand: stays
		"ben": {"hold", "staff"}, // on hold: untouched
		"cid": {"staff"},
		"dot": nil, // disabled: skipped
	} {
		if diff := cmp.Diff(want, userGroupsIn(s, user)); diff != "" {
			t.Errorf("groups of %s after apply (-want +got):\n%s", user, diff)
		}
	}

	again := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules)
	if again.code != exitOK {
		t.Errorf("dry run after apply: exit %d, want 0 (nothing to do)\n%s", again.code, again.stdout)
	}
	with := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--include-disabled")
	if with.code != exitChanges || !strings.Contains(with.stdout, "would add  "+s.Sub(fakePool, "dot")+"  staff") {
		t.Errorf("--include-disabled: exit %d, want 3 and dot's add:\n%s", with.code, with.stdout)
	}
}

func TestBackfillUser(t *testing.T) {
	s := newReconcilePool(t)
	sub := s.Sub(fakePool, "ana")
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--user", sub, "--json")
	if r.code != exitChanges {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if sum := r.summary(t); sum.Users != 1 || sum.Removals != 2 {
		t.Errorf("summary = %+v, want 1 user with 2 removals", sum)
	}
	if n := len(s.CallsTo("ListUsersInGroup")); n != 0 {
		t.Errorf("--user made %d ListUsersInGroup calls, want none (AdminListGroupsForUser reads the user's groups)", n)
	}
	none := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--user", "no-such-sub")
	if none.code != exitUsage || !strings.Contains(none.stderr, "has no such user") {
		t.Errorf("unknown sub: exit %d, stderr %q; want 2 and no such user", none.code, none.stderr)
	}
}

func TestBackfillSavedPlan(t *testing.T) {
	s := newReconcilePool(t)
	s.PutUser(fakePool, cognitofake.User{Username: "eli", Attributes: map[string]string{"email": "eli@example.com", "email_verified": "true"}})
	s.PutUser(fakePool, cognitofake.User{Username: "fox", Attributes: map[string]string{"email": "fox@example.com", "email_verified": "true"}})
	out := filepath.Join(t.TempDir(), "plan.json")
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--out", out)
	if r.code != exitChanges {
		t.Fatalf("planning: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var saved plan.Plan
	if err := json.Unmarshal(data, &saved); err != nil || saved.Version != plan.FormatVersion || len(saved.Users) != 3 {
		t.Fatalf("saved plan: version %d, %d users, err %v; want version %d, 3 users (ana, eli, fox)", saved.Version, len(saved.Users), err, plan.FormatVersion)
	}

	// Meanwhile: eli got staff by hand (done), fox became an admin
	// (changed: the plan no longer holds for fox), a new user appeared
	// (not in the plan: untouched).
	s.AddToGroup(fakePool, "staff", "eli")
	s.PutUser(fakePool, cognitofake.User{Username: "fox", Attributes: map[string]string{"email": "fox@example.com", "email_verified": "true", "custom:role": "admin"}})
	s.PutUser(fakePool, cognitofake.User{Username: "gil", Attributes: map[string]string{"email": "gil@example.com", "email_verified": "true"}})

	a := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules, "--plan", out, "--apply", "--max-removals", "2", "--rate", "100", "--json")
	if a.code != exitProblems {
		t.Fatalf("apply: exit %d, want 1 (a user changed)\nstdout:\n%s\nstderr:\n%s", a.code, a.stdout, a.stderr)
	}
	if sum := a.summary(t); sum.UsersChanged != 1 || sum.Removed != 2 || sum.Added != 0 {
		t.Errorf("summary = %+v, want 1 changed, 2 removed, none added", sum)
	}
	if !strings.Contains(a.stderr, "changed    "+s.Sub(fakePool, "fox")+"  not touched") {
		t.Errorf("report does not name fox as changed:\n%s", a.stderr)
	}
	for user, want := range map[string][]string{"ana": {"auditors"}, "eli": {"staff"}, "fox": nil, "gil": nil} {
		if diff := cmp.Diff(want, userGroupsIn(s, user)); diff != "" {
			t.Errorf("groups of %s (-want +got):\n%s", user, diff)
		}
	}

	other := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(other, append(mustRead(t, reconcileRules), "\n# changed\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", other, "--plan", out, "--apply"); r.code != exitUsage || !strings.Contains(r.stderr, "another ruleset") {
		t.Errorf("plan with another ruleset: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

func TestBackfillMissingGroupExit(t *testing.T) {
	s := cognitofake.New(t)
	s.CreateGroup(fakePool, "staff")
	s.PutUser(fakePool, cognitofake.User{Username: "ivy", Attributes: map[string]string{"email": "ivy@x.example", "email_verified": "true", "custom:role": "admin"}})
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", reconcileRules)
	if r.code != exitProblems || !strings.Contains(r.stdout, `group "admins" does not exist`) {
		t.Errorf("dry run with a missing group: exit %d, want 1 and the group named:\n%s", r.code, r.stdout)
	}
}
