package plan

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// DefaultWorkers is how many users an Applier adds at once when
// Applier.Workers is zero; the rate limiter, not this, bounds the requests
// per second.
const DefaultWorkers = 4

// defaultAddOptions are the membership options of the adds when
// Applier.Options is nil: a user's Add may wait for the limiter and back
// off on throttling for much longer than a sign-up may.
var defaultAddOptions = membership.Options{
	Concurrency: 8,
	Budget:      60 * time.Second,
	MaxAttempts: 8,
	BaseDelay:   200 * time.Millisecond,
	MaxDelay:    5 * time.Second,
}

// Applier adds the memberships of a plan with AdminAddUserToGroup (through
// membership.Adder, which retries what may be retried), and removes those
// of UserPlan.Remove with AdminRemoveUserFromGroup (membership.Remover), at
// most Rate requests per second in all. Set its fields, then call Apply; an Applier
// runs one Apply at a time, and Progress may be called meanwhile from any
// goroutine.
type Applier struct {
	// API makes the calls.
	API membership.API
	// RemoveAPI makes the removals; nil means API, when it implements
	// membership.RemoveAPI. A plan with removals and no RemoveAPI fails
	// them with kind unknown.
	RemoveAPI membership.RemoveAPI
	// Rate is the most AdminAddUserToGroup requests per second, retries
	// included; zero or less means no limit.
	Rate float64
	// Workers is how many users are added at once. Zero means
	// DefaultWorkers.
	Workers int
	// Options are the membership options of each user's adds; nil means
	// a 60s budget per user, 8 attempts per group and backoff from 200ms
	// to 5s. Their Wait is replaced by the rate limiter's.
	Options *membership.Options
	// Stop, when closed, stops Apply from starting more users; those in
	// flight finish. Cancel Apply's context to cut those short too.
	Stop <-chan struct{}
	// OnUser, if set, is called after each user's adds end. Calls are
	// serialized, and Progress counts the user by then.
	OnUser func(UserResult)

	mu   sync.Mutex // guards prog and fail
	prog Progress
	fail []Failure
	cb   sync.Mutex // serializes OnUser
}

// UserResult is the outcome for one user of the plan.
type UserResult struct {
	// User is the user's entry in the plan.
	User *UserPlan
	// Added are the groups the user was added to (or already belonged to
	// by then), in the order of User.Add.
	Added []string
	// Removed are the groups the user was removed from (or no longer
	// belonged to by then), in the order of User.Remove.
	Removed []string
	// Queued are the groups put on the retry queue for the consumer to
	// add (QueueApplier), in the order of User.Add.
	Queued []string
	// Failures are the memberships that could not be added: those of
	// User.Add in order, then the groups missing from the pool.
	Failures []Failure
}

// Failure is a membership that could not be added. It names the user by
// key (see User.Key), and by username only when that differs and does not
// look like an email address.
type Failure struct {
	Sub      string `json:"sub"`
	Username string `json:"username,omitempty"`
	Group    string `json:"group"`
	// Op is "remove" for a removal; empty for an add.
	Op string `json:"op,omitempty"`
	// Kind is a membership.Kind, such as "access_denied".
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// failure returns a Failure of the user: named by key, and by username only
// when that differs and does not look like an email address.
func (u *UserPlan) failure(group, kind, msg string) Failure {
	key, username := u.Key(), u.Username
	if username == key || strings.Contains(username, "@") {
		username = ""
	}
	return Failure{Sub: key, Username: username, Group: group, Kind: kind, Message: msg}
}

// missingGroupFailures returns a failure of kind group_not_found for each of
// the user's groups missing from the pool, which are never attempted.
func (u *UserPlan) missingGroupFailures(pool string) []Failure {
	var out []Failure
	for _, s := range u.Skipped {
		if s.Reason == ReasonGroupMissing {
			out = append(out, u.failure(s.Group, string(membership.KindGroupNotFound),
				fmt.Sprintf("add user to group %q: group does not exist in user pool %s (ListUsersInGroup answered ResourceNotFoundException); not attempted", s.Group, pool)))
		}
	}
	return out
}

// Progress counts an Apply so far.
type Progress struct {
	// Users counts the users of the plan with changes, UsersDone those
	// whose adds ended.
	Users     int `json:"users"`
	UsersDone int `json:"usersDone"`
	// Memberships counts the memberships planned (Counts.Planned), Added,
	// Queued (QueueApplier) and Failed those that ended.
	Memberships int `json:"memberships"`
	Added       int `json:"added"`
	Queued      int `json:"queued,omitempty"`
	Failed      int `json:"failed"`
	// Removals counts the removals planned, Removed those done; a failed
	// removal counts in Failed.
	Removals int `json:"removals"`
	Removed  int `json:"removed"`
}

// Outcome is the result of Apply.
type Outcome struct {
	Progress
	// Failures lists every failed membership, in the order they ended.
	Failures []Failure `json:"failures"`
}

// Progress returns the counts of the current or last Apply.
func (a *Applier) Progress() Progress {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.prog
}

// Apply adds the users of p to the groups in their Add, in plan order,
// Workers users at once, and reports a group missing from the pool as a
// failure of kind group_not_found without attempting it. It returns when
// every user started has ended: all of them, unless Stop was closed.
func (a *Applier) Apply(ctx context.Context, p *Plan) Outcome {
	o := defaultAddOptions
	if a.Options != nil {
		o = *a.Options
	}
	limit := rate.Inf
	if a.Rate > 0 {
		limit = rate.Limit(a.Rate)
	}
	o.Wait = rate.NewLimiter(limit, 1).Wait
	adder := membership.NewAdder(a.API, o)
	rmAPI := a.RemoveAPI
	if rmAPI == nil {
		rmAPI, _ = a.API.(membership.RemoveAPI)
	}
	var remover *membership.Remover
	if rmAPI != nil {
		remover = membership.NewRemover(rmAPI, o)
	}
	workers := a.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}

	var todo []*UserPlan
	a.mu.Lock()
	a.prog, a.fail = Progress{}, []Failure{}
	for i := range p.Users {
		if u := &p.Users[i]; u.Changes() {
			todo = append(todo, u)
			a.prog.Users++
			a.prog.Memberships += len(u.Wanted())
			a.prog.Removals += len(u.Remove)
		}
	}
	a.mu.Unlock()

	jobs := make(chan *UserPlan)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for u := range jobs {
				a.user(ctx, adder, remover, p.Pool, u)
			}
		})
	}
feed:
	for _, u := range todo {
		// Stop first: when a worker is also ready, select would pick
		// either at random, and start a user after Stop was closed.
		select {
		case <-a.Stop:
			break feed
		default:
		}
		select {
		case jobs <- u:
		case <-a.Stop:
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	a.mu.Lock()
	defer a.mu.Unlock()
	return Outcome{Progress: a.prog, Failures: a.fail}
}

// user adds one user, then removes them, and records the outcome.
func (a *Applier) user(ctx context.Context, adder *membership.Adder, remover *membership.Remover, pool string, u *UserPlan) {
	results := adder.Add(ctx, pool, u.Username, u.Add)
	var removals []membership.Result
	if len(u.Remove) > 0 && remover != nil {
		removals = remover.Remove(ctx, pool, u.Username, u.Remove)
	}

	res := UserResult{User: u}
	if len(u.Remove) > 0 && remover == nil {
		for _, g := range u.Remove {
			f := u.failure(g, string(membership.KindUnknown), fmt.Sprintf("remove user from group %q: no client for AdminRemoveUserFromGroup; not attempted", g))
			f.Op = "remove"
			res.Failures = append(res.Failures, f)
		}
	}
	for _, r := range removals {
		if r.Kind == membership.KindOK {
			res.Removed = append(res.Removed, r.Group)
		} else {
			f := u.failure(r.Group, string(r.Kind), r.Err.Error())
			f.Op = "remove"
			res.Failures = append(res.Failures, f)
		}
	}
	for _, r := range results {
		if r.Kind == membership.KindOK {
			res.Added = append(res.Added, r.Group)
		} else {
			res.Failures = append(res.Failures, u.failure(r.Group, string(r.Kind), r.Err.Error()))
		}
	}
	res.Failures = append(res.Failures, u.missingGroupFailures(pool)...)

	a.cb.Lock()
	defer a.cb.Unlock()
	a.mu.Lock()
	a.prog.UsersDone++
	a.prog.Added += len(res.Added)
	a.prog.Removed += len(res.Removed)
	a.prog.Failed += len(res.Failures)
	a.fail = append(a.fail, res.Failures...)
	a.mu.Unlock()
	if a.OnUser != nil {
		a.OnUser(res)
	}
}
