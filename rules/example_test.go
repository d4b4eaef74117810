package rules_test

import (
	"fmt"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

const exampleRules = `version: 1
defaultGroups: [customers]
rules:
  - name: staff
    when:
      emailDomain: [example.com, "*.example.com"]
    groups: [staff]
  - name: paid-plan
    when:
      attribute: custom:plan
      in: [pro, enterprise]
      ignoreCase: true
    groups: [customers, paid]
`

func ExampleParse() {
	rs, err := rules.Parse([]byte(exampleRules))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs.Rules() {
		fmt.Printf("%s (line %d): %v -> %v\n", r.Name, r.Line, r.Forms, r.Groups)
	}
	fmt.Println("all groups:", rs.GroupNames())
	// Output:
	// staff (line 4): [emailDomain] -> [staff]
	// paid-plan (line 8): [attribute] -> [customers paid]
	// all groups: [staff customers paid]
}

func ExampleParse_error() {
	_, err := rules.Parse([]byte(`version: 1
rules:
  - name: staff
    when:
      emailDomian: example.com
    groups: [staff]
  - name: paid plan
    when:
      attribute: custom:plan
      equals: 5
    groups: [paid]
`))
	for _, p := range rules.Problems(err) {
		fmt.Println(p)
	}
	// Output:
	// 5:7: unknown key "emailDomian" in condition; expected one of always, emailDomain, attribute, clientMetadata, clientId, identityProvider, memberOf, all, any, not (did you mean "emailDomain"?)
	// 7:11: name: invalid rule name "paid plan"; expected 1 to 64 letters, digits, '.', '_' or '-'
	// 10:15: equals: expected a string, found an integer; quote it
}

func ExampleRuleset_Groups() {
	rs, err := rules.Parse([]byte(exampleRules))
	if err != nil {
		panic(err)
	}
	fmt.Println(rs.Groups(rules.Input{
		TriggerSource: rules.TriggerConfirmSignUp,
		UserAttributes: map[string]string{
			"email":          "jane@eng.example.com",
			"email_verified": "true",
			"custom:plan":    "Pro",
		},
	}))
	fmt.Println(rs.Groups(rules.Input{
		TriggerSource:  rules.TriggerConfirmSignUp,
		UserAttributes: map[string]string{"email": "joe@example.org", "email_verified": "true"},
	}))
	// A password reset is not in triggerSources: no group at all.
	fmt.Println(rs.Groups(rules.Input{TriggerSource: rules.TriggerConfirmForgotPassword}))
	// Output:
	// [staff customers paid]
	// [customers]
	// []
}

func ExampleRuleset_Explain() {
	rs, err := rules.Parse([]byte(exampleRules))
	if err != nil {
		panic(err)
	}
	x := rs.Explain(rules.Input{
		TriggerSource: rules.TriggerConfirmSignUp,
		UserAttributes: map[string]string{
			"email":          "jane@evil-example.com",
			"email_verified": "true",
			"custom:plan":    "free",
		},
	})
	for _, r := range x.Rules {
		fmt.Printf("%s: matched %v\n", r.Name, r.Matched)
		c := r.Condition
		fmt.Printf("  %s: %s\n", c.Text, c.Reason)
	}
	fmt.Println("default applied:", x.DefaultApplied, x.Groups)
	// Output:
	// staff: matched false
	//   emailDomain [example.com *.example.com]: domain "evil-example.com" matches no pattern
	// paid-plan: matched false
	//   attribute custom:plan in [pro enterprise] (ignoreCase): value "free" is not one of [pro enterprise] (ignoring case)
	// default applied: true [customers]
}

// A ruleset that names groups from an attribute, keeps a hold group out,
// and lets the reconciling paths remove what the rules no longer select.
const tenantExample = `version: 1
exclude: {memberOf: autogroup-hold}
reconcile: {remove: true}
rules:
  - name: tenant
    when: {attribute: custom:tenant, exists: true}
    groupsFrom: {attribute: custom:tenant, items: ",", matches: "[a-z0-9-]{1,40}", prefix: "tenant-"}
`

func ExampleRuleset_Decide() {
	rs, err := rules.Parse([]byte(tenantExample))
	if err != nil {
		panic(err)
	}
	attrs := map[string]string{"custom:tenant": "acme, Not A Tenant, beta"}
	d := rs.Decide(rules.Input{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: attrs})
	fmt.Println(d.Groups, "rejected:", d.Rejected)
	// A user in the hold group is left alone: nothing added, nothing removed.
	d = rs.Decide(rules.Input{TriggerSource: rules.TriggerTokenRefreshTokens, UserAttributes: attrs, Groups: []string{"autogroup-hold"}})
	fmt.Println(d.Groups, "excluded:", d.Excluded)
	fmt.Println("reads current groups:", rs.UsesGroups())
	// Output:
	// [tenant-acme tenant-beta] rejected: 1
	// [] excluded: true
	// reads current groups: true
}

func ExampleRuleset_Managed() {
	rs, err := rules.Parse([]byte(tenantExample))
	if err != nil {
		panic(err)
	}
	for _, g := range []string{"tenant-acme", "tenant-Acme", "autogroup-hold", "admins"} {
		fmt.Println(g, rs.Remove() && rs.Managed(g))
	}
	fmt.Printf("%+v\n", rs.GroupPatterns())
	// Output:
	// tenant-acme true
	// tenant-Acme false
	// autogroup-hold false
	// admins false
	// [{Rule:tenant Attribute:custom:tenant Items:, Prefix:tenant- Suffix: Matches:[a-z0-9-]{1,40}}]
}
