package playground_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/explainjson"
	"github.com/cognito-autogroup/cognito-autogroup/playground"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// sampleEvents returns the events of events/, by file name.
func sampleEvents(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample event in ../events (%v)", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestEvaluateMatchesDecide checks that the playground's entry point, given
// the shipped ruleset, selects the groups rules.Decide selects on every
// sample event, and explains them as explainjson does for the CLI.
func TestEvaluateMatchesDecide(t *testing.T) {
	rs, err := rules.Parse(autogroup.ShippedRules)
	if err != nil {
		t.Fatalf("shipped ruleset: %v", err)
	}
	selected := 0
	for name, src := range sampleEvents(t) {
		t.Run(name, func(t *testing.T) {
			in, err := trigger.DecodeInput(src)
			if err != nil {
				t.Fatalf("DecodeInput: %v", err)
			}
			d := rs.Decide(in)
			var got playground.Result
			if err := json.Unmarshal([]byte(playground.EvaluateJSON(string(autogroup.ShippedRules), string(src))), &got); err != nil {
				t.Fatalf("EvaluateJSON: %v", err)
			}
			if len(got.Problems)+len(got.EventProblems) != 0 || got.Explanation == nil {
				t.Fatalf("Evaluate: problems %v, event problems %v, explanation %v; want none and an explanation", got.Problems, got.EventProblems, got.Explanation)
			}
			if diff := cmp.Diff(nonNil(d.Groups), got.Explanation.Groups); diff != "" {
				t.Errorf("Evaluate groups differ from Decide (-Decide +Evaluate):\n%s", diff)
			}
			if got.Explanation.Handled != d.Handled {
				t.Errorf("Evaluate handled = %v, Decide says %v", got.Explanation.Handled, d.Handled)
			}
			// The page gets the explanation as JSON: compare it as JSON
			// carries it (an empty list and none are the same there).
			var want explainjson.Explanation
			wantJSON, err := json.Marshal(explainjson.New(rs, in, rs.Explain(in)))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(wantJSON, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, *got.Explanation); diff != "" {
				t.Errorf("Evaluate explanation differs from explainjson.New (-want +got):\n%s", diff)
			}
			selected += len(d.Groups)
		})
	}
	if selected == 0 {
		t.Error("no sample event selects any group: the comparison proves little")
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestEvaluateProblems(t *testing.T) {
	engineer, err := os.ReadFile("../events/signup-engineer.json")
	if err != nil {
		t.Fatal(err)
	}
	broken := "version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp]\nrules:\n  - name: staff\n    when:\n      emailDomian: example.com\n    groups: [staff]\n"
	_, parseErr := rules.Parse([]byte(broken))
	if parseErr == nil {
		t.Fatal("the broken ruleset loads: fix the test")
	}
	var wantProblems []playground.Problem
	for _, p := range rules.Problems(parseErr) {
		wantProblems = append(wantProblems, playground.Problem{Line: p.Line, Column: p.Column, Message: p.Message})
	}
	warned := "version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp]\nrules:\n  - name: meta\n    when:\n      clientMetadata: plan\n      equals: pro\n    groups: [pro]\n"
	tests := []struct {
		name, rules, event string
		problems           []playground.Problem
		eventProblem       string // a substring of the first event problem; "" for none
		warnings           bool
		explained          bool
	}{
		{name: "broken ruleset", rules: broken, event: string(engineer), problems: wantProblems},
		{name: "broken event", rules: string(autogroup.ShippedRules), event: `{"request": {"userAttributes": {"email": 3}}}`, eventProblem: "string"},
		{name: "empty event", rules: string(autogroup.ShippedRules), event: " \n", eventProblem: "empty"},
		{name: "both broken", rules: broken, event: "[]", problems: wantProblems, eventProblem: "object"},
		{name: "warnings", rules: warned, event: string(engineer), warnings: true, explained: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := playground.Evaluate(tt.rules, tt.event)
			if diff := cmp.Diff(append([]playground.Problem{}, tt.problems...), got.Problems); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
			if tt.eventProblem == "" && len(got.EventProblems) != 0 {
				t.Errorf("EventProblems = %v, want none", got.EventProblems)
			}
			if tt.eventProblem != "" && (len(got.EventProblems) == 0 || !strings.Contains(got.EventProblems[0].Message, tt.eventProblem)) {
				t.Errorf("EventProblems = %v, want a first one containing %q", got.EventProblems, tt.eventProblem)
			}
			if (len(got.Warnings) > 0) != tt.warnings {
				t.Errorf("Warnings = %v, want some: %v", got.Warnings, tt.warnings)
			}
			if (got.Explanation != nil) != tt.explained {
				t.Errorf("Explanation = %v, want one: %v", got.Explanation, tt.explained)
			}
		})
	}
}

// FuzzEvaluate checks that any ruleset and event give a result that
// encodes as JSON with an explanation exactly when neither has a problem;
// it may report problems, never panic.
func FuzzEvaluate(f *testing.F) {
	engineer, err := os.ReadFile("../events/signup-engineer.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(autogroup.ShippedRules), string(engineer))
	f.Add("version: 1\nrules: [", `{"request": {"userAttributes": {"email": 3}}}`)
	f.Add(`{"version": 1, "triggerSources": ["PostConfirmation_ConfirmSignUp"], "rules": []}`, "{}")
	f.Fuzz(func(t *testing.T, ruleset, event string) {
		var got playground.Result
		if err := json.Unmarshal([]byte(playground.EvaluateJSON(ruleset, event)), &got); err != nil {
			t.Fatalf("EvaluateJSON is not JSON: %v", err)
		}
		loads := len(got.Problems) == 0 && len(got.EventProblems) == 0
		if loads != (got.Explanation != nil) {
			t.Errorf("problems %v, event problems %v, explanation %v: want an explanation exactly when there is no problem", got.Problems, got.EventProblems, got.Explanation)
		}
	})
}

// TestEvaluateTokenEvent checks that a PreTokenGeneration event's current
// groups reach memberOf, as autogroup explain reads them.
func TestEvaluateTokenEvent(t *testing.T) {
	src, err := os.ReadFile("../events/token-v2-signin.json") // groupsToOverride: [customers]
	if err != nil {
		t.Fatal(err)
	}
	res := playground.Evaluate("version: 1\nrules:\n  - {name: loyal, when: {memberOf: customers}, groups: [loyal]}\n", string(src))
	if len(res.Problems)+len(res.EventProblems) != 0 || res.Explanation == nil {
		t.Fatalf("Evaluate: problems %v, event problems %v", res.Problems, res.EventProblems)
	}
	if got := res.Explanation.Groups; len(got) != 1 || got[0] != "loyal" {
		t.Errorf("Groups = %v, want [loyal]", got)
	}
}
