package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the printing layer. What the tool prints quotes its input:
// attribute values, event strings, file names, case names, messages that
// quote YAML values, and names, ids and messages from Cognito. Any of them
// may hold control characters (an escape sequence that rewrites the
// terminal, a newline that forges a line of the report) or invisible and
// bidirectional formatting characters (U+202E turns the rest of a line
// around). Every printer writes through printf, which prints the tool's own
// format as it is and each argument made visible; JSON goes through
// visibleJSON.

// printable reports whether r is printed as it is: a letter, mark, number,
// punctuation, symbol or the ASCII space, as strconv.IsPrint says. Control
// characters (newline and tab among them), format characters (U+200B,
// U+202E, U+2066, ...), separators other than the space, private-use and
// unassigned code points are not.
func printable(r rune) bool { return strconv.IsPrint(r) }

// visible returns s with every rune that is not printable written as
// strconv.Quote writes it, without the quotes: \n, \x1b, \u202e,
// \U000e0041, and \xcc for a byte that is not UTF-8. Quotes and backslashes
// are left alone, so that text already quoted with %q reads the same.
func visible(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !printable(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case printable(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// visibleArg formats its value as the verb says, then makes the result
// visible.
type visibleArg struct{ v any }

func (a visibleArg) Format(f fmt.State, verb rune) {
	io.WriteString(f, visible(fmt.Sprintf(fmt.FormatString(f, verb), a.v)))
}

// visibleArgs wraps the arguments that may carry text. Numbers and booleans
// are left as they are, so that they can give a width (%*s).
func visibleArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool:
			out[i] = a
		default:
			out[i] = visibleArg{a}
		}
	}
	return out
}

// printf is fmt.Fprintf for every printer of the tool. The format is the
// tool's own and is printed as it is, newlines included; each argument is
// formatted by its verb and then made visible (see visible), so that no
// control or invisible character taken from the input reaches the
// terminal, and a value cannot start a line of its own.
func printf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, visibleArgs(args)...)
}

// sprintf is printf into a string.
func sprintf(format string, args ...any) string {
	return fmt.Sprintf(format, visibleArgs(args)...)
}

// visibleJSON returns JSON text (as encoding/json writes it: valid UTF-8,
// control characters inside strings escaped) with every other rune that is
// not printable, but the newlines of its layout, written as a \u escape
// (a surrogate pair above U+FFFF). It decodes to the same value, and
// prints as visibly as text does.
func visibleJSON(data []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == '\n' || (printable(r) && !(r == utf8.RuneError && n == 1)) {
			i += n
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(data)+16)
		}
		out = append(out, data[last:i]...)
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r) // a stray byte becomes U+FFFD, as encoding/json reads it
		}
		i += n
		last = i
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}
