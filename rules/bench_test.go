package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// benchRuleset generates a ruleset of n rules that mixes every condition
// form, with a few rules that match the benchmark input.
func benchRuleset(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp]\ndefaultGroups: [customers]\nrules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: rule-%d\n    when:\n", i)
		switch i % 8 {
		case 0:
			fmt.Fprintf(&b, "      emailDomain: [d%d.example.com, \"*.d%d.example.com\"]\n", i, i)
		case 1:
			fmt.Fprintf(&b, "      attribute: custom:plan\n      in: [plan-%d, gold-%d, PRO]\n      ignoreCase: true\n", i, i)
		case 2:
			fmt.Fprintf(&b, "      all:\n        - emailDomain: \"*.example.com\"\n        - attribute: custom:department\n          equals: dept-%d\n", i)
		case 3:
			fmt.Fprintf(&b, "      any:\n        - identityProvider: [Provider%d, Google]\n        - clientId: client-%d\n", i, i)
		case 4:
			fmt.Fprintf(&b, "      attribute: email\n      matches: \"[a-z]+%d@.*\"\n", i)
		case 5:
			fmt.Fprintf(&b, "      not:\n        attribute: custom:team\n        startsWith: team-%d\n", i)
		case 6:
			fmt.Fprintf(&b, "      clientMetadata: source\n      equals: campaign-%d\n", i)
		case 7:
			fmt.Fprintf(&b, "      all:\n        - attribute: custom:region\n          exists: true\n        - attribute: custom:region\n          notIn: [r%d, s%d]\n", i, i)
		}
		fmt.Fprintf(&b, "    groups: [group-%d, group-%d]\n", i%50, (i+1)%50)
	}
	return []byte(b.String())
}

var benchInput = Input{
	TriggerSource: TriggerConfirmSignUp,
	ClientID:      "client-3",
	UserAttributes: map[string]string{
		"email":             "jane.doe@eng.example.com",
		"email_verified":    "true",
		"custom:plan":       "pro",
		"custom:department": "dept-10",
		"custom:region":     "eu-west",
		"identities":        `[{"userId":"1","providerName":"Google","providerType":"Google","primary":"true"}]`,
	},
	ClientMetadata: map[string]string{"source": "campaign-6"},
}

var benchSizes = []int{10, 100, 1000}

func BenchmarkParse(b *testing.B) {
	for _, n := range benchSizes {
		src := benchRuleset(n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Parse(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGroups(b *testing.B) {
	for _, n := range benchSizes {
		rs, err := Parse(benchRuleset(n))
		if err != nil {
			b.Fatal(err)
		}
		if len(rs.Groups(benchInput)) == 0 {
			b.Fatal("the benchmark input selects no group")
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Groups(benchInput)
			}
		})
	}
}

func BenchmarkExplain(b *testing.B) {
	rs, err := Parse(benchRuleset(100))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rs.Explain(benchInput)
	}
}

// BenchmarkDecide is what the function calls per sign-up: Groups plus the
// names of the matched rules for the decision record.
func BenchmarkDecide(b *testing.B) {
	rs, err := Parse(benchRuleset(100))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rs.Decide(benchInput)
	}
}

// BenchmarkDecideAdditions is BenchmarkDecide on a ruleset that also uses
// the additions to version 1: exclude on memberOf, items and groupsFrom.
func BenchmarkDecideAdditions(b *testing.B) {
	src := string(benchRuleset(100)) + `  - name: idp
    when: {attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}
    groups: [engineering]
  - name: tenant
    when: {attribute: custom:tenant, exists: true}
    groupsFrom: {attribute: custom:tenant, matches: "[a-z0-9-]{1,40}", prefix: "tenant-"}
exclude: {memberOf: autogroup-hold}
`
	rs, err := Parse([]byte(src))
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput
	in.UserAttributes = maps.Clone(in.UserAttributes)
	in.UserAttributes["custom:idp_groups"] = `["Sales","SRE"]`
	in.UserAttributes["custom:tenant"] = "acme"
	in.Groups = []string{"customers", "staff"}
	if d := rs.Decide(in); !slices.Contains(d.Groups, "tenant-acme") || !slices.Contains(d.Groups, "engineering") {
		b.Fatalf("Decide() = %v, want tenant-acme and engineering", d.Groups)
	}
	b.ReportAllocs()
	for b.Loop() {
		rs.Decide(in)
	}
}
