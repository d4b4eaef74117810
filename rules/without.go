package rules

import "slices"

// Without returns a copy of the ruleset without the rules named: the copy
// evaluates as if they had been deleted from the file. A rule after a
// removed rule with stop: true is evaluated, and defaultGroups apply when
// none of the remaining rules matches. Names that are no rule's are ignored.
//
// Rules, Conditions, GroupNames, Groups and Explain reflect the removal;
// Warnings are those Parse found in the whole ruleset, and the other
// settings (triggerSources, requireVerifiedEmail, onError, defaultGroups)
// are rs's.
// rs is not modified, and the copy is as safe for concurrent use as rs.
//
// The backfill command uses it to leave out the rules it cannot evaluate
// for existing users (those that test clientId or clientMetadata).
func (rs *Ruleset) Without(names ...string) *Ruleset {
	out := &Ruleset{
		triggerSources:       rs.triggerSources,
		requireVerifiedEmail: rs.requireVerifiedEmail,
		onError:              rs.onError,
		defaultGroups:        rs.defaultGroups,
		warnings:             rs.warnings,
	}
	for i := range rs.rules {
		if slices.Contains(names, rs.rules[i].name) {
			continue
		}
		out.rules = append(out.rules, rs.rules[i]) // conditions are immutable: shared
		out.infos = append(out.infos, rs.infos[i])
	}
	for _, ci := range rs.conditions {
		if !slices.Contains(names, ci.Rule) {
			out.conditions = append(out.conditions, ci) // Conditions copies Values
		}
	}
	out.assignGroupIDs() // new slices: rs's ids are untouched
	return out
}
