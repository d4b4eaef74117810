package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// formCase is a condition of one form, and how it decides and explains
// two inputs.
type formCase struct {
	when   string   // the condition, YAML flow syntax
	text   string   // ConditionResult.Text
	reads  []string // RuleInfo.Attributes
	holds  Input    // an input for which it holds
	why    string   // the reason given for holds
	fails  *Input   // an input for which it does not hold; nil for always
	whyNot string   // the reason given for fails
}

var verifiedAt = func(email string) map[string]string {
	return map[string]string{"email": email, "email_verified": "true"}
}

// formCases has a case for every form: TestFormUnits fails for a form
// without one, so that a new form comes with its test.
var formCases = map[string]formCase{
	"always": {
		when: `{always: true}`, text: "always",
		holds: signUp(nil), why: "always holds",
	},
	"emailDomain": {
		when: `{emailDomain: [example.com, "*.example.com"]}`, text: "emailDomain [example.com *.example.com]",
		reads: []string{"email", "email_verified"},
		holds: signUp(verifiedAt("a@eng.example.com")), why: `domain "eng.example.com" matches "*.example.com"`,
		fails: ptr(signUp(verifiedAt("a@example.org"))), whyNot: `domain "example.org" matches no pattern`,
	},
	"attribute": {
		when: `{attribute: custom:plan, in: [pro, max]}`, text: "attribute custom:plan in [pro max]",
		reads: []string{"custom:plan"},
		holds: signUp(attrs("custom:plan", "pro")), why: `value "pro" is one of [pro max]`,
		fails: ptr(signUp(attrs("custom:plan", "free"))), whyNot: `value "free" is not one of [pro max]`,
	},
	"clientMetadata": {
		when: `{clientMetadata: source, equals: web, ignoreCase: true}`, text: `clientMetadata source equals "web" (ignoreCase)`,
		holds: Input{TriggerSource: TriggerConfirmSignUp, ClientMetadata: map[string]string{"source": "WEB"}},
		why:   `value "WEB" equals "web" (ignoring case)`,
		fails: ptr(signUp(attrs("source", "web"))), whyNot: `key is absent, so value "" is not "web" (ignoring case)`,
	},
	"clientId": {
		when: `{clientId: [a1, a2]}`, text: "clientId [a1 a2]",
		holds: Input{TriggerSource: TriggerConfirmSignUp, ClientID: "a2"}, why: `client id "a2" is listed`,
		fails: ptr(Input{TriggerSource: TriggerConfirmSignUp, ClientID: "b"}), whyNot: `client id "b" is not listed`,
	},
	"identityProvider": {
		when: `{identityProvider: Google}`, text: "identityProvider Google",
		reads: []string{"identities"},
		holds: signUp(attrs("identities", `[{"providerName":"Google"}]`)), why: `identities has provider "Google"`,
		fails: ptr(signUp(nil)), whyNot: "identities attribute is absent",
	},
	"memberOf": {
		when: `{memberOf: [admins, hold]}`, text: "memberOf [admins hold]",
		holds: Input{TriggerSource: TriggerConfirmSignUp, Groups: []string{"staff", "hold"}}, why: `member of "hold"`,
		fails:  ptr(Input{TriggerSource: TriggerConfirmSignUp, Groups: []string{"staff"}}),
		whyNot: "not a member of [admins hold]; the user's groups are [staff]",
	},
	"all": {
		when: `{all: [{always: true}, {attribute: team, equals: ops}]}`, text: "all of 2",
		reads: []string{"team"},
		holds: signUp(attrs("team", "ops")), why: "all 2 conditions hold",
		fails: ptr(signUp(attrs("team", "dev"))), whyNot: "condition 2 of 2 does not hold",
	},
	"any": {
		when: `{any: [{clientId: c}, {attribute: team, equals: ops}]}`, text: "any of 2",
		reads: []string{"team"},
		holds: signUp(attrs("team", "ops")), why: "condition 2 of 2 holds",
		fails: ptr(signUp(nil)), whyNot: "none of the 2 conditions holds",
	},
	"not": {
		when: `{not: {attribute: team, exists: true}}`, text: "not",
		reads: []string{"team"},
		holds: signUp(nil), why: "the negated condition does not hold",
		fails: ptr(signUp(attrs("team", ""))), whyNot: "the negated condition holds",
	},
}

func ptr[T any](v T) *T { return &v }

// TestFormUnits checks each form as the one unit it is: its parse, its
// evaluation and explanation, its text and the attributes it reads. The
// decision must not change when the input holds only the user attributes
// the rule says it reads, or more attributes than that.
func TestFormUnits(t *testing.T) {
	for _, f := range forms {
		if _, ok := formCases[f.name]; !ok {
			t.Errorf("form %s has no case in formCases", f.name)
		}
	}
	for name, fc := range formCases {
		t.Run(name, func(t *testing.T) {
			rs := oneRule(t, fc.when)
			info := rs.Rules()[0]
			if info.Forms[0] != name {
				t.Fatalf("Rules()[0].Forms = %v, want %s first", info.Forms, name)
			}
			if diff := cmp.Diff(fc.reads, info.Attributes); diff != "" {
				t.Errorf("Rules()[0].Attributes (-want +got):\n%s", diff)
			}
			check := func(in Input, held bool, why string) {
				t.Helper()
				c := rs.Explain(in).Rules[0].Condition
				got := ConditionResult{Form: c.Form, Text: c.Text, Held: c.Held, Reason: c.Reason}
				want := ConditionResult{Form: name, Text: fc.text, Held: held, Reason: why}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Explain(%+v) condition (-want +got):\n%s", in, diff)
				}
				if matches(rs, in) != held {
					t.Errorf("Groups(%+v) = %v, want matched=%v", in, rs.Groups(in), held)
				}
				only, more := in, in
				only.UserAttributes = make(map[string]string)
				for _, a := range info.Attributes {
					if v, ok := in.UserAttributes[a]; ok {
						only.UserAttributes[a] = v
					}
				}
				more.UserAttributes = maps.Clone(in.UserAttributes)
				if more.UserAttributes == nil {
					more.UserAttributes = make(map[string]string)
				}
				more.UserAttributes["custom:unread"] = "x"
				for _, in := range []Input{only, more} {
					if matches(rs, in) != held {
						t.Errorf("Groups(%+v) = %v, want matched=%v: the condition reads attributes other than %v",
							in, rs.Groups(in), held, info.Attributes)
					}
				}
			}
			check(fc.holds, true, fc.why)
			if fc.fails != nil {
				check(*fc.fails, false, fc.whyNot)
			}
		})
	}
}

// TestFormsAgreeWithSchema checks that schema.json describes exactly the
// forms the engine knows, in the same order.
func TestFormsAgreeWithSchema(t *testing.T) {
	src, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs struct {
			Condition struct {
				OneOf []struct {
					Ref string `json:"$ref"`
				} `json:"oneOf"`
			} `json:"condition"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(src, &schema); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range schema.Defs.Condition.OneOf {
		got = append(got, strings.TrimPrefix(s.Ref, "#/$defs/"))
	}
	if diff := cmp.Diff(formNames, got); diff != "" {
		t.Errorf("schema.json's conditions differ from the engine's forms (-engine +schema):\n%s", diff)
	}
}

// probeTest is the test of a form that exists only in
// TestAddingAFormTouchesOnlyTheRegistry: "probe: NAME" holds when the user
// attribute NAME is "yes".
type probeTest struct {
	defaults
	name    string
	weighed bool // the option weight was given
}

func (t *probeTest) eval(e *evaluator, out *ConditionResult) bool {
	held := e.in.UserAttributes[t.name] == "yes"
	if out != nil {
		out.Reason = fmt.Sprintf("probed %s", t.name)
	}
	return held
}

func (t *probeTest) text() string                       { return fmt.Sprintf("probe %s weighed=%v", t.name, t.weighed) }
func (t *probeTest) reads(_ *Ruleset, add func(string)) { add(t.name) }

// TestAddingAFormTouchesOnlyTheRegistry registers a form the way a new one
// is added, and checks that parsing, messages, evaluation, explanation and
// rule descriptions take it in with no other change.
func TestAddingAFormTouchesOnlyTheRegistry(t *testing.T) {
	probe := &form{name: "probe", options: []string{"weight"}, compile: func(p *parser, k formKey) test {
		t := &probeTest{}
		t.name, _ = p.Str(p.Resolve(k.Val), k.Name)
		for _, o := range k.opts {
			t.weighed = t.weighed || o.Name == "weight"
		}
		return t
	}}
	savedForms, savedNames := forms, formNames
	t.Cleanup(func() { forms, formNames = savedForms, savedNames })
	forms = append(slices.Clone(forms), probe)
	formNames = append(slices.Clone(formNames), probe.name)

	rs := oneRule(t, `{all: [{probe: custom:beta, weight: 2}, {always: true}]}`)
	info := rs.Rules()[0]
	if diff := cmp.Diff([]string{"all", "probe", "always"}, info.Forms); diff != "" {
		t.Errorf("Forms (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"custom:beta"}, info.Attributes); diff != "" {
		t.Errorf("Attributes (-want +got):\n%s", diff)
	}
	in := signUp(attrs("custom:beta", "yes"))
	if !matches(rs, in) {
		t.Errorf("Groups(beta) = %v, want [matched]", rs.Groups(in))
	}
	got := rs.Explain(in).Rules[0].Condition.Children[0]
	want := ConditionResult{Form: "probe", Text: "probe custom:beta weighed=true", Held: true, Reason: "probed custom:beta"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Explain: probe condition (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ when, want string }{
		{`{prob: x}`, `5:12: unknown key "prob" in condition; expected one of always, emailDomain, attribute, clientMetadata, clientId, identityProvider, memberOf, all, any, not, probe (did you mean "probe"?)`},
		{`{probe: x, equals: y}`, `5:22: unknown key "equals" in probe condition; expected one of weight`},
		{`{attribute: x, equals: y, weight: 1}`, `5:37: unknown key "weight" in attribute condition; expected one of ` + strings.Join(operandKeys, ", ")},
	} {
		_, err := Parse([]byte("version: 1\nrules:\n  - name: r\n    groups: [g]\n    when: " + tt.when + "\n"))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(when: %s) error = %v, want %s", tt.when, err, tt.want)
		}
	}
}
