package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSplitItems(t *testing.T) {
	tests := []struct {
		v, mode string
		want    []string
	}{
		{`["eng","ops"]`, "list", []string{"eng", "ops"}},
		{` [ "eng" , "ops" ] `, "list", []string{"eng", "ops"}},
		{`[" eng ",""]`, "list", []string{" eng ", ""}}, // JSON strings are taken as they are
		{`["a\"b","\u00e9"]`, "list", []string{`a"b`, "é"}},
		{`[Engineering, SRE]`, "list", []string{"Engineering", "SRE"}},
		{`[ Engineering ,SRE , ]`, "list", []string{"Engineering", "SRE"}},
		{`[1, 2]`, "list", []string{"1", "2"}},           // not an array of strings: the bracketed form
		{`[null, "a"]`, "list", []string{"null", `"a"`}}, // null is not a string
		{`[single]`, "list", []string{"single"}},
		{`Engineering`, "list", []string{"Engineering"}},
		{`Engineering, SRE`, "list", []string{"Engineering, SRE"}}, // no brackets: one item
		{` padded `, "list", []string{" padded "}},
		{`[unclosed`, "list", []string{"[unclosed"}},
		{``, "list", nil},
		{`   `, "list", nil},
		{`[]`, "list", []string{}},
		{`[ ]`, "list", nil},
		{`a, b,,c ,`, ",", []string{"a", "b", "c"}},
		{`a | b|c`, " | ", []string{"a", "b|c"}},
		{`a;b`, ",", []string{"a;b"}},
		{``, ",", nil},
		{` , `, ",", nil},
	}
	for _, tt := range tests {
		if got := splitItems(tt.v, tt.mode); !cmp.Equal(got, tt.want, cmpopts.EquateEmpty()) {
			t.Errorf("splitItems(%q, %q) = %q, want %q", tt.v, tt.mode, got, tt.want)
		}
	}
}

func TestItems(t *testing.T) {
	idp := func(v string) Input { return signUp(attrs("custom:idp_groups", v)) }
	tests := []struct {
		name string
		when string
		in   Input
		want bool
	}{
		// The contract's example, both list forms, a single value.
		{"JSON array", `{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, idp(`["Sales","SRE"]`), true},
		{"JSON array, no item in", `{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, idp(`["Sales","Ops"]`), false},
		{"bracketed", `{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, idp(`[Sales, Engineering]`), true},
		{"bracketed, no item in", `{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, idp(`[Sales, Ops]`), false},
		{"single value", `{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, idp(`SRE`), true},
		{"single value with commas is one item", `{attribute: custom:idp_groups, items: list, equals: SRE}`, idp(`Sales, SRE`), false},
		{"without items the whole value is compared", `{attribute: custom:idp_groups, in: [Engineering, SRE]}`, idp(`["SRE"]`), false},

		// A separator.
		{"separator", `{attribute: custom:teams, items: ",", equals: ops}`, signUp(attrs("custom:teams", "dev, ops,qa")), true},
		{"separator, no item equal", `{attribute: custom:teams, items: ",", equals: ops}`, signUp(attrs("custom:teams", "dev,devops")), false},
		{"longer separator", `{attribute: custom:teams, items: " | ", equals: "b|c"}`, signUp(attrs("custom:teams", "a | b|c")), true},
		{"separator drops empty items", `{attribute: custom:teams, items: ",", equals: ""}`, signUp(attrs("custom:teams", "a,,b")), false},

		// Absent, empty and [] have no items.
		{"notIn on an absent value", `{attribute: custom:idp_groups, items: list, notIn: [Admins]}`, signUp(nil), true},
		{"notEquals on an absent value", `{attribute: custom:idp_groups, items: list, notEquals: Admins}`, signUp(nil), true},
		{"in on an absent value", `{attribute: custom:idp_groups, items: list, in: [Admins, ""]}`, signUp(nil), false},
		{"equals empty on an absent value", `{attribute: custom:idp_groups, items: list, equals: ""}`, signUp(nil), false},
		{"equals empty on an empty value", `{attribute: custom:idp_groups, items: list, equals: ""}`, idp(""), false},
		{"notIn on an empty list", `{attribute: custom:idp_groups, items: list, notIn: [Admins]}`, idp("[]"), true},
		{"in on an empty list", `{attribute: custom:idp_groups, items: list, in: [Admins]}`, idp("[]"), false},

		// notEquals and notIn: no item is equal / in.
		{"notIn, one item in", `{attribute: custom:idp_groups, items: list, notIn: [Admins]}`, idp(`[Sales, Admins]`), false},
		{"notIn, no item in", `{attribute: custom:idp_groups, items: list, notIn: [Admins]}`, idp(`[Sales, Ops]`), true},
		{"notEquals, one item equal", `{attribute: custom:idp_groups, items: list, notEquals: Admins}`, idp(`["Admins","Sales"]`), false},
		{"notEquals, no item equal", `{attribute: custom:idp_groups, items: list, notEquals: Admins}`, idp(`["Sales"]`), true},
		{"notIn with many values", `{attribute: x, items: ",", notIn: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r]}`, signUp(attrs("x", "z,q")), false},

		// Every other operator holds when one item does.
		{"equals", `{attribute: x, items: list, equals: b}`, signUp(attrs("x", "[a, b]")), true},
		{"startsWith", `{attribute: x, items: list, startsWith: "tenant-"}`, signUp(attrs("x", `["a","tenant-1"]`)), true},
		{"startsWith, none", `{attribute: x, items: list, startsWith: "tenant-"}`, signUp(attrs("x", `["a","xtenant-1"]`)), false},
		{"endsWith", `{attribute: x, items: list, endsWith: "-admin"}`, signUp(attrs("x", `[eu-admin, us]`)), true},
		{"contains", `{attribute: x, items: list, contains: ops}`, signUp(attrs("x", `[a, devops]`)), true},
		{"matches is anchored per item", `{attribute: x, items: list, matches: "tenant-[0-9]+"}`, signUp(attrs("x", `["xtenant-1", "tenant-12x"]`)), false},
		{"matches an item", `{attribute: x, items: list, matches: "tenant-[0-9]+"}`, signUp(attrs("x", `["xtenant-1", "tenant-12"]`)), true},
		{"matches does not see the brackets", `{attribute: x, items: list, matches: "\\[.*"}`, signUp(attrs("x", `[a, b]`)), false},

		// ignoreCase applies per item.
		{"ignoreCase per item", `{attribute: x, items: list, equals: eng, ignoreCase: true}`, signUp(attrs("x", `[OPS, ENG]`)), true},
		{"ignoreCase in", `{attribute: x, items: ",", in: [sre], ignoreCase: true}`, signUp(attrs("x", "Dev,SRE")), true},
		{"ignoreCase notIn", `{attribute: x, items: ",", notIn: [sre], ignoreCase: true}`, signUp(attrs("x", "Dev,SRE")), false},
		{"ignoreCase matches", `{attribute: x, items: list, matches: "eng", ignoreCase: true}`, signUp(attrs("x", `["ENG"]`)), true},

		// exists tests the attribute itself.
		{"exists on an empty list", `{attribute: x, items: list, exists: true}`, signUp(attrs("x", "[]")), true},
		{"exists on an absent value", `{attribute: x, items: list, exists: true}`, signUp(nil), false},
		{"not exists on an absent value", `{attribute: x, items: list, exists: false}`, signUp(nil), true},

		// clientMetadata takes items too.
		{"clientMetadata", `{clientMetadata: tags, items: ",", equals: beta}`,
			Input{TriggerSource: TriggerConfirmSignUp, ClientMetadata: attrs("tags", "alpha, beta")}, true},
		{"clientMetadata absent notIn", `{clientMetadata: tags, items: list, notIn: [beta]}`, signUp(nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := oneRule(t, tt.when)
			if got := matches(rs, tt.in); got != tt.want {
				t.Errorf("Groups(%v) = %v, want matched=%v\n%s", tt.in.UserAttributes, rs.Groups(tt.in), tt.want, explainText(rs.Explain(tt.in)))
			}
			if got := rs.Explain(tt.in).Rules[0].Matched; got != tt.want {
				t.Errorf("Explain(%v) matched = %v, want %v", tt.in.UserAttributes, got, tt.want)
			}
		})
	}
}

func TestItemsExplain(t *testing.T) {
	tests := []struct {
		when     string
		in       Input
		text     string
		held     bool
		reason   string
		reasonOK func(string) bool
	}{
		{
			`{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, signUp(attrs("custom:idp_groups", `["Sales","SRE"]`)),
			`attribute custom:idp_groups in [Engineering SRE] (items list)`, true,
			`item "SRE" (2 of 2) is one of [Engineering SRE]`, nil,
		},
		{
			`{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`, signUp(attrs("custom:idp_groups", `[Sales, Ops]`)),
			`attribute custom:idp_groups in [Engineering SRE] (items list)`, false,
			`no item of ["Sales" "Ops"] is one of [Engineering SRE]`, nil,
		},
		{
			`{attribute: custom:idp_groups, items: list, notIn: [Admins]}`, signUp(nil),
			`attribute custom:idp_groups notIn [Admins] (items list)`, true,
			`attribute is absent, so no item is one of [Admins]`, nil,
		},
		{
			`{attribute: t, items: ",", notEquals: ops, ignoreCase: true}`, signUp(attrs("t", "dev, OPS")),
			`attribute t notEquals "ops" (items ",") (ignoreCase)`, false,
			`item "OPS" (2 of 2) equals "ops" (ignoring case)`, nil,
		},
		{
			`{attribute: t, items: list, equals: x}`, signUp(attrs("t", "[]")),
			`attribute t equals "x" (items list)`, false,
			`value "[]" has no items, so no item equals "x"`, nil,
		},
		{
			`{clientMetadata: k, items: list, exists: true}`, signUp(nil),
			`clientMetadata k exists true (items list)`, false,
			`key is absent`, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			c := oneRule(t, tt.when).Explain(tt.in).Rules[0].Condition
			got := ConditionResult{Form: c.Form, Text: c.Text, Held: c.Held, Reason: c.Reason}
			want := ConditionResult{Form: got.Form, Text: tt.text, Held: tt.held, Reason: tt.reason}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Explain condition (-want +got):\n%s", diff)
			}
		})
	}
}

func TestItemsParse(t *testing.T) {
	rule := func(when string) string {
		return "version: 1\nrules:\n  - name: r\n    when: " + when + "\n    groups: [g]\n"
	}
	tests := []struct{ when, want string }{
		{`{attribute: a, items: "", equals: x}`, `4:33: items: expected "list" or a separator such as ",", found an empty string`},
		{`{attribute: a, items: 1, equals: x}`, `4:33: items: expected a string, found an integer; quote it`},
		{`{attribute: a, items: list}`, `4:12: attribute condition has no operator; expected one of equals, notEquals, in, notIn, startsWith, endsWith, contains, matches, exists`},
		{`{clientId: a, items: list}`, `4:25: items: only attribute and clientMetadata conditions take an operator, ignoreCase or items, not clientId`},
		{`{attribute: a, itemz: list, equals: x}`, `4:26: unknown key "itemz" in attribute condition; expected one of ` + strings.Join(operandKeys, ", ") + ` (did you mean "items"?)`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(rule(tt.when)))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(when: %s) error = %v, want %s", tt.when, err, tt.want)
		}
	}
	rs := mustParse(t, rule(`{attribute: a, items: list, exists: true}`))
	var got []string
	for _, w := range rs.Warnings() {
		got = append(got, w.Error())
	}
	if want := []string{"4:12: items has no effect on exists, which tests the attribute itself"}; !cmp.Equal(got, want) {
		t.Errorf("Warnings() = %q, want %q", got, want)
	}
}

// FuzzSplitItems checks that splitting a value into items never panics,
// that the fast reading of JSON arrays agrees with encoding/json, and that
// separated items are trimmed and never empty.
func FuzzSplitItems(f *testing.F) {
	for _, s := range []string{
		`["eng","ops"]`, ` [ "a" , "b" ] `, `[]`, `[ ]`, `["a\"b"]`, `["\u00e9"]`, `[null]`, `["a",]`, `["a" "b"]`,
		`[Engineering, SRE]`, `[1, 2]`, `single`, ``, "[\"\xff\"]", "[\"a\tb\"]", `a, b,,c`, `[`, `]`,
	} {
		f.Add(s, ",")
	}
	f.Fuzz(func(t *testing.T, s, sep string) {
		if got, ok := plainJSONStrings(s); ok {
			want, wantOK := decodeJSONStrings(s)
			if !wantOK || !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
				t.Fatalf("plainJSONStrings(%q) = %q; encoding/json gives %q, %v", s, got, want, wantOK)
			}
		}
		_ = splitItems(s, itemsList)
		if sep == "" || sep == itemsList {
			return
		}
		for _, item := range splitItems(s, sep) {
			if item == "" || item != strings.TrimSpace(item) {
				t.Fatalf("splitItems(%q, %q) has item %q", s, sep, item)
			}
		}
	})
}
