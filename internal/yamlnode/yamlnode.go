// Package yamlnode holds what the parsers of this module share when they
// walk a go.yaml.in/yaml/v3 node tree and report problems with their
// positions: the Problem type with its one sort and its one
// "NAME:LINE:COL: message" formatter, decoding a single document, turning
// syntax errors into positions, following aliases within a budget,
// collecting the entries of a mapping with duplicate keys detected, and the
// wording of messages (what a node is, unknown keys with a "did you mean"
// suggestion, the advice to quote a value).
//
// What is specific to one input format (its keys, its limits, how merge
// keys are walked) stays with its parser.
package yamlnode

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Document describes the single document Decode expects, for its messages
// and for the few points on which the parsers differ.
type Document struct {
	// Name is what the document is called, as in "a ruleset is one
	// document".
	Name string
	// Expected is what the document should hold, as in "empty ruleset;
	// expected a mapping with version and rules".
	Expected string
	// EmptyTrailing accepts empty documents ("---" alone, or only
	// comments) after the first one; otherwise any second document is a
	// problem.
	EmptyTrailing bool
	// LocateAnchors reports an unknown anchor at the first alias that
	// names it; otherwise it is reported at 1:1 in the library's words.
	LocateAnchors bool
}

var (
	// The patterns compile on first use: they are needed only for a
	// document with a syntax error, and a function's cold start should not
	// pay for them.
	yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })
	anchorRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`) })
)

// Decode parses src as one YAML document, as described by d, and returns
// its top-level node (not resolved), or the problem that prevents it.
func Decode(src []byte, d Document) (top *yaml.Node, prob *Problem) {
	defer func() {
		// The YAML library reports its errors by panicking internally and
		// recovering; should one escape, it is still only a bad input.
		if r := recover(); r != nil {
			top, prob = nil, &Problem{Line: 1, Column: 1, Message: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	empty := &Problem{Line: 1, Column: 1, Message: "empty " + d.Name + "; expected " + d.Expected}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, empty
	} else if err != nil {
		return nil, syntaxProblem(src, err, d.LocateAnchors)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && err != io.EOF {
		return nil, syntaxProblem(src, err, d.LocateAnchors)
	} else if err == nil && !(d.EmptyTrailing && isEmptyDocument(&next)) {
		return nil, &Problem{Line: next.Line, Column: next.Column, Message: "several YAML documents; a " + d.Name + " is one document"}
	}
	if isEmptyDocument(&doc) {
		return nil, empty
	}
	top = &doc
	if doc.Kind == yaml.DocumentNode {
		top = doc.Content[0]
	}
	return top, nil
}

// isEmptyDocument reports whether a decoded document holds nothing (only
// "---", "..." or comments).
func isEmptyDocument(doc *yaml.Node) bool {
	if doc.Kind != yaml.DocumentNode {
		return doc.Kind == 0
	}
	if len(doc.Content) == 0 {
		return true
	}
	c := doc.Content[0]
	return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" && c.Value == ""
}

// syntaxProblem turns an error of the YAML library into a Problem at the
// line it reports (the library gives no column). Errors on the first line
// come without a line number; so do unknown anchors, which are found in src
// when locateAnchors is set.
func syntaxProblem(src []byte, err error, locateAnchors bool) *Problem {
	msg := err.Error()
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: max(line, 1), Column: 1, Message: "invalid YAML: " + m[2]}
	}
	if m := anchorRE().FindStringSubmatch(msg); m != nil && locateAnchors {
		line, col := position(src, bytes.Index(src, []byte("*"+m[1])))
		return &Problem{Line: line, Column: col, Message: fmt.Sprintf("invalid YAML: unknown anchor %q referenced", m[1])}
	}
	return &Problem{Line: 1, Column: 1, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// position returns the 1-based line and column (in characters) of byte
// offset off of src; 1:1 when off is negative.
func position(src []byte, off int) (line, col int) {
	if off < 0 {
		return 1, 1
	}
	before := src[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// Walker is the state a parser shares with the walking helpers of this
// package: where problems go and the budget of nodes it may visit.
type Walker struct {
	// Errorf records a problem at the position of n.
	Errorf func(n *yaml.Node, format string, args ...any)
	// MaxNodes bounds the nodes visited, counting a node again each time
	// an alias refers to it, so that a document that expands exponentially
	// through aliases ("billion laughs") is rejected early.
	MaxNodes int
	// Full points to the parser's flag that Resolve sets once MaxNodes is
	// exceeded; the walk stops when it is set.
	Full *bool

	visits int
}

// Resolve follows aliases and counts the visit of the node it returns.
// Once the budget is spent it records one problem and sets *w.Full;
// callers stop walking when it is set.
func (w *Walker) Resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	w.visits++
	if w.visits > w.MaxNodes && !*w.Full {
		*w.Full = true
		w.Errorf(n, "document too large: more than %d nodes once aliases are expanded", w.MaxNodes)
	}
	return n
}

// Entry is one key of a mapping, after merges.
type Entry struct {
	Name string
	Key  *yaml.Node // the key, resolved
	Val  *yaml.Node // the value, resolved if Mapping was asked to
}

// Mapping returns the entries of the mapping node m, in order, stopping
// early once *w.Full is set. Keys that are not scalars and keys written
// twice are problems. The value of a merge key ("<<: *anchor") goes to
// merge, unresolved, and the entries merge returns are added after the
// keys written in m, which win over them; among merged entries the first
// wins. Values are resolved when resolveValues is set.
func (w *Walker) Mapping(m *yaml.Node, merge func(v *yaml.Node) []Entry, resolveValues bool) []Entry {
	out := make([]Entry, 0, len(m.Content)/2)
	var merged []Entry
	// index finds keys in long mappings; short ones are searched in out.
	var index map[string]int
	find := func(name string) *Entry {
		if index != nil {
			if i, ok := index[name]; ok {
				return &out[i]
			}
			return nil
		}
		for i := range out {
			if out[i].Name == name {
				return &out[i]
			}
		}
		return nil
	}
	add := func(e Entry) {
		out = append(out, e)
		if index == nil && len(out) > 16 {
			index = make(map[string]int, len(m.Content)/2)
			for i, e := range out {
				index[e.Name] = i
			}
		} else if index != nil {
			index[e.Name] = len(out) - 1
		}
	}
	for i := 0; i+1 < len(m.Content) && !*w.Full; i += 2 {
		k := w.Resolve(m.Content[i])
		switch {
		case k.Kind != yaml.ScalarNode:
			w.Errorf(k, "expected a key, found %s", Describe(k))
		case k.ShortTag() == "!!merge":
			merged = append(merged, merge(m.Content[i+1])...)
		default:
			if first := find(k.Value); first != nil {
				w.Errorf(k, "duplicate key %q; first at %d:%d", k.Value, first.Key.Line, first.Key.Column)
				break
			}
			v := m.Content[i+1]
			if resolveValues {
				v = w.Resolve(v)
			}
			add(Entry{Name: k.Value, Key: k, Val: v})
		}
	}
	for _, e := range merged {
		if find(e.Name) == nil {
			add(e)
		}
	}
	return out
}

// UnknownKey is the message for an unknown key name, found where (as in
// "in rule"; may be empty): it lists the allowed keys and suggests the
// closest.
func UnknownKey(name, where string, allowed []string) string {
	msg := fmt.Sprintf("unknown key %q", name)
	if where != "" {
		msg += " " + where
	}
	msg += "; expected one of " + strings.Join(allowed, ", ")
	if s := Suggest(name, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// Suggest returns the allowed word closest to s, if it is close enough to
// be a likely typo: same letters ignoring case, or at most two edits away.
// It returns "" otherwise.
func Suggest(s string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(a)); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes; it
// gives up (returning a large value) for long strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Describe names what a node (resolved) is, for "found ..." in messages:
// "a mapping", "a list", "a string", "an integer", "nothing" (an empty
// value) and so on.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			if n.Value == "" {
				return "nothing"
			}
			return "null"
		case "!!timestamp":
			return "a timestamp"
		case "!!binary":
			return "binary data"
		default:
			return "a value tagged " + tag
		}
	}
	return "an unexpected YAML node"
}

// QuoteHint is the advice to append to "expected a string" for a scalar
// that YAML did not read as a string (a number, a boolean, a timestamp, a
// written null): "; quote it". It is "" for anything else.
func QuoteHint(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!timestamp":
		return "; quote it"
	case "!!null":
		if n.Value != "" {
			return "; quote it"
		}
	}
	return ""
}
