package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/plan"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

var backfillCmd = &command{
	name:     "backfill",
	aws:      true,
	args:     "(--pool POOL_ID | --stack NAME) [--rules FILE] [--user SUB] [--out FILE | --plan FILE] [--apply [--via-queue URL]] [--max-removals N] [--json] ...",
	summary:  "plan and apply the groups the rules give existing users (dry run first)",
	help:     backfillHelp,
	exitHelp: backfillExitHelp,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var f backfillFlags
		fs.StringVar(&f.pool, "pool", "", "the user pool `POOL_ID`, such as us-east-1_EXAMPLE")
		f.rules = rulesFlag(fs)
		fs.BoolVar(&f.apply, "apply", false, "carry out the plan: add and remove the memberships (default: a dry run)")
		fs.Float64Var(&f.rate, "rate", defaultRate, "at most `N` AdminAddUserToGroup and AdminRemoveUserFromGroup requests per second (default 10)")
		fs.StringVar(&f.state, "state", "", "save progress to `FILE`, and skip the users it lists")
		fs.StringVar(&f.viaQueue, "via-queue", "", "with --apply, send the plan to the retry queue at `URL` instead of adding")
		fs.BoolVar(&f.json, "json", false, "write only the JSON summary to standard output; the report goes to standard error")
		fs.BoolVar(&f.showUsernames, "show-usernames", false, "name users by username too, which may be an email address or a phone number")
		fs.BoolVar(&f.includeDisabled, "include-disabled", false, "evaluate disabled users too (default: skipped)")
		fs.IntVar(&f.maxRemovals, "max-removals", 0, "with --apply, refuse a plan that removes more than `N` memberships (default 0: no removal without it)")
		fs.StringVar(&f.user, "user", "", "plan for one user only, the one whose sub is `SUB`")
		fs.StringVar(&f.out, "out", "", "save the plan as JSON in `FILE`, to review and apply later with --plan")
		fs.StringVar(&f.planFile, "plan", "", "use the plan saved in `FILE` (--out) instead of planning: each user is read again, and only what still holds is applied")
		stack := defineStackFlag(fs, "--pool")
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "backfill", "unexpected argument %q", args[0])
			}
			if _, ok := stack.fill(e, "backfill", fillPool); !ok {
				return exitUsage
			}
			return e.backfill(f)
		}
	},
}

// Defaults and limits of backfill.
const (
	defaultRate = 10.0
	// quotaRate is Cognito's AdminAddUserToGroup quota (UserUpdate, per
	// account and Region, shared).
	quotaRate = 25.0
)

type backfillFlags struct {
	pool, state string
	viaQueue    string // the retry queue's URL; empty: add through Cognito
	rules       *string
	apply, json bool
	// showUsernames names users by username too in the report; without
	// it, only by sub.
	showUsernames bool
	rate          float64
	// includeDisabled evaluates disabled users; maxRemovals bounds the
	// removals --apply carries out; user plans for one sub; out saves
	// the plan; planFile applies a saved one.
	includeDisabled     bool
	maxRemovals         int
	user, out, planFile string
}

// failure is a membership that could not be added.
type failure = plan.Failure

// backfill is one run of the command: it reads the pool, plans with
// package plan, and applies the plan unless it is a dry run.
type backfill struct {
	e        *env
	f        backfillFlags
	name     string // the ruleset, as the report names it
	planner  *plan.Planner
	read     *reader
	api      cognitoAPI
	w        io.Writer      // the report: standard output, or standard error with --json
	rulesSum string         // SHA-256 of the ruleset's source
	changed  int            // users of a --plan file that changed since
	st       *backfillState // nil without --state
	prog     *progress
	start    time.Time
	stopping chan struct{} // closed at the first interrupt

	mu     sync.Mutex // guards pl while listing; the progress line reads it
	pl     *plan.Plan // nil until the groups are read
	listed bool       // every user was read and planned

	applier     applier
	out         plan.Outcome
	interrupted bool // the run stopped at an interrupt
	addStart    time.Time
}

func (e *env) backfill(f backfillFlags) int {
	if f.pool == "" {
		return usageError(e, "backfill", "--pool or --stack is required")
	}
	if !(f.rate > 0) || math.IsInf(f.rate, 0) {
		return usageError(e, "backfill", "--rate must be a positive number of requests per second, found %v", f.rate)
	}
	if f.viaQueue != "" {
		if err := checkQueueURL("--via-queue", f.viaQueue); err != nil {
			return usageError(e, "backfill", "%v", err)
		}
	}
	name, src, rs, ok := e.loadRulesSource("backfill", *f.rules)
	if !ok {
		return exitUsage
	}
	if f.maxRemovals < 0 {
		return usageError(e, "backfill", "--max-removals must be 0 or more, found %d", f.maxRemovals)
	}
	if f.user != "" && f.planFile != "" {
		return usageError(e, "backfill", "--user and --plan cannot be used together")
	}
	b := &backfill{
		e: e, f: f, name: name, prog: newProgress(e.stderr), start: time.Now(),
		stopping: make(chan struct{}), w: e.stdout, rulesSum: rulesHash(src),
	}
	if f.json {
		b.w = e.stderr // standard output holds the JSON only
	}
	if f.state != "" {
		// Locked before it is read, until the run ends: two runs on one
		// file would each add every user the other has not saved yet.
		release, err := lockState(f.state)
		if err != nil {
			printf(e.stderr, "autogroup backfill: %v\n", err)
			return exitUsage
		}
		defer release()
		st, err := loadState(f.state, f.pool, rulesHash(src))
		if err != nil {
			printf(e.stderr, "autogroup backfill: %v\n", err)
			return exitUsage
		}
		b.st = st
	}
	if f.rate > quotaRate {
		printf(e.stderr, "autogroup backfill: warning: --rate %v is above Cognito's quota of %v AdminAddUserToGroup requests per second, which the function shares: expect throttling\n", f.rate, quotaRate)
	}
	api, ok := e.cognitoClient("backfill", f.pool)
	if !ok {
		return exitUsage
	}
	b.api = api
	b.read = newReader(api, f.rate)
	return b.run(rs)
}

// run plans, and applies unless it is a dry run.
func (b *backfill) run(rs *rules.Ruleset) int {
	e := b.e
	// The first interrupt stops the reads at once and the adds after the
	// users in flight; the second stops the adds in flight too.
	readCtx, cancelReads := context.WithCancel(e.ctx)
	defer cancelReads()
	addCtx, cancelAdds := context.WithCancel(e.ctx)
	defer cancelAdds()
	sig := e.interrupts
	if sig == nil {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		sig = ch
	}
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-sig:
		case <-finished:
			return
		}
		close(b.stopping)
		cancelReads()
		b.prog.printf(e.stderr, "autogroup backfill: interrupted: finishing the users in flight (interrupt again to stop at once)\n")
		select {
		case <-sig:
			cancelAdds()
		case <-finished:
		}
	}()

	b.planner = plan.NewPlanner(rs)
	b.header(rs)
	if !b.planner.Handled() {
		printf(b.w, "the ruleset does not handle %s (triggerSources: %s): no user gets a group\n",
			rules.TriggerConfirmSignUp, strings.Join(rs.TriggerSources(), ", "))
		return b.finish(exitOK)
	}
	list := b.list
	if b.f.planFile != "" {
		list = b.replan
	}
	if err := list(readCtx); err != nil {
		if b.stopped() {
			printf(e.stderr, "autogroup backfill: interrupted while listing: nothing was changed\n")
			b.interrupted = true
			return b.finish(exitInterrupted)
		}
		printf(e.stderr, "autogroup backfill: cannot %v\n", err)
		return exitUsage
	}
	if b.f.out != "" {
		if err := b.savePlan(); err != nil {
			printf(e.stderr, "autogroup backfill: %v\n", err)
			return exitUsage
		}
	}
	if !b.f.apply {
		return b.finish(b.dryRunCode())
	}
	if n := b.pl.Counts.Removals; n > b.f.maxRemovals {
		printf(e.stderr, "autogroup backfill: the plan removes %s, more than --max-removals %d: nothing was changed; review the plan and run again with --max-removals %d\n",
			plural(n, "membership", "memberships"), b.f.maxRemovals, n)
		return b.finish(exitProblems)
	}
	code := b.apply(addCtx)
	if code == exitOK && b.changed > 0 {
		code = exitProblems
	}
	return b.finish(code)
}

// dryRunCode is the exit code of a dry run: exitProblems when a group is
// missing, exitChanges when applying would change something, else exitOK.
func (b *backfill) dryRunCode() int {
	switch {
	case len(b.pl.MissingGroups) > 0 || b.changed > 0:
		return exitProblems
	case b.pl.ChangesPending():
		return exitChanges
	}
	return exitOK
}

// stopped reports whether an interrupt was received.
func (b *backfill) stopped() bool {
	select {
	case <-b.stopping:
		return true
	default:
		return false
	}
}

// header prints what the run does, and the rules it skips and what that
// may change.
func (b *backfill) header(rs *rules.Ruleset) {
	w := b.w
	printf(w, "user pool: %s\n", b.f.pool)
	printf(w, "ruleset:   %s\n", b.name)
	if b.f.apply && b.f.viaQueue != "" {
		printf(w, "mode:      apply via the retry queue %s: a message per user, for its consumer to add\n", b.f.viaQueue)
	} else if b.f.apply {
		printf(w, "mode:      apply: at most %v AdminAddUserToGroup and AdminRemoveUserFromGroup requests per second\n", b.f.rate)
	} else if b.f.viaQueue != "" {
		printf(w, "mode:      dry run: nothing is changed or sent (--apply sends the plan to %s)\n", b.f.viaQueue)
	} else {
		printf(w, "mode:      dry run: nothing is changed (--apply carries out the plan)\n")
	}
	if rs.Remove() {
		printf(w, "reconcile: remove: users leave the managed groups the rules no longer select (at most --max-removals %d with --apply)\n", b.f.maxRemovals)
	}
	if b.st != nil {
		what := "new"
		if n := b.st.doneCount(); n > 0 {
			what = fmt.Sprintf("%s done in an earlier run, skipped", plural(n, "user", "users"))
		}
		if !b.f.apply {
			what += "; a dry run does not write it"
		}
		printf(w, "state:     %s (%s)\n", b.f.state, what)
	}

	skipped := b.planner.SkippedRules()
	for _, r := range skipped {
		printf(w, "skipped rule %s (line %d): it tests %s, which only the sign-up event carries; backfill never adds its groups (%s)\n",
			r.Name, r.Line, strings.Join(r.Forms, " and "), strings.Join(r.Groups, ", "))
		if r.Stop && len(r.Later) > 0 {
			printf(w, "  caution: it has stop: true, so a user it matched at sign-up got no group from the later rules (%s); backfill evaluates them for every user and may add such groups\n",
				strings.Join(r.Later, ", "))
		}
	}
	if len(skipped) > 0 && len(rs.DefaultGroups()) > 0 {
		printf(w, "  caution: defaultGroups (%s) apply when no rule matches: a user whom only a skipped rule matched at sign-up may get them from backfill\n",
			strings.Join(rs.DefaultGroups(), ", "))
	}
	printf(w, "\n")
}

// list reads the members of the groups the rules select and every user,
// and plans user by user. A dry run prints the plan as it goes.
func (b *backfill) list(ctx context.Context) error {
	b.prog.start(func() string {
		b.mu.Lock()
		defer b.mu.Unlock()
		var c plan.Counts
		if b.pl != nil {
			c = b.pl.Counts
		}
		if b.pl == nil {
			return "listing: reading the members of the groups"
		}
		return fmt.Sprintf("listing: %d users read; %d users, %d memberships to add, %d to remove", c.Users, c.PlannedUsers, c.Planned, c.Removals)
	})
	defer b.prog.finish()
	pool, groups, members, err := b.readGroups(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.pl = b.planner.Start(pool)
	b.pl.RulesSHA256 = b.rulesSum
	b.mu.Unlock()
	record := func(pu plan.User) {
		pu.Done = b.st != nil && b.st.isDone(pu.Key())
		pu.Disabled = pu.Disabled && !b.f.includeDisabled
		u := b.planner.User(pool, pu)
		b.pl.Record(u)
		if !b.f.apply {
			b.printPlanned(&u)
		}
	}
	if b.f.user != "" {
		pu, err := b.read.userBySub(ctx, b.f.pool, b.f.user)
		if err != nil {
			return err
		}
		b.mu.Lock()
		record(pu)
		b.mu.Unlock()
		b.listed = true
		return nil
	}
	err = b.read.users(ctx, b.f.pool, func(out *cip.ListUsersOutput) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i := range out.Users {
			record(planUser(&out.Users[i], groups, members))
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.listed = true
	return nil
}

// printPlanned prints what the plan does for u, a line for its adds and
// one for its removals.
func (b *backfill) printPlanned(u *plan.UserPlan) {
	if wanted := u.Wanted(); len(wanted) > 0 {
		b.prog.printf(b.w, "would add  %s  %s  (%s)\n", b.userLabel(u), strings.Join(wanted, ", "), strings.Join(u.Rules, ", "))
	}
	if len(u.Remove) > 0 {
		b.prog.printf(b.w, "would remove  %s  %s  (managed; no rule selects them)\n", b.userLabel(u), strings.Join(u.Remove, ", "))
	}
}

// apply applies the plan and returns the exit code.
func (b *backfill) apply(ctx context.Context) int {
	e := b.e
	if b.st != nil {
		if err := b.st.save(); err != nil { // fail before any add, not after
			printf(e.stderr, "autogroup backfill: %v\n", err)
			return exitUsage
		}
	}
	var ok bool
	if b.applier, ok = b.newApplier(); !ok {
		return exitUsage
	}
	b.addStart = time.Now()
	b.prog.start(b.status)
	b.out = b.applier.Apply(ctx, b.pl)
	b.prog.finish()

	code := exitOK
	if b.out.Failed > 0 {
		code = exitProblems
	}
	if b.st != nil {
		if err := b.st.save(); err != nil {
			printf(e.stderr, "autogroup backfill: %v\n", err)
			code = max(code, exitProblems)
		}
	}
	if b.stopped() {
		b.interrupted = true
		how := "run again to continue (members already added are found as members)"
		if b.st != nil {
			how = fmt.Sprintf("run again with --state %s to continue", b.f.state)
		}
		printf(e.stderr, "autogroup backfill: interrupted: %s of %d done, %d left; %s\n",
			plural(b.out.UsersDone, "user", "users"), b.out.Users, b.out.Users-b.out.UsersDone, how)
		code = exitInterrupted
	}
	return code
}
