package ruletest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/ruletest"
)

const testRules = `version: 1
defaultGroups: [customers]
rules:
  - name: staff
    when: {emailDomain: example.com}
    groups: [staff]
  - name: paid
    when: {attribute: custom:plan, equals: pro}
    groups: [customers, paid]
  - name: mobile
    when: {clientId: app1}
    groups: [mobile]
`

func mustRules(t *testing.T) *rules.Ruleset {
	t.Helper()
	rs, err := rules.Parse([]byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestParse(t *testing.T) {
	cases, err := ruletest.Parse([]byte(`# comment
cases:
  - name: defaults
    userAttributes: {email: a@example.com, email_verified: "true"}
    groups: [staff]
  - name: everything
    triggerSource: PostConfirmation_ConfirmForgotPassword
    clientId: app1
    clientMetadata: {k: v}
    userAttributes: &base {custom:plan: pro}
    currentGroups: [autogroup-hold, admins]
    groups: []
  - name: merged
    userAttributes:
      <<: *base
      email: b@example.com
    groups: [customers, paid]
--- # an empty document may follow, as after a ruleset
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []ruletest.Case{
		{Name: "defaults", Line: 3, Column: 5, TriggerSource: rules.TriggerConfirmSignUp,
			UserAttributes: map[string]string{"email": "a@example.com", "email_verified": "true"}, Groups: []string{"staff"}},
		{Name: "everything", Line: 6, Column: 5, TriggerSource: rules.TriggerConfirmForgotPassword, ClientID: "app1",
			ClientMetadata: map[string]string{"k": "v"}, UserAttributes: map[string]string{"custom:plan": "pro"},
			CurrentGroups: []string{"autogroup-hold", "admins"}, Groups: []string{}},
		{Name: "merged", Line: 13, Column: 5, TriggerSource: rules.TriggerConfirmSignUp,
			UserAttributes: map[string]string{"custom:plan": "pro", "email": "b@example.com"}, Groups: []string{"customers", "paid"}},
	}
	if diff := cmp.Diff(want, cases); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // "LINE:COL: message"
	}{
		{"empty", "# nothing\n", []string{`1:1: empty cases file; expected a mapping with cases`}},
		{"syntax", "cases:\n  - name: a\n   groups: []\n", []string{`1:1: invalid YAML: did not find expected '-' indicator`}},
		{"top-level list", "- name: a\n", []string{`1:1: expected a mapping with cases at the top level, found a list`}},
		{"no cases key", "case: []\n", []string{
			`1:1: unknown key "case"; expected one of cases (did you mean "cases"?)`,
			`1:1: missing required key "cases"`}},
		{"empty list", "cases: []\n", []string{`1:8: cases: expected at least one case, found an empty list`}},
		{"several documents", "cases: []\n---\ncases: []\n", []string{`2:1: several YAML documents; a cases file is one document`}},
		{"unknown key", "cases:\n  - name: a\n    group: [x]\n    groups: [x]\n", []string{
			`3:5: unknown key "group" in case; expected one of name, userAttributes, currentGroups, triggerSource, clientId, clientMetadata, groups (did you mean "groups"?)`}},
		{"current groups", "cases:\n  - {name: a, currentGroups: admins, groups: []}\n  - {name: b, currentGroups: [x, x], groups: []}\n", []string{
			`2:30: currentGroups: expected a list of group names (or [] for none), found a string`,
			`3:34: currentGroups: duplicate group "x"; first at 3:31`}},
		{"missing keys", "cases:\n  - userAttributes: {}\n", []string{
			`2:5: case is missing required key "name"`,
			`2:5: case is missing required key "groups"`}},
		{"duplicate name", "cases:\n  - {name: a, groups: []}\n  - {name: a, groups: []}\n", []string{
			`3:12: name: duplicate case name "a"; first at 2:12`}},
		{"duplicate key", "cases:\n  - {name: a, name: b, groups: []}\n", []string{
			`2:15: duplicate key "name"; first at 2:6`}},
		{"empty name", "cases:\n  - {name: '', groups: []}\n", []string{`2:12: name: expected a name, found an empty string`}},
		{"not strings", "cases:\n  - name: a\n    userAttributes: {email_verified: true, n: 5}\n    clientMetadata: [x]\n    clientId: 7\n    groups: [1]\n  - name: b\n    userAttributes:\n      e:\n    groups: []\n", []string{
			`3:38: userAttributes.email_verified: expected a string, found a boolean; quote it`,
			`3:47: userAttributes.n: expected a string, found an integer; quote it`,
			`4:21: clientMetadata: expected a mapping of names to strings, found a list`,
			`5:15: clientId: expected a string, found an integer; quote it`,
			`6:14: groups: expected a string, found an integer; quote it`,
			`9:9: userAttributes.e: expected a string, found nothing`}},
		{"groups", "cases:\n  - {name: a, groups: staff}\n  - {name: b, groups: [x, x]}\n  - {name: c, groups: }\n", []string{
			`2:23: groups: expected a list of group names (or [] for none), found a string`,
			`3:27: groups: duplicate group "x"; first at 3:24`,
			`4:23: groups: expected a list of group names (or [] for none), found nothing`}},
		{"trigger source", "cases:\n  - {name: a, triggerSource: '', groups: []}\n", []string{
			`2:30: triggerSource: expected a trigger source, found an empty string`}},
		{"not a case", "cases:\n  - just a string\n", []string{
			`2:5: cases: expected a case (a mapping with name, userAttributes and groups), found a string`}},
		{"bad merge", "cases:\n  - <<: 5\n    name: a\n    groups: []\n", []string{`2:9: <<: expected a mapping or a list of mappings to merge, found an integer`}},
		{"unknown anchor", "cases:\n  - name: a\n    userAttributes: *attrs\n    groups: []\n", []string{
			`3:21: invalid YAML: unknown anchor "attrs" referenced`}},
		{"binary", "cases:\n  - name: a\n    clientId: !!binary aGk=\n    groups: []\n", []string{
			`3:15: clientId: expected a string, found binary data`}},
		// The case is walked twice: each problem is reported once, though
		// the two problems at its position alternate once sorted.
		{"problems through an alias", "cases:\n  - &c {userAttributes: {}}\n  - *c\n", []string{
			`2:5: case is missing required key "name"`,
			`2:5: case is missing required key "groups"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases, err := ruletest.Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse = %v, nil; want problems", cases)
			}
			if cases != nil {
				t.Errorf("Parse returned cases with its error")
			}
			var got []string
			for _, p := range rules.Problems(err) {
				got = append(got, p.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseProblemsFormat checks that a cases file's problems are
// rules.Problem values, printed by the formatter rulesets use.
func TestParseProblemsFormat(t *testing.T) {
	_, err := ruletest.Parse([]byte("cases:\n  - {name: a, groups: [], clientId: 7}\n  - {groups: []}\n"))
	var p rules.Problem
	if !errors.As(err, &p) {
		t.Fatalf("errors.As(%v, *rules.Problem) = false, want true", err)
	}
	want := "cases.yaml:2:37: clientId: expected a string, found an integer; quote it\n" +
		`cases.yaml:3:5: case is missing required key "name"`
	if got := rules.FormatProblems("cases.yaml", err); got != want {
		t.Errorf("FormatProblems(cases.yaml, err) = %q, want %q", got, want)
	}
}

func TestParseBoundsAliases(t *testing.T) {
	// Each level merges the previous one ten times: 10^9 keys once
	// expanded ("billion laughs").
	var b strings.Builder
	b.WriteString("a0: &a0 {k: v}\n")
	for i := 1; i < 10; i++ {
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " {<<: [" +
			strings.Repeat(prev+", ", 9) + prev + "]}\n")
	}
	b.WriteString("cases:\n  - name: x\n    groups: []\n    userAttributes: {<<: *a9}\n")
	_, err := ruletest.Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Errorf("Parse(billion laughs) = %v; want a document too large problem", err)
	}
}

func TestRun(t *testing.T) {
	rs := mustRules(t)
	verified := map[string]string{"email": "a@example.com", "email_verified": "true"}
	tests := []struct {
		name                string
		c                   ruletest.Case
		got                 []string
		missing, unexpected []string
		matched             []string
	}{
		{"exact set, any order",
			ruletest.Case{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: map[string]string{"custom:plan": "pro"}, Groups: []string{"paid", "customers"}},
			[]string{"customers", "paid"}, nil, nil, []string{"paid"}},
		{"missing and unexpected",
			ruletest.Case{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: verified, Groups: []string{"customers", "mobile"}},
			[]string{"staff"}, []string{"customers", "mobile"}, []string{"staff"}, []string{"staff"}},
		{"client id",
			ruletest.Case{TriggerSource: rules.TriggerConfirmSignUp, ClientID: "app1", Groups: []string{"mobile"}},
			[]string{"mobile"}, nil, nil, []string{"mobile"}},
		{"not handled gets nothing",
			ruletest.Case{TriggerSource: rules.TriggerConfirmForgotPassword, UserAttributes: verified, Groups: []string{}},
			[]string{}, nil, nil, nil},
		{"expected nothing",
			ruletest.Case{TriggerSource: rules.TriggerConfirmSignUp, Groups: []string{}},
			[]string{"customers"}, nil, []string{"customers"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ruletest.Run(rs, tt.c)
			if diff := cmp.Diff(tt.got, r.Got); diff != "" {
				t.Errorf("Got (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.missing, r.Missing); diff != "" {
				t.Errorf("Missing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.unexpected, r.Unexpected); diff != "" {
				t.Errorf("Unexpected (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.matched, r.MatchedRules()); diff != "" {
				t.Errorf("MatchedRules (-want +got):\n%s", diff)
			}
			if pass := len(tt.missing) == 0 && len(tt.unexpected) == 0; r.Passed() != pass {
				t.Errorf("Passed() = %v, want %v", r.Passed(), pass)
			}
			if diff := cmp.Diff(rs.Groups(tt.c.Input()), r.Explanation.Groups); diff != "" {
				t.Errorf("Explanation.Groups differs from Groups (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunCurrentGroups checks that a case's currentGroups reach memberOf
// and exclude, and that token trigger sources are evaluated.
func TestRunCurrentGroups(t *testing.T) {
	rs, err := rules.Parse([]byte(`version: 1
exclude: {memberOf: autogroup-hold}
defaultGroups: [customers]
tokenTriggerSources: [TokenGeneration_RefreshTokens]
rules:
  - name: keep-admins
    when: {memberOf: admins}
    groups: [staff]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ruletest.Parse([]byte(`cases:
  - {name: admin, currentGroups: [admins], groups: [staff]}
  - {name: on hold, currentGroups: [admins, autogroup-hold], groups: []}
  - {name: nobody, groups: [customers]}
  - {name: refresh, triggerSource: TokenGeneration_RefreshTokens, currentGroups: [admins], groups: [staff]}
  - {name: machine token, triggerSource: TokenGeneration_ClientCredentials, currentGroups: [admins], groups: []}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if r := ruletest.Run(rs, c); !r.Passed() {
			t.Errorf("case %q: got %v, want %v", c.Name, r.Got, c.Groups)
		}
	}
	if r := ruletest.Run(rs, cases[1]); !r.Explanation.Excluded {
		t.Errorf("case %q: Explanation.Excluded = false", cases[1].Name)
	}
}

func TestUnmatched(t *testing.T) {
	rs := mustRules(t)
	results := []ruletest.Result{
		ruletest.Run(rs, ruletest.Case{TriggerSource: rules.TriggerConfirmSignUp, ClientID: "app1"}),
		ruletest.Run(rs, ruletest.Case{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: map[string]string{"custom:plan": "pro"}}),
	}
	if diff := cmp.Diff([]string{"staff"}, ruletest.Unmatched(rs, results)); diff != "" {
		t.Errorf("Unmatched (-want +got):\n%s", diff)
	}
	if got := ruletest.Unmatched(rs, nil); len(got) != 3 {
		t.Errorf("Unmatched(no results) = %v, want every rule", got)
	}
}
