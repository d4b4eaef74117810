package plan

import (
	"maps"
	"slices"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// evaluatedStatuses are the user statuses whose users are evaluated:
// UNCONFIRMED users are not (the function runs when they confirm), nor are
// users with another status.
var evaluatedStatuses = []string{"CONFIRMED", "EXTERNAL_PROVIDER", "FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"}

// Evaluates reports whether the planner evaluates users with this Cognito
// user status: CONFIRMED, EXTERNAL_PROVIDER, FORCE_CHANGE_PASSWORD or
// RESET_REQUIRED.
func Evaluates(status string) bool { return slices.Contains(evaluatedStatuses, status) }

// Planner decides what a ruleset gives existing users. It evaluates each
// user as if they had just confirmed their sign-up
// (rules.TriggerConfirmSignUp), with the attribute cognito:user_status set
// to the user's status, and without the rules that test clientId or
// clientMetadata: only the sign-up event carries those. Build it with
// NewPlanner; it is immutable and safe for concurrent use.
type Planner struct {
	rs      *rules.Ruleset
	eval    *rules.Ruleset // rs without the skipped rules
	skipped []SkippedRule
	// kept are the skipped rules' groups and groupsFrom, which are never
	// removed: the planner cannot tell whether a user got them at sign-up.
	kept     []string
	keptFrom []*rules.GroupPattern
}

// NewPlanner returns a Planner for rs.
func NewPlanner(rs *rules.Ruleset) *Planner {
	p := &Planner{rs: rs}
	infos := rs.Rules()
	var names []string
	for i, r := range infos {
		var forms []string
		for _, f := range r.Forms {
			if f == "clientId" || f == "clientMetadata" {
				forms = append(forms, f)
			}
		}
		if forms == nil {
			continue
		}
		s := SkippedRule{Name: r.Name, Line: r.Line, Reason: ReasonEventRule, Forms: forms, Groups: r.Groups, Stop: r.Stop}
		if r.Stop {
			for _, l := range infos[i+1:] {
				s.Later = append(s.Later, l.Name)
			}
		}
		p.skipped = append(p.skipped, s)
		names = append(names, r.Name)
		p.kept = append(p.kept, r.Groups...)
		if r.GroupsFrom != nil {
			p.keptFrom = append(p.keptFrom, r.GroupsFrom)
		}
	}
	p.eval = rs.Without(names...)
	return p
}

// Handled reports whether the ruleset handles rules.TriggerConfirmSignUp;
// when it does not, no user gets a group.
func (p *Planner) Handled() bool { return p.rs.Handles(rules.TriggerConfirmSignUp) }

// SkippedRules returns the rules the planner leaves out, in file order.
func (p *Planner) SkippedRules() []SkippedRule { return slices.Clone(p.skipped) }

// Groups returns the groups the planner can select: those whose members
// and existence a caller reads, in the ruleset's order.
func (p *Planner) Groups() []string { return p.eval.GroupNames() }

// Removes reports whether the plans remove memberships (reconcile.remove).
func (p *Planner) Removes() bool { return p.rs.Remove() }

// Reads reports whether the planner needs the user's membership of group,
// a group of the pool: when the rules can select it, when it is managed
// and the plans remove, or when the rules test memberOf.
func (p *Planner) Reads(group string) bool {
	return p.eval.CanSelect(group) || (p.rs.Remove() && p.rs.Managed(group)) || p.rs.UsesGroups()
}

// NeedsPoolGroups reports whether a caller should list the pool's groups
// (and read the members of those Reads wants, and fill Pool.Existing):
// when groupsFrom names groups, the plans remove, or the rules test
// memberOf. Otherwise the members of Groups are enough.
func (p *Planner) NeedsPoolGroups() bool {
	return len(p.rs.GroupPatterns()) > 0 || p.rs.Remove() || p.rs.UsesGroups()
}

// keeps reports whether group is one a skipped rule could have given.
func (p *Planner) keeps(group string) bool {
	if slices.Contains(p.kept, group) {
		return true
	}
	for _, g := range p.keptFrom {
		if len(group) > len(g.Prefix)+len(g.Suffix) && strings.HasPrefix(group, g.Prefix) && strings.HasSuffix(group, g.Suffix) {
			return true
		}
	}
	return false
}

// Start returns an empty plan for pool: its header, no users.
func (p *Planner) Start(pool Pool) *Plan {
	pl := &Plan{
		Version:       FormatVersion,
		Pool:          pool.ID,
		TriggerSource: rules.TriggerConfirmSignUp,
		SkippedRules:  p.SkippedRules(),
		MissingGroups: []string{},
		Remove:        p.rs.Remove(),
		Counts:        Counts{SkippedByStatus: map[string]int{}, Groups: map[string]GroupCounts{}},
	}
	if pl.SkippedRules == nil {
		pl.SkippedRules = []SkippedRule{}
	}
	for _, g := range p.Groups() {
		if pool.missing(g) {
			pl.MissingGroups = append(pl.MissingGroups, g)
		}
	}
	return pl
}

// Plan returns the plan for users of pool: Start, then Record of User for
// each.
func (p *Planner) Plan(pool Pool, users []User) *Plan {
	pl := p.Start(pool)
	for _, u := range users {
		pl.Record(p.User(pool, u))
	}
	return pl
}

// User decides for one user of pool. A user whose status is not evaluated
// (see Evaluates) is skipped with ReasonStatus, then a disabled one with
// ReasonDisabled, then a user that is done with ReasonDone. A user the
// exclude condition holds for is left alone with ReasonExcluded. For the
// others, each group the rules select goes to Add, or to Skipped when the
// user belongs to it (ReasonAlreadyMember) or it is missing from the pool
// (ReasonGroupMissing); with reconcile.remove, each managed group of
// u.Groups the rules do not select goes to Remove, or to Kept when a
// skipped rule could have given it (ReasonSkippedRule).
func (p *Planner) User(pool Pool, u User) UserPlan {
	up := UserPlan{Username: u.Username, Sub: u.Attributes["sub"], Status: u.Status}
	switch {
	case !Evaluates(u.Status):
		up.Skip = ReasonStatus
		return up
	case u.Disabled:
		up.Skip = ReasonDisabled
		return up
	case u.Done:
		up.Skip = ReasonDone
		return up
	}

	attrs := maps.Clone(u.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["cognito:user_status"] = u.Status
	d := p.eval.Decide(rules.Input{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: attrs, Groups: u.Groups})
	if d.Excluded {
		up.Skip = ReasonExcluded
		return up
	}
	up.Groups = d.Groups
	up.Rules = d.MatchedRules
	if d.DefaultApplied {
		up.Rules = append(up.Rules, "defaultGroups")
	}
	for _, g := range d.Groups {
		switch {
		case slices.Contains(u.Groups, g):
			up.Skipped = append(up.Skipped, SkippedGroup{g, ReasonAlreadyMember})
		case pool.missing(g):
			up.Skipped = append(up.Skipped, SkippedGroup{g, ReasonGroupMissing})
		default:
			up.Add = append(up.Add, g)
		}
	}
	if !p.rs.Remove() {
		return up
	}
	current := slices.Clone(u.Groups)
	slices.Sort(current)
	for _, g := range slices.Compact(current) {
		switch {
		case !p.rs.Managed(g) || slices.Contains(d.Groups, g):
		case p.keeps(g):
			up.Kept = append(up.Kept, SkippedGroup{g, ReasonSkippedRule})
		default:
			up.Remove = append(up.Remove, g)
		}
	}
	return up
}
