package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// withoutRules has a rule with stop: true in the middle and defaultGroups,
// so that removing rules changes what the others decide.
const withoutRules = `version: 1
defaultGroups: [customers]
rules:
  - name: web
    when:
      clientId: web-client
    groups: [beta, shared]
    stop: true
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff, shared]
  - name: plan
    when:
      not:
        clientMetadata: source
        equals: import
    groups: [paid]
`

// deleteRule returns src without the rule named name: the text from its
// "  - name:" line to the next rule's.
func deleteRule(t *testing.T, src, name string) string {
	t.Helper()
	head, body, ok := strings.Cut(src, "rules:\n")
	if !ok {
		t.Fatal("no rules: key")
	}
	var kept strings.Builder
	for _, b := range strings.Split(body, "  - name: ")[1:] {
		if !strings.HasPrefix(b, name+"\n") {
			kept.WriteString("  - name: " + b)
		}
	}
	if kept.Len() == 0 {
		return head + "rules: []\n"
	}
	return head + "rules:\n" + kept.String()
}

func TestWithout(t *testing.T) {
	rs := mustParse(t, withoutRules)
	inputs := []Input{
		{TriggerSource: TriggerConfirmSignUp},
		{TriggerSource: TriggerConfirmSignUp, ClientID: "web-client"},
		{TriggerSource: TriggerConfirmSignUp, ClientID: "web-client", UserAttributes: attrs("email", "a@example.com", "email_verified", "true")},
		{TriggerSource: TriggerConfirmSignUp, UserAttributes: attrs("email", "a@example.com", "email_verified", "true")},
		{TriggerSource: TriggerConfirmSignUp, ClientMetadata: attrs("source", "import")},
		{TriggerSource: TriggerConfirmSignUp, ClientMetadata: attrs("source", "import"), UserAttributes: attrs("email", "a@example.com", "email_verified", "true")},
		{TriggerSource: TriggerConfirmForgotPassword, UserAttributes: attrs("email", "a@example.com", "email_verified", "true")},
	}
	tests := []struct {
		name      string
		remove    []string
		wantRules []string
		wantNames []string
	}{
		{"nothing", nil, []string{"web", "staff", "plan"}, []string{"beta", "shared", "staff", "paid", "customers"}},
		{"a rule with stop", []string{"web"}, []string{"staff", "plan"}, []string{"staff", "shared", "paid", "customers"}},
		{"event-only rules", []string{"web", "plan"}, []string{"staff"}, []string{"staff", "shared", "customers"}},
		{"unknown name ignored", []string{"nope", "plan"}, []string{"web", "staff"}, []string{"beta", "shared", "staff", "customers"}},
		{"every rule", []string{"web", "staff", "plan"}, nil, []string{"customers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := withoutRules
			for _, name := range tt.remove {
				src = deleteRule(t, src, name)
			}
			want := mustParse(t, src)
			got := rs.Without(tt.remove...)
			var names []string
			for _, r := range got.Rules() {
				names = append(names, r.Name)
			}
			if !slices.Equal(names, tt.wantRules) {
				t.Errorf("Without(%q).Rules() = %v, want %v", tt.remove, names, tt.wantRules)
			}
			if diff := cmp.Diff(tt.wantNames, got.GroupNames()); diff != "" {
				t.Errorf("Without(%q).GroupNames() (-want +got):\n%s", tt.remove, diff)
			}
			if diff := cmp.Diff(want.GroupNames(), got.GroupNames()); diff != "" {
				t.Errorf("Without(%q).GroupNames() differs from the file without the rules (-file +got):\n%s", tt.remove, diff)
			}
			for _, in := range inputs {
				if g, w := got.Groups(in), want.Groups(in); !slices.Equal(g, w) {
					t.Errorf("Without(%q).Groups(%+v) = %v, want %v (the file without the rules)", tt.remove, in, g, w)
				}
				gx, wx := got.Explain(in), want.Explain(in)
				if diff := cmp.Diff(wx, gx); diff != "" {
					t.Errorf("Without(%q).Explain(%+v) (-file +got):\n%s", tt.remove, in, diff)
				}
			}
			var gotConds, wantConds []string
			for _, c := range got.Conditions() {
				gotConds = append(gotConds, c.Rule+" "+c.Form)
			}
			for _, c := range want.Conditions() {
				wantConds = append(wantConds, c.Rule+" "+c.Form)
			}
			if diff := cmp.Diff(wantConds, gotConds); diff != "" {
				t.Errorf("Without(%q).Conditions() differs from the file without the rules (-file +got):\n%s", tt.remove, diff)
			}
			if diff := cmp.Diff(rs.Warnings(), got.Warnings()); diff != "" {
				t.Errorf("Warnings() changed (-rs +got):\n%s", diff)
			}
		})
	}
	// rs itself is unchanged.
	in := inputs[2]
	if got, want := rs.Groups(in), []string{"beta", "shared"}; !slices.Equal(got, want) {
		t.Errorf("after Without, rs.Groups(%+v) = %v, want %v", in, got, want)
	}
	if n := len(rs.Rules()); n != 3 {
		t.Errorf("after Without, rs has %d rules, want 3", n)
	}
}
