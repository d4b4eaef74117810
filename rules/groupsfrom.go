package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// groupsFromKeys are the keys of a rule's groupsFrom, in the order
// messages list them.
var groupsFromKeys = []string{"attribute", "items", "matches", "prefix", "suffix"}

// groupsFrom is a compiled groupsFrom: it names a group prefix + value +
// suffix from each value (or item) of a user attribute that matches the
// guard. It is never modified after Parse.
type groupsFrom struct {
	attribute string
	items     string         // the items setting; "" for a single value
	matches   string         // the guard as written
	re        *regexp.Regexp // the guard, anchored at both ends
	prefix    string
	suffix    string
	text      string // as written, for explanations
	// attrLine and attrColumn are the position of the attribute's name.
	attrLine, attrColumn int
	// matchesAt is the position of the guard.
	matchesAt position
}

// groupsFrom checks the groupsFrom entry e of a rule at depth. It returns
// nil when there is a problem.
func (p *parser) groupsFrom(e yamlnode.Entry, depth int) *groupsFrom {
	v := p.Resolve(e.Val)
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, "groupsFrom: expected a mapping with attribute and matches, found %s", yamlnode.Describe(v))
		return nil
	}
	before := p.NumProblems()
	g := &groupsFrom{}
	var sawAttribute, sawMatches bool
	for _, k := range p.Mapping(v, depth) {
		n := p.Resolve(k.Val)
		switch k.Name {
		case "attribute":
			sawAttribute = true
			if s, ok := p.Str(n, "attribute"); ok {
				if s == "" {
					p.Errorf(n, "attribute: expected a name, found an empty string")
				}
				g.attribute, g.attrLine, g.attrColumn = s, n.Line, n.Column
			}
		case "items":
			g.items = p.itemsOption(n)
		case "matches":
			sawMatches = true
			if s, ok := p.Str(n, "matches"); ok {
				g.matches, g.re = s, p.pattern(n, s, false)
				g.matchesAt = position{n.Line, n.Column}
			}
		case "prefix", "suffix":
			s, ok := p.Str(n, k.Name)
			if !ok {
				break
			}
			if why := badAffix(s); why != "" {
				p.Errorf(n, "%s: %q %s, so no group could be named; a group name is 1 to %d letters, marks, symbols, numbers or punctuation characters",
					k.Name, s, why, maxGroupNameLen)
			}
			if k.Name == "prefix" {
				g.prefix = s
			} else {
				g.suffix = s
			}
		default:
			p.UnknownKey(k, "in groupsFrom", groupsFromKeys)
		}
	}
	for _, req := range []struct {
		key string
		saw bool
	}{{"attribute", sawAttribute}, {"matches", sawMatches}} {
		if !req.saw && !p.Full() {
			hint := ""
			if req.key == "matches" {
				hint = `: a guard such as "[a-z0-9-]{1,40}" that every value must match`
			}
			p.Errorf(v, "groupsFrom is missing required key %q%s", req.key, hint)
		}
	}
	if n := utf8.RuneCountInString(g.prefix + g.suffix); n >= maxGroupNameLen && p.NumProblems() == before {
		p.Errorf(v, "groupsFrom: prefix and suffix have %d characters together, so no group could be named; a group name has at most %d", n, maxGroupNameLen)
	}
	if p.NumProblems() > before {
		return nil
	}
	g.text = g.describe()
	return g
}

// badAffix says what is wrong with a prefix or suffix, or returns "": it
// may be empty, and must otherwise be made of characters a group name may
// have.
func badAffix(s string) string {
	if s == "" {
		return ""
	}
	if why := badGroupName(s); why != "" && !strings.HasPrefix(why, "it has ") {
		return strings.TrimPrefix(why, "it ")
	}
	return ""
}

// describe renders g as written.
func (g *groupsFrom) describe() string {
	s := g.attribute
	if g.items != "" {
		s += " (items " + itemsText(g.items) + ")"
	}
	s += " matches " + strconv.Quote(g.matches)
	if g.prefix != "" {
		s += " prefix " + strconv.Quote(g.prefix)
	}
	if g.suffix != "" {
		s += " suffix " + strconv.Quote(g.suffix)
	}
	return s
}

// pattern describes g for tools.
func (g *groupsFrom) pattern(rule string) GroupPattern {
	return GroupPattern{Rule: rule, Attribute: g.attribute, Items: g.items, Prefix: g.prefix, Suffix: g.suffix, Matches: g.matches}
}

// canName reports whether g can name the group: whether it is prefix + x +
// suffix for an x that matches the guard. A value is never empty.
func (g *groupsFrom) canName(group string) bool {
	if len(group) <= len(g.prefix)+len(g.suffix) || !strings.HasPrefix(group, g.prefix) || !strings.HasSuffix(group, g.suffix) {
		return false
	}
	return g.re.MatchString(group[len(g.prefix) : len(group)-len(g.suffix)])
}

// values returns the values of the attribute in attrs that name groups:
// its items, or the value itself. An absent or empty attribute has none.
func (g *groupsFrom) values(attrs map[string]string) []string {
	v := attrs[g.attribute]
	if v == "" {
		return nil
	}
	if g.items == "" {
		return []string{v}
	}
	return splitItems(v, g.items)
}

// name returns the group the value v names, or "" and why it names none,
// without the value.
func (g *groupsFrom) name(v string) (group, why string) {
	if !g.re.MatchString(v) {
		return "", "does not match the guard"
	}
	group = g.prefix + v + g.suffix
	if why := badGeneratedName(group); why != "" {
		return "", "would name an invalid group: " + why
	}
	return group, ""
}

// badGeneratedName is badGroupName for a name made from a value: what it
// says never quotes the value.
func badGeneratedName(s string) string {
	switch {
	case s == "":
		return "it would be empty"
	case utf8.RuneCountInString(s) > maxGroupNameLen:
		return fmt.Sprintf("it would have %d characters, more than %d", utf8.RuneCountInString(s), maxGroupNameLen)
	case !utf8.ValidString(s):
		return "it would not be valid UTF-8"
	case badGroupName(s) != "":
		return "it would contain whitespace or another character Cognito does not allow"
	}
	return ""
}

// addGroupsFrom appends to out the groups g names for the evaluator's
// input that out does not hold yet, as addGroups does for a rule's groups.
// It counts the values that named no group in c, and when res is not nil
// explains them there.
func (rs *Ruleset) addGroupsFrom(e *evaluator, g *groupsFrom, out []string, seen []uint64, c *counts, res *GroupsFromResult) []string {
	vals := g.values(e.in.UserAttributes)
	if res != nil {
		res.Text = g.text
		res.Values = len(vals)
	}
	for i, v := range vals {
		group, why := g.name(v)
		if group == "" {
			c.rejected++
			if res != nil {
				res.Rejected = append(res.Rejected, valueName(g.items != "", i, len(vals))+" "+why)
			}
			continue
		}
		if res != nil {
			res.Groups = append(res.Groups, group)
		}
		if id, ok := rs.groupIDs[group]; ok {
			out = addGroup(out, seen, c, group, id)
		} else if !containsString(out, group) && !containsString(c.droppedNames, group) {
			out = c.add(out, group)
		}
	}
	if res != nil {
		res.Reason = groupsFromReason(g, e.in.UserAttributes, res)
	}
	return out
}

// valueName names the i-th of n values in messages, without the value.
func valueName(items bool, i, n int) string {
	if !items {
		return "value"
	}
	return fmt.Sprintf("item %d of %d", i+1, n)
}

// groupsFromReason sums up the outcome of a groupsFrom.
func groupsFromReason(g *groupsFrom, attrs map[string]string, res *GroupsFromResult) string {
	if res.Values == 0 {
		v, ok := attrs[g.attribute]
		switch {
		case !ok:
			return "attribute is absent: no group"
		case v == "":
			return "value is empty: no group"
		default:
			return "value has no items: no group"
		}
	}
	what := plural(res.Values, "value", "values")
	if g.items != "" {
		what = plural(res.Values, "item", "items")
	}
	s := fmt.Sprintf("%s: %s", what, plural(len(res.Groups), "group", "groups"))
	if len(res.Rejected) > 0 {
		s += fmt.Sprintf(", %d rejected", len(res.Rejected))
	}
	return s
}

// plural returns "1 group" or "2 groups".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// containsString reports whether list holds s.
func containsString(list []string, s string) bool { return indexOf(list, s) >= 0 }
