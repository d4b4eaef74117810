package rules

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "equals an integer",
			src:  "version: 1\nrules:\n  - name: a\n    when: {attribute: n, equals: 5}\n    groups: [a]\n",
			want: []string{"4:34: equals: expected a string, found an integer; quote it"},
		},
		{
			name: "every problem at once, in source order",
			src:  "version: 3\nrules:\n  - name: a b\n    when: {always: false}\n    groups: [\"\"]\n    stop: maybe\n",
			want: []string{
				"1:10: version: unsupported version 3; expected 1",
				"3:11: name: invalid rule name \"a b\"; expected 1 to 64 letters, digits, '.', '_' or '-'",
				"4:20: always: only true is allowed; to negate a condition use not, or delete the rule",
				"5:14: groups: invalid group name \"\": it is empty; a group name is 1 to 128 letters, marks, symbols, numbers or punctuation characters",
				"6:11: stop: expected true or false, found a string",
			},
		},
		{
			name: "only whitespace",
			src:  "  \n\n",
			want: []string{"1:1: empty ruleset; expected a mapping with version and rules"},
		},
		{
			name: "only a document marker",
			src:  "---\n",
			want: []string{"1:1: empty ruleset; expected a mapping with version and rules"},
		},
		{
			name: "a scalar",
			src:  "hello\n",
			want: []string{"1:1: expected a mapping at the top level, found a string"},
		},
		{
			name: "syntax error on the first line",
			src:  "version: 1: 2\n",
			want: []string{"1:1: invalid YAML: mapping values are not allowed in this context"},
		},
		{
			name: "a key that is not a scalar",
			src:  "version: 1\ndefaultGroups: [a]\n? [x]\n: y\n",
			want: []string{"3:3: expected a key, found a list"},
		},
		{
			name: "cyclic alias",
			src:  "version: 1\nrules:\n  - name: a\n    when: &c {not: *c}\n    groups: [a]\n",
			want: []string{"4:11: nesting too deep: more than 64 levels"},
		},
		{
			name: "onError",
			src:  "version: 1\nonError: Fail\ndefaultGroups: [a]\n",
			want: []string{`2:10: onError: expected fail or continue, found "Fail"`},
		},
		{
			name: "rules null",
			src:  "version: 1\nrules:\ndefaultGroups: [a]\n",
			want: []string{"2:7: rules: expected a list of rules, found nothing"},
		},
		{
			name: "defaultGroups over the limit",
			src:  "version: 1\ndefaultGroups: [" + strings.Repeat("g, ", 100) + "g]\n",
			want: []string{"2:16: defaultGroups: 101 groups; at most 100 are allowed"},
		},
		{
			name: "group name of 129 characters",
			src:  "version: 1\ndefaultGroups: [" + strings.Repeat("é", 129) + "]\n",
			want: []string{"2:17: defaultGroups: invalid group name \"" + strings.Repeat("é", 129) + "\": it has 129 characters; a group name is 1 to 128 letters, marks, symbols, numbers or punctuation characters"},
		},
		{
			name: "matches is checked before it is anchored",
			src:  "version: 1\nrules:\n  - name: a\n    when: {attribute: n, matches: \")(\"}\n    groups: [a]\n",
			want: []string{"4:35: matches: invalid regular expression: error parsing regexp: unexpected ): `)(`"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, nil; want errors %q", tt.src, rs, tt.want)
			}
			var got []string
			for _, p := range Problems(err) {
				got = append(got, p.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) problems mismatch (-want +got):\n%s", tt.src, diff)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Parse(%q).Error() = %q, want %q", tt.src, got, want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	_, err := Parse([]byte("version: 2\nfoo: 1\ndefaultGroups: [a]\n"))
	want := []Problem{
		{Line: 1, Column: 10, Message: "version: unsupported version 2; expected 1"},
		{Line: 2, Column: 1, Message: `unknown key "foo"; expected one of version, triggerSources, requireVerifiedEmail, onError, defaultGroups, rules, exclude, reconcile, tokenTriggerSources`},
	}
	tests := []struct {
		name string
		err  error
		want []Problem
	}{
		{"from Parse", err, want},
		{"wrapped", fmt.Errorf("load rules.yaml: %w", err), want},
		{"joined with others", errors.Join(errors.New("other"), err), want},
		{"one problem", want[0], want[:1]},
		{"a pointer", &want[0], want[:1]},
		{"no problem", errors.New("other"), nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Problems(tt.err)); diff != "" {
				t.Errorf("Problems(%v) mismatch (-want +got):\n%s", tt.err, diff)
			}
		})
	}
	var p Problem
	if !errors.As(err, &p) || p != want[0] {
		t.Errorf("errors.As(Parse error, *Problem) = %v, want %v", p, want[0])
	}
	if got := want[0].Error(); got != "1:10: version: unsupported version 2; expected 1" {
		t.Errorf("Problem.Error() = %q", got)
	}
	wantText := "rules.yaml:1:10: version: unsupported version 2; expected 1\n" +
		`rules.yaml:2:1: unknown key "foo"; expected one of version, triggerSources, requireVerifiedEmail, onError, defaultGroups, rules, exclude, reconcile, tokenTriggerSources`
	if got := FormatProblems("rules.yaml", fmt.Errorf("load: %w", err)); got != wantText {
		t.Errorf("FormatProblems(rules.yaml, err) = %q, want %q", got, wantText)
	}
}

func TestParseBounded(t *testing.T) {
	// Exponential expansion through aliases, under a rule's condition.
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n  - name: laughs\n    when:\n      all:\n        - &a0 {always: true}\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "        - &a%d {any: [*a%d, *a%d, *a%d, *a%d]}\n", i, i-1, i-1, i-1, i-1)
	}
	b.WriteString("    groups: [lol]\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()))
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Parse(billion laughs) took %v, want well under a second", elapsed)
	}
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Errorf("Parse(billion laughs) error = %v, want document too large", err)
	}

	// Aliases within the budget are fine.
	rs := mustParse(t, "version: 1\nrules:\n  - name: a\n    when: &c {attribute: x, equals: y}\n    groups: [a]\n  - name: b\n    when: {all: [*c, *c, {not: *c}]}\n    groups: [b]\n")
	if got := rs.Groups(signUp(attrs("x", "y"))); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("Groups(x=y) = %v, want [a]", got)
	}

	// Deep nesting without aliases.
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	if _, err := Parse([]byte("version: 1\nrules: " + deep + "\n")); err == nil {
		t.Errorf("Parse(5000 nested lists) succeeded, want an error")
	}
}

func TestAccessors(t *testing.T) {
	rs := mustParse(t, `version: 1
triggerSources: [PostConfirmation_ConfirmForgotPassword, PostConfirmation_ConfirmSignUp]
onError: continue
defaultGroups: [customers, guests]
rules:
  - name: staff
    description: employees
    when:
      all:
        - emailDomain: example.com
        - any:
            - attribute: custom:department
              equals: it
            - attribute: custom:team
              exists: true
            - attribute: custom:department
              equals: ops
        - not: {identityProvider: Google}
        - clientMetadata: source
          equals: intranet
    groups: [staff, customers]
    stop: true
  - name: sso
    when: {clientId: abc}
    groups: [sso]
`)
	if got := rs.OnError(); got != OnErrorContinue {
		t.Errorf("OnError() = %q, want %q", got, OnErrorContinue)
	}
	if !rs.RequireVerifiedEmail() {
		t.Errorf("RequireVerifiedEmail() = false, want true")
	}
	if diff := cmp.Diff([]string{TriggerConfirmForgotPassword, TriggerConfirmSignUp}, rs.TriggerSources()); diff != "" {
		t.Errorf("TriggerSources() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"customers", "guests"}, rs.DefaultGroups()); diff != "" {
		t.Errorf("DefaultGroups() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"staff", "customers", "sso", "guests"}, rs.GroupNames()); diff != "" {
		t.Errorf("GroupNames() mismatch (-want +got):\n%s", diff)
	}
	wantRules := []RuleInfo{
		{
			Name: "staff", Description: "employees", Line: 6, Groups: []string{"staff", "customers"}, Stop: true,
			Forms:      []string{"all", "emailDomain", "any", "attribute", "not", "identityProvider", "clientMetadata"},
			Attributes: []string{"email", "email_verified", "custom:department", "custom:team", "identities"},
		},
		{Name: "sso", Line: 23, Groups: []string{"sso"}, Forms: []string{"clientId"}},
	}
	if diff := cmp.Diff(wantRules, rs.Rules()); diff != "" {
		t.Errorf("Rules() mismatch (-want +got):\n%s", diff)
	}

	// What the accessors return belongs to the caller.
	rs.TriggerSources()[0] = "x"
	rs.DefaultGroups()[0] = "x"
	rs.GroupNames()[0] = "x"
	rs.Rules()[0].Groups[0] = "x"
	rs.Rules()[0].Forms[0] = "x"
	rs.Explain(Input{TriggerSource: TriggerConfirmSignUp}).Rules[1].Groups[0] = "x"
	if !rs.Handles(TriggerConfirmForgotPassword) || rs.DefaultGroups()[0] != "customers" || rs.GroupNames()[0] != "staff" ||
		rs.Rules()[0].Groups[0] != "staff" || rs.Rules()[0].Forms[0] != "all" {
		t.Errorf("modifying returned slices changed the ruleset")
	}
	if got := rs.Groups(Input{TriggerSource: TriggerConfirmSignUp, ClientID: "abc"}); !cmp.Equal(got, []string{"sso"}) {
		t.Errorf("Groups(client abc) = %v, want [sso]", got)
	}

	defaults := mustParse(t, "version: 1\ndefaultGroups: [a]\n")
	if defaults.OnError() != OnErrorFail || !defaults.RequireVerifiedEmail() ||
		!cmp.Equal(defaults.TriggerSources(), []string{TriggerConfirmSignUp}) || len(defaults.Rules()) != 0 {
		t.Errorf("defaults: OnError %q, RequireVerifiedEmail %v, TriggerSources %v, Rules %v; want fail, true, [%s], none",
			defaults.OnError(), defaults.RequireVerifiedEmail(), defaults.TriggerSources(), defaults.Rules(), TriggerConfirmSignUp)
	}
}

func TestWarnings(t *testing.T) {
	manyGroups := func(rules, perRule int) string {
		var b strings.Builder
		b.WriteString("version: 1\nrules:\n")
		for i := range rules {
			fmt.Fprintf(&b, "  - name: r%d\n    when: {attribute: a, equals: v%d}\n    groups: [", i, i)
			for j := range perRule {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "g%d", i*perRule+j)
			}
			b.WriteString("]\n")
		}
		return b.String()
	}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"none", "version: 1\ndefaultGroups: [a]\n", nil},
		{"100 distinct groups", manyGroups(2, 50), nil},
		{"101 distinct groups", manyGroups(3, 34), []string{"2:1: the rules can select 102 distinct groups; a user can belong to at most 100"}},
		{
			"clientMetadata inside all",
			"version: 1\nrules:\n  - name: a\n    when: {all: [{always: true}, {clientMetadata: k, exists: true}]}\n    groups: [a]\n",
			[]string{"4:35: " + warnClientMetadata},
		},
		{
			"every clientId, negated too",
			"version: 1\nrules:\n  - name: a\n    when: {any: [{clientId: c1}, {not: {clientId: [c2, c3]}}]}\n    groups: [a]\n",
			[]string{"4:19: " + WarnClientID, "4:41: " + WarnClientID},
		},
		{
			"attribute email beside a verified emailDomain in any",
			"version: 1\nrules:\n  - name: a\n    when: {any: [{emailDomain: example.com}, {attribute: email, endsWith: \"@partner.example\"}]}\n    groups: [a]\n",
			[]string{"4:47: " + warnUnverifiedEmail},
		},
		{
			"attribute email in an all with email_verified",
			"version: 1\nrules:\n  - name: a\n    when: {all: [{attribute: email_verified, equals: \"true\"}, {any: [{attribute: email, exists: true}]}]}\n    groups: [a]\n",
			nil,
		},
		{
			"attribute email in an all with a verified emailDomain",
			"version: 1\nrules:\n  - name: a\n    when: {all: [{emailDomain: qa.example.com}, {attribute: email, startsWith: qa+}]}\n    groups: [a]\n",
			nil,
		},
		{
			"attribute email negated",
			"version: 1\nrules:\n  - name: a\n    when: {not: {attribute: email, endsWith: \"@x.example\"}}\n    groups: [a]\n",
			nil,
		},
		{
			"attribute email with a guard under not",
			"version: 1\nrules:\n  - name: a\n    when: {not: {not: {all: [{not: {attribute: email_verified, equals: \"true\"}}, {attribute: email, exists: true}]}}}\n    groups: [a]\n",
			[]string{"4:83: " + warnUnverifiedEmail},
		},
		{
			"attribute email with requireVerifiedEmail false",
			"version: 1\nrequireVerifiedEmail: false\nrules:\n  - name: a\n    when: {all: [{emailDomain: example.com}, {attribute: email, matches: \"a.*\"}]}\n    groups: [a]\n",
			[]string{"2:23: requireVerifiedEmail is false: emailDomain conditions hold for addresses nobody verified, which anyone can type at sign-up", "5:47: " + warnUnverifiedEmail},
		},
		{
			"requireVerifiedEmail false without emailDomain",
			"version: 1\nrequireVerifiedEmail: false\ndefaultGroups: [a]\n",
			nil,
		},
		{
			"all with a constant-false member",
			"version: 1\nrules:\n  - name: a\n    when: {all: [{attribute: a, exists: true}, {not: {always: true}}]}\n    groups: [a]\n",
			[]string{`4:5: rule "a" can never match: its condition is always false`},
		},
		{
			"any with one constant-false member is fine",
			"version: 1\nrules:\n  - name: a\n    when: {any: [{attribute: a, exists: true}, {not: {always: true}}]}\n    groups: [a]\n",
			nil,
		},
		{
			"always true without stop shadows nothing",
			"version: 1\nrules:\n  - name: a\n    when: {always: true}\n    groups: [a]\n  - name: b\n    when: {always: true}\n    groups: [b]\n",
			nil,
		},
		{
			"stop on a condition that may fail shadows nothing",
			"version: 1\nrules:\n  - name: a\n    when: {attribute: x, exists: true}\n    groups: [a]\n    stop: true\n  - name: b\n    when: {always: true}\n    groups: [b]\n",
			nil,
		},
		{
			"double negation of always",
			"version: 1\nrules:\n  - name: a\n    when: {not: {not: {always: true}}}\n    groups: [a]\n    stop: true\n  - name: b\n    when: {always: true}\n    groups: [b]\n",
			[]string{`7:5: rule "b" is never evaluated: rule "a" (line 3) always matches and stops`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := mustParse(t, tt.src)
			var got []string
			for _, w := range rs.Warnings() {
				got = append(got, w.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Warnings() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	src, err := os.ReadFile("testdata/valid/anchors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		attrs map[string]string
		want  []string
	}{
		{"shared condition", attrs("email", "a@x.example.com", "email_verified", "true", "custom:department", "engineering"),
			[]string{"staff", "employees", "engineering"}},
		{"merged rule, its own groups", attrs("custom:plan", "pro"), []string{"paid", "staff", "employees"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rs.Groups(signUp(tt.attrs)); !cmp.Equal(got, tt.want) {
				t.Errorf("Groups(%v) = %v, want %v", tt.attrs, got, tt.want)
			}
		})
	}
	var names []string
	for _, r := range rs.Rules() {
		names = append(names, r.Name)
	}
	if want := []string{"staff", "engineering", "paid", "paid-again"}; !cmp.Equal(names, want) {
		t.Errorf("Rules() names = %v, want %v", names, want)
	}
}
