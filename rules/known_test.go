package rules

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// knownRules names groups in every way a ruleset can: outright (twice in
// one rule, and again in another), by defaultGroups, by groupsFrom guards
// that admit a few values (one of which would be an invalid name), by one
// whose values cannot be known, and by memberOf, which only reads.
const knownRules = `version: 1
defaultGroups: [customers, staff]
rules:
  - name: staff
    when: {emailDomain: example.com}
    groups: [staff, employees, staff]
  - name: team
    when: {attribute: custom:team, exists: true}
    groupsFrom:
      attribute: custom:team
      matches: "eng|ops|a b"
      prefix: "team-"
  - name: tenant
    when: {attribute: custom:tenant, exists: true}
    groupsFrom: {attribute: custom:tenant, matches: "[a-z0-9-]{1,40}", prefix: "tenant-"}
  - name: keep
    when: {memberOf: admins}
    groups: [staff]
  - name: eng-again
    when: {attribute: custom:eng, exists: true}
    groupsFrom: {attribute: custom:eng, matches: "eng", prefix: "team-"}
`

func TestKnownGroups(t *testing.T) {
	rs := mustParse(t, knownRules)
	groups, open := rs.KnownGroups()
	want := []KnownGroup{
		{"staff", []GroupSource{{Rule: "staff", Line: 6, Column: 14}, {Rule: "keep", Line: 18, Column: 14}, {Line: 2, Column: 28}}},
		{"employees", []GroupSource{{Rule: "staff", Line: 6, Column: 21}}},
		{"customers", []GroupSource{{Line: 2, Column: 17}}},
		{"team-eng", []GroupSource{{Rule: "team", GroupsFrom: true, Line: 11, Column: 16}, {Rule: "eng-again", GroupsFrom: true, Line: 21, Column: 50}}},
		{"team-ops", []GroupSource{{Rule: "team", GroupsFrom: true, Line: 11, Column: 16}}},
	}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("KnownGroups groups (-want +got):\n%s", diff)
	}
	wantOpen := []GroupPattern{{Rule: "tenant", Attribute: "custom:tenant", Prefix: "tenant-", Matches: "[a-z0-9-]{1,40}"}}
	if diff := cmp.Diff(wantOpen, open); diff != "" {
		t.Errorf("KnownGroups open (-want +got):\n%s", diff)
	}
	// Every group it lists is one evaluation can select.
	for _, g := range groups {
		if !rs.CanSelect(g.Name) {
			t.Errorf("KnownGroups lists %q, which CanSelect says no evaluation selects", g.Name)
		}
	}
}

// TestKnownGroupsJSON checks the positions in a JSON ruleset, and that
// Without leaves the removed rules' groups out and keeps defaultGroups'
// positions.
func TestKnownGroupsJSON(t *testing.T) {
	rs := mustParse(t, `{"version": 1, "defaultGroups": ["members"],
 "rules": [{"name": "a", "when": {"always": true}, "groups": ["x"]},
           {"name": "b", "when": {"always": true}, "groups": ["y"]}]}`)
	groups, open := rs.Without("a").KnownGroups()
	want := []KnownGroup{
		{"y", []GroupSource{{Rule: "b", Line: 3, Column: 63}}},
		{"members", []GroupSource{{Line: 1, Column: 34}}},
	}
	if diff := cmp.Diff(want, groups); diff != "" || open != nil {
		t.Errorf("Without(a).KnownGroups = %v, %v (-want +got):\n%s", groups, open, diff)
	}
}

func TestGroupSourceString(t *testing.T) {
	for _, tt := range []struct {
		src  GroupSource
		want string
	}{
		{GroupSource{Rule: "staff", Line: 3, Column: 4}, "rule staff"},
		{GroupSource{Line: 2, Column: 16}, "defaultGroups"},
		{GroupSource{Rule: "tenant", GroupsFrom: true}, "rule tenant, groupsFrom"},
	} {
		if got := tt.src.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// TestGuardValues checks which groupsFrom guards name groups that can be
// known before any user has a value.
func TestGuardValues(t *testing.T) {
	tests := []struct {
		expr string
		want []string // nil: not known
	}{
		{"eng", []string{"eng"}},
		{"eng|ops", []string{"eng", "ops"}},
		{"(eng|ops)(-eu)?", []string{"eng", "eng-eu", "ops", "ops-eu"}},
		{"team-[a-c]", []string{"team-a", "team-b", "team-c"}},
		{"(eu|us)-[1-3]", []string{"eu-1", "eu-2", "eu-3", "us-1", "us-2", "us-3"}},
		{"^(?:a|b)$", []string{"a", "b"}},
		{"x{2,3}", []string{"xx", "xxx"}},
		{"[a-z0-9-]{1,40}", nil},
		{"eng.*", nil},
		{"[a-z]+", nil},
		{"(?i)eng", nil},
		{`\d{3}`, nil}, // 1000 values: more than the limit
		{"(", nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, ok := guardValues(tt.expr, maxGuardValues)
			if tt.want == nil {
				if ok {
					t.Errorf("guardValues(%q) = %q, want not known", tt.expr, got)
				}
				return
			}
			slices.Sort(got)
			if !ok || !cmp.Equal(got, tt.want) {
				t.Errorf("guardValues(%q) = %q, %v; want %q", tt.expr, got, ok, tt.want)
			}
		})
	}
}
