package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/plan"
)

// This file is what backfill reads before it plans (the groups and their
// members), and the saved plans of --out and --plan.

// readGroups reads what the planner needs of the pool's groups: the members
// of the groups the rules can select, and when the planner asks for them
// (groupsFrom, reconcile.remove, memberOf) every group of the pool and the
// members of those it reads. It returns the pool, the groups whose members
// were read, and the members.
func (b *backfill) readGroups(ctx context.Context) (plan.Pool, []string, map[string]map[string]bool, error) {
	groups, existing, err := b.read.plannedGroups(ctx, b.f.pool, b.planner)
	if err != nil {
		return plan.Pool{}, nil, nil, err
	}
	if b.f.user != "" || b.f.planFile != "" {
		// The user's groups come from AdminListGroupsForUser: the pool's
		// groups are enough to tell the missing ones.
		if existing == nil {
			var err error
			if existing, err = b.read.groups(ctx, b.f.pool); err != nil {
				return plan.Pool{}, nil, nil, err
			}
		}
		return plan.Pool{ID: b.f.pool, Existing: existing}, nil, nil, nil
	}
	members, missing, err := b.read.memberships(ctx, b.f.pool, groups)
	if err != nil {
		return plan.Pool{}, nil, nil, err
	}
	return plan.Pool{ID: b.f.pool, MissingGroups: missing, Existing: existing}, groups, members, nil
}

// plannedGroups returns the groups whose members the planners need, and,
// when one of them asks for it (Planner.NeedsPoolGroups), every group of
// the pool (nil otherwise).
func (r *reader) plannedGroups(ctx context.Context, poolID string, planners ...*plan.Planner) ([]string, map[string]bool, error) {
	var groups []string
	needsPool := false
	for _, p := range planners {
		for _, g := range p.Groups() {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		needsPool = needsPool || p.NeedsPoolGroups()
	}
	if !needsPool {
		return groups, nil, nil
	}
	existing, err := r.groups(ctx, poolID)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range slices.Sorted(maps.Keys(existing)) {
		if slices.ContainsFunc(planners, func(p *plan.Planner) bool { return p.Reads(g) }) && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	return groups, existing, nil
}

// savePlan writes the plan to --out: to a temporary file beside it, then
// renamed, so that a reader never sees half a plan.
func (b *backfill) savePlan() error {
	data, err := json.MarshalIndent(b.pl, "", "  ")
	if err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(b.f.out), filepath.Base(b.f.out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save the plan in %s: %w", b.f.out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save the plan in %s: %w", b.f.out, err)
	}
	if err := os.Rename(tmp.Name(), b.f.out); err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	printf(b.w, "plan saved in %s: review it, then apply it with --plan %s --apply\n", b.f.out, b.f.out)
	return nil
}

// loadPlan reads a plan saved by --out and checks that it is one for this
// pool and this ruleset.
func (b *backfill) loadPlan() (*plan.Plan, error) {
	data, err := os.ReadFile(b.f.planFile)
	if err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	var saved plan.Plan
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("%s is not a backfill plan: %w", b.f.planFile, err)
	}
	switch {
	case saved.Version != plan.FormatVersion:
		return nil, fmt.Errorf("%s: plan format version %d, this autogroup reads version %d", b.f.planFile, saved.Version, plan.FormatVersion)
	case saved.Pool != b.f.pool:
		return nil, fmt.Errorf("%s is a plan for user pool %s, not %s", b.f.planFile, saved.Pool, b.f.pool)
	case saved.RulesSHA256 != b.rulesSum:
		return nil, fmt.Errorf("%s was planned with another ruleset than %s: plan again", b.f.planFile, b.name)
	}
	return &saved, nil
}

// replan takes the plan of --plan instead of listing the pool: it reads
// each of its users again, keeps what still holds (an add already done or
// a removal already gone is dropped), and reports and leaves alone a user
// who changed since.
func (b *backfill) replan(ctx context.Context) error {
	saved, err := b.loadPlan()
	if err != nil {
		return err
	}
	pool, _, _, err := b.readGroups(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.pl = b.planner.Start(pool)
	b.pl.RulesSHA256 = b.rulesSum
	b.mu.Unlock()
	for i := range saved.Users {
		su := &saved.Users[i]
		now, found, err := b.read.userByName(ctx, b.f.pool, su.Username, b.userLabel(su))
		if err != nil {
			return err
		}
		u, holds := plan.UserPlan{}, false
		if found {
			now.Disabled = now.Disabled && !b.f.includeDisabled
			u, holds = b.planner.Recheck(pool, su, now)
		}
		b.mu.Lock()
		if holds {
			b.pl.Record(u)
			if !b.f.apply {
				b.printPlanned(&u)
			}
		} else {
			b.changed++
			why := "it no longer exists"
			if found {
				why = "the rules now decide otherwise for it"
				if d := describeFresh(&u); d != "" {
					why += " (" + d + ")"
				}
			}
			b.prog.printf(b.w, "changed    %s  not touched: %s; plan again\n", b.userLabel(su), why)
		}
		b.mu.Unlock()
	}
	b.listed = true
	return nil
}

// describeFresh says briefly what the planner now wants for a user.
func describeFresh(u *plan.UserPlan) string {
	var parts []string
	if u.Skip != "" {
		parts = append(parts, "skipped: "+string(u.Skip))
	}
	if len(u.Add) > 0 {
		parts = append(parts, "add "+strings.Join(u.Add, ", "))
	}
	if len(u.Remove) > 0 {
		parts = append(parts, "remove "+strings.Join(u.Remove, ", "))
	}
	return strings.Join(parts, "; ")
}
