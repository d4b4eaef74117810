package rules

import (
	"fmt"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// TestNormalizeDomainIsUTS46 compares normalizeDomain with the UTS 46
// lookup profile over every code point, in the middle of a label, so that
// no case mapping of our own decides a domain: an address is read as the
// domain the DNS resolves, in a pattern as in an address. One trailing
// dot is removed; two make the name invalid.
func TestNormalizeDomainIsUTS46(t *testing.T) {
	t.Parallel()
	// One subtest per plane, in parallel: the planes are independent.
	for lo := rune(0); lo <= unicode.MaxRune; lo += 0x10000 {
		t.Run(fmt.Sprintf("U+%04X", lo), func(t *testing.T) {
			t.Parallel()
			if n := uts46Differences(t, lo, lo+0xFFFF); n > 0 {
				t.Errorf("%d code points from U+%04X to U+%04X differ from UTS 46", n, lo, lo+0xFFFF)
			}
		})
	}
}

// uts46Differences reports the code points from lo to hi for which
// normalizeDomain differs from idna.Lookup.ToASCII (the first few in
// detail) and returns their number.
func uts46Differences(t *testing.T, lo, hi rune) int {
	differ := 0
	report := func(format string, args ...any) {
		t.Helper()
		if differ++; differ <= 10 {
			t.Errorf(format, args...)
		}
	}
	for r := lo; r <= hi; r++ {
		if !utf8.ValidRune(r) {
			continue // surrogates
		}
		s := "a" + string(r) + "b.example"
		want, err := idna.Lookup.ToASCII(s)
		wantOK := err == nil
		got, err := normalizeDomain(s)
		if (err == nil) != wantOK || wantOK && got != want {
			if wantOK {
				report("normalizeDomain(%q) = %q, %v; want %q, as idna.Lookup.ToASCII gives", s, got, err, want)
			} else {
				report("normalizeDomain(%q) = %q, want an error, as idna.Lookup.ToASCII gives", s, got)
			}
			continue
		}
		if !wantOK {
			continue
		}
		if d, err := normalizeDomain(s + "."); err != nil || d != want {
			report("normalizeDomain(%q) = %q, %v; want %q", s+".", d, err, want)
		}
		if d, err := normalizeDomain(s + ".."); err == nil {
			report("normalizeDomain(%q) = %q, want an error (empty label)", s+"..", d)
		}
		if d, _, st := emailDomain("jane@" + s); st != domainOK || d != want {
			report("emailDomain(%q) = %q, %v; want %q", "jane@"+s, d, st, want)
		}
		if p, err := parseDomainPattern("*." + s); err != nil || p.domain != want || !p.wildcard {
			report("parseDomainPattern(%q) = %q wildcard %v, %v; want %q wildcard true", "*."+s, p.domain, p.wildcard, err, want)
		}
	}
	return differ
}

// TestNormalizeDomain has the cases where a case mapping of our own
// differed from UTS 46, and those it must keep.
func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" for an error
	}{
		{"capital I with dot above is not i", "fİntech.com", "xn--fintech-7he.com"},
		{"capital sharp s is ss", "faẞ.de", "fass.de"},
		{"small sharp s stays (non-transitional)", "faß.de", "xn--fa-hia.de"},
		{"Kelvin sign is k", "\u212aey.example", "key.example"},
		{"upper case ASCII", "EXAMPLE.COM", "example.com"},
		{"upper case punycode", "XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"},
		{"upper case IDN", "BÜCHER.EXAMPLE", "xn--bcher-kva.example"},
		{"full-width letters", "ｅｘａｍｐｌｅ.com", "example.com"},
		{"ideographic full stop", "example\u3002com", "example.com"},
		{"trailing dot", "example.com.", "example.com"},
		{"trailing ideographic full stop", "example.com\u3002", "example.com"},
		{"trailing full-width full stop", "example.com\uff0e", "example.com"},
		{"two trailing dots", "example.com..", ""},
		{"a dot and an ideographic full stop", "example.com.\u3002", ""},
		{"empty", "", ""},
		{"a dot", ".", ""},
		{"underscore", "exa_mple.com", ""},
		{"label of 64", "a123456789012345678901234567890123456789012345678901234567890123.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeDomain(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Errorf("normalizeDomain(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("normalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestEmailDomainUTS46 checks the cases end to end: a pattern
// for fintech.com does not admit the registrable xn--fintech-7he.com, and
// one for fass.de admits an address written faẞ.de.
func TestEmailDomainUTS46(t *testing.T) {
	rs := oneRule(t, `{emailDomain: [fintech.com, fass.de]}`)
	for _, tt := range []struct {
		email string
		want  bool
	}{
		{"eve@fİntech.com", false},
		{"eve@FINTECH.COM", true},
		{"ana@faẞ.de", true},
		{"ana@FASS.DE", true},
		{"ana@faß.de", false},
	} {
		in := signUp(verifiedAt(tt.email))
		if got := matches(rs, in); got != tt.want {
			t.Errorf("Groups(%s) = %v, want matched=%v", tt.email, rs.Groups(in), tt.want)
		}
	}
	rs = oneRule(t, `{emailDomain: fİntech.com}`)
	if in := signUp(verifiedAt("eve@fintech.com")); matches(rs, in) {
		t.Errorf("pattern fİntech.com: Groups(eve@fintech.com) = %v, want none", rs.Groups(in))
	}
}

// TestDomainPatternWarnings checks the warnings on patterns that grant
// too much: public suffixes (by the Public Suffix List, ICANN and private
// sections alike) and labels that mix scripts.
func TestDomainPatternWarnings(t *testing.T) {
	suffix := func(p string) string {
		return fmt.Sprintf("emailDomain: pattern %q is a public suffix, where anyone can register a domain, not a domain of one owner; name your own domain", p)
	}
	under := func(p, s string) string {
		return fmt.Sprintf("emailDomain: pattern %q matches every domain under the public suffix %q, where anyone can register one; name your own domains", p, s)
	}
	mixed := func(p, label, scripts, ascii string) string {
		return fmt.Sprintf("emailDomain: pattern %q mixes scripts in the label %q (%s), as look-alike domains do: it is %s; write each label in one script", p, label, scripts, ascii)
	}
	tests := []struct {
		pattern string
		want    string // "" for no warning
	}{
		{"com", suffix("com")},
		{"COM.", suffix("COM.")},
		{"*.com", under("*.com", "com")},
		{"co.uk", suffix("co.uk")},
		{"*.co.uk", under("*.co.uk", "co.uk")},
		{"*.github.io", under("*.github.io", "github.io")},
		{"*.xn--p1ai", under("*.xn--p1ai", "xn--p1ai")}, // .рф
		{"*.рф", under("*.рф", "xn--p1ai")},
		{"example.com", ""},
		{"*.example.com", ""},
		{"*.example.co.uk", ""},
		{"user.github.io", ""},
		{"exаmple.com", mixed("exаmple.com", "exаmple", "Cyrillic, Latin", "xn--exmple-4nf.com")},
		{"*.pаypal.com", mixed("*.pаypal.com", "pаypal", "Cyrillic, Latin", "xn--pypal-4ve.com")},
		{"xn--ac-f9b.example", mixed("xn--ac-f9b.example", "aβc", "Greek, Latin", "xn--ac-f9b.example")},
		{"пример.рф", ""},
		{"ελληνικά.example", ""},
		{"bücher.example", ""},
		{"例え.jp", ""},          // Han and Hiragana: Japanese
		{"日本語テキスト.jp", ""},     // Han and Katakana
		{"한국어abc.example", ""}, // Hangul and Latin
		{"a-1.example", ""},    // Latin and Common
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			rs := mustParse(t, fmt.Sprintf("version: 1\nrules:\n  - name: a\n    when: {emailDomain: %q}\n    groups: [a]\n", tt.pattern))
			var want []string
			if tt.want != "" {
				want = []string{"4:25: " + tt.want}
			}
			var got []string
			for _, w := range rs.Warnings() {
				got = append(got, w.Error())
			}
			if !slices.Equal(got, want) {
				t.Errorf("Warnings() = %q, want %q", got, want)
			}
		})
	}
}
