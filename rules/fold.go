package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldRune maps r to one fixed member of its unicode.SimpleFold orbit, so
// that two runes are equal under simple case folding exactly when their
// foldRune are equal. The member chosen is the smallest lower-case rune of
// the orbit (K, k and U+212A KELVIN SIGN all give k; É gives é), or the
// smallest rune when the orbit has no lower-case rune. Lower case is
// preferred so that folding lower-case text does not change it.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	least, lower := r, rune(-1)
	f := r
	for {
		if f < least {
			least = f
		}
		if unicode.IsLower(f) && (lower < 0 || f < lower) {
			lower = f
		}
		if f = unicode.SimpleFold(f); f == r {
			break
		}
	}
	if lower >= 0 {
		return lower
	}
	return least
}

// fold returns s with every rune replaced by foldRune. Invalid UTF-8 bytes
// are kept as they are. It does not allocate when s is already folded (as
// most lower-case text is).
func fold(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return foldFrom(s, i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size > 1 && foldRune(r) != r {
			return foldFrom(s, i)
		}
		i += size
	}
	return s
}

// foldFrom folds s, whose first i bytes are known to be folded already.
func foldFrom(s string, i int) string {
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i])
		} else {
			b.WriteRune(foldRune(r))
		}
		i += size
	}
	return b.String()
}
