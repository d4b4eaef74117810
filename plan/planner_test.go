package plan

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// testRules is the ruleset of the planner tests: a rule the planner must
// skip (clientId, with stop), rules on attributes and status, and
// defaultGroups.
const testRules = `version: 1
triggerSources: [PostConfirmation_ConfirmSignUp]
requireVerifiedEmail: true
defaultGroups: [customers]
rules:
  - name: web-beta
    when:
      clientId: web-client
    groups: [beta]
    stop: true
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff]
  - name: paid-plan
    when:
      attribute: custom:plan
      in: [pro, enterprise]
    groups: [customers, paid]
  - name: invited
    when:
      attribute: cognito:user_status
      equals: FORCE_CHANGE_PASSWORD
    groups: [invited, staff]
`

func mustParse(t *testing.T, src string) *rules.Ruleset {
	t.Helper()
	rs, err := rules.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rs
}

// attrs returns a user's attributes with a verified email.
func attrs(sub, email string, more ...string) map[string]string {
	m := map[string]string{"email": email, "email_verified": "true"}
	if sub != "" {
		m["sub"] = sub
	}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i]] = more[i+1]
	}
	return m
}

func TestPlannerUser(t *testing.T) {
	p := NewPlanner(mustParse(t, testRules))
	pool := Pool{ID: "us-east-1_test", MissingGroups: []string{"invited"}}
	tests := []struct {
		name string
		user User
		want UserPlan
	}{
		{"staff, not a member",
			User{Username: "ana", Status: "CONFIRMED", Attributes: attrs("s-ana", "ana@example.com")},
			UserPlan{Username: "ana", Sub: "s-ana", Status: "CONFIRMED", Rules: []string{"staff"}, Groups: []string{"staff"}, Add: []string{"staff"}}},
		{"already a member of everything",
			User{Username: "ben", Status: "CONFIRMED", Attributes: attrs("s-ben", "ben@example.com"), Groups: []string{"staff", "other"}},
			UserPlan{Username: "ben", Sub: "s-ben", Status: "CONFIRMED", Rules: []string{"staff"}, Groups: []string{"staff"},
				Skipped: []SkippedGroup{{"staff", ReasonAlreadyMember}}}},
		{"member of one of two",
			User{Username: "cleo", Status: "CONFIRMED", Attributes: attrs("s-cleo", "cleo@shop.example.net", "custom:plan", "pro"), Groups: []string{"customers"}},
			UserPlan{Username: "cleo", Sub: "s-cleo", Status: "CONFIRMED", Rules: []string{"paid-plan"}, Groups: []string{"customers", "paid"},
				Add: []string{"paid"}, Skipped: []SkippedGroup{{"customers", ReasonAlreadyMember}}}},
		{"defaultGroups",
			User{Username: "dan", Status: "CONFIRMED", Attributes: attrs("s-dan", "dan@mail.example.org")},
			UserPlan{Username: "dan", Sub: "s-dan", Status: "CONFIRMED", Rules: []string{"defaultGroups"}, Groups: []string{"customers"}, Add: []string{"customers"}}},
		{"unverified email gets defaultGroups",
			User{Username: "hal", Status: "CONFIRMED", Attributes: attrs("s-hal", "hal@example.com", "email_verified", "false")},
			UserPlan{Username: "hal", Sub: "s-hal", Status: "CONFIRMED", Rules: []string{"defaultGroups"}, Groups: []string{"customers"}, Add: []string{"customers"}}},
		{"status is an attribute; a missing group is skipped, in order",
			User{Username: "fay", Status: "FORCE_CHANGE_PASSWORD", Attributes: attrs("s-fay", "fay@mail.example.org")},
			UserPlan{Username: "fay", Sub: "s-fay", Status: "FORCE_CHANGE_PASSWORD", Rules: []string{"invited"}, Groups: []string{"invited", "staff"},
				Add: []string{"staff"}, Skipped: []SkippedGroup{{"invited", ReasonGroupMissing}}}},
		{"the skipped rule's stop does not hide later rules",
			User{Username: "gus", Status: "EXTERNAL_PROVIDER", Attributes: attrs("s-gus", "gus@example.com")},
			UserPlan{Username: "gus", Sub: "s-gus", Status: "EXTERNAL_PROVIDER", Rules: []string{"staff"}, Groups: []string{"staff"}, Add: []string{"staff"}}},
		{"unconfirmed",
			User{Username: "eve", Status: "UNCONFIRMED", Attributes: attrs("s-eve", "eve@example.com")},
			UserPlan{Username: "eve", Sub: "s-eve", Status: "UNCONFIRMED", Skip: ReasonStatus}},
		{"no status",
			User{Username: "ivy", Attributes: attrs("s-ivy", "ivy@example.com")},
			UserPlan{Username: "ivy", Sub: "s-ivy", Skip: ReasonStatus}},
		{"done in an earlier run",
			User{Username: "jay", Status: "RESET_REQUIRED", Attributes: attrs("s-jay", "jay@example.com"), Done: true},
			UserPlan{Username: "jay", Sub: "s-jay", Status: "RESET_REQUIRED", Skip: ReasonDone}},
		{"status decides before done",
			User{Username: "kim", Status: "UNCONFIRMED", Attributes: attrs("s-kim", "kim@example.com"), Done: true},
			UserPlan{Username: "kim", Sub: "s-kim", Status: "UNCONFIRMED", Skip: ReasonStatus}},
		{"no attributes",
			User{Username: "lee", Status: "CONFIRMED"},
			UserPlan{Username: "lee", Status: "CONFIRMED", Rules: []string{"defaultGroups"}, Groups: []string{"customers"}, Add: []string{"customers"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps.Clone(tt.user.Attributes)
			got := p.User(pool, tt.user)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("User(%s) (-want +got):\n%s", tt.user.Username, diff)
			}
			if !maps.Equal(before, tt.user.Attributes) {
				t.Errorf("User modified the attributes: %v, were %v", tt.user.Attributes, before)
			}
		})
	}
}

func TestUserPlanWanted(t *testing.T) {
	u := UserPlan{
		Groups:  []string{"a", "b", "c", "d"},
		Add:     []string{"b", "d"},
		Skipped: []SkippedGroup{{"a", ReasonGroupMissing}, {"c", ReasonAlreadyMember}},
	}
	if got, want := u.Wanted(), []string{"a", "b", "d"}; !cmp.Equal(got, want) {
		t.Errorf("Wanted() = %v, want %v", got, want)
	}
	tests := []struct {
		name string
		u    UserPlan
		want bool
	}{
		{"adds", UserPlan{Add: []string{"a"}}, true},
		{"removes", UserPlan{Remove: []string{"a"}}, true},
		{"a missing group", UserPlan{Skipped: []SkippedGroup{{"a", ReasonGroupMissing}}}, true},
		{"only members", UserPlan{Skipped: []SkippedGroup{{"a", ReasonAlreadyMember}}}, false},
		{"skipped user", UserPlan{Skip: ReasonStatus}, false},
	}
	for _, tt := range tests {
		if got := tt.u.Changes(); got != tt.want {
			t.Errorf("%s: Changes() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestUserKey(t *testing.T) {
	tests := []struct {
		u    User
		want string
	}{
		{User{Username: "ana", Attributes: map[string]string{"sub": "4a1c"}}, "4a1c"},
		{User{Username: "ana"}, "username:ana"},
	}
	for _, tt := range tests {
		if got := tt.u.Key(); got != tt.want {
			t.Errorf("Key(%+v) = %q, want %q", tt.u, got, tt.want)
		}
		up := NewPlanner(mustParse(t, testRules)).User(Pool{}, tt.u)
		if got := up.Key(); got != tt.want {
			t.Errorf("UserPlan.Key(%+v) = %q, want %q", up, got, tt.want)
		}
	}
}

func TestPlannerPlan(t *testing.T) {
	p := NewPlanner(mustParse(t, testRules))
	users := []User{
		{Username: "ana", Status: "CONFIRMED", Attributes: attrs("s-ana", "ana@example.com")},
		{Username: "ben", Status: "CONFIRMED", Attributes: attrs("s-ben", "ben@example.com"), Groups: []string{"staff"}},
		{Username: "cleo", Status: "CONFIRMED", Attributes: attrs("s-cleo", "cleo@shop.example.net", "custom:plan", "pro"), Groups: []string{"customers"}},
		{Username: "eve", Status: "UNCONFIRMED", Attributes: attrs("s-eve", "eve@example.com")},
		{Username: "ivy", Attributes: attrs("s-ivy", "ivy@example.com")},
		{Username: "fay", Status: "FORCE_CHANGE_PASSWORD", Attributes: attrs("s-fay", "fay@mail.example.org"), Groups: []string{"staff"}},
		{Username: "jay", Status: "CONFIRMED", Attributes: attrs("s-jay", "jay@example.com"), Done: true},
	}
	// beta (the skipped rule's) and other are not groups the planner
	// selects: the plan does not list them as missing.
	got := p.Plan(Pool{ID: "us-east-1_test", MissingGroups: []string{"other", "invited", "beta"}}, users)
	want := &Plan{
		Version: FormatVersion, Pool: "us-east-1_test", TriggerSource: rules.TriggerConfirmSignUp,
		SkippedRules: []SkippedRule{{
			Name: "web-beta", Line: 6, Reason: ReasonEventRule, Forms: []string{"clientId"}, Groups: []string{"beta"},
			Stop: true, Later: []string{"staff", "paid-plan", "invited"},
		}},
		MissingGroups: []string{"invited"},
		Users: []UserPlan{
			{Username: "ana", Sub: "s-ana", Status: "CONFIRMED", Rules: []string{"staff"}, Groups: []string{"staff"}, Add: []string{"staff"}},
			{Username: "cleo", Sub: "s-cleo", Status: "CONFIRMED", Rules: []string{"paid-plan"}, Groups: []string{"customers", "paid"},
				Add: []string{"paid"}, Skipped: []SkippedGroup{{"customers", ReasonAlreadyMember}}},
			{Username: "fay", Sub: "s-fay", Status: "FORCE_CHANGE_PASSWORD", Rules: []string{"invited"}, Groups: []string{"invited", "staff"},
				Skipped: []SkippedGroup{{"invited", ReasonGroupMissing}, {"staff", ReasonAlreadyMember}}},
		},
		Counts: Counts{
			Users: 7, Evaluated: 4, Skipped: 2, SkippedByStatus: map[string]int{"UNCONFIRMED": 1, "(none)": 1}, Resumed: 1,
			Planned: 3, PlannedUsers: 3, AlreadyMember: 3,
			Groups: map[string]GroupCounts{"invited": {Add: 1}, "paid": {Add: 1}, "staff": {Add: 1}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}

	// The plan is data: its JSON form reads back the same.
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back Plan
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if diff := cmp.Diff(got, &back); diff != "" {
		t.Errorf("plan after a JSON round trip (-before +after):\n%s", diff)
	}
}

func TestPlannerRuleset(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		handled     bool
		groups      []string
		skipped     []string
		wantSkipped []SkippedRule
	}{
		{"the test rules", testRules, true, []string{"staff", "customers", "paid", "invited"}, []string{"web-beta"}, nil},
		{"not handled", `version: 1
triggerSources: [PostConfirmation_ConfirmForgotPassword]
rules:
  - name: all
    when: {always: true}
    groups: [everyone]
`, false, []string{"everyone"}, nil, nil},
		{"clientMetadata inside all, without stop", `version: 1
rules:
  - name: campaign
    when:
      all:
        - emailDomain: example.com
        - clientMetadata: source
          equals: ad
        - clientId: web
    groups: [ads]
  - name: last
    when: {always: true}
    groups: [everyone]
`, true, []string{"everyone"}, []string{"campaign"}, []SkippedRule{{
			Name: "campaign", Line: 3, Reason: ReasonEventRule, Forms: []string{"clientMetadata", "clientId"}, Groups: []string{"ads"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlanner(mustParse(t, tt.src))
			if got := p.Handled(); got != tt.handled {
				t.Errorf("Handled() = %v, want %v", got, tt.handled)
			}
			u := p.User(Pool{}, User{Username: "x", Status: "CONFIRMED"})
			if u.Changes() == !tt.handled {
				t.Errorf("User on a ruleset with Handled() = %v = %+v", tt.handled, u)
			}
			if diff := cmp.Diff(tt.groups, p.Groups()); diff != "" {
				t.Errorf("Groups() (-want +got):\n%s", diff)
			}
			var names []string
			for _, r := range p.SkippedRules() {
				names = append(names, r.Name)
			}
			if diff := cmp.Diff(tt.skipped, names); diff != "" {
				t.Errorf("SkippedRules() names (-want +got):\n%s", diff)
			}
			if tt.wantSkipped != nil {
				if diff := cmp.Diff(tt.wantSkipped, p.SkippedRules()); diff != "" {
					t.Errorf("SkippedRules() (-want +got):\n%s", diff)
				}
			}
		})
	}
}
