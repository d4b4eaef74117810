package ruletest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/ruletest"
)

// TestSchemaAgreesWithParse checks schema.json, the editors' description of
// a cases file, against Parse on the shipped cases and on small files.
func TestSchemaAgreesWithParse(t *testing.T) {
	sch, err := jsonschema.NewCompiler().Compile("schema.json")
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	file := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, src string
		valid     bool
	}{
		{"shipped cases", file("../functions/post-confirmation/rules_test.yaml"), true},
		{"failing cases of the tool's tests", file("../cmd/autogroup/testdata/failing-cases.yaml"), true},
		{"bad cases of the tool's tests", file("../cmd/autogroup/testdata/bad-cases.yaml"), false},
		{"minimal", "cases: [{name: a, groups: []}]\n", true},
		{"every key", "cases: [{name: a, userAttributes: {k: v}, triggerSource: T, clientId: c, clientMetadata: {k: v}, groups: [x, y]}]\n", true},
		{"no cases", "cases: []\n", false},
		{"unknown top-level key", "cases: [{name: a, groups: []}]\nrules: x\n", false},
		{"unknown case key", "cases: [{name: a, groups: [], group: []}]\n", false},
		{"missing name", "cases: [{groups: []}]\n", false},
		{"blank name", "cases: [{name: ' ', groups: []}]\n", false},
		{"missing groups", "cases: [{name: a}]\n", false},
		{"boolean attribute", "cases: [{name: a, userAttributes: {email_verified: true}, groups: []}]\n", false},
		{"groups not a list", "cases: [{name: a, groups: x}]\n", false},
		{"duplicate group", "cases: [{name: a, groups: [x, x]}]\n", false},
		{"empty triggerSource", "cases: [{name: a, triggerSource: '', groups: []}]\n", false},
		{"currentGroups", "cases: [{name: a, currentGroups: [autogroup-hold, admins], triggerSource: TokenGeneration_RefreshTokens, groups: []}]\n", true},
		{"currentGroups empty", "cases: [{name: a, currentGroups: [], groups: []}]\n", true},
		{"currentGroups not a list", "cases: [{name: a, currentGroups: admins, groups: []}]\n", false},
		{"currentGroups duplicate", "cases: [{name: a, currentGroups: [x, x], groups: []}]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, parseErr := ruletest.Parse([]byte(tt.src))
			if (parseErr == nil) != tt.valid {
				t.Fatalf("Parse error = %v, want valid = %v: fix the test", parseErr, tt.valid)
			}
			var v any
			if err := yaml.Unmarshal([]byte(tt.src), &v); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			err = sch.Validate(inst)
			if tt.valid && err != nil {
				t.Errorf("Parse accepts it, the schema rejects it:\n%v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("Parse rejects it (%v), the schema accepts it", parseErr)
			}
		})
	}
}
