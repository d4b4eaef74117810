package rules

import (
	"fmt"
	"strings"
)

// emailDomainForm is "emailDomain: D" or "emailDomain: [D, ...]": the
// domain of the email attribute matches one of the patterns (see
// domain.go), and, when the ruleset requires it, the address is verified.
var emailDomainForm = form{name: "emailDomain", compile: compileEmailDomain}

func compileEmailDomain(p *parser, k formKey) test {
	t := &emailDomainTest{}
	vals, nodes, list, ok := p.StringList(p.Resolve(k.Val), k.Name, k.depth+1, true)
	if !ok {
		return t
	}
	for i, s := range vals {
		d, err := parseDomainPattern(s)
		if err != nil {
			p.Errorf(nodes[i], "emailDomain: invalid domain pattern %q: %s", s, strings.TrimPrefix(err.Error(), "idna: "))
		}
		d.line, d.column = nodes[i].Line, nodes[i].Column
		t.domains = append(t.domains, d)
	}
	t.display = listText(vals, list)
	return t
}

// emailDomainTest is the test of an emailDomain condition.
type emailDomainTest struct {
	defaults
	domains []domainPattern
	display string // the patterns as written
}

// emailCache is the domain of the input's email address, worked out at
// most once per evaluation however many emailDomain conditions ask.
type emailCache struct {
	done   bool
	st     domainStatus
	domain string // normalised
	raw    string // as in the address
}

func (t *emailDomainTest) eval(e *evaluator, out *ConditionResult) bool {
	if e.rs.requireVerifiedEmail && e.in.UserAttributes["email_verified"] != "true" {
		if out != nil {
			out.Reason = `email_verified is not "true"`
		}
		return false
	}
	c := &e.email
	if !c.done {
		c.done = true
		if email, ok := e.in.UserAttributes["email"]; ok {
			c.domain, c.raw, c.st = emailDomain(email)
		} else {
			c.st = domainNoEmail
		}
	}
	if c.st != domainOK {
		if out != nil {
			out.Reason = c.reason()
		}
		return false
	}
	for i := range t.domains {
		if t.domains[i].match(c.domain) {
			if out != nil {
				out.Reason = fmt.Sprintf("domain %q matches %q", c.domain, t.domains[i].text)
			}
			return true
		}
	}
	if out != nil {
		out.Reason = fmt.Sprintf("domain %q matches no pattern", c.domain)
	}
	return false
}

// reason says why the email address has no usable domain.
func (c *emailCache) reason() string {
	switch c.st {
	case domainNoEmail:
		return "email attribute is absent"
	case domainNoAt:
		return `email has no "@"`
	case domainSeveralAt:
		return `email has more than one "@"`
	case domainEmpty:
		return "email has an empty domain"
	default:
		return fmt.Sprintf("domain %q is not a valid domain name", c.raw)
	}
}

func (t *emailDomainTest) text() string { return "emailDomain " + t.display }

func (t *emailDomainTest) info(ci *ConditionInfo) {
	ci.Attribute = "email"
	for i := range t.domains {
		ci.Values = append(ci.Values, t.domains[i].text)
	}
}

// verified is true when the ruleset requires a verified address: the
// condition then holds only for one.
func (t *emailDomainTest) verified(rs *Ruleset) bool { return rs.requireVerifiedEmail }

// reads is the email attribute, and email_verified when the ruleset
// requires a verified address.
func (t *emailDomainTest) reads(rs *Ruleset, add func(string)) {
	add("email")
	if rs.requireVerifiedEmail {
		add("email_verified")
	}
}

// lint warns, once however many emailDomain conditions there are (equal
// warnings are merged), that the ruleset does not require verified
// addresses, and, at each pattern, of one that grants too much: a public
// suffix, under which anyone can register a domain, or a label that mixes
// scripts, as look-alike domains do.
func (t *emailDomainTest) lint(l *linter, _ *condition) {
	if !l.rs.requireVerifiedEmail && l.p.requireVerifiedEmailNode != nil {
		l.at(l.p.requireVerifiedEmailNode, "requireVerifiedEmail is false: emailDomain conditions hold for addresses nobody verified, which anyone can type at sign-up")
	}
	for i := range t.domains {
		d := &t.domains[i]
		switch {
		case publicSuffixPattern(d) && d.wildcard:
			l.warn(d.line, d.column, "emailDomain: pattern %q matches every domain under the public suffix %q, where anyone can register one; name your own domains", d.text, d.domain)
		case publicSuffixPattern(d):
			l.warn(d.line, d.column, "emailDomain: pattern %q is a public suffix, where anyone can register a domain, not a domain of one owner; name your own domain", d.text)
		}
		if label, scripts := mixedScripts(d.domain); label != "" {
			l.warn(d.line, d.column, "emailDomain: pattern %q mixes scripts in the label %q (%s), as look-alike domains do: it is %s; write each label in one script",
				d.text, label, strings.Join(scripts, ", "), d.domain)
		}
	}
}
