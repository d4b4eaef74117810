package ruletest_test

import (
	"os"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/ruletest"
)

// FuzzParse checks that Parse never panics, and that it returns either
// cases or problems with positions.
func FuzzParse(f *testing.F) {
	for _, path := range []string{
		"../functions/post-confirmation/rules_test.yaml",
		"../cmd/autogroup/testdata/bad-cases.yaml",
		"../cmd/autogroup/testdata/passing-cases.yaml",
	} {
		if src, err := os.ReadFile(path); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("cases: [{name: a, groups: [], userAttributes: {<<: *x}}]"))
	f.Add([]byte("a: &a {<<: [*a]}\ncases: []"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cases, err := ruletest.Parse(src)
		if err == nil {
			if len(cases) == 0 {
				t.Fatalf("Parse returned no cases and no error")
			}
			return
		}
		if cases != nil {
			t.Fatalf("Parse returned cases with its error")
		}
		ps := rules.Problems(err)
		if len(ps) == 0 {
			t.Fatalf("Parse error carries no problem: %v", err)
		}
		for _, p := range ps {
			if p.Line < 1 || p.Column < 1 {
				t.Fatalf("problem without a position: %v", p)
			}
		}
	})
}
