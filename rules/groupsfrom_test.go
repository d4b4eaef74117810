package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tenantRules names groups from custom:tenant, and from each item of
// custom:teams.
const tenantRules = `version: 1
defaultGroups: [customers]
rules:
  - name: tenant
    when: {attribute: custom:tenant, exists: true}
    groups: [tenants]
    groupsFrom:
      attribute: custom:tenant
      matches: "[a-z0-9-]{1,40}"
      prefix: "tenant-"
  - name: teams
    when: {always: true}
    groupsFrom:
      attribute: custom:teams
      items: list
      matches: "[a-z]+"
      prefix: "team-"
      suffix: "-members"
`

func TestGroupsFrom(t *testing.T) {
	rs := mustParse(t, tenantRules)
	tests := []struct {
		name     string
		attrs    map[string]string
		want     []string
		rejected int
	}{
		{"a value", attrs("custom:tenant", "acme"), []string{"tenants", "tenant-acme"}, 0},
		{"a value that fails the guard", attrs("custom:tenant", "Acme Corp"), []string{"tenants"}, 1},
		{"a value too long for the guard", attrs("custom:tenant", strings.Repeat("a", 41)), []string{"tenants"}, 1},
		{"the guard is anchored", attrs("custom:tenant", "acme/admins"), []string{"tenants"}, 1},
		{"an empty value names no group", attrs("custom:tenant", ""), []string{"tenants"}, 0},
		{"items, prefix and suffix", attrs("custom:teams", `["red","blue"]`), []string{"team-red-members", "team-blue-members"}, 0},
		{"items, bracketed", attrs("custom:teams", `[red, Blue, green]`), []string{"team-red-members", "team-green-members"}, 1},
		{"items, duplicates once", attrs("custom:teams", `[red, red]`), []string{"team-red-members"}, 0},
		{"items, none", attrs("custom:teams", `[]`), nil, 0},
		{"both rules", attrs("custom:tenant", "acme", "custom:teams", "red"), []string{"tenants", "tenant-acme", "team-red-members"}, 0},
		// A rule with groupsFrom that names nothing still matched: no defaultGroups.
		{"absent attributes", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := signUp(tt.attrs)
			if got := rs.Groups(in); !cmp.Equal(got, tt.want) {
				t.Errorf("Groups(%v) = %q, want %q", tt.attrs, got, tt.want)
			}
			d := rs.Decide(in)
			if !cmp.Equal(d.Groups, tt.want) || d.Rejected != tt.rejected {
				t.Errorf("Decide(%v) = %q, rejected %d; want %q, %d", tt.attrs, d.Groups, d.Rejected, tt.want, tt.rejected)
			}
			if v := tt.attrs["custom:tenant"]; v != "" && d.Rejected > 0 && strings.Contains(fmt.Sprintf("%+v", d), v) {
				t.Errorf("Decide(%v) = %+v: holds the rejected value", tt.attrs, d)
			}
			if x := rs.Explain(in); !cmp.Equal(x.Groups, tt.want) {
				t.Errorf("Explain(%v).Groups = %q, want %q", tt.attrs, x.Groups, tt.want)
			}
		})
	}
}

func TestGroupsFromDefaultGroups(t *testing.T) {
	rs := mustParse(t, `version: 1
defaultGroups: [customers]
rules:
  - name: tenant
    when: {attribute: custom:tenant, exists: true}
    groupsFrom: {attribute: custom:tenant, matches: "[a-z]+"}
`)
	if got, want := rs.Groups(signUp(nil)), []string{"customers"}; !cmp.Equal(got, want) {
		t.Errorf("Groups(no tenant) = %q, want %q", got, want)
	}
	// The rule matched, so defaultGroups do not apply, though the value
	// named no group.
	if got := rs.Groups(signUp(attrs("custom:tenant", "BAD"))); got != nil {
		t.Errorf("Groups(bad tenant) = %q, want none", got)
	}
	// A named group equal to a written one is selected once.
	rs = mustParse(t, `version: 1
rules:
  - name: a
    when: {always: true}
    groups: [tenant-x, other]
  - name: b
    when: {always: true}
    groupsFrom: {attribute: t, items: ",", matches: ".+", prefix: tenant-}
`)
	if got, want := rs.Groups(signUp(attrs("t", "y,x,y"))), []string{"tenant-x", "other", "tenant-y"}; !cmp.Equal(got, want) {
		t.Errorf("Groups(t=y,x,y) = %q, want %q", got, want)
	}
}

func TestGroupsFromExplain(t *testing.T) {
	rs := mustParse(t, tenantRules)
	tests := []struct {
		name  string
		attrs map[string]string
		rule  int
		want  *GroupsFromResult
	}{
		{"a value", attrs("custom:tenant", "acme"), 0, &GroupsFromResult{
			Text:   `custom:tenant matches "[a-z0-9-]{1,40}" prefix "tenant-"`,
			Values: 1, Groups: []string{"tenant-acme"}, Reason: "1 value: 1 group",
		}},
		{"a value that fails the guard", attrs("custom:tenant", "Acme Corp"), 0, &GroupsFromResult{
			Text:   `custom:tenant matches "[a-z0-9-]{1,40}" prefix "tenant-"`,
			Values: 1, Rejected: []string{"value does not match the guard"}, Reason: "1 value: 0 groups, 1 rejected",
		}},
		{"items", attrs("custom:teams", "[red, Blue, green]"), 1, &GroupsFromResult{
			Text:   `custom:teams (items list) matches "[a-z]+" prefix "team-" suffix "-members"`,
			Values: 3, Groups: []string{"team-red-members", "team-green-members"},
			Rejected: []string{"item 2 of 3 does not match the guard"}, Reason: "3 items: 2 groups, 1 rejected",
		}},
		{"absent", nil, 1, &GroupsFromResult{
			Text:   `custom:teams (items list) matches "[a-z]+" prefix "team-" suffix "-members"`,
			Reason: "attribute is absent: no group",
		}},
		{"no items", attrs("custom:teams", "[]"), 1, &GroupsFromResult{
			Text:   `custom:teams (items list) matches "[a-z]+" prefix "team-" suffix "-members"`,
			Reason: "value has no items: no group",
		}},
		{"not matched", nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rs.Explain(signUp(tt.attrs)).Rules[tt.rule].GroupsFrom
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Explain(%v).Rules[%d].GroupsFrom (-want +got):\n%s", tt.attrs, tt.rule, diff)
			}
		})
	}
}

func TestGroupsFromInvalidNames(t *testing.T) {
	rs := mustParse(t, `version: 1
rules:
  - name: any
    when: {always: true}
    groupsFrom: {attribute: custom:name, items: ";", matches: ".*", prefix: "p-"}
`)
	long := strings.Repeat("é", 127) // with the prefix: 129 characters
	x := rs.Explain(signUp(attrs("custom:name", "ok;has space;"+long+";tab\there")))
	want := []string{
		"item 2 of 4 would name an invalid group: it would contain whitespace or another character Cognito does not allow",
		"item 3 of 4 would name an invalid group: it would have 129 characters, more than 128",
		"item 4 of 4 would name an invalid group: it would contain whitespace or another character Cognito does not allow",
	}
	res := x.Rules[0].GroupsFrom
	if !cmp.Equal(x.Groups, []string{"p-ok"}) || !cmp.Equal(res.Rejected, want) {
		t.Errorf("Explain: groups %q, rejected %q; want [p-ok], %q", x.Groups, res.Rejected, want)
	}
	for _, r := range res.Rejected {
		if strings.Contains(r, "has space") || strings.Contains(r, "é") {
			t.Errorf("rejection %q quotes the value", r)
		}
	}
}

func TestGroupsFromCap(t *testing.T) {
	rs := mustParse(t, `version: 1
rules:
  - name: fixed
    when: {always: true}
    groups: [a, b]
  - name: teams
    when: {always: true}
    groupsFrom: {attribute: custom:teams, items: ",", matches: "t[0-9]+"}
  - name: late
    when: {always: true}
    groups: [c, a]
`)
	var items []string
	for i := range 150 {
		items = append(items, fmt.Sprintf("t%d", i))
	}
	items = append(items, "t0", "t149") // repeated: counted once
	in := signUp(attrs("custom:teams", strings.Join(items, ",")))
	d := rs.Decide(in)
	want := append([]string{"a", "b"}, items[:98]...)
	if !cmp.Equal(d.Groups, want) {
		t.Errorf("Decide().Groups = %q, want %q", d.Groups, want)
	}
	// 52 of the named groups and c are dropped; a was selected already.
	if d.Dropped != 53 {
		t.Errorf("Decide().Dropped = %d, want 53", d.Dropped)
	}
	x := rs.Explain(in)
	if !cmp.Equal(x.Groups, d.Groups) || x.Dropped != d.Dropped {
		t.Errorf("Explain() = %d groups, dropped %d; want Decide's %d, %d", len(x.Groups), x.Dropped, len(d.Groups), d.Dropped)
	}
	if got := len(x.Rules[1].GroupsFrom.Groups); got != 152 {
		t.Errorf("Explain().Rules[1].GroupsFrom has %d groups, want every value's 152", got)
	}
	if got := rs.Groups(in); len(got) != MaxGroupsPerUser {
		t.Errorf("Groups() has %d groups, want %d", len(got), MaxGroupsPerUser)
	}
}

func TestGroupPatterns(t *testing.T) {
	rs := mustParse(t, tenantRules)
	want := []GroupPattern{
		{Rule: "tenant", Attribute: "custom:tenant", Prefix: "tenant-", Matches: "[a-z0-9-]{1,40}"},
		{Rule: "teams", Attribute: "custom:teams", Items: "list", Prefix: "team-", Suffix: "-members", Matches: "[a-z]+"},
	}
	if diff := cmp.Diff(want, rs.GroupPatterns()); diff != "" {
		t.Errorf("GroupPatterns() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tenants", "customers"}, rs.GroupNames()); diff != "" {
		t.Errorf("GroupNames() lists the written names only (-want +got):\n%s", diff)
	}
	infos := rs.Rules()
	if diff := cmp.Diff(&want[1], infos[1].GroupsFrom); diff != "" {
		t.Errorf("Rules()[1].GroupsFrom (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"custom:tenant"}, infos[0].Attributes); diff != "" {
		t.Errorf("Rules()[0].Attributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"custom:teams"}, infos[1].Attributes); diff != "" {
		t.Errorf("Rules()[1].Attributes (-want +got):\n%s", diff)
	}
	infos[1].GroupsFrom.Prefix = "x"
	if rs.Rules()[1].GroupsFrom.Prefix != "team-" {
		t.Errorf("modifying Rules()[1].GroupsFrom changed the ruleset")
	}
	for _, tt := range []struct {
		group string
		want  bool
	}{
		{"tenants", true},
		{"customers", true},
		{"tenant-acme", true},
		{"tenant-a-b-1", true},
		{"tenant-", false},     // no value
		{"tenant-Acme", false}, // fails the guard
		{"tenant-" + strings.Repeat("a", 41), false},
		{"team-red-members", true},
		{"team-red", false},
		{"team--members", false},
		{"other", false},
	} {
		if got := rs.CanSelect(tt.group); got != tt.want {
			t.Errorf("CanSelect(%q) = %v, want %v", tt.group, got, tt.want)
		}
	}
}

func TestGroupsFromParse(t *testing.T) {
	rule := func(from string) string {
		return "version: 1\nrules:\n  - name: r\n    when: {always: true}\n    groupsFrom: " + from + "\n"
	}
	tests := []struct{ from, want string }{
		{`{attribute: t}`, `5:17: groupsFrom is missing required key "matches": a guard such as "[a-z0-9-]{1,40}" that every value must match`},
		{`{matches: "a"}`, `5:17: groupsFrom is missing required key "attribute"`},
		{`{attribute: "", matches: "a"}`, `5:29: attribute: expected a name, found an empty string`},
		{`{attribute: t, matches: "(a"}`, "5:41: matches: invalid regular expression: error parsing regexp: missing closing ): `(a`"},
		{`{attribute: t, matches: a, prefix: "a b"}`, `5:52: prefix: "a b" contains ' ', so no group could be named; a group name is 1 to 128 letters, marks, symbols, numbers or punctuation characters`},
		{`{attribute: t, matches: a, suffix: 1}`, `5:52: suffix: expected a string, found an integer; quote it`},
		{`{attribute: t, matches: a, prefix: ` + strings.Repeat("p", 100) + `, suffix: ` + strings.Repeat("s", 28) + `}`,
			`5:17: groupsFrom: prefix and suffix have 128 characters together, so no group could be named; a group name has at most 128`},
		{`{attribute: t, matches: a, items: ""}`, `5:51: items: expected "list" or a separator such as ",", found an empty string`},
		{`{attribute: t, matches: a, ignoreCase: true}`, `5:44: unknown key "ignoreCase" in groupsFrom; expected one of attribute, items, matches, prefix, suffix`},
		{`[custom:tenant]`, `5:17: groupsFrom: expected a mapping with attribute and matches, found a list`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(rule(tt.from)))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(groupsFrom: %s) error = %v, want %s", tt.from, err, tt.want)
		}
	}
	_, err := Parse([]byte("version: 1\nrules:\n  - name: r\n    when: {always: true}\n"))
	if want := `3:5: rule is missing required key "groups" (or "groupsFrom")`; err == nil || err.Error() != want {
		t.Errorf("Parse(rule without groups) error = %v, want %s", err, want)
	}
}

func TestGroupsFromWarnings(t *testing.T) {
	rule := func(attribute string) string {
		return "version: 1\nrules:\n  - name: r\n    when: {always: true}\n    groupsFrom: {attribute: " + attribute + ", matches: \".+\"}\n"
	}
	for _, tt := range []struct {
		attribute string
		warned    bool
	}{
		{"custom:tenant", true},
		{"email", true},
		{"name", true},
		{"sub", false},
		{"identities", false},
		{"email_verified", false},
		{"cognito:user_status", false},
	} {
		var got []string
		for _, w := range mustParse(t, rule(tt.attribute)).Warnings() {
			got = append(got, w.Error())
		}
		var want []string
		if tt.warned {
			want = []string{"5:29: groupsFrom: users may be able to write " + tt.attribute +
				" (Cognito alone sets only sub, email_verified, phone_number_verified, identities and cognito:*): a user who picks the value picks the group; make sure no app client can write it (autogroup check-pool reports those that can)"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Warnings(groupsFrom %s) (-want +got):\n%s", tt.attribute, diff)
		}
	}
}
