package main

import (
	"os"
	"strings"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/ruletest"
)

// TestRulesCases runs the cases of rules_test.yaml against the embedded
// ruleset, the one the function ships with, and requires every rule to be
// matched by at least one case.
func TestRulesCases(t *testing.T) {
	const casesFile = "rules_test.yaml"
	rs, err := rules.Parse(autogroup.ShippedRules)
	if err != nil {
		var b strings.Builder
		for _, p := range rules.Problems(err) {
			b.WriteString("\nrules.yaml:" + p.Error())
		}
		t.Fatalf("the embedded rules.yaml does not load:%s", b.String())
	}
	src, err := os.ReadFile(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ruletest.Parse(src)
	if err != nil {
		var b strings.Builder
		for _, p := range rules.Problems(err) {
			b.WriteString("\n" + casesFile + ":" + p.Error())
		}
		t.Fatalf("%s does not load:%s", casesFile, b.String())
	}
	results := make([]ruletest.Result, 0, len(cases))
	for _, c := range cases {
		r := ruletest.Run(rs, c)
		results = append(results, r)
		t.Run(c.Name, func(t *testing.T) {
			if !r.Passed() {
				t.Errorf("%s:%d: groups = %v, want %v (missing %v, unexpected %v; matched rules %v)\n"+
					"explain: go run ./cmd/autogroup test functions/post-confirmation/%s",
					casesFile, c.Line, r.Got, c.Groups, r.Missing, r.Unexpected, r.MatchedRules(), casesFile)
			}
		})
	}
	if names := ruletest.Unmatched(rs, results); len(names) > 0 {
		t.Errorf("no case in %s matches the rules %v: add a case for each", casesFile, names)
	}
}
