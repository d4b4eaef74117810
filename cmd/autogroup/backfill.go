package main

import (
	"context"
	"flag"
	"fmt"
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
	name:    "backfill",
	args:    "--pool POOL_ID [--rules FILE] [--apply [--via-queue URL]] [--rate N] [--state FILE] [--json] [--show-usernames]",
	summary: "add existing users to the groups the rules select (dry run first)",
	help: `Applies the ruleset to the users a user pool already has, as if each had
just confirmed their sign-up (PostConfirmation_ConfirmSignUp), and adds the
memberships they lack. It never removes one. Use it when the function is
attached to a pool that has users, after a change of the rules, or to repair
sign-ups whose group assignment failed.

It lists every user (ListUsers) and the members of every group the rules can
select (ListUsersInGroup), and evaluates the rules on each user's attributes,
with cognito:user_status set to the user's status. UNCONFIRMED users are
skipped (the function runs when they confirm), and so are users with a status
other than CONFIRMED, EXTERNAL_PROVIDER, FORCE_CHANGE_PASSWORD or
RESET_REQUIRED (users an administrator created never ran the function).

Rules that test clientId or clientMetadata are skipped: only the sign-up event
has them. The report names each, and says when skipping it can change what
other rules give: a skipped rule with stop: true, or defaultGroups, which apply
when no rule matches.

Without --apply it is a dry run: it prints the plan and changes nothing, one
line per user that lacks a membership, with its sub, the groups to add and
the rules that select them. With --apply it adds them with
AdminAddUserToGroup, at most --rate requests per second in all (Cognito
allows 25 per second for the account, shared with the function and other
admin updates), retrying throttled calls with backoff. The reads are paced
at the same rate on their own limiter. A group that does not exist is
reported and not attempted.

The report names users by sub only, since a username may be an email address
or a phone number; --show-usernames adds the username where it differs.

With --apply --via-queue URL it calls no AdminAddUserToGroup: it sends the
plan to the retry queue at URL, one message per user with the groups to add
(SendMessageBatch, 10 users a call), and the queue's consumer adds them at
its own rate in AWS; a user counts as done once the message is sent, and
--rate paces only the reads. Use it for large pools: a rerun plans only what
is still missing, so run it again once the queue drained to see what is left.

With --state FILE the users done are saved in FILE as the run goes (written
to a temporary file, then renamed). Ctrl-C finishes the users in flight, saves
FILE and exits 130 (press it again to stop at once); a run with the same FILE
skips the users it lists. FILE belongs to one pool and one ruleset: a run with
another pool or a changed ruleset refuses it. A run locks FILE (through
FILE.lock, created beside it and left there) until it ends: a second run with
the same FILE refuses at once. A dry run reads FILE but never writes it. A
second run without FILE is safe too: members already are members.

Standard error shows progress on a terminal. The report ends with a summary;
with --json the last line of standard output is one JSON object: pool, rules,
dryRun, viaQueue, users, usersEvaluated, usersSkipped, skippedByStatus,
usersResumed, planned, plannedUsers, alreadyMember, added, queued, failed,
failures (sub, username with --show-usernames, group, kind, message),
skippedRules, missingGroups, interrupted, seconds. Text taken from the pool
or the rules is printed with control and invisible characters escaped
(\x1b, \u202e).

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...).
IAM actions on the pool: cognito-idp:ListUsers and cognito-idp:ListUsersInGroup;
with --apply also cognito-idp:AdminAddUserToGroup, or with --via-queue instead
sqs:SendMessage on the queue (AWS_ENDPOINT_URL_SQS for an emulator).

Examples:
  autogroup backfill --pool us-east-1_EXAMPLE
  autogroup backfill --pool us-east-1_EXAMPLE --apply --state backfill.json
  autogroup backfill --pool us-east-1_EXAMPLE --apply --via-queue https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry`,
	exitHelp: `Exit codes:
  0    the plan printed (dry run), or every membership added (or queued)
  1    a membership could not be added (or queued): each is listed with the
       user's sub, the group, the kind of error and the message
  2    usage error or unloadable input: bad flags, no --pool, a ruleset that
       cannot be read or does not load, a --state file of another pool or
       ruleset or in use by another run, a user pool that cannot be read
  130  interrupted (SIGINT, SIGTERM): the users done are saved in --state
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var f backfillFlags
		fs.StringVar(&f.pool, "pool", "", "the user pool `POOL_ID`, such as us-east-1_EXAMPLE")
		f.rules = rulesFlag(fs)
		fs.BoolVar(&f.apply, "apply", false, "add the memberships (default: a dry run)")
		fs.Float64Var(&f.rate, "rate", defaultRate, "at most `N` AdminAddUserToGroup requests per second (default 10)")
		fs.StringVar(&f.state, "state", "", "save progress to `FILE`, and skip the users it lists")
		fs.StringVar(&f.viaQueue, "via-queue", "", "with --apply, send the plan to the retry queue at `URL` instead of adding")
		fs.BoolVar(&f.json, "json", false, "end with a JSON summary line")
		fs.BoolVar(&f.showUsernames, "show-usernames", false, "name users by username too, which may be an email address or a phone number")
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "backfill", "unexpected argument %q", args[0])
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
}

// failure is a membership that could not be added.
type failure = plan.Failure

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
	Failures        []failure      `json:"failures"`
	SkippedRules    []string       `json:"skippedRules"`
	MissingGroups   []string       `json:"missingGroups"`
	Interrupted     bool           `json:"interrupted"`
	Seconds         float64        `json:"seconds"`
}

// backfill is one run of the command: it reads the pool, plans with
// package plan, and applies the plan unless it is a dry run.
type backfill struct {
	e        *env
	f        backfillFlags
	name     string // the ruleset, as the report names it
	planner  *plan.Planner
	read     *reader
	api      cognitoAPI
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
		return usageError(e, "backfill", "--pool is required")
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
	b := &backfill{
		e: e, f: f, name: name, prog: newProgress(e.stderr), start: time.Now(),
		stopping: make(chan struct{}),
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
	api, ok := e.cognitoClient("backfill")
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
		printf(e.stdout, "the ruleset does not handle %s (triggerSources: %s): no user gets a group\n",
			rules.TriggerConfirmSignUp, strings.Join(rs.TriggerSources(), ", "))
		return b.finish(exitOK)
	}
	if err := b.list(readCtx); err != nil {
		if b.stopped() {
			printf(e.stderr, "autogroup backfill: interrupted while listing: nothing was changed\n")
			b.interrupted = true
			return b.finish(exitInterrupted)
		}
		printf(e.stderr, "autogroup backfill: cannot %v\n", err)
		return exitUsage
	}
	if !b.f.apply {
		return b.finish(exitOK)
	}
	return b.finish(b.apply(addCtx))
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
	w := b.e.stdout
	printf(w, "user pool: %s\n", b.f.pool)
	printf(w, "ruleset:   %s\n", b.name)
	if b.f.apply && b.f.viaQueue != "" {
		printf(w, "mode:      apply via the retry queue %s: a message per user, for its consumer to add\n", b.f.viaQueue)
	} else if b.f.apply {
		printf(w, "mode:      apply: at most %v AdminAddUserToGroup requests per second\n", b.f.rate)
	} else if b.f.viaQueue != "" {
		printf(w, "mode:      dry run: nothing is changed or sent (--apply sends the plan to %s)\n", b.f.viaQueue)
	} else {
		printf(w, "mode:      dry run: nothing is changed (--apply adds the memberships)\n")
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
		return fmt.Sprintf("listing: %d users, %d memberships to add", c.Users, c.Planned)
	})
	defer b.prog.finish()
	groups := b.planner.Groups()
	members, missing, err := b.read.memberships(ctx, b.f.pool, groups)
	if err != nil {
		return err
	}
	pool := plan.Pool{ID: b.f.pool, MissingGroups: missing}
	b.mu.Lock()
	b.pl = b.planner.Start(pool)
	b.mu.Unlock()
	err = b.read.users(ctx, b.f.pool, func(out *cip.ListUsersOutput) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i := range out.Users {
			pu := planUser(&out.Users[i], groups, members)
			pu.Done = b.st != nil && b.st.isDone(pu.Key())
			u := b.planner.User(pool, pu)
			b.pl.Record(u)
			if wanted := u.Wanted(); len(wanted) > 0 && !b.f.apply {
				b.prog.printf(b.e.stdout, "would add  %s  %s  (%s)\n", b.userLabel(&u), strings.Join(wanted, ", "), strings.Join(u.Rules, ", "))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.listed = true
	return nil
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
