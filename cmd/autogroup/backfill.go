package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/time/rate"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

var backfillCmd = &command{
	name:    "backfill",
	args:    "--pool POOL_ID [--rules FILE] [--apply] [--rate N] [--state FILE] [--json]",
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
line per user that lacks a membership, with its sub (and its username when
that differs and is not an address), the groups to add and the rules that
select them. With --apply it adds them with AdminAddUserToGroup, at most
--rate requests per second in all (Cognito allows 25 per second for the
account, shared with the function and other admin updates), retrying
throttled calls with backoff. The reads are paced at the same rate on their
own limiter. A group that does not exist is reported and not attempted.

With --state FILE the users done are saved in FILE as the run goes (written
to a temporary file, then renamed). Ctrl-C finishes the users in flight, saves
FILE and exits 130 (press it again to stop at once); a run with the same FILE
skips the users it lists. FILE belongs to one pool and one ruleset: a run with
another pool or a changed ruleset refuses it. A dry run reads FILE but never
writes it. A second run without FILE is safe too: members already are members.

Standard error shows progress on a terminal. The report ends with a summary;
with --json the last line of standard output is one JSON object: pool, rules,
dryRun, users, usersEvaluated, usersSkipped, skippedByStatus, usersResumed,
planned, plannedUsers, alreadyMember, added, failed, failures (sub, username,
group, kind, message), skippedRules, missingGroups, interrupted, seconds.

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...).
IAM actions on the pool: cognito-idp:ListUsers and cognito-idp:ListUsersInGroup;
with --apply also cognito-idp:AdminAddUserToGroup.

Examples:
  autogroup backfill --pool us-east-1_EXAMPLE
  autogroup backfill --pool us-east-1_EXAMPLE --apply --state backfill.json`,
	exitHelp: `Exit codes:
  0    the plan printed (dry run), or every membership added
  1    a membership could not be added: each is listed with the user's sub,
       the group, the kind of error and the message
  2    usage error or unloadable input: bad flags, no --pool, a ruleset that
       cannot be read or does not load, a --state file of another pool or
       ruleset, a user pool that cannot be read
  130  interrupted (SIGINT, SIGTERM): the users done are saved in --state
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var f backfillFlags
		fs.StringVar(&f.pool, "pool", "", "the user pool `POOL_ID`, such as us-east-1_EXAMPLE")
		f.rules = rulesFlag(fs)
		fs.BoolVar(&f.apply, "apply", false, "add the memberships (default: a dry run)")
		fs.Float64Var(&f.rate, "rate", defaultRate, "at most `N` AdminAddUserToGroup requests per second (default 10)")
		fs.StringVar(&f.state, "state", "", "save progress to `FILE`, and skip the users it lists")
		fs.BoolVar(&f.json, "json", false, "end with a JSON summary line")
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
	// backfillWorkers is how many users are added at once; the rate
	// limiter, not this, bounds the requests per second.
	backfillWorkers = 4
	// saveEvery and saveInterval bound the work redone after a crash: the
	// state is saved after this many users or this long, whichever first.
	saveEvery    = 50
	saveInterval = time.Second
)

// addOptions are the membership options of the adds: a user's Add may wait
// for the limiter and back off on throttling for much longer than a sign-up.
var addOptions = membership.Options{
	Concurrency: 8,
	Budget:      60 * time.Second,
	MaxAttempts: 8,
	BaseDelay:   200 * time.Millisecond,
	MaxDelay:    5 * time.Second,
}

type backfillFlags struct {
	pool, state string
	rules       *string
	apply, json bool
	rate        float64
}

// evaluatedStatuses are the user statuses whose users are evaluated.
var evaluatedStatuses = []types.UserStatusType{
	types.UserStatusTypeConfirmed,
	types.UserStatusTypeExternalProvider,
	types.UserStatusTypeForceChangePassword,
	types.UserStatusTypeResetRequired,
}

// planItem is one user that lacks memberships.
type planItem struct {
	username, sub string
	label         string   // how the report names the user
	groups        []string // the missing groups, in the rules' order
	rules         []string // the rules that matched, or "defaultGroups"
}

// failure is a membership that could not be added.
type failure struct {
	Sub      string `json:"sub"`
	Username string `json:"username,omitempty"`
	Group    string `json:"group"`
	Kind     string `json:"kind"`
	Message  string `json:"message"`
}

// backfillSummary is the JSON summary line.
type backfillSummary struct {
	Pool            string         `json:"pool"`
	Rules           string         `json:"rules"`
	DryRun          bool           `json:"dryRun"`
	Users           int            `json:"users"`
	UsersEvaluated  int            `json:"usersEvaluated"`
	UsersSkipped    int            `json:"usersSkipped"`
	SkippedByStatus map[string]int `json:"skippedByStatus"`
	UsersResumed    int            `json:"usersResumed"`
	Planned         int            `json:"planned"`
	PlannedUsers    int            `json:"plannedUsers"`
	AlreadyMember   int            `json:"alreadyMember"`
	Added           int            `json:"added"`
	Failed          int            `json:"failed"`
	Failures        []failure      `json:"failures"`
	SkippedRules    []string       `json:"skippedRules"`
	MissingGroups   []string       `json:"missingGroups"`
	Interrupted     bool           `json:"interrupted"`
	Seconds         float64        `json:"seconds"`
}

// backfill is one run of the command.
type backfill struct {
	e        *env
	f        backfillFlags
	eval     *rules.Ruleset // the ruleset without the skipped rules
	read     *reader
	api      cognitoAPI
	st       *backfillState // nil without --state
	prog     *progress
	start    time.Time
	stopping chan struct{} // closed at the first interrupt

	members map[string]map[string]bool // group -> usernames
	missing map[string]bool            // groups that do not exist
	plan    []planItem

	mu        sync.Mutex // guards what follows; the progress line reads it
	sum       backfillSummary
	usersDone int // users whose adds ended, this run
	sinceSave int
	lastSave  time.Time
	addStart  time.Time
}

func (e *env) backfill(f backfillFlags) int {
	if f.pool == "" {
		return usageError(e, "backfill", "--pool is required")
	}
	if !(f.rate > 0) || math.IsInf(f.rate, 0) {
		return usageError(e, "backfill", "--rate must be a positive number of requests per second, found %v", f.rate)
	}
	name, src, rs, ok := e.loadRulesSource("backfill", *f.rules)
	if !ok {
		return exitUsage
	}
	b := &backfill{
		e: e, f: f, prog: newProgress(e.stderr), start: time.Now(),
		stopping: make(chan struct{}),
		members:  map[string]map[string]bool{},
		missing:  map[string]bool{},
	}
	b.sum = backfillSummary{
		Pool: f.pool, Rules: name, DryRun: !f.apply,
		SkippedByStatus: map[string]int{}, Failures: []failure{},
		SkippedRules: []string{}, MissingGroups: []string{},
	}
	if f.state != "" {
		st, err := loadState(f.state, f.pool, rulesHash(src))
		if err != nil {
			fmt.Fprintf(e.stderr, "autogroup backfill: %v\n", err)
			return exitUsage
		}
		b.st = st
	}
	if f.rate > quotaRate {
		fmt.Fprintf(e.stderr, "autogroup backfill: warning: --rate %v is above Cognito's quota of %v AdminAddUserToGroup requests per second, which the function shares: expect throttling\n", f.rate, quotaRate)
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

	skipped := eventRules(rs)
	b.eval = rs.Without(skipped...)
	b.sum.SkippedRules = append(b.sum.SkippedRules, skipped...)
	b.header(rs, skipped)
	if !rs.Handles(rules.TriggerConfirmSignUp) {
		fmt.Fprintf(e.stdout, "the ruleset does not handle %s (triggerSources: %s): no user gets a group\n",
			rules.TriggerConfirmSignUp, strings.Join(rs.TriggerSources(), ", "))
		return b.finish(exitOK)
	}
	if err := b.list(readCtx); err != nil {
		if b.interrupted() {
			fmt.Fprintf(e.stderr, "autogroup backfill: interrupted while listing: nothing was changed\n")
			b.sum.Interrupted = true
			return b.finish(exitInterrupted)
		}
		fmt.Fprintf(e.stderr, "autogroup backfill: cannot %v\n", err)
		return exitUsage
	}
	if !b.f.apply {
		return b.finish(exitOK)
	}
	code := b.apply(addCtx)
	return b.finish(code)
}

// interrupted reports whether an interrupt was received.
func (b *backfill) interrupted() bool {
	select {
	case <-b.stopping:
		return true
	default:
		return false
	}
}

// eventRules returns the rules that test what only the sign-up event
// carries (clientId, clientMetadata): backfill cannot evaluate them.
func eventRules(rs *rules.Ruleset) []string {
	var names []string
	for _, r := range rs.Rules() {
		if slices.ContainsFunc(r.Forms, isEventForm) {
			names = append(names, r.Name)
		}
	}
	return names
}

func isEventForm(form string) bool { return form == "clientId" || form == "clientMetadata" }

// header prints what the run does, and the rules it skips and what that
// may change.
func (b *backfill) header(rs *rules.Ruleset, skipped []string) {
	w := b.e.stdout
	fmt.Fprintf(w, "user pool: %s\n", b.f.pool)
	fmt.Fprintf(w, "ruleset:   %s\n", b.sum.Rules)
	if b.f.apply {
		fmt.Fprintf(w, "mode:      apply: at most %v AdminAddUserToGroup requests per second\n", b.f.rate)
	} else {
		fmt.Fprintf(w, "mode:      dry run: nothing is changed (--apply adds the memberships)\n")
	}
	if b.st != nil {
		what := "new"
		if n := b.st.doneCount(); n > 0 {
			what = fmt.Sprintf("%s done in an earlier run, skipped", plural(n, "user", "users"))
		}
		if !b.f.apply {
			what += "; a dry run does not write it"
		}
		fmt.Fprintf(w, "state:     %s (%s)\n", b.f.state, what)
	}

	infos := rs.Rules()
	for i, r := range infos {
		if !slices.Contains(skipped, r.Name) {
			continue
		}
		var event []string
		for _, form := range r.Forms {
			if isEventForm(form) {
				event = append(event, form)
			}
		}
		fmt.Fprintf(w, "skipped rule %s (line %d): it tests %s, which only the sign-up event carries; backfill never adds its groups (%s)\n",
			r.Name, r.Line, strings.Join(event, " and "), strings.Join(r.Groups, ", "))
		if r.Stop {
			var later []string
			for _, l := range infos[i+1:] {
				later = append(later, l.Name)
			}
			if len(later) > 0 {
				fmt.Fprintf(w, "  caution: it has stop: true, so a user it matched at sign-up got no group from the later rules (%s); backfill evaluates them for every user and may add such groups\n",
					strings.Join(later, ", "))
			}
		}
	}
	if len(skipped) > 0 && len(rs.DefaultGroups()) > 0 {
		fmt.Fprintf(w, "  caution: defaultGroups (%s) apply when no rule matches: a user whom only a skipped rule matched at sign-up may get them from backfill\n",
			strings.Join(rs.DefaultGroups(), ", "))
	}
	fmt.Fprintln(w)
}

// list reads the members of the groups the rules select and every user,
// and computes the plan. A dry run prints it as it goes.
func (b *backfill) list(ctx context.Context) error {
	b.prog.start(func() string {
		b.mu.Lock()
		defer b.mu.Unlock()
		return fmt.Sprintf("listing: %d users, %d memberships to add", b.sum.Users, b.sum.Planned)
	})
	defer b.prog.finish()
	for _, g := range b.eval.GroupNames() {
		m, err := b.read.members(ctx, b.f.pool, g)
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			// The group, or the pool: ListUsers tells which below.
			b.missing[g] = true
			m, err = map[string]bool{}, nil
		}
		if err != nil {
			return err
		}
		b.members[g] = m
	}
	err := b.read.users(ctx, b.f.pool, func(out *cip.ListUsersOutput) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i := range out.Users {
			b.consider(&out.Users[i])
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range b.eval.GroupNames() {
		if b.missing[g] {
			b.sum.MissingGroups = append(b.sum.MissingGroups, g)
		}
	}
	return nil
}

// consider evaluates the rules for one user and plans its missing
// memberships; b.mu is held.
func (b *backfill) consider(u *types.UserType) {
	b.sum.Users++
	username := aws.ToString(u.Username)
	attrs := make(map[string]string, len(u.Attributes)+1)
	for _, a := range u.Attributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	status := u.UserStatus
	attrs["cognito:user_status"] = string(status)
	sub := attrs["sub"]
	key := sub
	if key == "" {
		key = "username:" + username
	}
	if !slices.Contains(evaluatedStatuses, status) {
		s := string(status)
		if s == "" {
			s = "(none)"
		}
		b.sum.UsersSkipped++
		b.sum.SkippedByStatus[s]++
		return
	}
	if b.st != nil && b.st.isDone(key) {
		b.sum.UsersResumed++
		return
	}
	b.sum.UsersEvaluated++
	in := rules.Input{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: attrs}
	var missing []string
	for _, g := range b.eval.Groups(in) {
		if b.members[g][username] {
			b.sum.AlreadyMember++
		} else {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return
	}
	item := planItem{username: username, sub: key, label: userLabel(username, sub), groups: missing}
	x := b.eval.Explain(in)
	for _, r := range x.Rules {
		if r.Matched {
			item.rules = append(item.rules, r.Name)
		}
	}
	if x.DefaultApplied {
		item.rules = append(item.rules, "defaultGroups")
	}
	b.plan = append(b.plan, item)
	b.sum.Planned += len(missing)
	b.sum.PlannedUsers++
	if !b.f.apply {
		b.prog.printf(b.e.stdout, "would add  %s  %s  (%s)\n", item.label, strings.Join(missing, ", "), strings.Join(item.rules, ", "))
	}
}

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

// apply adds the planned memberships and returns the exit code.
func (b *backfill) apply(ctx context.Context) int {
	e := b.e
	if b.st != nil {
		if err := b.st.save(); err != nil { // fail before any add, not after
			fmt.Fprintf(e.stderr, "autogroup backfill: %v\n", err)
			return exitUsage
		}
	}
	limiter := rate.NewLimiter(rate.Limit(b.f.rate), 1)
	o := addOptions
	o.Wait = limiter.Wait
	adder := membership.NewAdder(b.api, o)

	b.addStart, b.lastSave = time.Now(), time.Now()
	b.prog.start(b.status)
	jobs := make(chan *planItem)
	var wg sync.WaitGroup
	for range backfillWorkers {
		wg.Go(func() {
			for item := range jobs {
				b.add(ctx, adder, item)
			}
		})
	}
feed:
	for i := range b.plan {
		select {
		case jobs <- &b.plan[i]:
		case <-b.stopping:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	b.prog.finish()

	code := exitOK
	if b.sum.Failed > 0 {
		code = exitProblems
	}
	if b.st != nil {
		if err := b.st.save(); err != nil {
			fmt.Fprintf(e.stderr, "autogroup backfill: %v\n", err)
			code = max(code, exitProblems)
		}
	}
	if b.interrupted() {
		b.sum.Interrupted = true
		left := len(b.plan) - b.usersDone
		how := "run again to continue (members already added are found as members)"
		if b.st != nil {
			how = fmt.Sprintf("run again with --state %s to continue", b.f.state)
		}
		fmt.Fprintf(e.stderr, "autogroup backfill: interrupted: %s of %d done, %d left; %s\n",
			plural(b.usersDone, "user", "users"), len(b.plan), left, how)
		code = exitInterrupted
	}
	return code
}

// add adds one user to its missing groups and records the outcome.
func (b *backfill) add(ctx context.Context, adder *membership.Adder, item *planItem) {
	var try, missing []string
	for _, g := range item.groups {
		if b.missing[g] {
			missing = append(missing, g)
		} else {
			try = append(try, g)
		}
	}
	results := adder.Add(ctx, b.f.pool, item.username, try)

	b.mu.Lock()
	defer b.mu.Unlock()
	var added, failed []string
	fail := func(group, kind, msg string) {
		b.sum.Failed++
		failed = append(failed, group+": "+kind)
		username := item.username
		if username == item.sub || strings.Contains(username, "@") {
			username = ""
		}
		b.sum.Failures = append(b.sum.Failures, failure{Sub: item.sub, Username: username, Group: group, Kind: kind, Message: msg})
	}
	for _, r := range results {
		if r.Kind == membership.KindOK {
			b.sum.Added++
			added = append(added, r.Group)
		} else {
			fail(r.Group, string(r.Kind), r.Err.Error())
		}
	}
	for _, g := range missing {
		fail(g, string(membership.KindGroupNotFound),
			fmt.Sprintf("add user to group %q: group does not exist in user pool %s (ListUsersInGroup answered ResourceNotFoundException); not attempted", g, b.f.pool))
	}
	b.usersDone++
	if len(failed) == 0 {
		b.prog.printf(b.e.stdout, "added      %s  %s  (%s)\n", item.label, strings.Join(added, ", "), strings.Join(item.rules, ", "))
		if b.st != nil {
			b.st.markDone(item.sub)
			b.sinceSave++
			if b.sinceSave >= saveEvery || time.Since(b.lastSave) >= saveInterval {
				if err := b.st.save(); err != nil {
					b.prog.printf(b.e.stderr, "autogroup backfill: %v\n", err)
				}
				b.sinceSave, b.lastSave = 0, time.Now()
			}
		}
		return
	}
	line := "failed     " + item.label + "  " + strings.Join(failed, ", ")
	if len(added) > 0 {
		line += "; added " + strings.Join(added, ", ")
	}
	b.prog.printf(b.e.stdout, "%s\n", line)
}

// status is the progress line of the adds.
func (b *backfill) status() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	done := b.sum.Added + b.sum.Failed
	elapsed := time.Since(b.addStart)
	s := fmt.Sprintf("adding: %d/%d memberships, %d/%d users", done, b.sum.Planned, b.usersDone, len(b.plan))
	if b.sum.Failed > 0 {
		s += fmt.Sprintf(", %d failed", b.sum.Failed)
	}
	if done > 0 && elapsed > 0 {
		perSecond := float64(done) / elapsed.Seconds()
		left := time.Duration(float64(b.sum.Planned-done) / perSecond * float64(time.Second))
		s += fmt.Sprintf(", %.1f/s, ETA %s", perSecond, shortDuration(left))
	}
	return s
}

// finish prints the summary and returns code.
func (b *backfill) finish(code int) int {
	w := b.e.stdout
	s := &b.sum
	s.Seconds = math.Round(time.Since(b.start).Seconds()*10) / 10
	if len(b.plan) > 0 {
		fmt.Fprintln(w) // after the plan's lines
	}
	skipped := ""
	if s.UsersSkipped > 0 {
		var parts []string
		for _, st := range sortedKeys(s.SkippedByStatus) {
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
		if n := s.Planned - s.Added - s.Failed; n > 0 {
			left = fmt.Sprintf(", %d not attempted", n)
		}
		fmt.Fprintf(w, "result:      %d added, %d failed%s, in %s\n",
			s.Added, s.Failed, left, time.Since(b.start).Round(100*time.Millisecond))
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
		fmt.Fprintf(b.e.stderr, "autogroup backfill: %s could not be added (listed above); run again once the cause is fixed%s\n",
			plural(len(s.Failures), "membership", "memberships"), note)
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

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
