package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// holdRules keep users in autogroup-hold out of every path.
const holdRules = `version: 1
exclude: {memberOf: autogroup-hold}
defaultGroups: [customers]
rules:
  - name: admins-stay
    when: {memberOf: [admins, owners]}
    groups: [staff]
  - name: paid
    when: {attribute: custom:plan, equals: pro}
    groups: [paid]
`

func TestMemberOf(t *testing.T) {
	rs := mustParse(t, holdRules)
	tests := []struct {
		name   string
		groups []string
		want   []string
	}{
		{"no current groups", nil, []string{"customers"}},
		{"a listed group", []string{"owners"}, []string{"staff"}},
		{"another group", []string{"other", "admins"}, []string{"staff"}},
		{"unlisted groups", []string{"staff", "paid"}, []string{"customers"}},
		{"case matters", []string{"Admins"}, []string{"customers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{TriggerSource: TriggerConfirmSignUp, Groups: tt.groups}
			if got := rs.Groups(in); !cmp.Equal(got, tt.want) {
				t.Errorf("Groups(groups %q) = %q, want %q", tt.groups, got, tt.want)
			}
		})
	}
	if _, err := Parse([]byte("version: 1\nrules:\n  - name: r\n    when: {memberOf: [ok, has space]}\n    groups: [g]\n")); err == nil ||
		err.Error() != `4:27: memberOf: invalid group name "has space": it contains ' '; a group name is 1 to 128 letters, marks, symbols, numbers or punctuation characters` {
		t.Errorf("Parse(memberOf: [ok, has space]) error = %v", err)
	}
	if _, err := Parse([]byte("version: 1\nrules:\n  - name: r\n    when: {memberOf: []}\n    groups: [g]\n")); err == nil ||
		err.Error() != `4:22: memberOf: expected at least one value, found an empty list` {
		t.Errorf("Parse(memberOf: []) error = %v", err)
	}
}

func TestUsesGroups(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want bool
	}{
		{holdRules, true},
		{"version: 1\nexclude: {not: {all: [{memberOf: h}]}}\ndefaultGroups: [a]\n", true},
		{"version: 1\nrules:\n  - name: r\n    when: {any: [{always: true}, {not: {memberOf: x}}]}\n    groups: [g]\n", true},
		{"version: 1\nexclude: {attribute: custom:hold, equals: \"true\"}\ndefaultGroups: [a]\n", false},
		{tenantRules, false},
		{evaluationRules, false},
	} {
		if got := mustParse(t, tt.src).UsesGroups(); got != tt.want {
			t.Errorf("UsesGroups() = %v, want %v for:\n%s", got, tt.want, tt.src)
		}
	}
	rs := mustParse(t, holdRules)
	if !rs.Without("admins-stay").UsesGroups() {
		t.Errorf("Without(admins-stay).UsesGroups() = false, want true: exclude reads groups")
	}
	rs = mustParse(t, "version: 1\nrules:\n  - name: r\n    when: {memberOf: x}\n    groups: [g]\n  - name: s\n    when: {always: true}\n    groups: [h]\n")
	if rs.Without("r").UsesGroups() {
		t.Errorf("Without(r).UsesGroups() = true, want false: no memberOf is left")
	}
}

func TestExclude(t *testing.T) {
	rs := mustParse(t, holdRules)
	held := Input{TriggerSource: TriggerConfirmSignUp, Groups: []string{"admins", "autogroup-hold"}, UserAttributes: attrs("custom:plan", "pro")}
	if got := rs.Groups(held); got != nil {
		t.Errorf("Groups(on hold) = %q, want none", got)
	}
	want := Decision{Handled: true, Excluded: true}
	if diff := cmp.Diff(want, rs.Decide(held)); diff != "" {
		t.Errorf("Decide(on hold) (-want +got):\n%s", diff)
	}
	x := rs.Explain(held)
	wantX := Explanation{
		Handled:  true,
		Excluded: true,
		Exclude:  &ConditionResult{Form: "memberOf", Text: "memberOf autogroup-hold", Held: true, Reason: `member of "autogroup-hold"`},
		Rules:    []RuleResult{{Name: "admins-stay", Groups: []string{"staff"}}, {Name: "paid", Groups: []string{"paid"}}},
	}
	if diff := cmp.Diff(wantX, x); diff != "" {
		t.Errorf("Explain(on hold) (-want +got):\n%s", diff)
	}

	free := held
	free.Groups = []string{"admins"}
	if got, want := rs.Groups(free), []string{"staff", "paid"}; !cmp.Equal(got, want) {
		t.Errorf("Groups(not on hold) = %q, want %q", got, want)
	}
	if d := rs.Decide(free); d.Excluded {
		t.Errorf("Decide(not on hold).Excluded = true")
	}
	x = rs.Explain(free)
	if x.Excluded || x.Exclude == nil || x.Exclude.Held || x.Exclude.Reason != "not a member of autogroup-hold; the user's groups are [admins]" ||
		!x.Rules[0].Evaluated {
		t.Errorf("Explain(not on hold) = excluded %v, exclude %+v, rule evaluated %v", x.Excluded, x.Exclude, x.Rules[0].Evaluated)
	}

	// An unhandled trigger source evaluates nothing, exclude included.
	x = rs.Explain(Input{TriggerSource: TriggerConfirmForgotPassword, Groups: []string{"autogroup-hold"}})
	if x.Handled || x.Excluded || x.Exclude != nil {
		t.Errorf("Explain(forgot password) = handled %v, excluded %v, exclude %v; want false, false, nil", x.Handled, x.Excluded, x.Exclude)
	}

	// exclude on an attribute, and the defaultGroups it also holds back.
	rs = mustParse(t, "version: 1\nexclude: {attribute: custom:hold, equals: \"true\"}\ndefaultGroups: [customers]\n")
	if got := rs.Groups(signUp(attrs("custom:hold", "true"))); got != nil {
		t.Errorf("Groups(custom:hold true) = %q, want none", got)
	}
	if got := rs.Groups(signUp(nil)); !cmp.Equal(got, []string{"customers"}) {
		t.Errorf("Groups(no hold) = %q, want [customers]", got)
	}
	if !rs.HasExclude() || mustParse(t, evaluationRules).HasExclude() {
		t.Errorf("HasExclude() is wrong")
	}
	if _, err := Parse([]byte("version: 1\nexclude: [memberOf: x]\ndefaultGroups: [a]\n")); err == nil ||
		!strings.HasPrefix(err.Error(), "2:10: exclude: expected a condition") {
		t.Errorf("Parse(exclude: a list) error = %v", err)
	}
}

func TestTokenTriggerSources(t *testing.T) {
	all := []string{TriggerTokenHostedAuth, TriggerTokenAuthentication, TriggerTokenNewPasswordChallenge,
		TriggerTokenAuthenticateDevice, TriggerTokenRefreshTokens}
	rs := mustParse(t, "version: 1\ndefaultGroups: [a]\n")
	if diff := cmp.Diff(all, rs.TokenTriggerSources()); diff != "" {
		t.Errorf("TokenTriggerSources() default (-want +got):\n%s", diff)
	}
	for _, s := range all {
		if !rs.HandlesToken(s) {
			t.Errorf("HandlesToken(%s) = false by default", s)
		}
		if rs.Handles(s) {
			t.Errorf("Handles(%s) = true: triggerSources governs post-confirmation only", s)
		}
		if got := rs.Groups(Input{TriggerSource: s}); !cmp.Equal(got, []string{"a"}) {
			t.Errorf("Groups(%s) = %q, want [a]", s, got)
		}
	}
	for _, s := range []string{TriggerTokenClientCredentials, TriggerConfirmSignUp, ""} {
		if rs.HandlesToken(s) {
			t.Errorf("HandlesToken(%q) = true", s)
		}
	}
	if got := rs.Groups(Input{TriggerSource: TriggerTokenClientCredentials}); got != nil {
		t.Errorf("Groups(client credentials) = %q, want none", got)
	}

	rs = mustParse(t, "version: 1\ntokenTriggerSources: [TokenGeneration_RefreshTokens, TokenGeneration_HostedAuth, TokenGeneration_RefreshTokens]\ndefaultGroups: [a]\n")
	if diff := cmp.Diff([]string{TriggerTokenRefreshTokens, TriggerTokenHostedAuth}, rs.TokenTriggerSources()); diff != "" {
		t.Errorf("TokenTriggerSources() (-want +got):\n%s", diff)
	}
	if rs.HandlesToken(TriggerTokenAuthentication) || rs.Groups(Input{TriggerSource: TriggerTokenAuthentication}) != nil {
		t.Errorf("an unlisted token source is handled")
	}
	rs.TokenTriggerSources()[0] = "x"
	if !rs.HandlesToken(TriggerTokenRefreshTokens) {
		t.Errorf("modifying TokenTriggerSources() changed the ruleset")
	}

	for _, tt := range []struct{ list, want string }{
		{"[TokenGeneration_ClientCredentials]", "2:23: tokenTriggerSources: TokenGeneration_ClientCredentials is never acted on: machine tokens (client credentials) have no user to assign groups to; remove it"},
		{"[TokenGeneration_Authentication, PostConfirmation_ConfirmSignUp]", `2:55: tokenTriggerSources: unknown trigger source "PostConfirmation_ConfirmSignUp"; expected one of ` + strings.Join(all, ", ")},
		{"[]", "2:22: tokenTriggerSources: expected at least one value, found an empty list"},
		{"TokenGeneration_HostedAuth", "2:22: tokenTriggerSources: expected a list of strings, found a string"},
	} {
		_, err := Parse([]byte("version: 1\ntokenTriggerSources: " + tt.list + "\ndefaultGroups: [a]\n"))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(tokenTriggerSources: %s) error = %v, want %s", tt.list, err, tt.want)
		}
	}
}

func TestReconcile(t *testing.T) {
	rs := mustParse(t, tenantRules+"exclude: {memberOf: autogroup-hold}\n")
	if rs.Remove() {
		t.Errorf("Remove() = true by default")
	}
	if g, listed := rs.ManagedGroups(); g != nil || listed {
		t.Errorf("ManagedGroups() = %q, %v by default; want nil, false", g, listed)
	}
	for _, tt := range []struct {
		group string
		want  bool
	}{
		{"tenants", true},            // a rule's groups
		{"customers", true},          // defaultGroups
		{"tenant-acme", true},        // named by groupsFrom
		{"team-red-members", true},   // named by groupsFrom, with items and a suffix
		{"tenant-ACME", false},       // the guard refuses the value
		{"tenant-", false},           // no value
		{"autogroup-hold", false},    // read by memberOf, never selected
		{"hand-granted", false},      // nothing selects it
		{"team-red-members-", false}, // not prefix + value + suffix
	} {
		if got := rs.Managed(tt.group); got != tt.want {
			t.Errorf("Managed(%q) = %v, want %v", tt.group, got, tt.want)
		}
	}
	// Without recomputes the default: a group only a removed rule selects
	// is not managed by the copy.
	if w := rs.Without("tenant"); w.Managed("tenants") || w.Managed("tenant-acme") || !w.Managed("team-red-members") {
		t.Errorf("Without(tenant).Managed: tenants %v, tenant-acme %v, team-red-members %v; want false, false, true",
			w.Managed("tenants"), w.Managed("tenant-acme"), w.Managed("team-red-members"))
	}

	rs = mustParse(t, tenantRules+"reconcile:\n  remove: true\n  managedGroups: [tenants, legacy]\n")
	if !rs.Remove() {
		t.Errorf("Remove() = false, want true")
	}
	if g, listed := rs.ManagedGroups(); !cmp.Equal(g, []string{"tenants", "legacy"}) || !listed {
		t.Errorf("ManagedGroups() = %q, %v; want [tenants legacy], true", g, listed)
	}
	for group, want := range map[string]bool{"tenants": true, "legacy": true, "customers": false, "tenant-acme": false} {
		if got := rs.Managed(group); got != want {
			t.Errorf("Managed(%q) with managedGroups = %v, want %v", group, got, want)
		}
	}
	if w := rs.Without("tenant"); !w.Managed("tenants") || !w.Remove() {
		t.Errorf("Without(tenant): listed managedGroups and remove are the ruleset's")
	}
	rs = mustParse(t, "version: 1\nreconcile: {managedGroups: []}\ndefaultGroups: [a]\n")
	if g, listed := rs.ManagedGroups(); len(g) != 0 || !listed || rs.Managed("a") {
		t.Errorf("managedGroups: [] = %q, %v, Managed(a) %v; want none, true, false", g, listed, rs.Managed("a"))
	}

	for _, tt := range []struct{ reconcile, want string }{
		{"{remove: yes}", "2:21: remove: expected true or false, found a string; write true or false"},
		{"{removed: true}", `2:13: unknown key "removed" in reconcile; expected one of remove, managedGroups (did you mean "remove"?)`},
		{"{managedGroups: [has space]}", `2:29: managedGroups: invalid group name "has space": it contains ' '; a group name is 1 to 128 letters, marks, symbols, numbers or punctuation characters`},
		{"true", "2:12: reconcile: expected a mapping with remove and managedGroups, found a boolean"},
	} {
		_, err := Parse([]byte("version: 1\nreconcile: " + tt.reconcile + "\ndefaultGroups: [a]\n"))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(reconcile: %s) error = %v, want %s", tt.reconcile, err, tt.want)
		}
	}
}

func TestReconcileWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"managed groups the rules select", "version: 1\nreconcile: {remove: true, managedGroups: [a]}\ndefaultGroups: [a]\n", nil},
		{
			"a managed group nothing selects",
			"version: 1\nreconcile: {remove: true, managedGroups: [a, admins, a]}\ndefaultGroups: [a]\n",
			[]string{
				`2:46: managedGroups: no rule can select group "admins": with remove: true, reconciling removes every member from it (unless exclude holds for them)`,
				`2:54: managedGroups: duplicate group "a"`,
			},
		},
		{
			"remove with nothing managed",
			"version: 1\nreconcile: {remove: true, managedGroups: []}\ndefaultGroups: [a]\n",
			[]string{"2:21: reconcile: remove is true but managedGroups is empty: nothing is ever removed"},
		},
		{
			"exclude always holds",
			"version: 1\nexclude: {always: true}\ndefaultGroups: [a]\n",
			[]string{"2:11: exclude always holds: every user is left alone and no group is ever added"},
		},
		{
			"exclude never holds",
			"version: 1\nexclude: {not: {always: true}}\ndefaultGroups: [a]\n",
			[]string{"2:11: exclude can never hold: its condition is always false"},
		},
		{
			"exclude conditions are linted",
			"version: 1\nexclude: {clientMetadata: hold, exists: true}\ndefaultGroups: [a]\n",
			[]string{"2:11: " + warnClientMetadata},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range mustParse(t, tt.src).Warnings() {
				got = append(got, w.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Warnings() (-want +got):\n%s", diff)
			}
		})
	}
}
