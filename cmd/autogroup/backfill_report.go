package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/plan"
)

// This file is what backfill prints once it has planned: a line per user
// applied, the progress line of the adds, and the summary.

// backfillSummary is the JSON summary line.
type backfillSummary struct {
	Pool            string         `json:"pool"`
	Rules           string         `json:"rules"`
	DryRun          bool           `json:"dryRun"`
	ViaQueue        string         `json:"viaQueue"`
	Users           int            `json:"users"`
	UsersEvaluated  int            `json:"usersEvaluated"`
	UsersSkipped    int            `json:"usersSkipped"`
	SkippedByStatus map[string]int `json:"skippedByStatus"`
	UsersResumed    int            `json:"usersResumed"`
	Planned         int            `json:"planned"`
	PlannedUsers    int            `json:"plannedUsers"`
	AlreadyMember   int            `json:"alreadyMember"`
	Added           int            `json:"added"`
	Queued          int            `json:"queued"`
	Failed          int            `json:"failed"`
	// Removals counts the memberships to remove, RemovalUsers their
	// users, Removed those removed.
	Removals     int `json:"removals"`
	RemovalUsers int `json:"removalUsers"`
	Removed      int `json:"removed"`
	// UsersDisabled counts the disabled users skipped, UsersExcluded those
	// the exclude condition holds, UsersChanged the users of a --plan
	// file left alone because they changed.
	UsersDisabled int `json:"usersDisabled"`
	UsersExcluded int `json:"usersExcluded"`
	UsersChanged  int `json:"usersChanged"`
	// Groups counts the memberships to add and remove per group.
	Groups        map[string]plan.GroupCounts `json:"groups"`
	Failures      []failure                   `json:"failures"`
	SkippedRules  []string                    `json:"skippedRules"`
	MissingGroups []string                    `json:"missingGroups"`
	Interrupted   bool                        `json:"interrupted"`
	Seconds       float64                     `json:"seconds"`
}

// userLabel names a user in the report: by sub, and with --show-usernames
// by username too, when it differs. A username may be an email address or
// a phone number, which stay out of reports unless asked for.
func (b *backfill) userLabel(u *plan.UserPlan) string {
	return userLabel(u.Username, u.Sub, b.f.showUsernames)
}

func userLabel(username, sub string, show bool) string {
	switch {
	case !show && sub == "":
		return "(user without sub)"
	case sub == "":
		return "username " + username
	case !show || username == sub || username == "":
		return sub
	}
	return sub + " (" + username + ")"
}

// userDone prints the outcome for one user and records it in --state; the
// applier serializes the calls.
func (b *backfill) userDone(r plan.UserResult) {
	u := r.User
	label := b.userLabel(u)
	if len(r.Removed) > 0 {
		b.prog.printf(b.w, "removed    %s  %s\n", label, strings.Join(r.Removed, ", "))
	}
	if len(r.Failures) == 0 {
		verb, groups := "added     ", r.Added
		if b.f.viaQueue != "" {
			verb, groups = "queued    ", r.Queued
		}
		if len(groups) > 0 {
			b.prog.printf(b.w, "%s %s  %s  (%s)\n", verb, label, strings.Join(groups, ", "), strings.Join(u.Rules, ", "))
		}
		if b.st != nil {
			if err := b.st.record(u.Key()); err != nil {
				b.prog.printf(b.e.stderr, "autogroup backfill: %v\n", err)
			}
		}
		return
	}
	failed := make([]string, len(r.Failures))
	for i, f := range r.Failures {
		failed[i] = f.Group + ": " + f.Kind
		if f.Op != "" {
			failed[i] = f.Op + " " + failed[i]
		}
	}
	line := "failed     " + label + "  " + strings.Join(failed, ", ")
	if len(r.Added) > 0 {
		line += "; added " + strings.Join(r.Added, ", ")
	}
	if len(r.Queued) > 0 {
		line += "; queued " + strings.Join(r.Queued, ", ")
	}
	b.prog.printf(b.w, "%s\n", line)
}

// status is the progress line of the adds.
func (b *backfill) status() string {
	p := b.applier.Progress()
	done := p.Added + p.Queued + p.Failed
	elapsed := time.Since(b.addStart)
	what := "applying"
	if b.f.viaQueue != "" {
		what = "queueing"
	}
	s := fmt.Sprintf("%s: %d/%d memberships, %d/%d users", what, done, p.Memberships, p.UsersDone, p.Users)
	if p.Removals > 0 {
		s += fmt.Sprintf(", %d/%d removed", p.Removed, p.Removals)
	}
	if p.Failed > 0 {
		s += fmt.Sprintf(", %d failed", p.Failed)
	}
	if done > 0 && elapsed > 0 {
		perSecond := float64(done) / elapsed.Seconds()
		left := time.Duration(float64(p.Memberships-done) / perSecond * float64(time.Second))
		s += fmt.Sprintf(", %.1f/s, ETA %s", perSecond, shortDuration(left))
	}
	return s
}

// summary returns the run's summary, from the plan's counts and the
// applier's outcome.
func (b *backfill) summary() backfillSummary {
	s := backfillSummary{
		Pool: b.f.pool, Rules: b.name, DryRun: !b.f.apply, ViaQueue: b.f.viaQueue,
		SkippedByStatus: map[string]int{}, Failures: []failure{},
		SkippedRules: []string{}, MissingGroups: []string{}, Groups: map[string]plan.GroupCounts{},
		Interrupted: b.interrupted,
		Seconds:     math.Round(time.Since(b.start).Seconds()*10) / 10,
	}
	for _, r := range b.planner.SkippedRules() {
		s.SkippedRules = append(s.SkippedRules, r.Name)
	}
	if b.pl != nil {
		c := b.pl.Counts
		s.Users, s.UsersEvaluated, s.UsersSkipped, s.UsersResumed = c.Users, c.Evaluated, c.Skipped, c.Resumed
		s.Planned, s.PlannedUsers, s.AlreadyMember = c.Planned, c.PlannedUsers, c.AlreadyMember
		maps.Copy(s.SkippedByStatus, c.SkippedByStatus)
		if b.listed {
			s.MissingGroups = append(s.MissingGroups, b.pl.MissingGroups...)
		}
	}
	s.Added, s.Queued, s.Failed, s.Removed = b.out.Added, b.out.Queued, b.out.Failed, b.out.Removed
	s.UsersChanged = b.changed
	if b.pl != nil {
		c := b.pl.Counts
		s.Removals, s.RemovalUsers, s.UsersDisabled, s.UsersExcluded = c.Removals, c.RemovalUsers, c.Disabled, c.Excluded
		maps.Copy(s.Groups, c.Groups)
	}
	s.Failures = append(s.Failures, b.out.Failures...)
	b.nameFailures(s.Failures)
	return s
}

// nameFailures sets the username of each failure: none without
// --show-usernames, the user's when it differs from the sub with it.
func (b *backfill) nameFailures(fs []failure) {
	usernames := map[string]string{}
	if b.f.showUsernames && b.pl != nil {
		for i := range b.pl.Users {
			u := &b.pl.Users[i]
			usernames[u.Key()] = u.Username
		}
	}
	for i := range fs {
		f := &fs[i]
		f.Username = ""
		switch name := usernames[f.Sub]; {
		case !b.f.showUsernames && strings.HasPrefix(f.Sub, "username:"):
			f.Sub = "(user without sub)" // its key is its username
		case name != f.Sub:
			f.Username = name
		}
	}
}

// finish prints the summary and returns code.
func (b *backfill) finish(code int) int {
	w := b.w
	s := b.summary()
	if b.pl != nil && len(b.pl.Users) > 0 {
		printf(w, "\n") // after the plan's lines
	}
	skipped := ""
	if s.UsersSkipped > 0 {
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(s.SkippedByStatus)) {
			parts = append(parts, fmt.Sprintf("%s %d", st, s.SkippedByStatus[st]))
		}
		skipped = " (" + strings.Join(parts, ", ") + ")"
	}
	more := ""
	if s.UsersDisabled > 0 {
		more += fmt.Sprintf(", %d disabled (skipped; --include-disabled)", s.UsersDisabled)
	}
	if s.UsersExcluded > 0 {
		more += fmt.Sprintf(", %d held by exclude (untouched)", s.UsersExcluded)
	}
	if s.UsersChanged > 0 {
		more += fmt.Sprintf(", %d changed since the plan (untouched)", s.UsersChanged)
	}
	printf(w, "users:       %d listed: %d evaluated, %d skipped by status%s, %d done in an earlier run%s\n",
		s.Users, s.UsersEvaluated, s.UsersSkipped, skipped, s.UsersResumed, more)
	if s.Planned > 0 || s.Removals > 0 {
		printf(w, "changes:     %d users, %s to add, %d to remove (%d memberships already there)\n",
			changingUsers(b.pl), plural(s.Planned, "membership", "memberships"), s.Removals, s.AlreadyMember)
	} else {
		printf(w, "changes:     none: 0 memberships to add, 0 to remove (%d already there)\n", s.AlreadyMember)
	}
	for _, g := range slices.Sorted(maps.Keys(s.Groups)) {
		gc := s.Groups[g]
		printf(w, "  group %-20s +%d -%d\n", g, gc.Add, gc.Remove)
	}
	for _, g := range s.MissingGroups {
		printf(w, "missing:     group %q does not exist in the pool: create it (see autogroup check-pool)\n", g)
	}
	switch {
	case s.DryRun:
		printf(w, "result:      dry run, nothing was changed\n")
		if s.Removals > b.f.maxRemovals {
			printf(w, "note:        --apply refuses the %d removals unless --max-removals is %d or more\n", s.Removals, s.Removals)
		}
	default:
		left := ""
		if n := s.Planned - s.Added - s.Queued - s.Failed; n > 0 {
			left = fmt.Sprintf(", %d not attempted", n)
		}
		done := fmt.Sprintf("%d added", s.Added)
		if s.ViaQueue != "" {
			done = fmt.Sprintf("%d queued for the consumer to add", s.Queued)
		}
		printf(w, "result:      %s, %d removed, %d failed%s, in %s\n",
			done, s.Removed, s.Failed, left, time.Since(b.start).Round(100*time.Millisecond))
	}
	if len(s.Failures) > 0 {
		printf(w, "\nfailed memberships (%d):\n", len(s.Failures))
		for _, f := range s.Failures {
			who := f.Sub
			if f.Username != "" {
				who += " (" + f.Username + ")"
			}
			printf(w, "  %s  %s  %s  %s\n", who, f.Group, f.Kind, f.Message)
		}
		note := ""
		if b.st != nil {
			note = " (the state file does not record users with a failure)"
		}
		verb := "added"
		if s.ViaQueue != "" {
			verb = "queued"
		}
		printf(b.e.stderr, "autogroup backfill: %s could not be %s (listed above); run again once the cause is fixed%s\n",
			plural(len(s.Failures), "membership", "memberships"), verb, note)
	}
	if b.f.json {
		data, err := json.Marshal(s)
		if err != nil {
			printf(b.e.stderr, "autogroup backfill: %v\n", err)
			return max(code, exitUsage)
		}
		_, _ = b.e.stdout.Write(append(visibleJSON(data), '\n')) // a failed write of stdout has no better place to go
	}
	return code
}

// changingUsers counts the users of p with a membership to add or remove.
func changingUsers(p *plan.Plan) int {
	if p == nil {
		return 0
	}
	n := 0
	for i := range p.Users {
		if u := &p.Users[i]; len(u.Wanted()) > 0 || len(u.Remove) > 0 {
			n++
		}
	}
	return n
}
