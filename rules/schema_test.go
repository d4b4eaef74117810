package rules_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// notExpressible lists the invalid fixtures that schema.json lets through
// (or that cannot be turned into a JSON value to validate), with why: the
// engine checks more than JSON Schema can express. Every other fixture of
// testdata/invalid must fail the schema; a fixture listed here that the
// schema comes to reject must leave the list.
var notExpressible = map[string]string{
	// YAML documents that have no JSON value.
	"syntax.yaml":            "a YAML syntax error: there is no document to validate",
	"unknown-anchor.yaml":    "a YAML error (an alias without anchor): there is no document to validate",
	"duplicate-keys.yaml":    "a JSON value has no duplicate keys: the YAML decoder refuses them",
	"billion-laughs.yaml":    "unbounded alias expansion: the YAML decoder refuses it before the schema sees a value",
	"several-documents.yaml": "a schema describes one document",
	"merge-keys.yaml":        "a merge key whose value is not a mapping (<<: [*base, 5]): the YAML decoder refuses it",
	// Checks beyond JSON Schema.
	"regex.yaml":    "RE2 syntax: JSON Schema's format \"regex\" is ECMA-262, and no pattern can check a pattern",
	"too-deep.yaml": "a bound on nesting depth (64 levels)",
}

// compileSchema compiles schema.json, checking it against its metaschema.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile("schema.json")
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return sch
}

// jsonValue decodes one YAML (or JSON) document into the values a JSON
// Schema validator takes: maps with string keys, []any, json.Number,
// strings, booleans and nil. An empty document is null; several documents
// are an error.
func jsonValue(src []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var v any
	if err := dec.Decode(&v); err != nil && err != io.EOF {
		return nil, err
	}
	var next any
	if err := dec.Decode(&next); err == nil {
		return nil, fmt.Errorf("several YAML documents")
	}
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// normalize turns the maps yaml.v3 may return with non-string keys into
// map[string]any, recursively.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
		return v
	}
	return v
}

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, ext := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, ext))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	return files
}

func TestSchemaAcceptsValidRulesets(t *testing.T) {
	sch := compileSchema(t)
	files := append(fixtures(t, "valid"), "../functions/post-confirmation/rules.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v, err := jsonValue(src)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("%s loads, but the schema rejects it:\n%v", file, err)
			}
		})
	}
}

func TestSchemaRejectsInvalidRulesets(t *testing.T) {
	sch := compileSchema(t)
	seen := make(map[string]bool)
	for _, file := range fixtures(t, "invalid") {
		name := filepath.Base(file)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v, decodeErr := jsonValue(src)
			why, listed := notExpressible[name]
			switch {
			case listed && decodeErr != nil:
				// Nothing to validate, as the list says.
			case listed:
				if err := sch.Validate(v); err != nil {
					t.Errorf("the schema now rejects %s (listed as not expressible: %s); remove it from notExpressible:\n%v", file, why, err)
				}
			case decodeErr != nil:
				t.Errorf("%s: cannot be validated (%v); list it in notExpressible with the reason", file, decodeErr)
			default:
				if err := sch.Validate(v); err == nil {
					t.Errorf("the schema accepts %s, which does not load; make the schema reject it, or list it in notExpressible with the reason", file)
				}
			}
		})
	}
	for name := range notExpressible {
		if !seen[name] {
			t.Errorf("notExpressible lists %s, which is not in testdata/invalid", name)
		}
	}
}

// TestSchemaAgreesWithEngine checks small rulesets, each with at most one
// defect, against both the schema and the engine: they must agree.
func TestSchemaAgreesWithEngine(t *testing.T) {
	sch := compileSchema(t)
	rule := func(when string) string {
		return "version: 1\nrules:\n  - name: r\n    when: " + when + "\n    groups: [g]\n"
	}
	tests := []struct {
		name  string
		src   string
		valid bool
	}{
		{"minimal", "version: 1\ndefaultGroups: [customers]\n", true},
		{"every top-level key", "version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp, PostConfirmation_ConfirmForgotPassword]\nrequireVerifiedEmail: false\nonError: continue\ndefaultGroups: []\nrules: [{name: a.b_c-1, description: d, when: {always: true}, groups: [g], stop: true}]\n", true},
		{"rules empty with defaults", "version: 1\ndefaultGroups: [x]\nrules: []\n", true},
		{"unicode group names", "version: 1\ndefaultGroups: [Équipe-partenaires, \"😀\", \"a:b/c+d\"]\n", true},
		{"group name of 128 characters", "version: 1\ndefaultGroups: [" + strings.Repeat("é", 128) + "]\n", true},
		{"emailDomain forms", rule(`{emailDomain: ["example.com", "*.example.com", "bücher.example", "EXAMPLE.com.", "xn--bcher-kva.example"]}`), true},
		{"attribute operators", rule(`{all: [{attribute: a, equals: x}, {attribute: a, notEquals: ""}, {attribute: a, in: [x]}, {attribute: a, notIn: [x], ignoreCase: true}, {attribute: a, startsWith: x}, {attribute: a, endsWith: x}, {attribute: a, contains: x}, {attribute: a, matches: "[a-z]+"}, {attribute: a, exists: false}]}`), true},
		{"clientMetadata", rule(`{clientMetadata: k, equals: v}`), true},
		{"clientId and identityProvider", rule(`{any: [{clientId: abc}, {clientId: [a, b]}, {identityProvider: Google}, {identityProvider: [A, B]}]}`), true},
		{"not", rule(`{not: {not: {always: true}}}`), true},
		{"items list", rule(`{attribute: custom:idp_groups, items: list, in: [Engineering, SRE]}`), true},
		{"items separator", rule(`{clientMetadata: tags, items: ",", notIn: [x], ignoreCase: true}`), true},
		{"items on exists", rule(`{attribute: a, items: list, exists: true}`), true},
		{"memberOf", rule(`{any: [{memberOf: admins}, {memberOf: [a, "Équipe"]}]}`), true},
		{"groupsFrom only", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: {attribute: custom:tenant, matches: \"[a-z]+\"}}]\n", true},
		{"groupsFrom and groups", "version: 1\nrules: [{name: r, when: {always: true}, groups: [g], groupsFrom: {attribute: t, items: list, matches: \".+\", prefix: \"tenant-\", suffix: \"\"}}]\n", true},
		{"exclude", "version: 1\nexclude: {memberOf: autogroup-hold}\ndefaultGroups: [a]\n", true},
		{"reconcile", "version: 1\nreconcile: {remove: true, managedGroups: [a, b]}\ndefaultGroups: [a]\n", true},
		{"reconcile empty", "version: 1\nreconcile: {}\ndefaultGroups: [a]\n", true},
		{"managedGroups empty", "version: 1\nreconcile: {managedGroups: []}\ndefaultGroups: [a]\n", true},
		{"tokenTriggerSources", "version: 1\ntokenTriggerSources: [TokenGeneration_HostedAuth, TokenGeneration_Authentication, TokenGeneration_NewPasswordChallenge, TokenGeneration_AuthenticateDevice, TokenGeneration_RefreshTokens]\ndefaultGroups: [a]\n", true},

		{"missing version", "defaultGroups: [x]\n", false},
		{"version 2", "version: 2\ndefaultGroups: [x]\n", false},
		{"version as a string", "version: \"1\"\ndefaultGroups: [x]\n", false},
		{"unknown top-level key", "version: 1\ndefaultGroups: [x]\nrulez: []\n", false},
		{"unknown trigger source", "version: 1\ntriggerSources: [PreSignUp_SignUp]\ndefaultGroups: [x]\n", false},
		{"empty triggerSources", "version: 1\ntriggerSources: []\ndefaultGroups: [x]\n", false},
		{"requireVerifiedEmail as a string", "version: 1\nrequireVerifiedEmail: \"false\"\ndefaultGroups: [x]\n", false},
		{"bad onError", "version: 1\nonError: abort\ndefaultGroups: [x]\n", false},
		{"selects nothing", "version: 1\n", false},
		{"selects nothing, empty lists", "version: 1\ndefaultGroups: []\nrules: []\n", false},
		{"group name with a space", "version: 1\ndefaultGroups: [has space]\n", false},
		{"empty group name", "version: 1\ndefaultGroups: [\"\"]\n", false},
		{"group name of 129 characters", "version: 1\ndefaultGroups: [" + strings.Repeat("é", 129) + "]\n", false},
		{"101 groups", "version: 1\nrules: [{name: r, when: {always: true}, groups: [" + strings.Repeat("g, ", 100) + "g]}]\n", false},
		{"no groups", "version: 1\nrules: [{name: r, when: {always: true}, groups: []}]\n", false},
		{"bad rule name", "version: 1\nrules: [{name: a b, when: {always: true}, groups: [g]}]\n", false},
		{"rule name of 65 characters", "version: 1\nrules: [{name: " + strings.Repeat("a", 65) + ", when: {always: true}, groups: [g]}]\n", false},
		{"rule without when", "version: 1\nrules: [{name: r, groups: [g]}]\n", false},
		{"unknown rule key", "version: 1\nrules: [{name: r, when: {always: true}, groups: [g], group: [g]}]\n", false},
		{"stop as a string", "version: 1\nrules: [{name: r, when: {always: true}, groups: [g], stop: \"true\"}]\n", false},
		{"always false", rule(`{always: false}`), false},
		{"no form", rule(`{}`), false},
		{"two forms", rule(`{always: true, clientId: a}`), false},
		{"attribute without operator", rule(`{attribute: a}`), false},
		{"attribute with two operators", rule(`{attribute: a, equals: x, in: [x]}`), false},
		{"attribute with only ignoreCase", rule(`{attribute: a, ignoreCase: true}`), false},
		{"operator without attribute", rule(`{equals: x}`), false},
		{"operator on emailDomain", rule(`{emailDomain: example.com, equals: x}`), false},
		{"ignoreCase on clientId", rule(`{clientId: a, ignoreCase: true}`), false},
		{"equals an integer", rule(`{attribute: a, equals: 5}`), false},
		{"in a string", rule(`{attribute: a, in: x}`), false},
		{"in empty", rule(`{attribute: a, in: []}`), false},
		{"exists as a string", rule(`{attribute: a, exists: "yes"}`), false},
		{"empty attribute name", rule(`{attribute: "", exists: true}`), false},
		{"empty clientId", rule(`{clientId: [""]}`), false},
		{"empty identityProvider list", rule(`{identityProvider: []}`), false},
		{"empty all", rule(`{all: []}`), false},
		{"any of a non-condition", rule(`{any: [x]}`), false},
		{"not of a list", rule(`{not: [{always: true}]}`), false},
		{"wildcard alone", rule(`{emailDomain: "*"}`), false},
		{"wildcard inside", rule(`{emailDomain: "a.*.example.com"}`), false},
		{"wildcard not a label", rule(`{emailDomain: "*example.com"}`), false},
		{"address as domain", rule(`{emailDomain: "jane@example.com"}`), false},
		{"underscore in domain", rule(`{emailDomain: "exa_mple.com"}`), false},
		{"leading hyphen", rule(`{emailDomain: "-bad.example"}`), false},
		{"empty label", rule(`{emailDomain: "a..example.com"}`), false},
		{"label of 64 characters", rule(`{emailDomain: "` + strings.Repeat("a", 64) + `.example"}`), false},
		{"items empty", rule(`{attribute: a, items: "", equals: x}`), false},
		{"items not a string", rule(`{attribute: a, items: true, equals: x}`), false},
		{"items without operator", rule(`{attribute: a, items: list}`), false},
		{"items on clientId", rule(`{clientId: a, items: list}`), false},
		{"memberOf empty", rule(`{memberOf: []}`), false},
		{"memberOf invalid group", rule(`{memberOf: "a b"}`), false},
		{"memberOf with an operator", rule(`{memberOf: a, equals: b}`), false},
		{"neither groups nor groupsFrom", "version: 1\nrules: [{name: r, when: {always: true}}]\n", false},
		{"groupsFrom without matches", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: {attribute: t}}]\n", false},
		{"groupsFrom without attribute", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: {matches: a}}]\n", false},
		{"groupsFrom empty attribute", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: {attribute: \"\", matches: a}}]\n", false},
		{"groupsFrom unknown key", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: {attribute: t, matches: a, ignoreCase: true}}]\n", false},
		{"groupsFrom prefix with a space", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: {attribute: t, matches: a, prefix: \"a b\"}}]\n", false},
		{"groupsFrom a string", "version: 1\nrules: [{name: r, when: {always: true}, groupsFrom: t}]\n", false},
		{"exclude not a condition", "version: 1\nexclude: [always: true]\ndefaultGroups: [a]\n", false},
		{"exclude with no form", "version: 1\nexclude: {}\ndefaultGroups: [a]\n", false},
		{"reconcile unknown key", "version: 1\nreconcile: {delete: true}\ndefaultGroups: [a]\n", false},
		{"reconcile remove a string", "version: 1\nreconcile: {remove: \"true\"}\ndefaultGroups: [a]\n", false},
		{"managedGroups invalid group", "version: 1\nreconcile: {managedGroups: [\"a b\"]}\ndefaultGroups: [a]\n", false},
		{"tokenTriggerSources empty", "version: 1\ntokenTriggerSources: []\ndefaultGroups: [a]\n", false},
		{"tokenTriggerSources client credentials", "version: 1\ntokenTriggerSources: [TokenGeneration_ClientCredentials]\ndefaultGroups: [a]\n", false},
		{"tokenTriggerSources post-confirmation", "version: 1\ntokenTriggerSources: [PostConfirmation_ConfirmSignUp]\ndefaultGroups: [a]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, parseErr := rules.Parse([]byte(tt.src))
			if (parseErr == nil) != tt.valid {
				t.Fatalf("rules.Parse error = %v, want valid = %v: fix the test", parseErr, tt.valid)
			}
			v, err := jsonValue([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			err = sch.Validate(v)
			if tt.valid && err != nil {
				t.Errorf("the engine accepts it, the schema rejects it:\n%v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("the engine rejects it (%v), the schema accepts it", parseErr)
			}
		})
	}
}
