package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

const (
	fakePool      = "us-east-1_backfill"
	backfillRules = "testdata/backfill-rules.yaml"
)

// fakeRun is one in-process run of the tool against a cognitofake server.
type fakeRun struct {
	code           int
	stdout, stderr string
}

// runFake runs the tool with args against s. Sending on interrupts (may be
// nil) interrupts it, as Ctrl-C would.
func runFake(t *testing.T, s *cognitofake.Server, interrupts chan os.Signal, args ...string) fakeRun {
	t.Helper()
	if interrupts == nil {
		interrupts = make(chan os.Signal)
	}
	client := s.Client(t)
	var stdout, stderr bytes.Buffer
	e := &env{
		stdout: &stdout, stderr: &stderr, ctx: t.Context(), interrupts: interrupts,
		cognito: func(context.Context) (cognitoAPI, error) { return client, nil },
	}
	code := e.run(args)
	return fakeRun{code, stdout.String(), stderr.String()}
}

// summary decodes the JSON summary, the last line of standard output.
func (r fakeRun) summary(t *testing.T) backfillSummary {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	var s backfillSummary
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("last line of stdout is not the JSON summary: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return s
}

// fakeUser is a user of the test pool and the groups backfill must add.
type fakeUser struct {
	user cognitofake.User
	// member are the groups the user already belongs to.
	member []string
	// want are the groups backfill adds; nil when it must skip the user.
	want []string
}

// testUsers are chosen against testdata/backfill-rules.yaml.
var testUsers = []fakeUser{
	{user: cognitofake.User{Username: "ana", Attributes: map[string]string{"email": "ana@example.com", "email_verified": "true"}},
		want: []string{"staff"}},
	{user: cognitofake.User{Username: "ben", Attributes: map[string]string{"email": "ben@example.com", "email_verified": "true"}},
		member: []string{"staff"}},
	{user: cognitofake.User{Username: "cleo", Attributes: map[string]string{"email": "cleo@shop.example.net", "email_verified": "true", "custom:plan": "pro"}},
		member: []string{"customers"}, want: []string{"paid"}},
	{user: cognitofake.User{Username: "dan", Attributes: map[string]string{"email": "dan@mail.example.org", "email_verified": "true"}},
		want: []string{"customers"}},
	{user: cognitofake.User{Username: "eve", Status: "UNCONFIRMED", Attributes: map[string]string{"email": "eve@example.com", "email_verified": "true"}}},
	{user: cognitofake.User{Username: "fay", Status: "FORCE_CHANGE_PASSWORD", Attributes: map[string]string{"email": "fay@mail.example.org"}},
		want: []string{"invited"}},
	{user: cognitofake.User{Username: "Google_1234", Status: "EXTERNAL_PROVIDER", Attributes: map[string]string{"email": "gus@gmail.example", "identities": `[{"providerName":"Google"}]`}},
		want: []string{"customers"}},
	{user: cognitofake.User{Username: "hal", Attributes: map[string]string{"email": "hal@example.com", "email_verified": "false"}},
		want: []string{"customers"}},
}

// newTestPool returns a server with the test users, their memberships and
// the groups of testdata/backfill-rules.yaml (but beta, which only the
// skipped rule selects).
func newTestPool(t *testing.T) *cognitofake.Server {
	t.Helper()
	s := cognitofake.New(t)
	for _, g := range []string{"customers", "staff", "paid", "invited"} {
		s.CreateGroup(fakePool, g)
	}
	for _, u := range testUsers {
		s.PutUser(fakePool, u.user)
		for _, g := range u.member {
			s.AddToGroup(fakePool, g, u.user.Username)
		}
	}
	return s
}

// addCalls returns the AdminAddUserToGroup calls as "username group".
func addCalls(s *cognitofake.Server) []string {
	var out []string
	for _, c := range s.CallsTo("AdminAddUserToGroup") {
		out = append(out, c.Username+" "+c.Group)
	}
	slices.Sort(out)
	return out
}

func TestBackfillDryRun(t *testing.T) {
	s := newTestPool(t)
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if calls := s.CallsTo("AdminAddUserToGroup"); len(calls) != 0 {
		t.Errorf("a dry run made %d AdminAddUserToGroup calls, want none", len(calls))
	}
	got := r.summary(t)
	want := backfillSummary{
		Pool: fakePool, Rules: backfillRules, DryRun: true,
		Users: 8, UsersEvaluated: 7, UsersSkipped: 1, SkippedByStatus: map[string]int{"UNCONFIRMED": 1},
		Planned: 6, PlannedUsers: 6, AlreadyMember: 2,
		Failures: []failure{}, SkippedRules: []string{"web-beta"}, MissingGroups: []string{},
	}
	got.Seconds = 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	// One plan line per user lacking a membership: sub, groups, rules.
	for _, u := range testUsers {
		sub := s.Sub(fakePool, u.user.Username)
		var line string
		for l := range strings.SplitSeq(r.stdout, "\n") {
			if strings.HasPrefix(l, "would add  "+sub+"  ") {
				line = l
			}
		}
		switch {
		case u.want == nil && line != "":
			t.Errorf("plan has a line for %s, want none: %q", u.user.Username, line)
		case u.want != nil && !strings.Contains(line, "  "+strings.Join(u.want, ", ")+"  ("):
			t.Errorf("plan line for %s = %q, want groups %v", u.user.Username, line, u.want)
		}
	}
	for _, want := range []string{
		"would add  " + s.Sub(fakePool, "cleo") + "  paid  (paid-plan)",
		"would add  " + s.Sub(fakePool, "dan") + "  customers  (defaultGroups)",
		"would add  " + s.Sub(fakePool, "fay") + "  invited  (invited)",
		"skipped rule web-beta (line 8): it tests clientId",
		"caution: it has stop: true",
		"caution: defaultGroups (customers) apply when no rule matches",
		"result:      dry run, nothing was changed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "@") {
		t.Errorf("stdout holds an email address:\n%s", r.stdout)
	}
	for _, name := range []string{"(cleo)", "(fay)", "Google_1234"} {
		if strings.Contains(r.stdout, name) {
			t.Errorf("stdout names a user by username %s without --show-usernames:\n%s", name, r.stdout)
		}
	}

	// --show-usernames names them by username too.
	named := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--show-usernames")
	for _, want := range []string{
		"would add  " + s.Sub(fakePool, "cleo") + " (cleo)  paid  (paid-plan)",
		"would add  " + s.Sub(fakePool, "Google_1234") + " (Google_1234)  customers  (defaultGroups)",
	} {
		if named.code != exitOK || !strings.Contains(named.stdout, want) {
			t.Errorf("--show-usernames: exit %d, stdout lacks %q:\n%s", named.code, want, named.stdout)
		}
	}
}

func TestBackfillApply(t *testing.T) {
	s := newTestPool(t)
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "100", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sum := r.summary(t)
	if sum.DryRun || sum.Planned != 6 || sum.Added != 6 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want 6 planned and added", sum)
	}
	var wantCalls []string
	for _, u := range testUsers {
		want := slices.Concat(u.member, u.want)
		slices.Sort(want)
		if got := s.GroupsForUser(fakePool, u.user.Username); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("GroupsForUser(%s) = %v, want %v", u.user.Username, got, want)
		}
		for _, g := range u.want {
			wantCalls = append(wantCalls, u.user.Username+" "+g)
		}
	}
	slices.Sort(wantCalls)
	if diff := cmp.Diff(wantCalls, addCalls(s)); diff != "" {
		t.Errorf("AdminAddUserToGroup calls (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stdout, "added      "+s.Sub(fakePool, "cleo")+"  paid  (paid-plan)") {
		t.Errorf("stdout lacks the line for cleo:\n%s", r.stdout)
	}

	// A second run finds every membership and adds nothing.
	again := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "100", "--json")
	if again.code != exitOK {
		t.Fatalf("second run: exit %d\nstderr:\n%s", again.code, again.stderr)
	}
	if sum := again.summary(t); sum.Planned != 0 || sum.Added != 0 || sum.AlreadyMember != 8 {
		t.Errorf("second run summary = %+v, want 0 planned, 0 added, 8 already there", sum)
	}
	if n := len(s.CallsTo("AdminAddUserToGroup")); n != len(wantCalls) {
		t.Errorf("%d AdminAddUserToGroup calls after the second run, want still %d", n, len(wantCalls))
	}
}

// manyUsers puts n users that only defaultGroups (customers) selects.
func manyUsers(s *cognitofake.Server, n int) []string {
	s.CreateGroup(fakePool, "customers")
	var names []string
	for i := range n {
		name := fmt.Sprintf("user%03d", i)
		s.PutUser(fakePool, cognitofake.User{Username: name, Attributes: map[string]string{"email": name + "@mail.example.org", "email_verified": "true"}})
		names = append(names, name)
	}
	return names
}

func TestBackfillPages(t *testing.T) {
	s := cognitofake.New(t)
	names := manyUsers(s, 25)
	for _, name := range names[:9] {
		s.AddToGroup(fakePool, "customers", name)
	}
	s.SetPageSize(4)
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "200", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sum := r.summary(t)
	if sum.Users != 25 || sum.AlreadyMember != 9 || sum.Planned != 16 || sum.Added != 16 {
		t.Errorf("summary = %+v, want 25 users, 9 members, 16 planned and added", sum)
	}
	if n := len(s.CallsTo("ListUsers")); n != 7 {
		t.Errorf("%d ListUsers calls, want 7 pages of at most 4", n)
	}
	for _, g := range []string{"customers", "staff", "paid", "invited"} {
		want := 1 // staff, paid and invited do not exist: one call answered ResourceNotFoundException
		if g == "customers" {
			want = 3 // 9 members, 4 a page
		}
		n := 0
		for _, c := range s.CallsTo("ListUsersInGroup") {
			if c.Group == g {
				n++
			}
		}
		if n != want {
			t.Errorf("%d ListUsersInGroup calls for %s, want %d", n, g, want)
		}
	}
	if got := s.Members(fakePool, "customers"); !slices.Equal(got, names) {
		t.Errorf("customers has %d members, want all %d users", len(got), len(names))
	}
}

func TestBackfillThrottled(t *testing.T) {
	s := cognitofake.New(t)
	manyUsers(s, 5)
	s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Times: 3, Type: "TooManyRequestsException", Message: "Too many requests."})
	s.Inject(cognitofake.Fault{Op: "ListUsers", Times: 1, Type: "TooManyRequestsException", Message: "Too many requests."})
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "100", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if sum := r.summary(t); sum.Added != 5 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want 5 added despite throttling", sum)
	}
	throttled := 0
	for _, c := range s.CallsTo("AdminAddUserToGroup") {
		if c.Outcome == "TooManyRequestsException" {
			throttled++
		}
	}
	if n := len(s.CallsTo("AdminAddUserToGroup")); n != 8 || throttled != 3 {
		t.Errorf("%d AdminAddUserToGroup calls, %d throttled; want 8 and 3", n, throttled)
	}
	if n := len(s.CallsTo("ListUsers")); n != 2 {
		t.Errorf("%d ListUsers calls, want 2 (one throttled, retried)", n)
	}
	if len(s.Members(fakePool, "customers")) != 5 {
		t.Errorf("customers = %v, want the 5 users", s.Members(fakePool, "customers"))
	}
}

func TestBackfillRate(t *testing.T) {
	s := cognitofake.New(t)
	manyUsers(s, 30)
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "20")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	calls := s.CallsTo("AdminAddUserToGroup")
	if len(calls) != 30 {
		t.Fatalf("%d AdminAddUserToGroup calls, want 30", len(calls))
	}
	// 30 calls at 20 per second, the first at once: 29/20 = 1.45s.
	if span := calls[len(calls)-1].Start.Sub(calls[0].Start); span < 1300*time.Millisecond {
		t.Errorf("30 adds at --rate 20 took %v, want at least 1.3s", span)
	}
}

func TestBackfillFailures(t *testing.T) {
	s := newTestPool(t)
	s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Group: "paid", Type: "AccessDeniedException", Message: "not authorized to perform: cognito-idp:AdminAddUserToGroup"})
	// A group the rules select that does not exist is not attempted.
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	src, err := os.ReadFile(backfillRules)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rules, bytes.Replace(src, []byte("groups: [invited]"), []byte("groups: [invitees]"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	cleo, fay := s.Sub(fakePool, "cleo"), s.Sub(fakePool, "fay")
	args := []string{"backfill", "--pool", fakePool, "--rules", rules, "--apply", "--rate", "100", "--json"}

	// By sub only.
	checkFailures(t, s, runFake(t, s, nil, args...), []failure{
		{Sub: cleo, Group: "paid", Kind: "access_denied"},
		{Sub: fay, Group: "invitees", Kind: "group_not_found"},
	}, []string{
		"failed memberships (2):",
		"  " + cleo + "  paid  access_denied  add user to group \"paid\": access denied",
		"  " + fay + "  invitees  group_not_found  add user to group \"invitees\": group does not exist",
		`missing:     group "invitees" does not exist in the pool`,
	})

	// Again, with the usernames.
	checkFailures(t, s, runFake(t, s, nil, append(args, "--show-usernames")...), []failure{
		{Sub: cleo, Username: "cleo", Group: "paid", Kind: "access_denied"},
		{Sub: fay, Username: "fay", Group: "invitees", Kind: "group_not_found"},
	}, []string{
		"  " + cleo + " (cleo)  paid  access_denied  add user to group \"paid\": access denied",
		"  " + fay + " (fay)  invitees  group_not_found  add user to group \"invitees\": group does not exist",
	})
}

// checkFailures checks a run of TestBackfillFailures: the memberships in
// want failed (messages left out), the 6 others are in place, and stdout
// has the lines.
func checkFailures(t *testing.T, s *cognitofake.Server, r fakeRun, want []failure, lines []string) {
	t.Helper()
	if r.code != exitProblems {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sum := r.summary(t)
	got := slices.Clone(sum.Failures)
	for i := range got {
		if got[i].Message == "" {
			t.Errorf("failure %+v has no message", got[i])
		}
		got[i].Message = ""
	}
	slices.SortFunc(got, func(a, b failure) int { return strings.Compare(a.Group, b.Group) })
	slices.SortFunc(want, func(a, b failure) int { return strings.Compare(a.Group, b.Group) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if sum.Added+sum.AlreadyMember != 6 || sum.Failed != 2 || !slices.Equal(sum.MissingGroups, []string{"invitees"}) {
		t.Errorf("summary = %+v, want 6 memberships added or already there, 2 failed, invitees missing", sum)
	}
	for _, c := range s.CallsTo("AdminAddUserToGroup") {
		if c.Group == "invitees" {
			t.Errorf("an add to the missing group was attempted: %+v", c)
		}
	}
	for _, want := range lines {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "2 memberships could not be added") {
		t.Errorf("stderr = %q, want the count of failures", r.stderr)
	}
}

// waitForCalls waits until s has received n calls of op.
func waitForCalls(t *testing.T, s *cognitofake.Server, op string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.CallsTo(op)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s calls after 10s, want %d", len(s.CallsTo(op)), op, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBackfillResume(t *testing.T) {
	s := cognitofake.New(t)
	names := manyUsers(s, 40)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "40", "--state", state, "--json"}

	interrupts := make(chan os.Signal, 1)
	go func() {
		waitForCalls(t, s, "AdminAddUserToGroup", 10)
		interrupts <- os.Interrupt
	}()
	first := runFake(t, s, interrupts, args...)
	if first.code != exitInterrupted {
		t.Fatalf("interrupted run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", first.code, exitInterrupted, first.stdout, first.stderr)
	}
	sum := first.summary(t)
	var saved backfillState
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	k := len(saved.Done)
	if !sum.Interrupted || k < 10 || k >= 40 || sum.Added != k {
		t.Fatalf("interrupted run: %d users saved, summary %+v; want between 10 and 39, all added", k, sum)
	}
	if !strings.Contains(first.stderr, "run again with --state "+state) {
		t.Errorf("stderr = %q, want how to continue", first.stderr)
	}
	for _, sub := range saved.Done {
		if !strings.Contains(first.stdout, "added      "+sub+" ") {
			t.Errorf("state lists %s, which the run did not report as added", sub)
		}
	}

	second := runFake(t, s, nil, args...)
	if second.code != exitOK {
		t.Fatalf("resumed run: exit %d\nstdout:\n%s\nstderr:\n%s", second.code, second.stdout, second.stderr)
	}
	if sum := second.summary(t); sum.UsersResumed != k || sum.Planned != 40-k || sum.Added != 40-k {
		t.Errorf("resumed run summary = %+v, want %d resumed, %d planned and added", sum, k, 40-k)
	}
	if !strings.Contains(second.stdout, fmt.Sprintf("state:     %s (%d users done in an earlier run, skipped)", state, k)) {
		t.Errorf("resumed run does not say it resumes:\n%s", second.stdout)
	}
	// Every user added exactly once over both runs.
	var want []string
	for _, name := range names {
		want = append(want, name+" customers")
	}
	if diff := cmp.Diff(want, addCalls(s)); diff != "" {
		t.Errorf("AdminAddUserToGroup calls over both runs (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal(mustRead(t, state), &saved); err != nil || len(saved.Done) != 40 {
		t.Errorf("state after the resumed run lists %d users (%v), want 40", len(saved.Done), err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBackfillStateMismatch(t *testing.T) {
	s := newTestPool(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	src := mustRead(t, backfillRules)
	write := func(st backfillState) {
		data, _ := json.Marshal(st)
		if err := os.WriteFile(state, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		st      backfillState
		wantErr string
	}{
		{"another pool", backfillState{Version: 1, Pool: "us-east-1_other", Rules: rulesHash(src)},
			"was written for user pool us-east-1_other, not " + fakePool},
		{"another ruleset", backfillState{Version: 1, Pool: fakePool, Rules: rulesHash([]byte("version: 1"))},
			"was written for another ruleset"},
		{"another format", backfillState{Version: 9, Pool: fakePool, Rules: rulesHash(src)},
			"has format version 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.st)
			r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--state", state)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.wantErr)
			}
			if n := len(s.Calls()); n != 0 {
				t.Errorf("%d calls made, want none", n)
			}
		})
	}
	if err := os.WriteFile(state, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--state", state); r.code != exitUsage || !strings.Contains(r.stderr, "is not a backfill state") {
		t.Errorf("malformed state: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestBackfillDryRunKeepsState(t *testing.T) {
	s := newTestPool(t)
	state := filepath.Join(t.TempDir(), "state.json")
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules, "--state", state)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote the state file (stat: %v)", err)
	}
}

func TestBackfillUnreadablePool(t *testing.T) {
	s := cognitofake.New(t)
	s.Inject(cognitofake.Fault{Op: "ListUsers", Type: "AccessDeniedException", Message: "no"})
	r := runFake(t, s, nil, "backfill", "--pool", fakePool, "--rules", backfillRules)
	if r.code != exitUsage || !strings.Contains(r.stderr, "cannot list the users of user pool "+fakePool+": AccessDeniedException: no (the caller needs IAM permission cognito-idp:ListUsers)") {
		t.Errorf("exit %d, stderr %q; want 2 and the missing permission", r.code, r.stderr)
	}
}

func TestUserLabel(t *testing.T) {
	tests := []struct {
		username, sub string
		show          bool
		want          string
	}{
		{"4a1c-sub", "4a1c-sub", false, "4a1c-sub"},
		{"jdoe", "4a1c-sub", false, "4a1c-sub"},
		{"+15555550100", "4a1c-sub", false, "4a1c-sub"},
		{"jo@example.com", "4a1c-sub", false, "4a1c-sub"},
		{"jdoe", "", false, "(user without sub)"},
		{"4a1c-sub", "4a1c-sub", true, "4a1c-sub"},
		{"jdoe", "4a1c-sub", true, "4a1c-sub (jdoe)"},
		{"jo@example.com", "4a1c-sub", true, "4a1c-sub (jo@example.com)"},
		{"jdoe", "", true, "username jdoe"},
	}
	for _, tt := range tests {
		if got := userLabel(tt.username, tt.sub, tt.show); got != tt.want {
			t.Errorf("userLabel(%q, %q, %v) = %q, want %q", tt.username, tt.sub, tt.show, got, tt.want)
		}
	}
}

// TestBackfillStateLocked runs two backfills on one --state file at once:
// the second refuses at once, without a call, and the file is free again
// once the first has ended.
func TestBackfillStateLocked(t *testing.T) {
	s := cognitofake.New(t)
	manyUsers(s, 5)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"backfill", "--pool", fakePool, "--rules", backfillRules, "--apply", "--rate", "100", "--state", state}

	// The first run holds the lock while its first add hangs.
	s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Hang: true})
	interrupts := make(chan os.Signal, 2)
	first := make(chan fakeRun, 1)
	go func() { first <- runFake(t, s, interrupts, args...) }()
	waitForCalls(t, s, "AdminAddUserToGroup", 1)

	reads := func() int { return len(s.Calls()) - len(s.CallsTo("AdminAddUserToGroup")) }
	calls := reads() // the first run has listed the pool; it only adds now
	start := time.Now()
	second := runFake(t, s, nil, args...)
	want := "autogroup backfill: state file " + state + " is in use by another backfill run (it holds " + state + ".lock); wait for that run to end, or pass another --state FILE\n"
	if second.code != exitUsage || second.stderr != want || second.stdout != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q; want 2, nothing and %q", second.code, second.stdout, second.stderr, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second run took %v to refuse, want at once", d)
	}
	if n := reads(); n != calls {
		t.Errorf("second run made %d calls, want none", n-calls)
	}

	interrupts <- os.Interrupt
	interrupts <- os.Interrupt // stop the hung add too
	if r := <-first; r.code != exitInterrupted {
		t.Fatalf("first run: exit %d, want %d\nstderr:\n%s", r.code, exitInterrupted, r.stderr)
	}
	s.ClearFaults()
	third := runFake(t, s, nil, append(args, "--json")...)
	if third.code != exitOK {
		t.Fatalf("run after the first ended: exit %d, want 0\nstderr:\n%s", third.code, third.stderr)
	}
	if sum := third.summary(t); sum.Added+sum.UsersResumed != 5 {
		t.Errorf("run after the first ended: summary %+v, want the 5 users done", sum)
	}
}
