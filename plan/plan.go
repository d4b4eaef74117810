// Package plan computes and applies membership plans: what a ruleset gives
// the users a Cognito user pool already has, compared with the groups they
// hold, as data (terraform's plan, kubectl diff), and a separate step that
// carries it out.
//
// A Planner is a pure function of plain data: users with their attributes,
// status and current groups, the groups missing from the pool, and a
// ruleset. It performs no I/O. Planner.User decides for one user (the adds,
// and every group or user left alone with the reason), and Plan.Record
// keeps the users with something to do and counts the rest, so that a
// caller can plan page by page as it reads a pool. An Applier then adds the
// planned memberships through package membership under a rate limit; a
// QueueApplier puts them on the retry queue instead, for its consumer to
// add.
//
// With reconcile.remove: true in the ruleset, a plan also removes users
// from the managed groups (rules.Ruleset.Managed) the rules no longer select
// for them, never from a user the ruleset's exclude holds for, and never
// from a group that a rule the planner skips could have given. Plans marshal
// to JSON (FormatVersion), so that a reviewed plan can be applied later:
// Recheck tells what of a saved user plan still holds.
package plan

import "slices"

// FormatVersion is the version of the Plan's JSON form.
const FormatVersion = 1

// User is one user of a pool, as the planner takes it.
type User struct {
	Username string
	// Status is the Cognito UserStatus, such as CONFIRMED or
	// FORCE_CHANGE_PASSWORD; empty when Cognito gave none.
	Status string
	// Attributes are the user's attributes by name, sub among them. The
	// planner does not modify the map.
	Attributes map[string]string
	// Groups are the groups the user belongs to. Those the ruleset cannot
	// select do not matter and may be left out.
	Groups []string
	// Done is true when an earlier run finished the user (a resumed run):
	// the user is not evaluated.
	Done bool
	// Disabled is true when the user is disabled and the caller skips
	// disabled users (ReasonDisabled); a caller that includes them leaves
	// it false.
	Disabled bool
}

// Key returns how a run names the user in saved state: the sub, or
// "username:" and the username when the user has no sub.
func (u User) Key() string { return userKey(u.Attributes["sub"], u.Username) }

func userKey(sub, username string) string {
	if sub == "" {
		return "username:" + username
	}
	return sub
}

// Pool is what the planner knows of a user pool besides its users.
type Pool struct {
	// ID is the user pool id, such as us-east-1_EXAMPLE.
	ID string
	// MissingGroups are groups the ruleset can select that do not exist in
	// the pool.
	MissingGroups []string
	// Existing, when not nil, holds every group of the pool: a selected
	// group not in it is missing too (a group a groupsFrom names, which the
	// planner cannot list beforehand). Nil means only MissingGroups are
	// missing.
	Existing map[string]bool
}

// missing reports whether group does not exist in the pool.
func (p Pool) missing(group string) bool {
	return slices.Contains(p.MissingGroups, group) || (p.Existing != nil && !p.Existing[group])
}

// Reason says why a user or a membership is left alone. Its values are
// stable strings, fit for JSON.
type Reason string

// The reasons.
const (
	// ReasonStatus: the user's status is not one the planner evaluates
	// (see Evaluates).
	ReasonStatus Reason = "status"
	// ReasonDone: an earlier run finished the user (User.Done).
	ReasonDone Reason = "done"
	// ReasonAlreadyMember: the user belongs to the group.
	ReasonAlreadyMember Reason = "already_member"
	// ReasonGroupMissing: the group does not exist in the pool. Applying
	// the plan reports it as a failure and does not attempt it.
	ReasonGroupMissing Reason = "group_missing"
	// ReasonEventRule: the rule tests what only the sign-up event carries
	// (clientId, clientMetadata), so the planner cannot evaluate it.
	ReasonEventRule Reason = "event_rule"
	// ReasonDisabled: the user is disabled (User.Disabled).
	ReasonDisabled Reason = "disabled"
	// ReasonExcluded: the ruleset's exclude condition holds for the user,
	// who is left alone: nothing added, nothing removed.
	ReasonExcluded Reason = "excluded"
	// ReasonSkippedRule: a managed group the user holds that a skipped rule
	// (ReasonEventRule) could have given at sign-up; it is never removed.
	ReasonSkippedRule Reason = "skipped_rule"
)

// Plan is what applying a ruleset to a pool's users would change.
type Plan struct {
	// Version is FormatVersion.
	Version int `json:"version"`
	// Pool is the user pool id.
	Pool string `json:"pool"`
	// RulesSHA256 is the SHA-256 of the ruleset's source, in hex, when the
	// caller set it: a saved plan is applied with the same ruleset only.
	RulesSHA256 string `json:"rulesSha256,omitempty"`
	// Remove is the ruleset's reconcile.remove: whether the plan removes.
	Remove bool `json:"remove"`
	// TriggerSource is the trigger source users are evaluated as, as if
	// each had just confirmed their sign-up.
	TriggerSource string `json:"triggerSource"`
	// SkippedRules are the rules left out, in file order.
	SkippedRules []SkippedRule `json:"skippedRules"`
	// MissingGroups are the groups the rules can select that do not exist
	// in the pool, in the ruleset's order.
	MissingGroups []string `json:"missingGroups"`
	// Users are the users with something to do (see UserPlan.Changes), in
	// the order they were recorded.
	Users []UserPlan `json:"users"`
	// Counts counts every user recorded, those without changes included.
	Counts Counts `json:"counts"`
}

// SkippedRule is a rule the planner leaves out, and what that can change.
type SkippedRule struct {
	Name string `json:"name"`
	// Line is the line where the rule starts.
	Line int `json:"line"`
	// Reason is ReasonEventRule.
	Reason Reason `json:"reason"`
	// Forms are the condition forms that made it skipped: clientId,
	// clientMetadata, or both.
	Forms []string `json:"forms"`
	// Groups are the rule's groups: the plan never adds them for it.
	Groups []string `json:"groups"`
	// Stop is the rule's stop. When it is true, a user it matched at
	// sign-up got no group from the rules in Later, which the planner
	// evaluates for every user.
	Stop  bool     `json:"stop"`
	Later []string `json:"later,omitempty"`
}

// UserPlan is the planner's decision for one user.
type UserPlan struct {
	Username string `json:"username"`
	// Sub is the user's sub attribute; empty when the user has none.
	Sub    string `json:"sub,omitempty"`
	Status string `json:"status,omitempty"`
	// Skip says why the user was not evaluated (ReasonStatus, ReasonDone,
	// ReasonDisabled) or is left alone (ReasonExcluded); empty otherwise.
	Skip Reason `json:"skip,omitempty"`
	// Rules are the rules that matched, in file order, then
	// "defaultGroups" when those applied.
	Rules []string `json:"rules,omitempty"`
	// Groups are the groups the rules select, in the rules' order.
	Groups []string `json:"groups,omitempty"`
	// Add are the groups to add the user to, in the rules' order.
	Add []string `json:"add,omitempty"`
	// Remove are the managed groups to remove the user from, sorted;
	// empty unless the ruleset has reconcile.remove: true.
	Remove []string `json:"remove,omitempty"`
	// Kept are managed groups the user holds that the rules do not select
	// but that are not removed, with the reason (ReasonSkippedRule).
	Kept []SkippedGroup `json:"kept,omitempty"`
	// Skipped are the selected groups not in Add, with the reason
	// (ReasonAlreadyMember, ReasonGroupMissing), in the rules' order.
	Skipped []SkippedGroup `json:"skipped,omitempty"`
}

// SkippedGroup is a selected group that is not added, and why.
type SkippedGroup struct {
	Group  string `json:"group"`
	Reason Reason `json:"reason"`
}

// Key returns the user's key, as User.Key does.
func (u *UserPlan) Key() string { return userKey(u.Sub, u.Username) }

// Wanted returns the groups the rules select that the user lacks, in the
// rules' order: those in Add, and those skipped because the group is
// missing from the pool. They are the memberships the plan counts.
func (u *UserPlan) Wanted() []string {
	var out []string
	for _, g := range u.Groups {
		if !slices.Contains(u.Skipped, SkippedGroup{g, ReasonAlreadyMember}) {
			out = append(out, g)
		}
	}
	return out
}

// Changes reports whether applying the plan does something for the user:
// a group to add, a missing group to report, or a group to remove.
func (u *UserPlan) Changes() bool {
	return len(u.Add) > 0 || len(u.Remove) > 0 || slices.ContainsFunc(u.Skipped, func(s SkippedGroup) bool {
		return s.Reason == ReasonGroupMissing
	})
}

// Counts are the totals of a plan.
type Counts struct {
	// Users counts the users recorded.
	Users int `json:"users"`
	// Evaluated counts the users the rules were evaluated for.
	Evaluated int `json:"evaluated"`
	// Skipped counts the users skipped by status, SkippedByStatus by
	// status ("(none)" for a user without one).
	Skipped         int            `json:"skipped"`
	SkippedByStatus map[string]int `json:"skippedByStatus"`
	// Resumed counts the users an earlier run finished.
	Resumed int `json:"resumed"`
	// Planned counts the memberships to add (UserPlan.Wanted, missing
	// groups included), PlannedUsers the users they are for.
	Planned      int `json:"planned"`
	PlannedUsers int `json:"plannedUsers"`
	// AlreadyMember counts the selected memberships the users hold.
	AlreadyMember int `json:"alreadyMember"`
	// Removals counts the memberships to remove, RemovalUsers the users
	// they are for.
	Removals     int `json:"removals"`
	RemovalUsers int `json:"removalUsers"`
	// Disabled counts the disabled users skipped, Excluded the users the
	// exclude condition holds for (evaluated, left alone).
	Disabled int `json:"disabled"`
	Excluded int `json:"excluded"`
	// Groups counts the memberships to add and to remove per group.
	Groups map[string]GroupCounts `json:"groups"`
}

// GroupCounts are the memberships a plan adds to and removes from one group.
type GroupCounts struct {
	Add    int `json:"add"`
	Remove int `json:"remove"`
}

// ChangesPending reports whether applying the plan would change the pool
// or fail: a membership to add or remove, or a missing group.
func (p *Plan) ChangesPending() bool {
	return p.Counts.Planned > 0 || p.Counts.Removals > 0 || len(p.MissingGroups) > 0
}

// Record counts u in the plan and keeps it in Users when it has changes.
// It is not safe for concurrent use.
func (p *Plan) Record(u UserPlan) {
	c := &p.Counts
	c.Users++
	switch u.Skip {
	case ReasonStatus:
		s := u.Status
		if s == "" {
			s = "(none)"
		}
		if c.SkippedByStatus == nil {
			c.SkippedByStatus = map[string]int{}
		}
		c.Skipped++
		c.SkippedByStatus[s]++
	case ReasonDone:
		c.Resumed++
	case ReasonDisabled:
		c.Disabled++
	case ReasonExcluded:
		c.Excluded++
		c.Evaluated++
	default:
		c.Evaluated++
	}
	for _, s := range u.Skipped {
		if s.Reason == ReasonAlreadyMember {
			c.AlreadyMember++
		}
	}
	if c.Groups == nil {
		c.Groups = map[string]GroupCounts{}
	}
	wanted := u.Wanted()
	if n := len(wanted); n > 0 {
		c.Planned += n
		c.PlannedUsers++
	}
	for _, g := range wanted {
		gc := c.Groups[g]
		gc.Add++
		c.Groups[g] = gc
	}
	if n := len(u.Remove); n > 0 {
		c.Removals += n
		c.RemovalUsers++
	}
	for _, g := range u.Remove {
		gc := c.Groups[g]
		gc.Remove++
		c.Groups[g] = gc
	}
	for _, sg := range u.Skipped {
		if sg.Reason == ReasonGroupMissing && !slices.Contains(p.MissingGroups, sg.Group) {
			p.MissingGroups = append(p.MissingGroups, sg.Group)
		}
	}
	if u.Changes() {
		p.Users = append(p.Users, u)
	}
}
