package rules

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustParse parses src and fails the test on error.
func mustParse(t testing.TB, src string) *Ruleset {
	t.Helper()
	rs, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror:\n%v", src, err)
	}
	return rs
}

// oneRule returns a ruleset whose only rule selects the group "matched"
// when the condition when (YAML flow syntax) holds.
func oneRule(t testing.TB, when string) *Ruleset {
	t.Helper()
	return mustParse(t, fmt.Sprintf("version: 1\nrules:\n  - name: r\n    when: %s\n    groups: [matched]\n", when))
}

// matches reports whether rs selects "matched" for in.
func matches(rs *Ruleset, in Input) bool {
	got := rs.Groups(in)
	return len(got) == 1 && got[0] == "matched"
}

// attrs builds user attributes from pairs of strings.
func attrs(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func signUp(userAttributes map[string]string) Input {
	return Input{TriggerSource: TriggerConfirmSignUp, UserAttributes: userAttributes}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		name string
		when string
		in   Input
		want bool
	}{
		{"always", `{always: true}`, signUp(nil), true},

		{"equals same", `{attribute: custom:plan, equals: pro}`, signUp(attrs("custom:plan", "pro")), true},
		{"equals different", `{attribute: custom:plan, equals: pro}`, signUp(attrs("custom:plan", "free")), false},
		{"equals is case sensitive", `{attribute: custom:plan, equals: pro}`, signUp(attrs("custom:plan", "Pro")), false},
		{"equals absent", `{attribute: custom:plan, equals: pro}`, signUp(nil), false},
		{"equals empty string, absent", `{attribute: custom:plan, equals: ""}`, signUp(nil), true},
		{"equals empty string, empty", `{attribute: custom:plan, equals: ""}`, signUp(attrs("custom:plan", "")), true},
		{"equals reads the named attribute only", `{attribute: custom:plan, equals: pro}`, signUp(attrs("plan", "pro")), false},

		{"notEquals different", `{attribute: custom:plan, notEquals: pro}`, signUp(attrs("custom:plan", "free")), true},
		{"notEquals same", `{attribute: custom:plan, notEquals: pro}`, signUp(attrs("custom:plan", "pro")), false},
		{"notEquals absent", `{attribute: custom:plan, notEquals: pro}`, signUp(nil), true},
		{"notEquals empty string, absent", `{attribute: custom:plan, notEquals: ""}`, signUp(nil), false},

		{"in member", `{attribute: custom:plan, in: [pro, enterprise]}`, signUp(attrs("custom:plan", "enterprise")), true},
		{"in not a member", `{attribute: custom:plan, in: [pro, enterprise]}`, signUp(attrs("custom:plan", "free")), false},
		{"in absent", `{attribute: custom:plan, in: [pro, enterprise]}`, signUp(nil), false},
		{"in empty string, absent", `{attribute: custom:plan, in: [pro, ""]}`, signUp(nil), true},
		{"in many values", `{attribute: n, in: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r]}`, signUp(attrs("n", "q")), true},
		{"in many values, not a member", `{attribute: n, in: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r]}`, signUp(attrs("n", "z")), false},

		{"notIn not a member", `{attribute: custom:plan, notIn: [pro, enterprise]}`, signUp(attrs("custom:plan", "free")), true},
		{"notIn member", `{attribute: custom:plan, notIn: [pro, enterprise]}`, signUp(attrs("custom:plan", "pro")), false},
		{"notIn absent", `{attribute: custom:plan, notIn: [pro, enterprise]}`, signUp(nil), true},
		{"notIn empty string, absent", `{attribute: custom:plan, notIn: [""]}`, signUp(nil), false},

		{"startsWith", `{attribute: email, startsWith: "qa+"}`, signUp(attrs("email", "qa+1@example.com")), true},
		{"startsWith no", `{attribute: email, startsWith: "qa+"}`, signUp(attrs("email", "bob+qa@example.com")), false},
		{"startsWith empty string, absent", `{attribute: email, startsWith: ""}`, signUp(nil), true},
		{"endsWith", `{attribute: email, endsWith: "@example.com"}`, signUp(attrs("email", "a@example.com")), true},
		{"endsWith no", `{attribute: email, endsWith: "@example.com"}`, signUp(attrs("email", "a@example.com.evil.net")), false},
		{"contains", `{attribute: custom:roles, contains: admin}`, signUp(attrs("custom:roles", "user,admin,dev")), true},
		{"contains no", `{attribute: custom:roles, contains: admin}`, signUp(attrs("custom:roles", "user")), false},
		{"contains absent", `{attribute: custom:roles, contains: admin}`, signUp(nil), false},

		{"matches whole value", `{attribute: custom:id, matches: "[a-z]+-[0-9]+"}`, signUp(attrs("custom:id", "abc-123")), true},
		{"matches is anchored at the start", `{attribute: custom:id, matches: "[a-z]+-[0-9]+"}`, signUp(attrs("custom:id", "X abc-123")), false},
		{"matches is anchored at the end", `{attribute: custom:id, matches: "[a-z]+-[0-9]+"}`, signUp(attrs("custom:id", "abc-123 X")), false},
		{"matches anchors alternations as a whole", `{attribute: x, matches: "a|b"}`, signUp(attrs("x", "ab")), false},
		{"matches alternation", `{attribute: x, matches: "a|b"}`, signUp(attrs("x", "b")), true},
		{"matches is case sensitive", `{attribute: x, matches: "abc"}`, signUp(attrs("x", "ABC")), false},
		{"matches absent as empty", `{attribute: x, matches: "a*"}`, signUp(nil), true},
		{"matches absent, needs a character", `{attribute: x, matches: ".+"}`, signUp(nil), false},

		{"exists true, present", `{attribute: custom:plan, exists: true}`, signUp(attrs("custom:plan", "pro")), true},
		{"exists true, present empty", `{attribute: custom:plan, exists: true}`, signUp(attrs("custom:plan", "")), true},
		{"exists true, absent", `{attribute: custom:plan, exists: true}`, signUp(nil), false},
		{"exists false, absent", `{attribute: custom:plan, exists: false}`, signUp(attrs("other", "x")), true},
		{"exists false, present empty", `{attribute: custom:plan, exists: false}`, signUp(attrs("custom:plan", "")), false},

		{"clientMetadata equals", `{clientMetadata: source, equals: campaign}`,
			Input{TriggerSource: TriggerConfirmSignUp, ClientMetadata: map[string]string{"source": "campaign"}}, true},
		{"clientMetadata does not read user attributes", `{clientMetadata: source, equals: campaign}`,
			signUp(attrs("source", "campaign")), false},
		{"clientMetadata absent", `{clientMetadata: source, notEquals: campaign}`, signUp(nil), true},
		{"clientMetadata exists", `{clientMetadata: source, exists: true}`,
			Input{TriggerSource: TriggerConfirmSignUp, ClientMetadata: map[string]string{"source": ""}}, true},
		{"clientMetadata in", `{clientMetadata: source, in: [a, b]}`,
			Input{TriggerSource: TriggerConfirmSignUp, ClientMetadata: map[string]string{"source": "b"}}, true},

		{"clientId one", `{clientId: abc}`, Input{TriggerSource: TriggerConfirmSignUp, ClientID: "abc"}, true},
		{"clientId list", `{clientId: [abc, def]}`, Input{TriggerSource: TriggerConfirmSignUp, ClientID: "def"}, true},
		{"clientId other", `{clientId: [abc, def]}`, Input{TriggerSource: TriggerConfirmSignUp, ClientID: "xyz"}, false},
		{"clientId is exact", `{clientId: abc}`, Input{TriggerSource: TriggerConfirmSignUp, ClientID: "ABC"}, false},
		{"clientId empty", `{clientId: abc}`, signUp(nil), false},

		{"all hold", `{all: [{always: true}, {attribute: a, equals: x}]}`, signUp(attrs("a", "x")), true},
		{"all, one fails", `{all: [{always: true}, {attribute: a, equals: x}]}`, signUp(attrs("a", "y")), false},
		{"any, one holds", `{any: [{attribute: a, equals: x}, {attribute: b, equals: y}]}`, signUp(attrs("b", "y")), true},
		{"any, none holds", `{any: [{attribute: a, equals: x}, {attribute: b, equals: y}]}`, signUp(attrs("b", "x")), false},
		{"not, inner holds", `{not: {attribute: a, equals: x}}`, signUp(attrs("a", "x")), false},
		{"not, inner fails", `{not: {attribute: a, equals: x}}`, signUp(attrs("a", "y")), true},
		{"not not", `{not: {not: {attribute: a, equals: x}}}`, signUp(attrs("a", "x")), true},
		{"nested", `{all: [{any: [{attribute: a, equals: x}, {attribute: b, exists: true}]}, {not: {clientId: bad}}]}`,
			Input{TriggerSource: TriggerConfirmSignUp, ClientID: "good", UserAttributes: attrs("b", "")}, true},
		{"nested, not fails", `{all: [{any: [{attribute: a, equals: x}, {attribute: b, exists: true}]}, {not: {clientId: bad}}]}`,
			Input{TriggerSource: TriggerConfirmSignUp, ClientID: "bad", UserAttributes: attrs("b", "")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := oneRule(t, tt.when)
			if got := matches(rs, tt.in); got != tt.want {
				t.Errorf("when %s: Groups(%+v) = %v, want matched=%v", tt.when, tt.in, rs.Groups(tt.in), tt.want)
			}
		})
	}
}

func TestIgnoreCase(t *testing.T) {
	tests := []struct {
		name      string
		operator  string // the operator and its value, YAML flow syntax
		value     string
		want      bool // with ignoreCase: true
		wantExact bool // without ignoreCase
	}{
		{"equals ASCII", `equals: pro`, "PRO", true, false},
		{"equals accented", `equals: été`, "ÉTÉ", true, false},
		{"equals Greek", `equals: σίσυφος`, "ΣΊΣΥΦΟΣ", true, false},
		{"equals Kelvin sign", `equals: k`, "\u212a", true, false},
		{"equals long s", `equals: S`, "ſ", true, false},
		{"equals sharp s is not ss (simple folding)", `equals: Straße`, "STRASSE", false, false},
		{"equals capital sharp s", `equals: straße`, "STRAẞE", true, false},
		{"equals different", `equals: pro`, "PRU", false, false},
		{"notEquals", `notEquals: pro`, "PRO", false, true},
		{"notEquals different", `notEquals: pro`, "free", true, true},
		{"in", `in: [pro, enterprise]`, "Enterprise", true, false},
		{"in accented", `in: [Été, hiver]`, "été", true, false},
		{"notIn", `notIn: [pro, enterprise]`, "PRO", false, true},
		{"startsWith", `startsWith: "qa+"`, "QA+bob@example.com", true, false},
		{"startsWith accented", `startsWith: ÉCOLE`, "école-1", true, false},
		{"endsWith", `endsWith: "@example.com"`, "bob@EXAMPLE.COM", true, false},
		{"contains", `contains: admin`, "xxADMINxx", true, false},
		{"contains accented", `contains: É`, "café", true, false},
		{"matches", `matches: "[a-z]+-[0-9]+"`, "ABC-123", true, false},
		{"matches accented", `matches: "été|hiver"`, "ÉTÉ", true, false},
		{"matches sharp s", `matches: "strasse"`, "STRAßE", false, false},
		{"exists (no effect)", `exists: true`, "X", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := signUp(attrs("a", tt.value))
			folded := oneRule(t, "{attribute: a, "+tt.operator+", ignoreCase: true}")
			if got := matches(folded, in); got != tt.want {
				t.Errorf("ignoreCase %s: Groups(%q) = %v, want matched=%v", tt.operator, tt.value, folded.Groups(in), tt.want)
			}
			exact := oneRule(t, "{attribute: a, "+tt.operator+"}")
			if got := matches(exact, in); got != tt.wantExact {
				t.Errorf("%s: Groups(%q) = %v, want matched=%v", tt.operator, tt.value, exact.Groups(in), tt.wantExact)
			}
		})
	}
}

func TestIgnoreCaseAbsent(t *testing.T) {
	rs := oneRule(t, `{attribute: a, notEquals: X, ignoreCase: true}`)
	if !matches(rs, signUp(nil)) {
		t.Errorf("Groups(absent) = %v, want [matched]", rs.Groups(signUp(nil)))
	}
}

func TestEmailDomain(t *testing.T) {
	const patterns = `[example.com, "*.example.com", bücher.example, xn--caf-dma.example, "*.Straße.example"]`
	tests := []struct {
		name     string
		email    string
		verified string // "-" for absent
		want     bool
	}{
		{"apex", "jane@example.com", "true", true},
		{"subdomain", "jane@eng.example.com", "true", true},
		{"deep subdomain", "jane@a.b.c.example.com", "true", true},
		{"upper case", "Jane@EXAMPLE.COM", "true", true},
		{"mixed case subdomain", "jane@Eng.Example.Com", "true", true},
		{"trailing dot", "jane@example.com.", "true", true},
		{"two trailing dots", "jane@example.com..", "true", false},
		{"look-alike prefix", "jane@evil-example.com", "true", false},
		{"look-alike suffix", "jane@example.com.evil.net", "true", false},
		{"look-alike glued", "jane@notexample.com", "true", false},
		{"other domain", "jane@example.org", "true", false},
		{"empty label", "jane@a..example.com", "true", false},
		{"leading dot", "jane@.example.com", "true", false},
		{"IDN as written", "jane@bücher.example", "true", true},
		{"IDN upper case", "jane@BÜCHER.EXAMPLE", "true", true},
		{"IDN as punycode", "jane@xn--bcher-kva.example", "true", true},
		{"IDN punycode upper case", "jane@XN--BCHER-KVA.EXAMPLE", "true", true},
		{"punycode pattern, Unicode address", "jane@café.example", "true", true},
		{"punycode pattern, punycode address", "jane@xn--caf-dma.example", "true", true},
		{"Unicode wildcard pattern", "jane@a.xn--strae-oqa.example", "true", true},
		{"Unicode wildcard pattern, apex", "jane@straße.example", "true", false},
		{"IDN look-alike", "jane@bucher.example", "true", false},
		{"invalid punycode", "jane@xn--zz.example", "true", false},
		{"disallowed character", "jane@exa_mple.com", "true", false},
		{"two @", "jane@evil.net@example.com", "true", false},
		{"two @ reversed", "jane@example.com@evil.net", "true", false},
		{"no @", "example.com", "true", false},
		{"empty domain", "jane@", "true", false},
		{"only @", "@", "true", false},
		{"empty local part", "@example.com", "true", true},
		{"unverified", "jane@example.com", "false", false},
		{"verified True", "jane@example.com", "True", false},
		{"verified absent", "jane@example.com", "-", false},
		{"verified empty", "jane@example.com", "", false},
	}
	rs := oneRule(t, `{emailDomain: `+patterns+`}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := attrs("email", tt.email)
			if tt.verified != "-" {
				a["email_verified"] = tt.verified
			}
			in := signUp(a)
			if got := matches(rs, in); got != tt.want {
				t.Errorf("emailDomain %s: Groups(email %q, email_verified %q) = %v, want matched=%v\n%s",
					patterns, tt.email, tt.verified, rs.Groups(in), tt.want, explainText(rs.Explain(in)))
			}
		})
	}
	t.Run("no email attribute", func(t *testing.T) {
		in := signUp(attrs("email_verified", "true"))
		if got := rs.Groups(in); got != nil {
			t.Errorf("Groups(%v) = %v, want none", in, got)
		}
	})
}

func TestEmailDomainUnverifiedAllowed(t *testing.T) {
	rs := mustParse(t, `version: 1
requireVerifiedEmail: false
rules:
  - name: r
    when: {emailDomain: example.com}
    groups: [matched]
`)
	for _, verified := range []string{"true", "false", "-"} {
		a := attrs("email", "jane@example.com")
		if verified != "-" {
			a["email_verified"] = verified
		}
		if !matches(rs, signUp(a)) {
			t.Errorf("requireVerifiedEmail false: Groups(email_verified %q) = %v, want [matched]", verified, rs.Groups(signUp(a)))
		}
	}
	if rs.RequireVerifiedEmail() {
		t.Errorf("RequireVerifiedEmail() = true, want false")
	}
}

func TestParseDomainPattern(t *testing.T) {
	tests := []struct {
		pattern      string
		wantDomain   string
		wantWildcard bool
		wantErr      bool
	}{
		{"example.com", "example.com", false, false},
		{"Example.COM.", "example.com", false, false},
		{"*.example.com", "example.com", true, false},
		{"*.Bücher.Example", "xn--bcher-kva.example", true, false},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", false, false},
		{"localhost", "localhost", false, false},
		{"*", "", false, true},
		{"*.", "", false, true},
		{"", "", false, true},
		{".", "", false, true},
		{"a.*.example.com", "", false, true},
		{"*example.com", "", false, true},
		{"*.*.example.com", "", false, true},
		{"ex*ample.com", "", false, true},
		{"exa_mple.com", "", false, true},
		{"-bad.com", "", false, true},
		{"a..b", "", false, true},
		{".example.com", "", false, true},
		{"example.com..", "", false, true},
		{"jane@example.com", "", false, true},
		{"xn--zz.example", "", false, true},
		{strings.Repeat("a", 64) + ".com", "", false, true},
		{strings.Repeat("a.", 127) + "com", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := parseDomainPattern(tt.pattern)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseDomainPattern(%q) error = %v, want error %v", tt.pattern, err, tt.wantErr)
			}
			if err == nil && (got.domain != tt.wantDomain || got.wildcard != tt.wantWildcard) {
				t.Errorf("parseDomainPattern(%q) = %q wildcard %v, want %q wildcard %v", tt.pattern, got.domain, got.wildcard, tt.wantDomain, tt.wantWildcard)
			}
		})
	}
}

func TestIdentityProvider(t *testing.T) {
	const google = `[{"userId":"1","providerName":"Google","providerType":"Google","issuer":null,"primary":"true","dateCreated":"1700000000000"}]`
	tests := []struct {
		name       string
		identities string // "-" for absent
		want       bool
	}{
		{"listed", google, true},
		{"second entry", `[{"providerName":"Other"},{"providerName":"CorporateSSO"}]`, true},
		{"escaped name", `[{"providerName":"Corporate\u0053SO"}]`, true},
		{"escaped key", `[{"provider\u004eame":"Google"}]`, true},
		{"whitespace", " [ { \"providerName\" : \"Google\" } ] ", true},
		{"nested values skipped", `[{"x":{"providerName":"Nope","y":[1,{"z":"]"}]},"providerName":"Google"}]`, true},
		{"last key wins", `[{"providerName":"Google","providerName":"Other"}]`, false},
		{"case sensitive", `[{"providerName":"google"}]`, false},
		{"key case sensitive", `[{"ProviderName":"Google"}]`, false},
		{"not listed", `[{"providerName":"Facebook"}]`, false},
		{"empty array", `[]`, false},
		{"no providerName", `[{"userId":"1"}]`, false},
		{"providerName not a string", `[{"providerName":1}]`, false},
		{"absent", "-", false},
		{"empty", "", false},
		{"malformed", `[{"providerName":"Google"`, false},
		{"not an array", `{"providerName":"Google"}`, false},
		{"array of strings", `["Google"]`, false},
		{"null entry", `[null,{"providerName":"Google"}]`, false},
		{"null", `null`, false},
		{"plain text", `Google`, false},
	}
	rs := oneRule(t, `{identityProvider: [Google, CorporateSSO]}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := attrs()
			if tt.identities != "-" {
				a["identities"] = tt.identities
			}
			in := signUp(a)
			if got := matches(rs, in); got != tt.want {
				t.Errorf("Groups(identities %s) = %v, want matched=%v", tt.identities, rs.Groups(in), tt.want)
			}
		})
	}
}

const evaluationRules = `version: 1
defaultGroups: [customers, guests]
rules:
  - name: gold
    when: {attribute: tier, equals: gold}
    groups: [gold, vip]
  - name: metal
    when: {attribute: tier, in: [gold, silver]}
    groups: [silver, gold]
  - name: banned
    when: {attribute: banned, equals: "yes"}
    groups: [banned]
    stop: true
  - name: france
    when: {attribute: country, equals: fr}
    groups: [fr, vip]
`

func TestGroups(t *testing.T) {
	rs := mustParse(t, evaluationRules)
	tests := []struct {
		name  string
		attrs map[string]string
		want  []string
	}{
		{"no rule matches: default groups", nil, []string{"customers", "guests"}},
		{"one rule", attrs("tier", "silver"), []string{"silver", "gold"}},
		{"two rules, deduplicated in order of first appearance", attrs("tier", "gold"), []string{"gold", "vip", "silver"}},
		{"rules in file order", attrs("tier", "silver", "country", "fr"), []string{"silver", "gold", "fr", "vip"}},
		{"stop ends the evaluation", attrs("tier", "gold", "banned", "yes", "country", "fr"), []string{"gold", "vip", "silver", "banned"}},
		{"stop alone", attrs("banned", "yes", "country", "fr"), []string{"banned"}},
		{"later rule only", attrs("country", "fr"), []string{"fr", "vip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := signUp(tt.attrs)
			got := rs.Groups(in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Groups(%v) = %v, want %v (-want +got):\n%s", tt.attrs, got, tt.want, diff)
			}
			x := rs.Explain(in)
			if !cmp.Equal(x.Groups, got) {
				t.Errorf("Explain(%v).Groups = %v, want %v", tt.attrs, x.Groups, got)
			}
			if d, want := rs.Decide(in), decisionOf(x); !cmp.Equal(d, want) {
				t.Errorf("Decide(%v) = %+v, want %+v", tt.attrs, d, want)
			}
		})
	}
}

func TestGroupsNoDefault(t *testing.T) {
	rs := oneRule(t, `{attribute: a, equals: x}`)
	if got := rs.Groups(signUp(nil)); got != nil {
		t.Errorf("Groups(no match, no defaultGroups) = %#v, want nil", got)
	}
}

func TestGroupsManyGroups(t *testing.T) {
	// More than 256 distinct groups: the set of groups seen outgrows its
	// fixed-size start.
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	var want []string
	for i := range 5 {
		fmt.Fprintf(&b, "  - name: r%d\n    when: {always: true}\n    groups: [", i)
		for j := range 100 {
			g := fmt.Sprintf("g%d", (i*100+j)%450)
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(g)
			if i*100+j < 450 {
				want = append(want, g)
			}
		}
		b.WriteString("]\n")
	}
	rs := mustParse(t, b.String())
	// A decision selects at most 100 groups: the later ones are dropped,
	// each counted once although the last rule repeats 50 of the first.
	got := rs.Decide(signUp(nil))
	if diff := cmp.Diff(want[:MaxGroupsPerUser], got.Groups); diff != "" {
		t.Errorf("Decide().Groups mismatch (-want +got):\n%s", diff)
	}
	if want := 450 - MaxGroupsPerUser; got.Dropped != want {
		t.Errorf("Decide().Dropped = %d, want %d", got.Dropped, want)
	}
	if x := rs.Explain(signUp(nil)); x.Dropped != got.Dropped || !cmp.Equal(x.Groups, got.Groups) {
		t.Errorf("Explain() = %v, dropped %d; want Decide's %v, dropped %d", x.Groups, x.Dropped, got.Groups, got.Dropped)
	}
}

func TestTriggerSources(t *testing.T) {
	const rules = "rules:\n  - name: r\n    when: {always: true}\n    groups: [g]\n"
	tests := []struct {
		name    string
		setting string
		source  string
		want    bool
	}{
		{"default handles sign-up", "", TriggerConfirmSignUp, true},
		{"default ignores forgot password", "", TriggerConfirmForgotPassword, false},
		{"default ignores other sources", "", "PreSignUp_SignUp", false},
		{"default ignores empty", "", "", false},
		{"forgot password only", "triggerSources: [PostConfirmation_ConfirmForgotPassword]\n", TriggerConfirmForgotPassword, true},
		{"forgot password only ignores sign-up", "triggerSources: [PostConfirmation_ConfirmForgotPassword]\n", TriggerConfirmSignUp, false},
		{"both, sign-up", "triggerSources: [PostConfirmation_ConfirmSignUp, PostConfirmation_ConfirmForgotPassword]\n", TriggerConfirmSignUp, true},
		{"both, forgot password", "triggerSources: [PostConfirmation_ConfirmSignUp, PostConfirmation_ConfirmForgotPassword]\n", TriggerConfirmForgotPassword, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := mustParse(t, "version: 1\n"+tt.setting+rules)
			if got := rs.Handles(tt.source); got != tt.want {
				t.Errorf("Handles(%q) = %v, want %v", tt.source, got, tt.want)
			}
			in := Input{TriggerSource: tt.source}
			var want []string
			if tt.want {
				want = []string{"g"}
			}
			if got := rs.Groups(in); !cmp.Equal(got, want) {
				t.Errorf("Groups(%+v) = %v, want %v", in, got, want)
			}
			x := rs.Explain(in)
			if x.Handled != tt.want || !cmp.Equal(x.Groups, want) || x.Rules[0].Evaluated != tt.want {
				t.Errorf("Explain(%+v) = handled %v, groups %v, evaluated %v; want %v, %v, %v",
					in, x.Handled, x.Groups, x.Rules[0].Evaluated, tt.want, want, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	rs := mustParse(t, `version: 1
defaultGroups: [customers]
rules:
  - name: staff
    when:
      all:
        - emailDomain: [example.com, "*.example.com"]
        - attribute: custom:plan
          in: [pro, enterprise]
          ignoreCase: true
    groups: [staff]
  - name: vip
    when:
      any:
        - clientId: vip-app
        - not: {attribute: custom:plan, exists: false}
        - always: true
    groups: [vip]
    stop: true
  - name: never
    when: {always: true}
    groups: [never]
`)
	in := Input{
		TriggerSource:  TriggerConfirmSignUp,
		ClientID:       "web",
		UserAttributes: attrs("email", "jane@eng.example.com", "email_verified", "true", "custom:plan", "Free"),
	}
	want := Explanation{
		Handled: true,
		Groups:  []string{"vip"},
		Rules: []RuleResult{
			{
				Name: "staff", Evaluated: true, Groups: []string{"staff"},
				Condition: &ConditionResult{
					Form: "all", Text: "all of 2", Reason: "condition 2 of 2 does not hold",
					Children: []ConditionResult{
						{Form: "emailDomain", Text: "emailDomain [example.com *.example.com]", Held: true,
							Reason: `domain "eng.example.com" matches "*.example.com"`},
						{Form: "attribute", Text: "attribute custom:plan in [pro enterprise] (ignoreCase)",
							Reason: `value "Free" is not one of [pro enterprise] (ignoring case)`},
					},
				},
			},
			{
				Name: "vip", Evaluated: true, Matched: true, Stopped: true, Groups: []string{"vip"},
				Condition: &ConditionResult{
					Form: "any", Text: "any of 3", Held: true, Reason: "condition 2 of 3 holds",
					Children: []ConditionResult{
						{Form: "clientId", Text: "clientId vip-app", Reason: `client id "web" is not listed`},
						{Form: "not", Text: "not", Held: true, Reason: "the negated condition does not hold",
							Children: []ConditionResult{
								{Form: "attribute", Text: "attribute custom:plan exists false", Reason: "attribute is present"},
							}},
					},
				},
			},
			{Name: "never", Groups: []string{"never"}},
		},
	}
	got := rs.Explain(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Explain(%+v) mismatch (-want +got):\n%s", in, diff)
	}

	t.Run("default applied", func(t *testing.T) {
		rs := mustParse(t, evaluationRules)
		x := rs.Explain(signUp(nil))
		if !x.DefaultApplied || !cmp.Equal(x.Groups, []string{"customers", "guests"}) {
			t.Errorf("Explain(no attributes) = default applied %v, groups %v; want true, [customers guests]", x.DefaultApplied, x.Groups)
		}
		for _, r := range x.Rules {
			if !r.Evaluated || r.Matched || r.Condition == nil {
				t.Errorf("Explain(no attributes) rule %s = evaluated %v, matched %v, condition %v; want true, false, set", r.Name, r.Evaluated, r.Matched, r.Condition)
			}
		}
	})
	t.Run("not handled", func(t *testing.T) {
		x := rs.Explain(Input{TriggerSource: TriggerConfirmForgotPassword})
		want := Explanation{Rules: []RuleResult{
			{Name: "staff", Groups: []string{"staff"}},
			{Name: "vip", Groups: []string{"vip"}},
			{Name: "never", Groups: []string{"never"}},
		}}
		if diff := cmp.Diff(want, x); diff != "" {
			t.Errorf("Explain(forgot password) mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestExplainReasons(t *testing.T) {
	verified := func(email string) Input {
		return signUp(attrs("email", email, "email_verified", "true"))
	}
	tests := []struct {
		when string
		in   Input
		want string
	}{
		{`{always: true}`, signUp(nil), "always holds"},
		{`{emailDomain: example.com}`, signUp(attrs("email", "a@example.com")), `email_verified is not "true"`},
		{`{emailDomain: example.com}`, verified("a@foo.com"), `domain "foo.com" matches no pattern`},
		{`{emailDomain: bücher.example}`, verified("a@BÜCHER.example"), `domain "xn--bcher-kva.example" matches "bücher.example"`},
		{`{emailDomain: example.com}`, signUp(attrs("email_verified", "true")), "email attribute is absent"},
		{`{emailDomain: example.com}`, verified("example.com"), `email has no "@"`},
		{`{emailDomain: example.com}`, verified("a@b@example.com"), `email has more than one "@"`},
		{`{emailDomain: example.com}`, verified("a@"), "email has an empty domain"},
		{`{emailDomain: example.com}`, verified("a@exa_mple.com"), `domain "exa_mple.com" is not a valid domain name`},
		{`{attribute: p, in: [pro, enterprise]}`, signUp(attrs("p", "free")), `value "free" is not one of [pro enterprise]`},
		{`{attribute: p, in: [pro, enterprise]}`, signUp(nil), `attribute is absent, so value "" is not one of [pro enterprise]`},
		{`{attribute: p, equals: pro}`, signUp(attrs("p", "pro")), `value "pro" equals "pro"`},
		{`{attribute: p, notEquals: pro}`, signUp(attrs("p", "pro")), `value "pro" equals "pro"`},
		{`{attribute: p, notIn: [a]}`, signUp(attrs("p", "b")), `value "b" is none of [a]`},
		{`{attribute: p, startsWith: a}`, signUp(attrs("p", "b")), `value "b" does not start with "a"`},
		{`{attribute: p, endsWith: a}`, signUp(attrs("p", "ba")), `value "ba" ends with "a"`},
		{`{attribute: p, contains: a}`, signUp(attrs("p", "b")), `value "b" does not contain "a"`},
		{`{attribute: p, matches: "a+"}`, signUp(attrs("p", "aa")), `value "aa" matches "a+"`},
		{`{attribute: p, exists: true}`, signUp(nil), "attribute is absent"},
		{`{clientMetadata: k, exists: true}`, signUp(nil), "key is absent"},
		{`{clientMetadata: k, equals: x}`, signUp(nil), `key is absent, so value "" is not "x"`},
		{`{clientId: abc}`, signUp(nil), "client id is empty"},
		{`{clientId: abc}`, Input{TriggerSource: TriggerConfirmSignUp, ClientID: "abc"}, `client id "abc" is listed`},
		{`{identityProvider: Google}`, signUp(nil), "identities attribute is absent"},
		{`{identityProvider: Google}`, signUp(attrs("identities", "{")), "identities attribute is not a JSON array of objects"},
		{`{identityProvider: Google}`, signUp(attrs("identities", "[]")), "identities has no provider"},
		{`{identityProvider: Google}`, signUp(attrs("identities", `[{"providerName":"Facebook"}]`)), "identities has providers [Facebook], none listed"},
		{`{identityProvider: Google}`, signUp(attrs("identities", `[{"providerName":"Google"}]`)), `identities has provider "Google"`},
		{`{all: [{always: true}]}`, signUp(nil), "all 1 conditions hold"},
		{`{any: [{clientId: x}]}`, signUp(nil), "none of the 1 conditions holds"},
		{`{not: {always: true}}`, signUp(nil), "the negated condition holds"},
	}
	for _, tt := range tests {
		t.Run(tt.when+" "+tt.want, func(t *testing.T) {
			rs := oneRule(t, tt.when)
			got := rs.Explain(tt.in).Rules[0].Condition.Reason
			if got != tt.want {
				t.Errorf("when %s: Explain(%+v) reason = %q, want %q", tt.when, tt.in, got, tt.want)
			}
		})
	}
}

// explainText renders an explanation for failure messages.
func explainText(x Explanation) string {
	var b strings.Builder
	var cond func(c *ConditionResult, indent string)
	cond = func(c *ConditionResult, indent string) {
		fmt.Fprintf(&b, "%s%s: held %v: %s\n", indent, c.Text, c.Held, c.Reason)
		for i := range c.Children {
			cond(&c.Children[i], indent+"  ")
		}
	}
	for _, r := range x.Rules {
		fmt.Fprintf(&b, "rule %s: evaluated %v, matched %v\n", r.Name, r.Evaluated, r.Matched)
		if r.Condition != nil {
			cond(r.Condition, "  ")
		}
	}
	return b.String()
}

func TestConcurrentUse(t *testing.T) {
	rs := mustParse(t, benchRulesetString(64))
	inputs := []Input{
		benchInput,
		signUp(nil),
		signUp(attrs("email", "x@d8.example.com", "email_verified", "true")),
		{TriggerSource: TriggerConfirmSignUp, ClientID: "client-11", ClientMetadata: map[string]string{"source": "campaign-14"}},
		{TriggerSource: TriggerConfirmForgotPassword, UserAttributes: attrs("custom:plan", "PRO")},
	}
	want := make([][]string, len(inputs))
	for i, in := range inputs {
		want[i] = rs.Groups(in)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				i := (g + n) % len(inputs)
				if got := rs.Groups(inputs[i]); !cmp.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d: Groups(input %d) = %v, want %v", g, i, got, want[i])
					return
				}
				if got := rs.Explain(inputs[i]).Groups; !cmp.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d: Explain(input %d).Groups = %v, want %v", g, i, got, want[i])
					return
				}
				_ = rs.Rules()
				_ = rs.Warnings()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestGroupsAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts: not in -short")
	}
	rs := mustParse(t, benchRulesetString(100))
	allocs := testing.AllocsPerRun(100, func() { rs.Groups(benchInput) })
	// The result, the email domain (IDNA), the identity providers and
	// the growth of the result: a handful, never one per rule.
	if allocs > 10 {
		t.Errorf("Groups(100 rules) allocates %v times per call, want at most 10", allocs)
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ a, b string }{
		{"PRO", "pro"},
		{"ÉTÉ", "été"},
		{"\u212a", "k"}, // KELVIN SIGN
		{"ſ", "s"},      // LATIN SMALL LETTER LONG S
		{"ẞ", "ß"},
		{"ΣΊΣΥΦΟΣ", "σίσυφος"},
		{"\xff", "\xff"},
	}
	for _, tt := range tests {
		if fold(tt.a) != fold(tt.b) {
			t.Errorf("fold(%q) = %q, fold(%q) = %q, want equal", tt.a, fold(tt.a), tt.b, fold(tt.b))
		}
	}
	different := []struct{ a, b string }{
		{"STRASSE", "Straße"},
		{"\xff", "\xfe"},
		{"\xff", "\ufffd"},
		{"i", "ı"}, // dotless i folds alone
	}
	for _, tt := range different {
		if fold(tt.a) == fold(tt.b) {
			t.Errorf("fold(%q) = fold(%q) = %q, want different", tt.a, tt.b, fold(tt.a))
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = fold("already folded été") }); allocs != 0 {
		t.Errorf("fold(folded string) allocates %v times, want 0", allocs)
	}
}

func benchRulesetString(n int) string { return string(benchRuleset(n)) }
