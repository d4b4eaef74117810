package rules

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// domainPattern is one compiled emailDomain pattern.
type domainPattern struct {
	// domain is the normalised domain (see normalizeDomain), without the
	// "*." of a wildcard pattern.
	domain string
	// wildcard is true for "*.domain": any subdomain at any depth, not the
	// domain itself.
	wildcard bool
	// text is the pattern as written.
	text string
}

// match reports whether the normalised domain d matches the pattern. It
// compares whole labels: "evil-example.com" does not match "example.com" nor
// "*.example.com".
func (p *domainPattern) match(d string) bool {
	if !p.wildcard {
		return d == p.domain
	}
	n := len(d) - len(p.domain)
	return n > 1 && d[n-1] == '.' && d[n:] == p.domain
}

// parseDomainPattern checks and normalises an emailDomain pattern: a domain
// name, optionally preceded by "*." (a whole leftmost label).
func parseDomainPattern(s string) (domainPattern, error) {
	p := domainPattern{text: s}
	rest := s
	if strings.HasPrefix(rest, "*.") {
		p.wildcard = true
		rest = rest[2:]
	}
	if strings.Contains(rest, "*") {
		return p, errors.New(`"*" is allowed only as the whole leftmost label, as in "*.example.com"`)
	}
	d, err := normalizeDomain(rest)
	if err != nil {
		return p, err
	}
	p.domain = d
	return p, nil
}

// normalizeDomain returns the form in which domains are compared: the
// ASCII (punycode) form that the IDNA lookup profile gives (UTS #46
// mapping, non-transitional), with one trailing dot removed, so that
// "Bücher.example." and "xn--bcher-kva.example" give the same result. The
// profile alone maps case, as the resolver does: a case mapping of our own
// first (strings.ToLower) would read "fİntech.com" as "fintech.com" where
// UTS 46 reads the registrable "xn--fintech-7he.com", and "faẞ.de" as
// "faß.de" where UTS 46 reads "fass.de". It fails for names that are not
// valid domain names.
func normalizeDomain(s string) (string, error) {
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return "", err
	}
	a = strings.TrimSuffix(a, ".")
	if a == "" {
		return "", errors.New("empty domain name")
	}
	if len(a) > 253 {
		return "", fmt.Errorf("domain name longer than 253 characters")
	}
	for label := range strings.SplitSeq(a, ".") {
		if label == "" {
			return "", errors.New("empty label")
		}
		if len(label) > 63 {
			return "", fmt.Errorf("label longer than 63 characters")
		}
	}
	return a, nil
}

// domainStatus is the outcome of extracting the domain of an email address.
type domainStatus uint8

const (
	domainOK        domainStatus = iota
	domainNoEmail                // no email attribute
	domainNoAt                   // no "@"
	domainSeveralAt              // more than one "@"
	domainEmpty                  // nothing after the "@"
	domainInvalid                // not a valid domain name
)

// emailDomain returns the normalised domain of an email address, and the
// raw domain as written (empty when there is none). The status is domainOK
// or says why the address has no usable domain; it never is domainNoEmail.
func emailDomain(email string) (domain, raw string, st domainStatus) {
	at := strings.IndexByte(email, '@')
	if at < 0 {
		return "", "", domainNoAt
	}
	raw = email[at+1:]
	if strings.IndexByte(raw, '@') >= 0 {
		return "", "", domainSeveralAt
	}
	if raw == "" {
		return "", "", domainEmpty
	}
	d, err := normalizeDomain(raw)
	if err != nil {
		return "", raw, domainInvalid
	}
	return d, raw, domainOK
}
