package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
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
	// line and column are the position of the pattern, for warnings.
	line, column int
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

// publicSuffixPattern reports whether the pattern p grants too much by
// naming a public suffix (a name under which anyone can register domains,
// by the Public Suffix List): the suffix itself ("com", "co.uk") or every
// domain under it ("*.com", "*.co.uk", "*.github.io").
func publicSuffixPattern(p *domainPattern) bool {
	suffix, _ := publicsuffix.PublicSuffix(p.domain)
	return suffix == p.domain
}

// scriptSets are the sets of scripts that a label may mix, beside Common
// and Inherited characters (digits, the hyphen, combining marks): those
// of the Highly Restrictive level of UTS #39 (Unicode security
// mechanisms), where Latin goes with the scripts of Japanese, Chinese
// (Bopomofo) and Korean writing. Any other mix, such as a Cyrillic "а" in
// a Latin "exаmple", is how a look-alike domain is made.
var scriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// mixedScripts returns the first label of the normalised domain d whose
// Unicode form mixes scripts that no scriptSets entry allows together,
// and those scripts, sorted; it returns "", nil when there is none.
func mixedScripts(d string) (label string, scripts []string) {
	for a := range strings.SplitSeq(d, ".") {
		u := a
		if strings.HasPrefix(a, "xn--") {
			var err error
			if u, err = idna.Punycode.ToUnicode(a); err != nil {
				continue // not reached: d was checked by the lookup profile
			}
		}
		var seen []string
		for _, r := range u {
			if s := scriptOf(r); s != "" && s != "Common" && s != "Inherited" && !slices.Contains(seen, s) {
				seen = append(seen, s)
			}
		}
		if len(seen) > 1 && !slices.ContainsFunc(scriptSets, func(set []string) bool {
			return !slices.ContainsFunc(seen, func(s string) bool { return !slices.Contains(set, s) })
		}) {
			slices.Sort(seen)
			return u, seen
		}
	}
	return "", nil
}

// scriptOf returns the name of the Unicode script of r, or "" for an
// unassigned code point.
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return "Common"
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}
