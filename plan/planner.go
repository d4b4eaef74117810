package plan

import (
	"maps"
	"slices"

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

// Start returns an empty plan for pool: its header, no users.
func (p *Planner) Start(pool Pool) *Plan {
	pl := &Plan{
		Version:       FormatVersion,
		Pool:          pool.ID,
		TriggerSource: rules.TriggerConfirmSignUp,
		SkippedRules:  p.SkippedRules(),
		MissingGroups: []string{},
		Counts:        Counts{SkippedByStatus: map[string]int{}},
	}
	if pl.SkippedRules == nil {
		pl.SkippedRules = []SkippedRule{}
	}
	for _, g := range p.Groups() {
		if slices.Contains(pool.MissingGroups, g) {
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
// (see Evaluates) is skipped with ReasonStatus, then a user that is done
// with ReasonDone. For the others, each group the rules select goes to Add,
// or to Skipped when the user belongs to it (ReasonAlreadyMember) or it is
// missing from the pool (ReasonGroupMissing).
func (p *Planner) User(pool Pool, u User) UserPlan {
	up := UserPlan{Username: u.Username, Sub: u.Attributes["sub"], Status: u.Status}
	switch {
	case !Evaluates(u.Status):
		up.Skip = ReasonStatus
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
	d := p.eval.Decide(rules.Input{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: attrs})
	up.Groups = d.Groups
	up.Rules = d.MatchedRules
	if d.DefaultApplied {
		up.Rules = append(up.Rules, "defaultGroups")
	}
	for _, g := range d.Groups {
		switch {
		case slices.Contains(u.Groups, g):
			up.Skipped = append(up.Skipped, SkippedGroup{g, ReasonAlreadyMember})
		case slices.Contains(pool.MissingGroups, g):
			up.Skipped = append(up.Skipped, SkippedGroup{g, ReasonGroupMissing})
		default:
			up.Add = append(up.Add, g)
		}
	}
	return up
}
