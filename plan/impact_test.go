package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The rulesets compared: staffRules is in force, engRules adds a group for
// the same users, removeRules also removes what it no longer selects.
const (
	staffRules = `version: 1
rules:
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff]
`
	engRules = `version: 1
rules:
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff, engineering]
`
	removeRules = `version: 1
reconcile:
  remove: true
  managedGroups: [staff, engineering, contractors]
rules:
  - name: staff
    when:
      emailDomain: example.com
    groups: [engineering]
`
	forgotOnlyRules = `version: 1
triggerSources: [PostConfirmation_ConfirmForgotPassword]
reconcile:
  remove: true
  managedGroups: [staff]
rules:
  - name: none
    when:
      emailDomain: nowhere.example
    groups: [staff]
`
)

func TestCompare(t *testing.T) {
	confirmed := func(name, sub, email string, groups ...string) User {
		return User{Username: name, Status: "CONFIRMED", Attributes: attrs(sub, email), Groups: groups}
	}
	tests := []struct {
		name            string
		inForce, next   string // "" inForce: none
		pool            Pool
		users           []User
		wantUsers, want int // Users, Changed
		wantGroups      map[string]GroupImpact
	}{
		{name: "adds: the new group counts, a group both add is unchanged",
			inForce: staffRules, next: engRules,
			users: []User{
				confirmed("a", "s-a", "a@example.com"),
				confirmed("b", "s-b", "b@example.com", "staff"),
				confirmed("c", "s-c", "c@other.example"),
			},
			wantUsers: 3, want: 2,
			wantGroups: map[string]GroupImpact{
				"staff":       {Add: 1, InForceAdd: 1, Sample: []string{}},
				"engineering": {Add: 2, Changed: 2, Sample: []string{"s-a", "s-b"}},
			}},
		{name: "no reconcile.remove: a group no longer selected is not removed",
			inForce: engRules, next: staffRules,
			users:     []User{confirmed("a", "s-a", "a@example.com", "staff", "engineering")},
			wantUsers: 1, want: 0,
			wantGroups: map[string]GroupImpact{}},
		{name: "reconcile.remove: managed groups no longer selected are removed",
			inForce: staffRules, next: removeRules,
			users: []User{
				confirmed("a", "s-a", "a@example.com", "staff"),
				confirmed("b", "s-b", "b@other.example", "contractors", "hand-made"),
				confirmed("c", "s-c", "c@example.com", "engineering"),
			},
			wantUsers: 3, want: 3,
			wantGroups: map[string]GroupImpact{
				// c is no longer added to staff.
				"staff":       {InForceAdd: 1, Remove: 1, Changed: 2, Sample: []string{"s-a", "s-c"}},
				"engineering": {Add: 1, Changed: 1, Sample: []string{"s-a"}},
				"contractors": {Remove: 1, Changed: 1, Sample: []string{"s-b"}},
			}},
		{name: "the same ruleset: counts, but no user changes",
			inForce: engRules, next: engRules,
			users:     []User{confirmed("a", "s-a", "a@example.com"), confirmed("b", "s-b", "b@example.com", "staff")},
			wantUsers: 2, want: 0,
			wantGroups: map[string]GroupImpact{
				"staff":       {Add: 1, InForceAdd: 1, Sample: []string{}},
				"engineering": {Add: 2, InForceAdd: 2, Sample: []string{}},
			}},
		{name: "nothing in force: every add is new",
			next:      staffRules,
			users:     []User{confirmed("a", "s-a", "a@example.com")},
			wantUsers: 1, want: 1,
			wantGroups: map[string]GroupImpact{"staff": {Add: 1, Changed: 1, Sample: []string{"s-a"}}}},
		{name: "a new ruleset that does not handle the sign-up removes nothing",
			inForce: staffRules, next: forgotOnlyRules,
			users:     []User{confirmed("a", "s-a", "a@example.com", "staff")},
			wantUsers: 1, want: 0,
			wantGroups: map[string]GroupImpact{}},
		{name: "a missing group is marked",
			inForce: staffRules, next: engRules, pool: Pool{MissingGroups: []string{"engineering"}},
			users:     []User{confirmed("a", "s-a", "a@example.com", "staff")},
			wantUsers: 1, want: 1,
			wantGroups: map[string]GroupImpact{"engineering": {Add: 1, Changed: 1, Sample: []string{"s-a"}, Missing: true}}},
		{name: "users skipped by status or disabled do not change",
			inForce: staffRules, next: engRules,
			users: []User{
				{Username: "u", Status: "UNCONFIRMED", Attributes: attrs("s-u", "u@example.com")},
				{Username: "d", Status: "CONFIRMED", Disabled: true, Attributes: attrs("s-d", "d@example.com")},
			},
			wantUsers: 2, want: 0,
			wantGroups: map[string]GroupImpact{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inForce *Planner
			if tt.inForce != "" {
				inForce = NewPlanner(mustParse(t, tt.inForce))
			}
			next := NewPlanner(mustParse(t, tt.next))
			got := Compare(inForce, next, tt.pool, tt.users)
			if got.Users != tt.wantUsers || got.Changed != tt.want {
				t.Errorf("Compare: %d users, %d changed, want %d, %d", got.Users, got.Changed, tt.wantUsers, tt.want)
			}
			if got.Remove != next.Removes() {
				t.Errorf("Remove = %v, want %v", got.Remove, next.Removes())
			}
			if diff := cmp.Diff(tt.wantGroups, got.Groups); diff != "" {
				t.Errorf("Groups (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompareSample checks that a group's sample holds at most SampleSize
// subs, in the order the users came, and subs only: never a username, an
// email address, or anything of a user without a sub.
func TestCompareSample(t *testing.T) {
	var users []User
	users = append(users, User{Username: "nosub@example.com", Status: "CONFIRMED", Attributes: attrs("", "nosub@example.com")})
	for i := range 8 {
		users = append(users, User{Username: fmt.Sprintf("user%d@example.com", i), Status: "CONFIRMED",
			Attributes: attrs(fmt.Sprintf("sub-%d", i), fmt.Sprintf("user%d@example.com", i), "phone_number", "+15555550100")})
	}
	got := Compare(NewPlanner(mustParse(t, staffRules)), NewPlanner(mustParse(t, engRules)), Pool{}, users)
	eng := got.Groups["engineering"]
	if eng.Add != 9 || eng.Changed != 9 || got.Changed != 9 {
		t.Errorf("engineering: add %d, changed %d, users changed %d, want 9, 9, 9", eng.Add, eng.Changed, got.Changed)
	}
	if want := []string{"sub-0", "sub-1", "sub-2", "sub-3", "sub-4"}; !cmp.Equal(eng.Sample, want) {
		t.Errorf("Sample = %v, want %v", eng.Sample, want)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"@", "+1555", "example.com"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the impact holds %q: %s", leak, b)
		}
	}
}

// TestComparisonImpactIsACopy checks that a caller modifying the returned
// Impact does not change the comparison's.
func TestComparisonImpactIsACopy(t *testing.T) {
	c := NewComparison(nil, NewPlanner(mustParse(t, staffRules)), Pool{})
	c.Record(User{Username: "a", Status: "CONFIRMED", Attributes: attrs("s-a", "a@example.com")})
	im := c.Impact()
	im.Groups["staff"].Sample[0] = "changed"
	delete(im.Groups, "staff")
	if got := c.Impact().Groups["staff"].Sample; !cmp.Equal(got, []string{"s-a"}) {
		t.Errorf("Sample after a caller's change = %v, want [s-a]", got)
	}
}
