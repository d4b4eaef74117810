package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// conditionRules has every leaf form, negations and guards by
// email_verified, at known positions.
const conditionRules = `version: 1
rules:
  - name: leaves
    groups: [g]
    when:
      any:
        - {always: true}
        - {emailDomain: [example.com, "*.example.com"]}
        - {attribute: custom:plan, equals: pro}
        - {clientMetadata: source, equals: web}
        - {clientId: [a1, a2]}
        - {identityProvider: Google}
  - name: negations
    groups: [g]
    when:
      all:
        - not: {attribute: email, endsWith: "@x.example"}
        - not: {not: {emailDomain: example.com}}
  - name: guarded
    groups: [g]
    when:
      all:
        - {attribute: email_verified, equals: "true"}
        - any:
            - {attribute: email, endsWith: "@partner.example"}
            - not: {clientId: c}
  - name: issue-example
    groups: [g]
    when:
      any:
        - {emailDomain: example.com}
        - {attribute: email, endsWith: "@partner.example"}
  - name: guard-under-not
    groups: [g]
    when:
      not:
        all:
          - {attribute: email_verified, equals: "true"}
          - {attribute: email, endsWith: "@x.example"}
  - name: not-a-guard
    groups: [g]
    when:
      all:
        - {attribute: email_verified, equals: "TRUE", ignoreCase: true}
        - {attribute: email_verified, notEquals: "false"}
        - {attribute: email, exists: true}
  - name: guard-by-domain
    groups: [g]
    when:
      all:
        - {emailDomain: example.com}
        - {attribute: email, endsWith: "@example.com"}
        - any: [{emailDomain: a.example}, {emailDomain: b.example}]
  - name: any-guard
    groups: [g]
    when:
      all:
        - any: [{emailDomain: a.example}, {attribute: custom:x, exists: true}]
        - {attribute: custom:y, exists: true}
`

func TestConditionInfo(t *testing.T) {
	rs := mustParse(t, conditionRules)
	want := []ConditionInfo{
		{Rule: "leaves", Line: 7, Column: 12, Form: "always"},
		{Rule: "leaves", Line: 8, Column: 12, Form: "emailDomain", Attribute: "email", Values: []string{"example.com", "*.example.com"}, VerifiedGuard: true},
		{Rule: "leaves", Line: 9, Column: 12, Form: "attribute", Attribute: "custom:plan"},
		{Rule: "leaves", Line: 10, Column: 12, Form: "clientMetadata"},
		{Rule: "leaves", Line: 11, Column: 12, Form: "clientId", Values: []string{"a1", "a2"}},
		{Rule: "leaves", Line: 12, Column: 12, Form: "identityProvider", Attribute: "identities", Values: []string{"Google"}},
		{Rule: "negations", Line: 17, Column: 17, Form: "attribute", Attribute: "email", Negated: true},
		{Rule: "negations", Line: 18, Column: 23, Form: "emailDomain", Attribute: "email", Values: []string{"example.com"}, VerifiedGuard: true},
		{Rule: "guarded", Line: 23, Column: 12, Form: "attribute", Attribute: "email_verified", VerifiedGuard: true},
		{Rule: "guarded", Line: 25, Column: 16, Form: "attribute", Attribute: "email", VerifiedGuard: true},
		{Rule: "guarded", Line: 26, Column: 21, Form: "clientId", Values: []string{"c"}, Negated: true, VerifiedGuard: true},
		{Rule: "issue-example", Line: 31, Column: 12, Form: "emailDomain", Attribute: "email", Values: []string{"example.com"}, VerifiedGuard: true},
		{Rule: "issue-example", Line: 32, Column: 12, Form: "attribute", Attribute: "email"},
		{Rule: "guard-under-not", Line: 38, Column: 14, Form: "attribute", Attribute: "email_verified", Negated: true},
		{Rule: "guard-under-not", Line: 39, Column: 14, Form: "attribute", Attribute: "email", Negated: true},
		{Rule: "not-a-guard", Line: 44, Column: 12, Form: "attribute", Attribute: "email_verified"},
		{Rule: "not-a-guard", Line: 45, Column: 12, Form: "attribute", Attribute: "email_verified"},
		{Rule: "not-a-guard", Line: 46, Column: 12, Form: "attribute", Attribute: "email"},
		{Rule: "guard-by-domain", Line: 51, Column: 12, Form: "emailDomain", Attribute: "email", Values: []string{"example.com"}, VerifiedGuard: true},
		{Rule: "guard-by-domain", Line: 52, Column: 12, Form: "attribute", Attribute: "email", VerifiedGuard: true},
		{Rule: "guard-by-domain", Line: 53, Column: 18, Form: "emailDomain", Attribute: "email", Values: []string{"a.example"}, VerifiedGuard: true},
		{Rule: "guard-by-domain", Line: 53, Column: 44, Form: "emailDomain", Attribute: "email", Values: []string{"b.example"}, VerifiedGuard: true},
		{Rule: "any-guard", Line: 58, Column: 18, Form: "emailDomain", Attribute: "email", Values: []string{"a.example"}, VerifiedGuard: true},
		{Rule: "any-guard", Line: 58, Column: 44, Form: "attribute", Attribute: "custom:x"},
		{Rule: "any-guard", Line: 59, Column: 12, Form: "attribute", Attribute: "custom:y"},
	}
	got := rs.Conditions()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Conditions() (-want +got):\n%s", diff)
	}

	// The result is a copy.
	got[1].Values[0] = "changed"
	if v := rs.Conditions()[1].Values[0]; v != "example.com" {
		t.Errorf("after changing a returned Values, Conditions()[1].Values[0] = %q, want example.com", v)
	}
}

// TestConditionInfoUnverified checks that emailDomain guards nothing when
// the ruleset does not require verified addresses.
func TestConditionInfoUnverified(t *testing.T) {
	rs := mustParse(t, `version: 1
requireVerifiedEmail: false
rules:
  - name: r
    groups: [g]
    when:
      all: [{emailDomain: example.com}, {attribute: email, endsWith: "@example.com"}]
`)
	var got []bool
	for _, c := range rs.Conditions() {
		got = append(got, c.VerifiedGuard)
	}
	if want := []bool{false, false}; !cmp.Equal(got, want) {
		t.Errorf("Conditions() VerifiedGuard = %v, want %v", got, want)
	}
}

// TestClientIDWarningAtCondition checks what tools rely on to drop the
// clientId warning for clients with a secret: each clientId condition has
// exactly one warning with the message WarnClientID, at its position.
func TestClientIDWarningAtCondition(t *testing.T) {
	rs := mustParse(t, conditionRules)
	type pos struct{ line, col int }
	var conds, warned []pos
	for _, c := range rs.Conditions() {
		if c.Form == "clientId" {
			conds = append(conds, pos{c.Line, c.Column})
		}
	}
	for _, w := range rs.Warnings() {
		if w.Message == WarnClientID {
			warned = append(warned, pos{w.Line, w.Column})
		}
	}
	if len(conds) != 2 || !cmp.Equal(conds, warned, cmp.AllowUnexported(pos{})) {
		t.Errorf("WarnClientID warnings at %v, want one at each clientId condition %v", warned, conds)
	}
}
