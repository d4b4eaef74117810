package yamlnode

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unknownKey is the message for an unknown key name, found where (as in
// "in rule"; may be empty): it lists the allowed keys and suggests the
// closest.
func unknownKey(name, where string, allowed []string) string {
	msg := fmt.Sprintf("unknown key %q", name)
	if where != "" {
		msg += " " + where
	}
	msg += "; expected one of " + strings.Join(allowed, ", ")
	if s := suggest(name, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// suggest returns the allowed word closest to s, if it is close enough to
// be a likely typo: same letters ignoring case, or at most two edits away.
// It returns "" otherwise.
func suggest(s string, allowed []string) string {
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
