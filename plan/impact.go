package plan

import "slices"

// SampleSize is how many subs an Impact keeps per group.
const SampleSize = 5

// Impact is what replacing the ruleset in force with a new one changes for
// the users of a pool, group by group: the memberships each ruleset's plan
// would add and remove, decided on the groups the users hold, and a sample
// of the users whose outcome differs. Build it with Compare, or user by
// user with NewComparison.
type Impact struct {
	// Users counts the users recorded.
	Users int `json:"users"`
	// Changed counts the users whose outcome differs between the two
	// rulesets: the groups to add, or the groups to remove.
	Changed int `json:"changed"`
	// Remove is the new ruleset's reconcile.remove: whether it removes.
	Remove bool `json:"remove"`
	// Groups are the groups a plan adds to or removes from, or whose
	// outcome differs, by name.
	Groups map[string]GroupImpact `json:"groups"`
}

// GroupImpact is what the two rulesets do to one group.
type GroupImpact struct {
	// Add counts the users the new ruleset would add to the group,
	// InForceAdd those the ruleset in force would: users who lack it and
	// whom the rules select (UserPlan.Wanted).
	Add        int `json:"add"`
	InForceAdd int `json:"inForceAdd"`
	// Remove counts the users the new ruleset would remove from the group
	// (0 unless it has reconcile.remove), InForceRemove those the ruleset
	// in force would.
	Remove        int `json:"remove"`
	InForceRemove int `json:"inForceRemove"`
	// Changed counts the users for whom the two rulesets decide otherwise
	// about the group: one adds or removes it and the other does not.
	Changed int `json:"changed"`
	// Sample holds the subs of the first SampleSize of those users (a
	// user without a sub is counted, not sampled).
	Sample []string `json:"sample"`
	// Missing is true when the group does not exist in the pool: adding
	// it would fail.
	Missing bool `json:"missing,omitempty"`
}

// Comparison accumulates an Impact user by user, so that a caller can
// compare page by page as it reads a pool. It is not safe for concurrent
// use.
type Comparison struct {
	inForce, next *Planner
	pool          Pool
	im            Impact
}

// NewComparison returns an empty Comparison of next with inForce on pool.
// A nil inForce stands for no ruleset at all: every add and removal of
// next counts as a change. A Planner whose ruleset does not handle
// rules.TriggerConfirmSignUp (Planner.Handled) adds and removes nothing.
func NewComparison(inForce, next *Planner, pool Pool) *Comparison {
	return &Comparison{inForce: inForce, next: next, pool: pool,
		im: Impact{Remove: next.Removes(), Groups: map[string]GroupImpact{}}}
}

// Compare returns the Impact on users of pool of replacing inForce (nil:
// none) with next: NewComparison, then Record for each user.
func Compare(inForce, next *Planner, pool Pool, users []User) Impact {
	c := NewComparison(inForce, next, pool)
	for _, u := range users {
		c.Record(u)
	}
	return c.Impact()
}

// outcome returns the groups p's plan adds u to and removes u from.
func outcome(p *Planner, pool Pool, u User) (add, remove []string) {
	if p == nil || !p.Handled() {
		return nil, nil
	}
	up := p.User(pool, u)
	return up.Wanted(), up.Remove
}

// Record plans u under both rulesets and counts the outcome.
func (c *Comparison) Record(u User) {
	c.im.Users++
	oldAdd, oldRemove := outcome(c.inForce, c.pool, u)
	newAdd, newRemove := outcome(c.next, c.pool, u)
	if !sameSet(oldAdd, newAdd) || !sameSet(oldRemove, newRemove) {
		c.im.Changed++
	}
	var touched []string
	for _, gs := range [][]string{newAdd, oldAdd, newRemove, oldRemove} {
		for _, g := range gs {
			if !slices.Contains(touched, g) {
				touched = append(touched, g)
			}
		}
	}
	sub := u.Attributes["sub"]
	for _, g := range touched {
		gi := c.im.Groups[g]
		na, oa := slices.Contains(newAdd, g), slices.Contains(oldAdd, g)
		nr, or := slices.Contains(newRemove, g), slices.Contains(oldRemove, g)
		gi.Add += count(na)
		gi.InForceAdd += count(oa)
		gi.Remove += count(nr)
		gi.InForceRemove += count(or)
		if na != oa || nr != or {
			gi.Changed++
			if sub != "" && len(gi.Sample) < SampleSize {
				gi.Sample = append(gi.Sample, sub)
			}
		}
		gi.Missing = c.pool.missing(g)
		c.im.Groups[g] = gi
	}
}

// Impact returns the impact so far. The caller may modify it.
func (c *Comparison) Impact() Impact {
	im := c.im
	im.Groups = make(map[string]GroupImpact, len(c.im.Groups))
	for g, gi := range c.im.Groups {
		gi.Sample = slices.Clone(gi.Sample)
		if gi.Sample == nil {
			gi.Sample = []string{}
		}
		im.Groups[g] = gi
	}
	return im
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
