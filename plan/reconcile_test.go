package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// reconcileRules removes from managed groups, holds users in "hold", and
// has a rule the planner skips (clientId) whose group must never be removed.
const reconcileRules = `version: 1
triggerSources: [PostConfirmation_ConfirmSignUp]
reconcile:
  remove: true
exclude:
  memberOf: hold
rules:
  - name: partner
    when:
      clientId: partner-client
    groups: [partners]
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff]
  - name: admins
    when:
      attribute: custom:role
      equals: admin
    groups: [admins]
`

func TestPlannerRemovals(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		user     User
		wantAdd  []string
		wantRm   []string
		wantKept []SkippedGroup
		wantSkip Reason
	}{
		{name: "no longer matches: removed from the managed group, unmanaged group stays",
			src:    reconcileRules,
			user:   User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com"), Groups: []string{"admins", "staff", "hand-made"}},
			wantRm: []string{"admins"}},
		{name: "a skipped rule's group is kept",
			src:      reconcileRules,
			user:     User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@other.example"), Groups: []string{"partners", "staff"}},
			wantRm:   []string{"staff"},
			wantKept: []SkippedGroup{{"partners", ReasonSkippedRule}}},
		{name: "on hold: untouched",
			src:      reconcileRules,
			user:     User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com"), Groups: []string{"hold", "admins"}},
			wantSkip: ReasonExcluded},
		{name: "disabled: skipped",
			src:      reconcileRules,
			user:     User{Username: "u", Status: "CONFIRMED", Disabled: true, Attributes: attrs("s1", "u@example.com"), Groups: []string{"admins"}},
			wantSkip: ReasonDisabled},
		{name: "without reconcile.remove nothing is removed",
			src:     testRules,
			user:    User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com"), Groups: []string{"paid"}},
			wantAdd: []string{"staff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlanner(mustParse(t, tt.src))
			got := p.User(Pool{ID: "us-east-1_test"}, tt.user)
			if got.Skip != tt.wantSkip {
				t.Errorf("User().Skip = %q, want %q", got.Skip, tt.wantSkip)
			}
			if diff := cmp.Diff(tt.wantAdd, got.Add); diff != "" {
				t.Errorf("User().Add (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRm, got.Remove); diff != "" {
				t.Errorf("User().Remove (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantKept, got.Kept); diff != "" {
				t.Errorf("User().Kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanGroupCountsAndPending(t *testing.T) {
	p := NewPlanner(mustParse(t, reconcileRules))
	pl := p.Plan(Pool{ID: "us-east-1_test", Existing: map[string]bool{"staff": true, "admins": true, "partners": true, "hold": true}}, []User{
		{Username: "a", Status: "CONFIRMED", Attributes: attrs("s1", "a@example.com"), Groups: []string{"admins"}},
		{Username: "b", Status: "CONFIRMED", Attributes: attrs("s2", "b@example.com"), Groups: []string{"admins", "staff"}},
	})
	want := map[string]GroupCounts{"staff": {Add: 1}, "admins": {Remove: 2}}
	if diff := cmp.Diff(want, pl.Counts.Groups); diff != "" {
		t.Errorf("Counts.Groups (-want +got):\n%s", diff)
	}
	if pl.Counts.Removals != 2 || pl.Counts.RemovalUsers != 2 || !pl.ChangesPending() {
		t.Errorf("Removals %d for %d users, pending %v; want 2 for 2, true", pl.Counts.Removals, pl.Counts.RemovalUsers, pl.ChangesPending())
	}
	done := p.Plan(Pool{ID: "us-east-1_test"}, []User{{Username: "b", Status: "CONFIRMED", Attributes: attrs("s2", "b@example.com"), Groups: []string{"staff"}}})
	if done.ChangesPending() {
		t.Errorf("ChangesPending() = true for a user in line with the rules, want false")
	}
}
