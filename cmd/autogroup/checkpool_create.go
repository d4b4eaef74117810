package main

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// This file holds check-pool --create-missing-groups: which groups a
// ruleset can select, known before any user has an attribute value, and
// their creation.

// groupDescription is the Description of the groups check-pool creates,
// so that an operator sees where a group came from.
const groupDescription = "managed by cognito-autogroup"

// maxGuardValues is the most values a groupsFrom guard may admit for its
// groups to count as known statically.
const maxGuardValues = 100

// wantedGroups is what a ruleset can select, as far as it is known
// without a user.
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

// groupsToHave returns the groups rs can select: those its rules and
// defaultGroups name, and those a groupsFrom names from a guard that admits
// only a few literal values (matches: "eng|ops"). The groups memberOf
// names are read, not selected, and are not among them.
func groupsToHave(rs *rules.Ruleset) wantedGroups {
	w := wantedGroups{selectedBy: map[string][]string{}}
	add := func(g, by string) {
		if _, ok := w.selectedBy[g]; !ok {
			w.names = append(w.names, g)
		}
		if !slices.Contains(w.selectedBy[g], by) {
			w.selectedBy[g] = append(w.selectedBy[g], by)
		}
	}
	for _, info := range rs.Rules() {
		for _, g := range info.Groups {
			add(g, "rule "+info.Name)
		}
	}
	for _, g := range rs.DefaultGroups() {
		add(g, "defaultGroups")
	}
	for _, p := range rs.GroupPatterns() {
		values, ok := guardValues(p.Matches, maxGuardValues)
		if !ok {
			w.unknown = append(w.unknown, p)
			continue
		}
		for _, v := range values {
			// CanSelect applies the guard as the engine does (anchored)
			// and the group name rules, which the enumeration does not.
			if g := p.Prefix + v + p.Suffix; rs.CanSelect(g) {
				add(g, "rule "+p.Rule+", groupsFrom")
			}
		}
	}
	return w
}

// guardValues returns the strings the regular expression expr matches
// when they are at most limit, all of them literal: alternations, classes,
// optional parts and bounded repeats of literals. Anything that matches an
// unbounded or case-folded set (x*, ., (?i)) reports false.
func guardValues(expr string, limit int) ([]string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	return language(re.Simplify(), limit)
}

// language returns the strings re matches, or false when they are more
// than limit or not known. Anchors match the empty string: the guard is
// anchored at both ends anyway, and every candidate is checked with the
// engine afterwards.
func language(re *syntax.Regexp, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return nil, true
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if int(hi-lo)+1+len(out) > limit {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				if utf8.ValidRune(r) {
					out = append(out, string(r))
				}
			}
		}
		return out, true
	case syntax.OpCapture:
		return language(re.Sub[0], limit)
	case syntax.OpQuest:
		sub, ok := language(re.Sub[0], limit)
		if !ok {
			return nil, false
		}
		return union([]string{""}, sub, limit)
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := language(s, limit)
			if !ok {
				return nil, false
			}
			if out, ok = union(out, sub, limit); !ok {
				return nil, false
			}
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := language(s, limit)
			if !ok || len(out)*len(sub) > limit {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			if out, ok = union(nil, next, limit); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false // star, plus, any character, word boundaries
}

// union returns a with the strings of b it lacks, in order, or false when
// that makes more than limit.
func union(a, b []string, limit int) ([]string, bool) {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a, len(a) <= limit
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
