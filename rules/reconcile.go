package rules

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/internal/yamlnode"
)

// What the paths other than the sign-up itself (the token function,
// backfill, sync) may do when they re-apply the rules: the top-level keys
// reconcile, tokenTriggerSources and exclude, and what tools need to know
// of the groups a ruleset can select.

// tokenSources are the token trigger sources a ruleset may name, in the
// order messages list them; by default it names all of them.
var tokenSources = []string{
	TriggerTokenHostedAuth,
	TriggerTokenAuthentication,
	TriggerTokenNewPasswordChallenge,
	TriggerTokenAuthenticateDevice,
	TriggerTokenRefreshTokens,
}

// reconcileKeys are the keys of reconcile.
var reconcileKeys = []string{"remove", "managedGroups"}

// reconcile is the compiled reconcile key.
type reconcile struct {
	remove bool
	// managed is managedGroups as written; listed tells whether it was.
	managed []string
	listed  bool
}

// reconcile checks the value v of reconcile at depth.
func (p *parser) reconcile(rs *Ruleset, v *yaml.Node, depth int) {
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, "reconcile: expected a mapping with remove and managedGroups, found %s", yamlnode.Describe(v))
		return
	}
	for _, e := range p.Mapping(v, depth) {
		n := p.Resolve(e.Val)
		switch e.Name {
		case "remove":
			if b, ok := p.Bool(n, "remove"); ok {
				rs.reconcile.remove = b
				p.removeNode = n
			}
		case "managedGroups":
			rs.reconcile.listed = true
			rs.reconcile.managed, p.managedGroupNodes, _ = p.groups(n, "managedGroups", depth+1, true)
			if rs.reconcile.managed == nil {
				rs.reconcile.managed = []string{}
			}
		default:
			p.UnknownKey(e, "in reconcile", reconcileKeys)
		}
	}
}

// tokenTriggerSources checks and sets the token trigger sources.
func (p *parser) tokenTriggerSources(rs *Ruleset, v *yaml.Node, depth int) {
	vals, nodes, _, ok := p.StringList(v, "tokenTriggerSources", depth, false)
	if !ok {
		return
	}
	var out []string
	for i, s := range vals {
		switch {
		case s == TriggerTokenClientCredentials:
			p.Errorf(nodes[i], "tokenTriggerSources: %s is never acted on: machine tokens (client credentials) have no user to assign groups to; remove it", s)
		case slices.Contains(tokenSources, s):
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		default:
			p.Errorf(nodes[i], "tokenTriggerSources: unknown trigger source %q; expected one of %s", s, strings.Join(tokenSources, ", "))
		}
	}
	rs.tokenTriggerSources = out
}

// HandlesToken reports whether the token function acts on token events
// with this trigger source: whether it is one of TokenTriggerSources. It is
// never true for TriggerTokenClientCredentials.
func (rs *Ruleset) HandlesToken(triggerSource string) bool {
	return slices.Contains(rs.tokenTriggerSources, triggerSource)
}

// TokenTriggerSources returns the token trigger sources the ruleset
// handles: tokenTriggerSources, or by default all five user sources.
func (rs *Ruleset) TokenTriggerSources() []string { return slices.Clone(rs.tokenTriggerSources) }

// Remove reports whether the paths that reconcile (the token function,
// backfill, sync) may remove users from managed groups that the rules no
// longer select for them: reconcile.remove, false by default. They never
// remove anything from a user the exclude condition holds for
// (Decision.Excluded).
func (rs *Ruleset) Remove() bool { return rs.reconcile.remove }

// Managed reports whether group is one the reconciling paths may remove
// users from (when Remove is true): one of reconcile.managedGroups when the
// ruleset lists them, else one the ruleset can select (see CanSelect).
func (rs *Ruleset) Managed(group string) bool {
	if rs.reconcile.listed {
		return slices.Contains(rs.reconcile.managed, group)
	}
	return rs.CanSelect(group)
}

// ManagedGroups returns reconcile.managedGroups as written, and whether the
// ruleset lists them at all. When it does not, every group it can select is
// managed: GroupNames and the names GroupPatterns describe.
func (rs *Ruleset) ManagedGroups() (groups []string, listed bool) {
	if !rs.reconcile.listed {
		return nil, false
	}
	return slices.Clone(rs.reconcile.managed), true
}

// CanSelect reports whether some evaluation could select group: whether it
// is one of GroupNames or a name some rule's groupsFrom can make (prefix +
// x + suffix for a value x that matches its guard).
func (rs *Ruleset) CanSelect(group string) bool {
	if slices.Contains(rs.groupNames, group) {
		return true
	}
	for i := range rs.rules {
		if f := rs.rules[i].from; f != nil && f.canName(group) {
			return true
		}
	}
	return false
}

// GroupPatterns describes, in file order, the groupsFrom of the rules that
// have one: the groups named from attribute values, which GroupNames does
// not list.
func (rs *Ruleset) GroupPatterns() []GroupPattern {
	var out []GroupPattern
	for i := range rs.rules {
		if f := rs.rules[i].from; f != nil {
			out = append(out, f.pattern(rs.rules[i].name))
		}
	}
	return out
}

// HasExclude reports whether the ruleset has an exclude condition.
func (rs *Ruleset) HasExclude() bool { return rs.exclude != nil }

// groupReader is implemented by the tests of the forms that read the
// user's current groups (memberOf).
type groupReader interface{ readsGroups() bool }

// UsesGroups reports whether evaluation reads the user's current groups
// (Input.Groups): whether a memberOf condition appears anywhere, in the
// rules or in exclude. Callers that must ask Cognito for them (the
// post-confirmation function calls AdminListGroupsForUser) do so only
// then.
func (rs *Ruleset) UsesGroups() bool { return rs.usesGroups }

// readsGroups reports whether a memberOf condition appears anywhere, for
// UsesGroups.
func (rs *Ruleset) readsGroups() bool {
	uses := false
	check := func(c *condition) {
		if g, ok := c.test.(groupReader); ok && g.readsGroups() {
			uses = true
		}
	}
	if rs.exclude != nil {
		walk(rs.exclude, check)
	}
	for i := range rs.rules {
		walk(rs.rules[i].when, check)
	}
	return uses
}
