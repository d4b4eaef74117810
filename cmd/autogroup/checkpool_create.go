package main

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// This file holds check-pool --create-missing-groups: which groups a
// ruleset can select, known before any user has an attribute value (as
// rules.Ruleset.KnownGroups finds them), and their creation.

// groupDescription is the Description of the groups check-pool creates,
// so that an operator sees where a group came from.
const groupDescription = "managed by cognito-autogroup"

// wantedGroups is what a ruleset can select, as far as it is known
// without a user (rules.Ruleset.KnownGroups).
type wantedGroups struct {
	// names are the groups, in order: GroupNames, then those of the
	// groupsFrom guards that admit few enough values.
	names []string
	// selectedBy names what selects each group: "rule staff",
	// "defaultGroups", "rule tenant, groupsFrom".
	selectedBy map[string][]string
	// unknown are the groupsFrom whose groups cannot be listed.
	unknown []rules.GroupPattern
}

// groupsToHave returns the groups rs can select, as KnownGroups lists
// them, with what selects each as check-pool names it.
func groupsToHave(rs *rules.Ruleset) wantedGroups {
	known, open := rs.KnownGroups()
	w := wantedGroups{selectedBy: map[string][]string{}, unknown: open}
	for _, g := range known {
		w.names = append(w.names, g.Name)
		for _, src := range g.SelectedBy {
			w.selectedBy[g.Name] = append(w.selectedBy[g.Name], src.String())
		}
	}
	return w
}

// createOpts are the per-call options of CreateGroup: the reads' retries
// (throttling and transient errors, with backoff) but for
// LimitExceededException, which the SDK counts as throttling and CreateGroup
// answers for a pool that holds as many groups as it may (10,000): that
// does not pass by waiting.
func createOpts(read *reader) func(*cip.Options) {
	return func(o *cip.Options) {
		read.opts(o)
		o.Retryer = noRetryOn{o.Retryer, "LimitExceededException"}
	}
}

// noRetryOn is a retryer that does not retry errors of one code.
type noRetryOn struct {
	aws.Retryer
	code string
}

func (r noRetryOn) IsErrorRetryable(err error) bool {
	var apiErr interface{ ErrorCode() string }
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == r.code {
		return false
	}
	return r.Retryer.IsErrorRetryable(err)
}

// createOptions are check-pool's --create-missing-groups and --dry-run.
type createOptions struct {
	create, dryRun bool
}

// createMissing creates each group of want that st lacks (only names it
// with dryRun), and marks those created, or found to exist meanwhile, as
// present in st, so that the checks that follow judge the pool as it is
// after the creation. A failure is an error of the report; the next group
// is tried all the same. The groupsFrom whose groups cannot be known get a
// warning each.
func (r *poolReport) createMissing(e *env, read *reader, poolID string, want wantedGroups, st *poolState, dryRun bool) {
	r.Created = []string{}
	if dryRun {
		r.WouldCreate = []string{}
	}
	for _, p := range want.unknown {
		r.warnf("rule %s: groupsFrom names groups %s<%s>%s from values matching %q, which cannot be known before users have them: none of them was created; create those your users can hold", p.Rule, p.Prefix, p.Attribute, p.Suffix, p.Matches)
	}
	opts := createOpts(read)
	for _, g := range want.names {
		if st.groups[g] {
			continue
		}
		if dryRun {
			r.WouldCreate = append(r.WouldCreate, g)
			r.lines = append(r.lines, sprintf("would create: group %s", g))
			continue
		}
		if err := read.limiter.Wait(e.ctx); err != nil {
			r.errorf("cannot create group %q: %v", g, err)
			return // the context ended: so would every other call
		}
		_, err := read.api.CreateGroup(e.ctx, &cip.CreateGroupInput{
			UserPoolId:  aws.String(poolID),
			GroupName:   aws.String(g),
			Description: aws.String(groupDescription),
		}, opts)
		var exists *types.GroupExistsException
		switch {
		case err == nil:
			st.groups[g] = true
			r.Created = append(r.Created, g)
			r.lines = append(r.lines, sprintf("created: group %s", g))
		case errors.As(err, &exists):
			st.groups[g] = true // created since the groups were listed
			r.okf("group %q exists: it was created since the pool's groups were listed", g)
		default:
			r.errorf("cannot %v", &readError{"CreateGroup", fmt.Sprintf("create group %q", g), err})
		}
	}
}
