// Package poolcheck is the AppConfig validator's second check of a ruleset
// version, after it loads: the user pool the functions serve holds every
// group the version can be known to select (rules.Ruleset.KnownGroups). A
// version naming a group nobody created would fail the sign-ups that select
// it; the validator is the one gate every deployment passes, however it was
// published. It is apart from package rulesource, which every function
// imports, because only the validator makes these calls.
package poolcheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// GroupGetter is the Cognito calls a Check makes: GetGroup per group, or
// ListGroups for many. *cognitoidentityprovider.Client implements it.
type GroupGetter interface {
	GetGroup(ctx context.Context, in *cip.GetGroupInput, optFns ...func(*cip.Options)) (*cip.GetGroupOutput, error)
	ListGroups(ctx context.Context, in *cip.ListGroupsInput, optFns ...func(*cip.Options)) (*cip.ListGroupsOutput, error)
}

// Options bound a Check. Zero fields take the defaults, chosen
// for AppConfig, which waits 15 s for a validator, its start included, and
// for GetGroup's quota category (15 to 20 calls a second per account,
// shared with the other group reads and CreateGroup).
type Options struct {
	// Budget is the time the check may take from the invocation's start:
	// 8 s by default.
	Budget time.Duration
	// Margin is kept before the context's deadline (the Lambda
	// invocation's), to answer: 500 ms by default.
	Margin time.Duration
	// Concurrency bounds the calls in flight: 4 by default.
	Concurrency int
	// Rate bounds the calls a second: 10 by default.
	Rate float64
	// Backoff is the wait before the one retry of a call that failed with
	// a retryable error (throttling, a server or network error): 250 ms by
	// default.
	Backoff time.Duration
	// ListAbove is how many known groups a ruleset may have before the
	// check lists the pool's groups (ListGroups, 60 a page) rather than
	// asking for each (GetGroup): 20 by default. Within the default budget
	// and rate, GetGroup covers about 80 groups, ListGroups a pool of
	// about 4,800.
	ListAbove int
}

// Check checks that a user pool holds every group a ruleset can be
// known to select (rules.Ruleset.KnownGroups), with one GetGroup call per
// group. It fails closed: a group it cannot check, for any reason, is a
// problem as a missing one is. Build it with New; it is safe for
// concurrent use.
type Check struct {
	api    GroupGetter
	poolID string
	o      Options
}

// New returns the check of the pool poolID through api.
func New(api GroupGetter, poolID string, o Options) *Check {
	o.Budget = cmp.Or(o.Budget, 8*time.Second)
	o.Margin = cmp.Or(o.Margin, 500*time.Millisecond)
	o.Concurrency = cmp.Or(o.Concurrency, 4)
	o.Rate = cmp.Or(o.Rate, 10)
	o.Backoff = cmp.Or(o.Backoff, 250*time.Millisecond)
	o.ListAbove = cmp.Or(o.ListAbove, 20)
	return &Check{api: api, poolID: poolID, o: o}
}

// PoolID returns the id of the pool checked.
func (c *Check) PoolID() string { return c.poolID }

// Error refuses a version: groups the pool lacks, or that could not be
// checked.
type Error struct {
	// Name and Version name the ruleset, as LoadError's do.
	Name, Version string
	PoolID        string
	// Problems are one line each, in the order of KnownGroups.
	Problems []string
}

// Error lists every problem, one per line, after "ruleset NAME version V
// refused by the check of user pool POOL (N problems):".
func (e *Error) Error() string {
	var b strings.Builder
	n := fmt.Sprintf("%d problems", len(e.Problems))
	if len(e.Problems) == 1 {
		n = "1 problem"
	}
	fmt.Fprintf(&b, "ruleset %s version %s refused by the check of user pool %s (%s):", e.Name, e.Version, e.PoolID, n)
	for _, p := range e.Problems {
		b.WriteString("\n" + p)
	}
	return b.String()
}

// Run checks the groups of rs, the ruleset of ev, until the earlier of
// start plus Budget and ctx's deadline less Margin. It returns the number
// of groups checked, and nil when the pool holds them all, else a
// *Error naming each group it lacks, with what selects it and where
// (rule partners, 12:15), and each it could not check, with the reason.
func (c *Check) Run(ctx context.Context, start time.Time, ev rulesource.ValidatorEvent, rs *rules.Ruleset) (int, error) {
	groups, _ := rs.KnownGroups()
	deadline := start.Add(c.o.Budget)
	if d, ok := ctx.Deadline(); ok && d.Add(-c.o.Margin).Before(deadline) {
		deadline = d.Add(-c.o.Margin)
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	limiter := rate.NewLimiter(rate.Limit(c.o.Rate), c.o.Concurrency)
	if len(groups) > c.o.ListAbove {
		problems := c.list(ctx, limiter, groups)
		if len(problems) == 0 {
			return len(groups), nil
		}
		return len(groups), &Error{Name: ev.Name(), Version: ev.ConfigurationVersion, PoolID: c.poolID, Problems: problems}
	}
	problems := make([]string, len(groups))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.o.Concurrency, len(groups)) {
		wg.Go(func() {
			for i := range next {
				problems[i] = c.check(ctx, limiter, groups[i])
			}
		})
	}
	for i := range groups {
		next <- i
	}
	close(next)
	wg.Wait()
	if problems = slices.DeleteFunc(problems, func(p string) bool { return p == "" }); len(problems) == 0 {
		return len(groups), nil
	}
	return len(groups), &Error{Name: ev.Name(), Version: ev.ConfigurationVersion, PoolID: c.poolID, Problems: problems}
}

// where says what selects g and where: "rule partners, 12:15".
func where(g rules.KnownGroup) []string {
	var out []string
	for _, s := range g.SelectedBy {
		out = append(out, fmt.Sprintf("%s, %d:%d", s, s.Line, s.Column))
	}
	return out
}

// missing is the problem of a group the pool lacks.
func (c *Check) missing(g rules.KnownGroup) string {
	return fmt.Sprintf("group %q (%s) does not exist in user pool %s: create it (autogroup check-pool --create-missing-groups) before deploying this version",
		g.Name, strings.Join(where(g), "; "), c.poolID)
}

// call makes one call under limiter, and once more after a retryable
// failure; it returns the kind and error of the last attempt.
func (c *Check) call(ctx context.Context, limiter *rate.Limiter, do func(context.Context) error) (membership.Kind, error) {
	for attempt := 1; ; attempt++ {
		if err := limiter.Wait(ctx); err != nil {
			return membership.KindTimeout, err
		}
		err := do(ctx)
		kind := membership.Classify(err)
		if kind == membership.KindOK || attempt == 2 || !kind.Retryable() {
			return kind, err
		}
		select {
		case <-time.After(c.o.Backoff):
		case <-ctx.Done():
			return membership.KindTimeout, err
		}
	}
}

// check calls GetGroup for g and returns "" when the group exists, else
// the problem.
func (c *Check) check(ctx context.Context, limiter *rate.Limiter, g rules.KnownGroup) string {
	kind, err := c.call(ctx, limiter, func(ctx context.Context) error {
		_, err := c.api.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: aws.String(c.poolID), GroupName: aws.String(g.Name)})
		return err
	})
	switch kind {
	case membership.KindOK:
		return ""
	case membership.KindGroupNotFound:
		return c.missing(g)
	}
	return c.cannot(fmt.Sprintf("group %q (%s)", g.Name, strings.Join(where(g), "; ")), kind, err)
}

// list reads the pool's groups with ListGroups, page by page, and returns
// the problems: each known group the pool lacks, or the one reason the
// groups could not be listed.
func (c *Check) list(ctx context.Context, limiter *rate.Limiter, groups []rules.KnownGroup) []string {
	have := map[string]bool{}
	var next *string
	for {
		var out *cip.ListGroupsOutput
		kind, err := c.call(ctx, limiter, func(ctx context.Context) error {
			var err error
			out, err = c.api.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: aws.String(c.poolID), Limit: aws.Int32(60), NextToken: next})
			return err
		})
		if kind != membership.KindOK {
			return []string{c.cannot(fmt.Sprintf("the %d groups the version selects (listing the pool's groups)", len(groups)), kind, err)}
		}
		for _, g := range out.Groups {
			have[aws.ToString(g.GroupName)] = true
		}
		if next = out.NextToken; aws.ToString(next) == "" {
			break
		}
	}
	var problems []string
	for _, g := range groups {
		if !have[g.Name] {
			problems = append(problems, c.missing(g))
		}
	}
	return problems
}

// cannot says that what (a group, with what selects it) could not be
// checked, and why.
func (c *Check) cannot(what string, kind membership.Kind, err error) string {
	why := strings.ReplaceAll(string(kind), "_", " ")
	var apiErr smithy.APIError
	switch {
	case kind == membership.KindTimeout:
		why += ": no answer in the time the validator has"
	case errors.As(err, &apiErr):
		why += " (" + apiErr.ErrorCode() + ": " + apiErr.ErrorMessage() + ")"
	case err != nil:
		why += " (" + err.Error() + ")"
	}
	if kind == membership.KindAccessDenied || kind == membership.KindNotAuthorized {
		why += "; the validator's role needs cognito-idp:GetGroup and cognito-idp:ListGroups on the pool"
	}
	return fmt.Sprintf("cannot check %s in user pool %s: %s; a version that cannot be checked is refused: publishing it again retries the check",
		what, c.poolID, why)
}
