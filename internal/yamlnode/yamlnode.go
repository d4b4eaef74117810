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

// syntaxProblem turns an error of the YAML library into a Problem. The
// library reports a parser error at the line where the enclosing construct
// began (its context mark: a mapping 25 lines up for a bad indentation, the
// key before an unclosed '['), not where the error is; syntaxLine finds the
// line. The column is that of the line's first character that is not a
// space, or of its last '[' or '{' for an unclosed flow. Errors on the first
// line come without a line number; so do unknown anchors, which are located
// at the first alias in src that names them.
func syntaxProblem(src []byte, err error) *Problem {
	msg := err.Error()
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		line, col := syntaxLine(src, max(line, 1), m[2])
		return &Problem{Line: line, Column: col, Message: "invalid YAML: " + m[2]}
	}
	if m := anchorRE().FindStringSubmatch(msg); m != nil {
		line, col := position(src, bytes.Index(src, []byte("*"+m[1])))
		return &Problem{Line: line, Column: col, Message: fmt.Sprintf("invalid YAML: unknown anchor %q referenced", m[1])}
	}
	return &Problem{Line: 1, Column: 1, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// maxSyntaxScan bounds the prefixes syntaxLine decodes.
const maxSyntaxScan = 2000

// syntaxLine returns the line and column of a syntax error that the YAML
// library reported as what at line reported: the last line of the shortest
// prefix of src, from line reported on, that fails with the same error.
// Every shorter prefix is valid YAML (block structures end where the input
// does), so that line is where the error shows. It falls back to reported,
// column 1.
func syntaxLine(src []byte, reported int, what string) (line, col int) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	end := 0
	for _, l := range lines[:min(reported-1, len(lines))] {
		end += len(l)
	}
	for k := reported; k <= len(lines) && k < reported+maxSyntaxScan; k++ {
		end += len(lines[k-1])
		var n yaml.Node
		err := yaml.Unmarshal(src[:end], &n)
		if err == nil {
			continue
		}
		if m := yamlLineRE().FindStringSubmatch(err.Error()); m != nil && m[2] == what {
			return k, syntaxColumn(lines[k-1], what)
		}
	}
	return reported, 1
}

// syntaxColumn returns the column of the error in line: its last '[' or
// '{' when the error is an unclosed flow, else its first character that is
// not a space (1 for a blank line).
func syntaxColumn(line []byte, what string) int {
	open := -1
	switch {
	case strings.Contains(what, "']'"):
		open = bytes.LastIndexByte(line, '[')
	case strings.Contains(what, "'}'"):
		open = bytes.LastIndexByte(line, '{')
	}
	if open < 0 {
		open = len(line) - len(bytes.TrimLeft(line, " \t"))
		if open >= len(bytes.TrimRight(line, "\r\n")) {
			return 1
		}
	}
	return 1 + utf8.RuneCount(line[:open])
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
