package yamlnode

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Problem is one error or warning about an input, at a 1-based line and
// column (in characters) of its source. The rules package exports it as
// rules.Problem; every parser of this module reports its problems as
// Problem values.
type Problem struct {
	Line    int
	Column  int
	Message string
}

// Error returns the problem as "LINE:COL: message".
func (p Problem) Error() string {
	return fmt.Sprintf("%d:%d: %s", p.Line, p.Column, p.Message)
}

// Format returns the problem as "NAME:LINE:COL: message", where name names
// the source (a file name, "<stdin>"): the form editors and CI problem
// matchers read. A problem without a position (Line 0) is "NAME: message".
func (p Problem) Format(name string) string {
	if p.Line == 0 {
		return name + ": " + p.Message
	}
	return name + ":" + p.Error()
}

// SortProblems sorts ps by position, keeping the order in which they were
// found at one position, and removes exact duplicates (a node reached
// through several aliases reports its problem once). It works in place and
// returns the shortened slice.
func SortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	out := ps[:0]
	for i, p := range ps {
		// Duplicates share a position, so they sit in the run of problems
		// at that position that ends at i.
		dup := false
		for j := len(out) - 1; j >= 0 && out[j].Line == p.Line && out[j].Column == p.Column; j-- {
			if out[j] == p {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, ps[i])
		}
	}
	clear(ps[len(out):])
	return out
}

// JoinProblems sorts ps (see SortProblems) and joins them into one error
// with errors.Join, whose message has one "LINE:COL: message" line per
// problem. It returns nil when ps is empty.
func JoinProblems(ps []Problem) error {
	ps = SortProblems(ps)
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// Problems returns the problems carried by err, sorted and without
// duplicates (see SortProblems). It looks through errors that wrap others
// (fmt.Errorf with %w, errors.Join), and takes Problem and *Problem values.
// It returns nil when err carries none.
func Problems(err error) []Problem {
	var ps []Problem
	collect(err, &ps)
	if len(ps) == 0 {
		return nil
	}
	return SortProblems(ps)
}

func collect(err error, ps *[]Problem) {
	switch e := err.(type) {
	case nil:
	case Problem:
		*ps = append(*ps, e)
	case *Problem:
		if e != nil {
			*ps = append(*ps, *e)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			collect(inner, ps)
		}
	default:
		collect(errors.Unwrap(err), ps)
	}
}

// FormatProblems returns the problems carried by err (see Problems) as
// "NAME:LINE:COL: message" lines, separated by newlines, without a final
// one. When err carries no problem it returns "NAME: " and err's message.
func FormatProblems(name string, err error) string {
	ps := Problems(err)
	if len(ps) == 0 {
		return fmt.Sprintf("%s: %v", name, err)
	}
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Format(name))
	}
	return b.String()
}
