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

// userLabel names a user in the report by sub, with the username when it
// differs and does not look like an email address (keep addresses out of
// reports).
func userLabel(username, sub string) string {
	switch {
	case sub == "":
		if strings.Contains(username, "@") {
			return "(user without sub)"
		}
		return "username " + username
	case username == sub || username == "" || strings.Contains(username, "@"):
		return sub
	}
	return sub + " (" + username + ")"
}

// userDone prints the outcome for one user and records it in --state; the
// applier serializes the calls.
func (b *backfill) userDone(r plan.UserResult) {
	u := r.User
	label := userLabel(u.Username, u.Sub)
	if len(r.Failures) == 0 {
		verb, groups := "added     ", r.Added
		if b.f.viaQueue != "" {
			verb, groups = "queued    ", r.Queued
		}
		b.prog.printf(b.e.stdout, "%s %s  %s  (%s)\n", verb, label, strings.Join(groups, ", "), strings.Join(u.Rules, ", "))
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
	}
	line := "failed     " + label + "  " + strings.Join(failed, ", ")
	if len(r.Added) > 0 {
		line += "; added " + strings.Join(r.Added, ", ")
	}
	if len(r.Queued) > 0 {
		line += "; queued " + strings.Join(r.Queued, ", ")
	}
	b.prog.printf(b.e.stdout, "%s\n", line)
}

// status is the progress line of the adds.
func (b *backfill) status() string {
	p := b.applier.Progress()
	done := p.Added + p.Queued + p.Failed
	elapsed := time.Since(b.addStart)
	what := "adding"
	if b.f.viaQueue != "" {
		what = "queueing"
	}
	s := fmt.Sprintf("%s: %d/%d memberships, %d/%d users", what, done, p.Memberships, p.UsersDone, p.Users)
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
		SkippedRules: []string{}, MissingGroups: []string{},
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
	s.Added, s.Queued, s.Failed = b.out.Added, b.out.Queued, b.out.Failed
	s.Failures = append(s.Failures, b.out.Failures...)
	return s
}

// finish prints the summary and returns code.
func (b *backfill) finish(code int) int {
	w := b.e.stdout
	s := b.summary()
	if b.pl != nil && len(b.pl.Users) > 0 {
		fmt.Fprintln(w) // after the plan's lines
	}
	skipped := ""
	if s.UsersSkipped > 0 {
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(s.SkippedByStatus)) {
			parts = append(parts, fmt.Sprintf("%s %d", st, s.SkippedByStatus[st]))
		}
		skipped = " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "users:       %d listed: %d evaluated, %d skipped by status%s, %d done in an earlier run\n",
		s.Users, s.UsersEvaluated, s.UsersSkipped, skipped, s.UsersResumed)
	if s.Planned > 0 {
		fmt.Fprintf(w, "memberships: %d to add for %s, %d already there\n", s.Planned, plural(s.PlannedUsers, "user", "users"), s.AlreadyMember)
	} else {
		fmt.Fprintf(w, "memberships: none to add, %d already there\n", s.AlreadyMember)
	}
	for _, g := range s.MissingGroups {
		fmt.Fprintf(w, "missing:     group %q does not exist in the pool: create it (see autogroup check-pool)\n", g)
	}
	switch {
	case s.DryRun:
		fmt.Fprintf(w, "result:      dry run, nothing was changed\n")
	default:
		left := ""
		if n := s.Planned - s.Added - s.Queued - s.Failed; n > 0 {
			left = fmt.Sprintf(", %d not attempted", n)
		}
		done := fmt.Sprintf("%d added", s.Added)
		if s.ViaQueue != "" {
			done = fmt.Sprintf("%d queued for the consumer to add", s.Queued)
		}
		fmt.Fprintf(w, "result:      %s, %d failed%s, in %s\n",
			done, s.Failed, left, time.Since(b.start).Round(100*time.Millisecond))
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(w, "\nfailed memberships (%d):\n", len(s.Failures))
		for _, f := range s.Failures {
			who := f.Sub
			if f.Username != "" {
				who += " (" + f.Username + ")"
			}
			fmt.Fprintf(w, "  %s  %s  %s  %s\n", who, f.Group, f.Kind, f.Message)
		}
		note := ""
		if b.st != nil {
			note = " (the state file does not record users with a failure)"
		}
		verb := "added"
		if s.ViaQueue != "" {
			verb = "queued"
		}
		fmt.Fprintf(b.e.stderr, "autogroup backfill: %s could not be %s (listed above); run again once the cause is fixed%s\n",
			plural(len(s.Failures), "membership", "memberships"), verb, note)
	}
	if b.f.json {
		data, err := json.Marshal(s)
		if err != nil {
			fmt.Fprintf(b.e.stderr, "autogroup backfill: %v\n", err)
			return max(code, exitUsage)
		}
		fmt.Fprintf(w, "%s\n", data)
	}
	return code
}
