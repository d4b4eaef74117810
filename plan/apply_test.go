package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

const testPool = "us-east-1_apply"

// addCalls returns the AdminAddUserToGroup calls as "username group", sorted.
func addCalls(s *cognitofake.Server) []string {
	var out []string
	for _, c := range s.CallsTo("AdminAddUserToGroup") {
		out = append(out, c.Username+" "+c.Group)
	}
	slices.Sort(out)
	return out
}

// fastOptions back off briefly, so that retries do not slow the tests.
var fastOptions = &membership.Options{Budget: 5 * time.Second, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func TestApply(t *testing.T) {
	s := cognitofake.New(t)
	for _, g := range []string{"staff", "customers", "paid"} {
		s.CreateGroup(testPool, g)
	}
	s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Group: "paid", Type: "AccessDeniedException", Message: "denied"})
	s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Group: "staff", Times: 1, Type: "TooManyRequestsException", Message: "slow down"})
	p := &Plan{
		Version: FormatVersion, Pool: testPool, MissingGroups: []string{"invitees"},
		Users: []UserPlan{
			{Username: "ana", Sub: "s-ana", Groups: []string{"staff"}, Add: []string{"staff"}},
			{Username: "cleo", Sub: "s-cleo", Groups: []string{"customers", "paid"}, Add: []string{"customers", "paid"}},
			{Username: "fay@example.com", Sub: "s-fay", Groups: []string{"invitees", "staff"},
				Add: []string{"staff"}, Skipped: []SkippedGroup{{"invitees", ReasonGroupMissing}}},
			{Username: "s-gus", Sub: "s-gus", Groups: []string{"invitees"}, Skipped: []SkippedGroup{{"invitees", ReasonGroupMissing}}},
			// Nothing to do: not applied, not counted.
			{Username: "ben", Sub: "s-ben", Groups: []string{"staff"}, Skipped: []SkippedGroup{{"staff", ReasonAlreadyMember}}},
		},
	}
	results := map[string]UserResult{}
	a := &Applier{API: s.Client(t), Rate: 1000, Options: fastOptions, OnUser: func(r UserResult) {
		if _, dup := results[r.User.Username]; dup {
			t.Errorf("OnUser called twice for %s", r.User.Username)
		}
		results[r.User.Username] = r
	}}
	out := a.Apply(t.Context(), p)

	// One staff call is throttled and retried; the missing group is not
	// attempted.
	calls := addCalls(s)
	if diff := cmp.Diff([]string{"ana staff", "cleo customers", "cleo paid", "fay@example.com staff"}, slices.Compact(slices.Clone(calls))); diff != "" || len(calls) != 5 {
		t.Errorf("AdminAddUserToGroup calls = %v, want each planned add once and one retry of staff", calls)
	}
	if got, want := out.Progress, (Progress{Users: 4, UsersDone: 4, Memberships: 6, Added: 3, Failed: 3}); got != want {
		t.Errorf("Apply progress = %+v, want %+v", got, want)
	}
	if got := a.Progress(); got != out.Progress {
		t.Errorf("Progress() after Apply = %+v, want %+v", got, out.Progress)
	}
	type result struct {
		Added  []string
		Failed []string // group kind
	}
	gotResults := map[string]result{}
	for name, r := range results {
		var failed []string
		for _, f := range r.Failures {
			failed = append(failed, f.Group+" "+f.Kind)
		}
		gotResults[name] = result{r.Added, failed}
	}
	wantResults := map[string]result{
		"ana":             {Added: []string{"staff"}},
		"cleo":            {Added: []string{"customers"}, Failed: []string{"paid access_denied"}},
		"fay@example.com": {Added: []string{"staff"}, Failed: []string{"invitees group_not_found"}},
		"s-gus":           {Failed: []string{"invitees group_not_found"}},
	}
	if diff := cmp.Diff(wantResults, gotResults); diff != "" {
		t.Errorf("OnUser results (-want +got):\n%s", diff)
	}

	// Failures name the user by sub, and by username unless it is the sub
	// or looks like an email address.
	failures := slices.Clone(out.Failures)
	for i, f := range failures {
		if !strings.HasPrefix(f.Message, fmt.Sprintf("add user to group %q: ", f.Group)) {
			t.Errorf("failure %+v: message does not say what failed", f)
		}
		failures[i].Message = ""
	}
	slices.SortFunc(failures, func(a, b Failure) int { return strings.Compare(a.Sub, b.Sub) })
	want := []Failure{
		{Sub: "s-cleo", Username: "cleo", Group: "paid", Kind: "access_denied"},
		{Sub: "s-fay", Group: "invitees", Kind: "group_not_found"},
		{Sub: "s-gus", Group: "invitees", Kind: "group_not_found"},
	}
	if diff := cmp.Diff(want, failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if got := s.Members(testPool, "staff"); !slices.Equal(got, []string{"ana", "fay@example.com"}) {
		t.Errorf("staff = %v, want ana and fay", got)
	}
}

func TestApplyUserWithoutSub(t *testing.T) {
	s := cognitofake.New(t)
	p := &Plan{Pool: testPool, Users: []UserPlan{{Username: "jdoe", Groups: []string{"g"}, Add: []string{"g"}}}}
	out := (&Applier{API: s.Client(t), Options: fastOptions}).Apply(t.Context(), p)
	want := []Failure{{Sub: "username:jdoe", Username: "jdoe", Group: "g", Kind: "group_not_found"}}
	for i := range out.Failures {
		out.Failures[i].Message = ""
	}
	if diff := cmp.Diff(want, out.Failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

// usersPlan returns a plan that adds n users to group g.
func usersPlan(n int, g string) *Plan {
	p := &Plan{Pool: testPool}
	for i := range n {
		name := fmt.Sprintf("user%02d", i)
		p.Users = append(p.Users, UserPlan{Username: name, Sub: "s-" + name, Groups: []string{g}, Add: []string{g}})
	}
	return p
}

func TestApplyRate(t *testing.T) {
	s := cognitofake.New(t)
	s.CreateGroup(testPool, "customers")
	out := (&Applier{API: s.Client(t), Rate: 50}).Apply(t.Context(), usersPlan(11, "customers"))
	if out.Added != 11 {
		t.Fatalf("Apply = %+v, want 11 added", out)
	}
	calls := s.CallsTo("AdminAddUserToGroup")
	// 11 calls at 50 per second, the first at once: 10/50 = 200ms.
	if span := calls[len(calls)-1].Start.Sub(calls[0].Start); span < 180*time.Millisecond {
		t.Errorf("11 adds at Rate 50 took %v, want at least 180ms", span)
	}
}

func TestApplyWorkers(t *testing.T) {
	for _, workers := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			s := cognitofake.New(t)
			s.CreateGroup(testPool, "customers")
			s.Delay(30 * time.Millisecond) // every call in flight a while
			// No Rate: no limit, so the workers alone bound the calls.
			out := (&Applier{API: s.Client(t), Workers: workers}).Apply(t.Context(), usersPlan(12, "customers"))
			want := workers
			if want == 0 {
				want = DefaultWorkers
			}
			if n := s.MaxInFlight(); out.Added != 12 || n != want {
				t.Errorf("Workers %d: %d added, at most %d calls at once; want 12 and %d", workers, out.Added, n, want)
			}
		})
	}
}

func TestApplyStop(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		s := cognitofake.New(t)
		s.CreateGroup(testPool, "customers")
		stop := make(chan struct{})
		close(stop)
		out := (&Applier{API: s.Client(t), Stop: stop}).Apply(t.Context(), usersPlan(5, "customers"))
		if n := len(s.CallsTo("AdminAddUserToGroup")); n != 0 || out.UsersDone != 0 || out.Users != 5 {
			t.Errorf("Apply with Stop closed made %d calls, outcome %+v; want none, 0 of 5 users done", n, out)
		}
	})
	t.Run("after the first user", func(t *testing.T) {
		s := cognitofake.New(t)
		s.CreateGroup(testPool, "customers")
		stop := make(chan struct{})
		var once sync.Once
		a := &Applier{API: s.Client(t), Workers: 1, Stop: stop, OnUser: func(UserResult) { once.Do(func() { close(stop) }) }}
		out := a.Apply(t.Context(), usersPlan(10, "customers"))
		// The worker may have taken one more user as Stop closed.
		if out.UsersDone < 1 || out.UsersDone > 2 || out.Added != out.UsersDone || len(s.CallsTo("AdminAddUserToGroup")) != out.UsersDone {
			t.Errorf("Apply stopped after the first user = %+v, %d calls; want 1 or 2 users done and added", out, len(s.CallsTo("AdminAddUserToGroup")))
		}
	})
}

func TestApplyCancel(t *testing.T) {
	s := cognitofake.New(t)
	s.CreateGroup(testPool, "customers")
	s.Hang()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for len(s.CallsTo("AdminAddUserToGroup")) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	out := (&Applier{API: s.Client(t), Workers: 1}).Apply(ctx, usersPlan(1, "customers"))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Apply returned %v after a call hung and ctx was canceled", d)
	}
	if len(out.Failures) != 1 || out.Failures[0].Kind != string(membership.KindTimeout) {
		t.Errorf("Apply after cancel = %+v, want one timed_out failure", out)
	}
}

func TestApplyProgressDuringOnUser(t *testing.T) {
	s := cognitofake.New(t)
	s.CreateGroup(testPool, "customers")
	a := &Applier{API: s.Client(t)}
	calls := 0
	a.OnUser = func(r UserResult) {
		calls++
		// Progress may be called here, and counts this user.
		if p := a.Progress(); p.UsersDone != calls || p.Added != calls || p.Users != 12 {
			t.Errorf("Progress() in OnUser call %d = %+v, want %d users done and added of 12", calls, p, calls)
		}
	}
	if out := a.Apply(t.Context(), usersPlan(12, "customers")); out.UsersDone != 12 || calls != 12 {
		t.Errorf("Apply = %+v, OnUser called %d times; want 12", out, calls)
	}
}

func TestApplyRemoves(t *testing.T) {
	s := cognitofake.New(t)
	for _, g := range []string{"staff", "admins"} {
		s.CreateGroup(testPool, g)
	}
	s.PutUser(testPool, cognitofake.User{Username: "ana"})
	s.AddToGroup(testPool, "admins", "ana")
	p := &Plan{Version: FormatVersion, Pool: testPool, Remove: true, Users: []UserPlan{
		{Username: "ana", Sub: "s-ana", Groups: []string{"staff"}, Add: []string{"staff"}, Remove: []string{"admins"}},
	}}
	var res UserResult
	a := &Applier{API: s.Client(t), Rate: 1000, Options: fastOptions, OnUser: func(r UserResult) { res = r }}
	out := a.Apply(t.Context(), p)
	if out.Removals != 1 || out.Removed != 1 || out.Added != 1 || out.Failed != 0 {
		t.Errorf("Apply() = %+v, want 1 added, 1 of 1 removed, none failed", out.Progress)
	}
	if diff := cmp.Diff([]string{"admins"}, res.Removed); diff != "" {
		t.Errorf("UserResult.Removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"staff"}, s.GroupsForUser(testPool, "ana")); diff != "" {
		t.Errorf("groups of ana after Apply (-want +got):\n%s", diff)
	}
}
