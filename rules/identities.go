package rules

import (
	"encoding/json"
	"unicode/utf8"
)

// providersStatus is the outcome of reading the identities attribute.
type providersStatus uint8

const (
	providersOK providersStatus = iota
	providersAbsent
	providersMalformed
)

// providers returns the providerName of each entry of the identities
// attribute: a JSON array of objects, as Cognito sets it for federated
// users. Entries without a string providerName are skipped; when an entry
// has the key twice, the last one counts (as encoding/json would). The names
// are not copied from the attribute unless they contain escapes or invalid
// UTF-8.
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
// returns its value, as encoding/json decodes it: escapes resolved and each
// byte of invalid UTF-8 replaced with U+FFFD (json.Valid accepts such bytes
// in a string).
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
	if !escaped && utf8.ValidString(lit) {
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
