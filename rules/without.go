package rules

import "slices"

// Without returns a copy of the ruleset without the rules named: the copy
// evaluates as if they had been deleted from the file. A rule after a
// removed rule with stop: true is evaluated, and defaultGroups apply when
// none of the remaining rules matches. Names that are no rule's are ignored.
//
// Rules, Conditions, GroupNames, GroupPatterns, CanSelect, UsesGroups, Groups and
// Explain reflect the removal, and so does Managed when the ruleset does not
// list managedGroups: a group only the removed rules select is not managed
// by the copy. Warnings are those Parse found in the whole ruleset, and the
// other settings (triggerSources, tokenTriggerSources, requireVerifiedEmail,
// onError, defaultGroups, exclude, reconcile) are rs's.
// rs is not modified, and the copy is as safe for concurrent use as rs.
//
// The backfill command uses it to leave out the rules it cannot evaluate
// for existing users (those that test clientId or clientMetadata).
func (rs *Ruleset) Without(names ...string) *Ruleset {
	out := &Ruleset{
		triggerSources:       rs.triggerSources,
		tokenTriggerSources:  rs.tokenTriggerSources,
		requireVerifiedEmail: rs.requireVerifiedEmail,
		onError:              rs.onError,
		defaultGroups:        rs.defaultGroups,
		defaultAt:            rs.defaultAt,
		exclude:              rs.exclude,
		reconcile:            rs.reconcile,
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
	out.usesGroups = out.readsGroups()
	return out
}
