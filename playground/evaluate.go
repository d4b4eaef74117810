// Package playground is the engine behind the rules playground, a static
// page that runs the ruleset engine in the browser as WebAssembly: it parses
// a ruleset, decodes an event with package trigger, and explains the
// decision in the JSON shape `autogroup explain --json` prints. The
// syscall/js glue lives in playground/wasm; everything it calls is here, so
// that a plain go test checks it.
package playground

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/explainjson"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// Problem is a problem or a warning at a position of its source. Line 0
// means the source as a whole.
type Problem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// Result is what Evaluate returns. Lists are never null.
type Result struct {
	// Problems are the ruleset's: empty when it loads.
	Problems []Problem `json:"problems"`
	// Warnings are what `autogroup validate` warns about a ruleset that
	// loads.
	Warnings []Problem `json:"warnings"`
	// EventProblems say why the event was refused.
	EventProblems []Problem `json:"eventProblems"`
	// Explanation is the decision, rule by rule and condition by
	// condition; null unless both the ruleset and the event load.
	Explanation *explainjson.Explanation `json:"explanation"`
}

// Evaluate parses ruleset, decodes event (a PostConfirmation or
// PreTokenGeneration event as Cognito sends it; a token event's current
// groups count for memberOf) and explains the decision, as `autogroup explain` does.
// It reports the problems of both inputs at once.
func Evaluate(ruleset, event string) Result {
	res := Result{Problems: []Problem{}, Warnings: []Problem{}, EventProblems: []Problem{}}
	rs, err := rules.Parse([]byte(ruleset))
	if err != nil {
		res.Problems = problems(rules.Problems(err))
	} else {
		res.Warnings = problems(rs.Warnings())
	}
	var in rules.Input
	decoded := false
	if strings.TrimSpace(event) == "" {
		res.EventProblems = []Problem{{Message: "the event is empty: paste a PostConfirmation or PreTokenGeneration event or pick a sample"}}
	} else if in, err = trigger.DecodeInput([]byte(event)); err == nil {
		decoded = true
	} else {
		var evErr *trigger.EventError
		if errors.As(err, &evErr) {
			res.EventProblems = problems(evErr.Problems)
		} else {
			res.EventProblems = []Problem{{Message: err.Error()}}
		}
	}
	if rs == nil || !decoded {
		return res
	}
	x := explainjson.New(rs, in, rs.Explain(in))
	res.Explanation = &x
	return res
}

// EvaluateJSON is Evaluate with its result as JSON: the function the page
// calls.
func EvaluateJSON(ruleset, event string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Evaluate(ruleset, event)); err != nil {
		// Result holds only strings, numbers and bools: it always encodes.
		panic("playground: encode result: " + err.Error())
	}
	return b.String()
}

func problems(ps []rules.Problem) []Problem {
	out := make([]Problem, len(ps))
	for i, p := range ps {
		out[i] = Problem{Line: p.Line, Column: p.Column, Message: p.Message}
	}
	return out
}
