package postconfirm

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// memberOfRules uses the user's current groups twice: exclude and a rule.
const memberOfRules = `
version: 1
triggerSources: [PostConfirmation_ConfirmSignUp]
exclude: {memberOf: hold}
defaultGroups: [customers]
rules:
  - {name: beta, when: {memberOf: beta}, groups: [beta-tools]}
`

func TestMemberOfAtPostConfirmation(t *testing.T) {
	tests := []struct {
		name    string
		rules   string
		groups  []string // the user's groups before the sign-up's trigger
		want    []string // groups added
		outcome trigger.Outcome
		lists   int // AdminListGroupsForUser calls
	}{
		{"member of beta", memberOfRules, []string{"beta"}, []string{"beta-tools"}, trigger.OutcomeOK, 1},
		{"no groups", memberOfRules, nil, []string{"customers"}, trigger.OutcomeOK, 1},
		{"on hold", memberOfRules, []string{"hold", "beta"}, []string{}, trigger.OutcomeExcluded, 1},
		{"ruleset without memberOf", "version: 1\ndefaultGroups: [customers]\nrules: []\n", []string{"beta"}, []string{"customers"}, trigger.OutcomeOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fake, logs := newVerifyingHandler(t, tt.rules, fastOptions)
			h = h.WithGroupLister(membership.NewGroupLister(fake.Client(t), fastOptions))
			fake.PutUser(verifyPool, cognitofake.User{Username: "u1", Attributes: map[string]string{"email": "a@b.example"}})
			for _, g := range tt.groups {
				fake.AddToGroup(verifyPool, g, "u1")
			}
			rec, _, err := h.Handle(t.Context(), eventFor(t, "u1", "c", withSub(fake, "u1", map[string]string{"email": "a@b.example"})))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, groupsAdded(fake)); diff != "" {
				t.Errorf("groups added (-want +got):\n%s", diff)
			}
			if rec.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s", rec.Outcome, tt.outcome)
			}
			if n := len(fake.CallsTo("AdminListGroupsForUser")); n != tt.lists {
				t.Errorf("%d AdminListGroupsForUser calls, want %d", n, tt.lists)
			}
			if d := oneDecision(t, logs); d["outcome"] != string(tt.outcome) {
				t.Errorf("logged outcome %v, want %s", d["outcome"], tt.outcome)
			}
		})
	}
}

func TestMemberOfReadFails(t *testing.T) {
	h, fake, _ := newVerifyingHandler(t, memberOfRules, fastOptions)
	h = h.WithGroupLister(membership.NewGroupLister(fake.Client(t), fastOptions))
	fake.PutUser(verifyPool, cognitofake.User{Username: "u1"})
	fake.Inject(cognitofake.Fault{Op: "AdminListGroupsForUser", Type: "AccessDeniedException"})
	rec, _, err := h.Handle(t.Context(), eventFor(t, "u1", "c", withSub(fake, "u1", nil)))
	if err != ErrAssignment || rec.Outcome != trigger.OutcomeFailed || len(fake.CallsTo("AdminAddUserToGroup")) != 0 {
		t.Errorf("Handle: %v, outcome %s, %d adds; want ErrAssignment, failed, none", err, rec.Outcome, len(fake.CallsTo("AdminAddUserToGroup")))
	}
}
