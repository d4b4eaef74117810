// Package yamlnode holds what the parsers of this module (rulesets in
// package rules, cases files in package ruletest) share when they walk a
// go.yaml.in/yaml/v3 node tree and report problems with their positions.
//
// Problem is the one problem type, with its one sort (SortProblems) and its
// one "NAME:LINE:COL: message" formatter (Problem.Format, FormatProblems).
// Parser is the base a format's parser embeds: it decodes a single
// document, turns syntax errors into positions, follows aliases within a
// node budget, bounds nesting, collects the entries of a mapping with merge
// keys applied and duplicate keys detected, reads strings, booleans and
// lists of strings, and words its messages the same way for every format
// (what a node is, unknown keys with a "did you mean" suggestion, the
// advice to quote a value).
//
// What is specific to one input format (its keys, its limits, what its
// values mean) stays with its parser.
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

// Document names the single document Decode expects, for its messages.
type Document struct {
	// Name is what the document is called, as in "a ruleset is one
	// document".
	Name string
	// Expected is what the document should hold, as in "empty ruleset;
	// expected a mapping with version and rules".
	Expected string
}

var (
	// The patterns compile on first use: they are needed only for a
	// document with a syntax error, and a function's cold start should not
	// pay for them.
	yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })
	anchorRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`) })
)

// Decode parses src as one YAML document, named by d, and returns its
// top-level node (not resolved). When src is not one YAML document it
// records the problem and returns nil. Empty documents ("---" alone, or
// only comments) may follow the first one; any other second document is a
// problem.
func (p *Parser) Decode(src []byte, d Document) *yaml.Node {
	top, prob := decode(src, d)
	if prob != nil {
		p.problems = append(p.problems, *prob)
	}
	return top
}

// decode is Decode, returning the problem.
func decode(src []byte, d Document) (top *yaml.Node, prob *Problem) {
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
		return nil, syntaxProblem(src, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && err != io.EOF {
		return nil, syntaxProblem(src, err)
	} else if err == nil && !isEmptyDocument(&next) {
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
// come without a line number; so do unknown anchors, which are located at
// the first alias in src that names them.
func syntaxProblem(src []byte, err error) *Problem {
	msg := err.Error()
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: max(line, 1), Column: 1, Message: "invalid YAML: " + m[2]}
	}
	if m := anchorRE().FindStringSubmatch(msg); m != nil {
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
