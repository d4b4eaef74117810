package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Groups returns the groups selected for in, deduplicated in order of first
// appearance, or nil when none is selected or the trigger source is not
// handled. It is safe for concurrent use and builds no explanation.
func (rs *Ruleset) Groups(in Input) []string {
	return rs.evaluate(&in, nil, nil)
}

// Decision is the outcome of evaluating a ruleset, without the per-condition
// detail of an Explanation: what a log record needs.
type Decision struct {
	// Handled is false when the trigger source is not in triggerSources.
	Handled bool
	// Groups is what Groups returns.
	Groups []string
	// MatchedRules names the rules that matched, in file order.
	MatchedRules []string
	// DefaultApplied is true when no rule matched and defaultGroups applied.
	DefaultApplied bool
}

// Decide evaluates in as Groups does and also reports which rules matched.
// It costs about what Groups costs, far less than Explain. It is safe for
// concurrent use.
func (rs *Ruleset) Decide(in Input) Decision {
	d := Decision{Handled: rs.Handles(in.TriggerSource)}
	d.Groups = rs.evaluate(&in, nil, &d)
	return d
}

// Explain evaluates in as Groups does and reports, rule by rule and
// condition by condition, what held and why. Its Groups field is what
// Groups returns for in. It is safe for concurrent use.
func (rs *Ruleset) Explain(in Input) Explanation {
	var x Explanation
	x.Groups = rs.evaluate(&in, &x, nil)
	return x
}

// evaluate runs the rules on in. When x is not nil it also fills the
// explanation, and when d is not nil the matched rules and DefaultApplied;
// Groups passes neither, so that nothing more is built.
func (rs *Ruleset) evaluate(in *Input, x *Explanation, d *Decision) []string {
	handled := rs.Handles(in.TriggerSource)
	if x != nil {
		x.Handled = handled
		x.Rules = make([]RuleResult, len(rs.rules))
		for i := range rs.rules {
			x.Rules[i] = RuleResult{Name: rs.rules[i].name, Groups: slices.Clone(rs.rules[i].groups)}
		}
	}
	if !handled {
		return nil
	}
	e := evaluator{rs: rs, in: in}
	// seen marks the groups already in out, by id.
	var small [4]uint64
	seen := small[:]
	if n := (len(rs.groupNames) + 63) / 64; n > len(small) {
		seen = make([]uint64, n)
	}
	// Most users get a few groups: one allocation for the result.
	out := make([]string, 0, min(len(rs.groupNames), 8))
	matched := false
	for i := range rs.rules {
		r := &rs.rules[i]
		var cr *ConditionResult
		if x != nil {
			cr = new(ConditionResult)
			x.Rules[i].Evaluated = true
			x.Rules[i].Condition = cr
		}
		if !e.eval(r.when, cr) {
			continue
		}
		matched = true
		out = addGroups(out, seen, r.groups, r.groupIDs)
		if d != nil {
			d.MatchedRules = append(d.MatchedRules, r.name)
		}
		if x != nil {
			x.Rules[i].Matched = true
			x.Rules[i].Stopped = r.stop
		}
		if r.stop {
			break
		}
	}
	if !matched {
		out = addGroups(out, seen, rs.defaultGroups, rs.defaultIDs)
		if d != nil {
			d.DefaultApplied = len(rs.defaultGroups) > 0
		}
		if x != nil {
			x.DefaultApplied = len(rs.defaultGroups) > 0
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// addGroups appends the groups not yet seen to out.
func addGroups(out []string, seen []uint64, names []string, ids []int) []string {
	for i, id := range ids {
		if bit := uint64(1) << (id % 64); seen[id/64]&bit == 0 {
			seen[id/64] |= bit
			out = append(out, names[i])
		}
	}
	return out
}

// evaluator evaluates the conditions of one ruleset on one input. It caches
// what several conditions may need (the email domain, the identity
// providers) so that it is computed at most once per evaluation.
type evaluator struct {
	rs *Ruleset
	in *Input

	domainDone bool
	domainSt   domainStatus
	domain     string // normalised
	rawDomain  string // as in the address

	providersDone bool
	providersSt   providersStatus
	providers     []string
}

// providersStatus is the outcome of reading the identities attribute.
type providersStatus uint8

const (
	providersOK providersStatus = iota
	providersAbsent
	providersMalformed
)

// eval reports whether c holds. When out is not nil it fills it with the
// explanation; when out is nil it builds no strings.
func (e *evaluator) eval(c *condition, out *ConditionResult) bool {
	var held bool
	switch c.form {
	case formAlways:
		held = true
		if out != nil {
			out.Reason = "always holds"
		}
	case formEmailDomain:
		held = e.emailDomain(c, out)
	case formAttribute:
		v, ok := e.in.UserAttributes[c.key]
		held = c.compare(v, ok)
		if out != nil {
			out.Reason = c.reason(v, ok, held, "attribute")
		}
	case formClientMetadata:
		v, ok := e.in.ClientMetadata[c.key]
		held = c.compare(v, ok)
		if out != nil {
			out.Reason = c.reason(v, ok, held, "key")
		}
	case formClientID:
		held = slices.Contains(c.values, e.in.ClientID)
		if out != nil {
			switch {
			case held:
				out.Reason = fmt.Sprintf("client id %q is listed", e.in.ClientID)
			case e.in.ClientID == "":
				out.Reason = "client id is empty"
			default:
				out.Reason = fmt.Sprintf("client id %q is not listed", e.in.ClientID)
			}
		}
	case formIdentityProvider:
		held = e.identityProvider(c, out)
	case formAll:
		held = true
		if out != nil {
			out.Children = make([]ConditionResult, 0, len(c.children))
		}
		for i, ch := range c.children {
			if !e.eval(ch, child(out)) {
				held = false
				if out != nil {
					out.Reason = fmt.Sprintf("condition %d of %d does not hold", i+1, len(c.children))
				}
				break
			}
		}
		if held && out != nil {
			out.Reason = fmt.Sprintf("all %d conditions hold", len(c.children))
		}
	case formAny:
		if out != nil {
			out.Children = make([]ConditionResult, 0, len(c.children))
		}
		for i, ch := range c.children {
			if e.eval(ch, child(out)) {
				held = true
				if out != nil {
					out.Reason = fmt.Sprintf("condition %d of %d holds", i+1, len(c.children))
				}
				break
			}
		}
		if !held && out != nil {
			out.Reason = fmt.Sprintf("none of the %d conditions holds", len(c.children))
		}
	case formNot:
		if out != nil {
			out.Children = make([]ConditionResult, 0, 1)
		}
		held = !e.eval(c.children[0], child(out))
		if out != nil {
			if held {
				out.Reason = "the negated condition does not hold"
			} else {
				out.Reason = "the negated condition holds"
			}
		}
	}
	if out != nil {
		out.Form = c.form.String()
		out.Text = c.text
		out.Held = held
	}
	return held
}

// child appends an empty result to out's children and returns it; nil when
// out is nil. The caller gave the children enough capacity, so earlier
// results do not move.
func child(out *ConditionResult) *ConditionResult {
	if out == nil {
		return nil
	}
	out.Children = append(out.Children, ConditionResult{})
	return &out.Children[len(out.Children)-1]
}

// compare applies the operator of an attribute or clientMetadata condition
// to v; present tells whether the attribute or key exists. An absent value
// compares as "".
func (c *condition) compare(v string, present bool) bool {
	if c.op == opExists {
		return present == c.exists
	}
	if c.op == opMatches {
		return c.re.MatchString(v) // (?i) already in the pattern
	}
	if c.ignoreCase {
		v = fold(v)
	}
	switch c.op {
	case opEquals:
		return v == c.value
	case opNotEquals:
		return v != c.value
	case opIn:
		return c.in(v)
	case opNotIn:
		return !c.in(v)
	case opStartsWith:
		return strings.HasPrefix(v, c.value)
	case opEndsWith:
		return strings.HasSuffix(v, c.value)
	case opContains:
		return strings.Contains(v, c.value)
	}
	return false
}

// in reports whether v is one of the (folded) values of an in or notIn.
func (c *condition) in(v string) bool {
	if c.set != nil {
		_, ok := c.set[v]
		return ok
	}
	return slices.Contains(c.values, v)
}

// reason explains the outcome of compare. what is "attribute" or "key".
func (c *condition) reason(v string, present, held bool, what string) string {
	if c.op == opExists {
		if present {
			return what + " is present"
		}
		return what + " is absent"
	}
	subject := fmt.Sprintf("value %q", v)
	if !present {
		subject = what + ` is absent, so value ""`
	}
	var verb string
	switch c.op {
	case opEquals:
		verb = pick(held, "equals", "is not")
	case opNotEquals:
		verb = pick(held, "is not", "equals")
	case opIn:
		verb = pick(held, "is one of", "is not one of")
	case opNotIn:
		verb = pick(held, "is none of", "is one of")
	case opStartsWith:
		verb = pick(held, "starts with", "does not start with")
	case opEndsWith:
		verb = pick(held, "ends with", "does not end with")
	case opContains:
		verb = pick(held, "contains", "does not contain")
	case opMatches:
		verb = pick(held, "matches", "does not match")
	}
	s := subject + " " + verb + " " + c.display
	if c.ignoreCase {
		s += " (ignoring case)"
	}
	return s
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// emailDomain evaluates an emailDomain condition.
func (e *evaluator) emailDomain(c *condition, out *ConditionResult) bool {
	if e.rs.requireVerifiedEmail && e.in.UserAttributes["email_verified"] != "true" {
		if out != nil {
			out.Reason = `email_verified is not "true"`
		}
		return false
	}
	if !e.domainDone {
		e.domainDone = true
		if email, ok := e.in.UserAttributes["email"]; ok {
			e.domain, e.rawDomain, e.domainSt = emailDomain(email)
		} else {
			e.domainSt = domainNoEmail
		}
	}
	if e.domainSt != domainOK {
		if out != nil {
			out.Reason = e.domainReason()
		}
		return false
	}
	for i := range c.domains {
		if c.domains[i].match(e.domain) {
			if out != nil {
				out.Reason = fmt.Sprintf("domain %q matches %q", e.domain, c.domains[i].text)
			}
			return true
		}
	}
	if out != nil {
		out.Reason = fmt.Sprintf("domain %q matches no pattern", e.domain)
	}
	return false
}

// domainReason says why the email address has no usable domain.
func (e *evaluator) domainReason() string {
	switch e.domainSt {
	case domainNoEmail:
		return "email attribute is absent"
	case domainNoAt:
		return `email has no "@"`
	case domainSeveralAt:
		return `email has more than one "@"`
	case domainEmpty:
		return "email has an empty domain"
	default:
		return fmt.Sprintf("domain %q is not a valid domain name", e.rawDomain)
	}
}

// identityProvider evaluates an identityProvider condition.
func (e *evaluator) identityProvider(c *condition, out *ConditionResult) bool {
	if !e.providersDone {
		e.providersDone = true
		e.providers, e.providersSt = providers(e.in.UserAttributes)
	}
	switch e.providersSt {
	case providersAbsent:
		if out != nil {
			out.Reason = "identities attribute is absent"
		}
		return false
	case providersMalformed:
		if out != nil {
			out.Reason = "identities attribute is not a JSON array of objects"
		}
		return false
	}
	for _, p := range e.providers {
		if slices.Contains(c.values, p) {
			if out != nil {
				out.Reason = fmt.Sprintf("identities has provider %q", p)
			}
			return true
		}
	}
	if out != nil {
		if len(e.providers) == 0 {
			out.Reason = "identities has no provider"
		} else {
			out.Reason = fmt.Sprintf("identities has providers %v, none listed", e.providers)
		}
	}
	return false
}

// providers returns the providerName of each entry of the identities
// attribute: a JSON array of objects, as Cognito sets it for federated
// users. Entries without a string providerName are skipped; when an entry
// has the key twice, the last one counts (as encoding/json would). The names
// are not copied from the attribute unless they contain escapes.
func providers(attrs map[string]string) ([]string, providersStatus) {
	raw, ok := attrs["identities"]
	if !ok {
		return nil, providersAbsent
	}
	if !json.Valid([]byte(raw)) {
		return nil, providersMalformed
	}
	// The text is valid JSON from here on: the scanner below only needs
	// to find its way through it.
	s := jsonScanner{s: raw}
	if s.peek() != '[' {
		return nil, providersMalformed
	}
	s.i++
	var names []string
	for {
		switch s.peek() {
		case ']':
			return names, providersOK
		case ',':
			s.i++
			continue
		case '{':
		default:
			return nil, providersMalformed
		}
		s.i++
		name, found := "", false
		for {
			c := s.peek()
			if c == 0 {
				return nil, providersMalformed // not reached: the text is valid
			}
			if c == '}' {
				s.i++
				break
			}
			if c == ',' {
				s.i++
				continue
			}
			key := s.str()
			s.peek() // whitespace before ':'
			s.i++
			if key == "providerName" && s.peek() == '"' {
				name, found = s.str(), true
			} else {
				if key == "providerName" {
					found = false
				}
				s.skip()
			}
		}
		if found {
			names = append(names, name)
		}
	}
}

// jsonScanner walks a text known to be valid JSON.
type jsonScanner struct {
	s string
	i int
}

// peek skips whitespace and returns the next byte (0 at the end).
func (s *jsonScanner) peek() byte {
	for s.i < len(s.s) {
		switch c := s.s[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// str reads the string at the current position (after whitespace) and
// returns its value.
func (s *jsonScanner) str() string {
	s.peek()
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.s) {
		c := s.s[s.i]
		s.i++
		if c == '\\' {
			escaped = true
			s.i++
		} else if c == '"' {
			break
		}
	}
	lit := s.s[start:s.i]
	if !escaped {
		return lit[1 : len(lit)-1]
	}
	var v string
	_ = json.Unmarshal([]byte(lit), &v) // valid JSON: cannot fail
	return v
}

// skip skips the value at the current position.
func (s *jsonScanner) skip() {
	switch s.peek() {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.s) {
			switch s.s[s.i] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default: // number, true, false, null
		for s.i < len(s.s) {
			switch s.s[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}
