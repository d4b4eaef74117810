package rules

// alwaysForm is "always: true": the condition that always holds.
var alwaysForm = form{name: "always", compile: compileAlways}

func compileAlways(p *parser, k formKey) test {
	v := p.Resolve(k.Val)
	if b, ok := p.Bool(v, k.Name); ok && !b {
		p.Errorf(v, "always: only true is allowed; to negate a condition use not, or delete the rule")
	}
	return alwaysTest{}
}

// alwaysTest is the test of an always condition.
type alwaysTest struct{ defaults }

func (alwaysTest) eval(_ *evaluator, out *ConditionResult) bool {
	if out != nil {
		out.Reason = "always holds"
	}
	return true
}

func (alwaysTest) text() string { return "always" }
func (alwaysTest) truth() truth { return alwaysTrue }
