package plan

import "slices"

// Recheck tells whether saved, a user's entry in a plan made earlier, still
// holds for the user as the pool holds them now (now, with their current
// groups): the planner, run again, must want exactly what saved wants and
// is not done yet. It returns what is left to apply (saved without the adds
// already done and the removals already gone) and true; or the fresh plan
// for the user and false when the user changed (another sub, now skipped,
// excluded, or the rules decide otherwise), which a caller reports and
// leaves alone.
func (p *Planner) Recheck(pool Pool, saved *UserPlan, now User) (UserPlan, bool) {
	fresh := p.User(pool, now)
	left := *saved
	left.Add = nil
	for _, g := range saved.Add {
		if !slices.Contains(now.Groups, g) {
			left.Add = append(left.Add, g)
		}
	}
	left.Remove = nil
	for _, g := range saved.Remove {
		if slices.Contains(now.Groups, g) {
			left.Remove = append(left.Remove, g)
		}
	}
	same := fresh.Skip == "" && fresh.Sub == saved.Sub &&
		sameSet(fresh.Add, left.Add) && sameSet(fresh.Remove, left.Remove)
	if !same {
		return fresh, false
	}
	return left, true
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
