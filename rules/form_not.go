package rules

// notForm is "not: C": C does not hold.
var notForm = form{name: "not", compile: func(p *parser, k formKey) test {
	return &notTest{negated: p.condition(k.Val, k.depth+1, "not")}
}}

// notTest is the test of a not condition.
type notTest struct {
	defaults
	negated *condition
}

func (t *notTest) eval(e *evaluator, out *ConditionResult) bool {
	if out != nil {
		out.Children = make([]ConditionResult, 0, 1)
	}
	held := !e.eval(t.negated, child(out))
	if out != nil {
		if held {
			out.Reason = "the negated condition does not hold"
		} else {
			out.Reason = "the negated condition holds"
		}
	}
	return held
}

func (t *notTest) text() string      { return "not" }
func (t *notTest) sub() []*condition { return []*condition{t.negated} }
func (t *notTest) negates() bool     { return true }
func (t *notTest) truth() truth {
	switch t.negated.test.truth() {
	case alwaysTrue:
		return alwaysFalse
	case alwaysFalse:
		return alwaysTrue
	}
	return unknown
}
