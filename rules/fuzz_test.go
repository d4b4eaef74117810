package rules

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzInputs are evaluated on every ruleset the fuzzer finds valid.
var fuzzInputs = []Input{
	{},
	{TriggerSource: TriggerConfirmSignUp},
	benchInput,
	{
		TriggerSource: TriggerConfirmSignUp,
		ClientID:      "abc",
		UserAttributes: map[string]string{
			"email":          "Jane@Bücher.Example.",
			"email_verified": "true",
			"custom:plan":    "PRO",
			"identities":     `[{"providerName":"Google"},{"providerName":"CorporateSSO"}]`,
		},
		ClientMetadata: map[string]string{"source": "web"},
	},
	{
		TriggerSource:  TriggerConfirmForgotPassword,
		UserAttributes: map[string]string{"email": "a@b@c", "email_verified": "True", "identities": "{"},
	},
	{
		TriggerSource: TriggerTokenRefreshTokens,
		UserAttributes: map[string]string{
			"custom:tenant":     "acme",
			"custom:idp_groups": `["Engineering","SRE"]`,
			"custom:teams":      "[red, Blue, ]",
			"custom:tags":       "a,b,,c",
		},
		Groups: []string{"autogroup-hold", "admins"},
	},
	{TriggerSource: TriggerTokenClientCredentials, Groups: []string{"admins"}},
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, file := range testdataFiles(f, dir) {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte(evaluationRules))
	f.Add(benchRuleset(8))
	f.Add([]byte(tenantRules))
	f.Add([]byte(holdRules))
	f.Fuzz(func(t *testing.T, src []byte) {
		rs, err := Parse(src)
		if err != nil {
			if rs != nil {
				t.Fatalf("Parse returned a ruleset and an error")
			}
			if len(Problems(err)) == 0 {
				t.Fatalf("Parse error %q carries no Problem", err)
			}
			return
		}
		_ = rs.Warnings()
		names := rs.GroupNames()
		rules := rs.Rules()
		for _, in := range fuzzInputs {
			got := rs.Groups(in)
			x := rs.Explain(in)
			if !cmp.Equal(x.Groups, got) {
				t.Fatalf("Explain(%+v).Groups = %v, want Groups(...) = %v", in, x.Groups, got)
			}
			if len(x.Rules) != len(rules) {
				t.Fatalf("Explain(%+v) has %d rules, want %d", in, len(x.Rules), len(rules))
			}
			if d := rs.Decide(in); !cmp.Equal(d, decisionOf(x)) {
				t.Fatalf("Decide(%+v) = %+v, want %+v from Explain", in, d, decisionOf(x))
			}
			for _, g := range got {
				if !slices.Contains(names, g) && !rs.CanSelect(g) {
					t.Fatalf("Groups(%+v) = %v: %q is not in GroupNames() = %v, and CanSelect is false", in, got, g, names)
				}
				if !rs.Managed(g) {
					if _, listed := rs.ManagedGroups(); !listed {
						t.Fatalf("Groups(%+v) = %v: %q is not managed by default", in, got, g)
					}
				}
			}
			if len(got) > MaxGroupsPerUser {
				t.Fatalf("Groups(%+v) has %d groups, more than %d", in, len(got), MaxGroupsPerUser)
			}
			if x.Excluded && got != nil {
				t.Fatalf("Groups(%+v) = %v for an excluded user", in, got)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
				t.Fatalf("Groups(%+v) = %v has duplicates", in, got)
			}
		}
	})
}

// FuzzProviders checks the scanner of the identities attribute against
// encoding/json.
func FuzzProviders(f *testing.F) {
	for _, s := range []string{
		`[{"userId":"1","providerName":"Google","providerType":"Google","issuer":null,"primary":"true"}]`,
		`[{"providerName":"A"},{"providerName":"B","x":[{"providerName":"C"}]}]`,
		`[{"provider\u004eame":"G\u00fc"}]`,
		`[{"providerName":"A","providerName":"B"}]`,
		`[{"providerName":1}]`, `[null]`, `null`, `[]`, `{}`, `["a"]`, `[{"a":"]}"}]`, ` [ ] `, `[`,
		// Invalid UTF-8, which encoding/json replaces with U+FFFD: found
		// by the fuzzer, the scanner kept the raw byte.
		"[{\"providerName\":\"\xcc\"}]",
		"[{\"providerName\":\"a\xe2\x82b\\u00e9\"}]",
		"[{\"providerName\xff\":\"A\",\"providerName\":\"B\"}]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, st := providers(map[string]string{"identities": s})
		want, wantSt := referenceProviders(s)
		if st != wantSt || !cmp.Equal(got, want) {
			t.Fatalf("providers(%q) = %q, %v; want %q, %v", s, got, st, want, wantSt)
		}
	})
}

// referenceProviders is providers written with encoding/json.
func referenceProviders(s string) ([]string, providersStatus) {
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &entries); err != nil || entries == nil {
		return nil, providersMalformed // null is not an array either
	}
	var names []string
	for _, e := range entries {
		if e == nil {
			return nil, providersMalformed
		}
		var name string
		if raw, ok := e["providerName"]; ok && len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &name) == nil {
			names = append(names, name)
		}
	}
	return names, providersOK
}

// decisionOf derives from an explanation what Decide must return.
func decisionOf(x Explanation) Decision {
	d := Decision{Handled: x.Handled, Groups: x.Groups, DefaultApplied: x.DefaultApplied, Excluded: x.Excluded, Dropped: x.Dropped}
	for _, r := range x.Rules {
		if r.Matched {
			d.MatchedRules = append(d.MatchedRules, r.Name)
		}
		if r.GroupsFrom != nil {
			d.Rejected += len(r.GroupsFrom.Rejected)
		}
	}
	return d
}
