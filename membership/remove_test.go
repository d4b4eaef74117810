package membership_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

func TestRemove(t *testing.T) {
	s, c := newServer(t, "a", "b", "c")
	s.CreateUser(pool, "user-1")
	s.AddToGroup(pool, "a", "user-1")
	s.AddToGroup(pool, "b", "user-1")
	s.ThrottleFirst(1)
	r := membership.NewRemover(c, fastRetries)
	res := r.Remove(context.Background(), pool, "user-1", []string{"a", "c", "missing"})
	var kinds []membership.Kind
	for _, x := range res {
		kinds = append(kinds, x.Kind)
	}
	if diff := cmp.Diff([]membership.Kind{membership.KindOK, membership.KindOK, membership.KindGroupNotFound}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b"}, s.GroupsForUser(pool, "user-1")); diff != "" {
		t.Errorf("groups left (-want +got):\n%s", diff)
	}
	if n := len(s.CallsTo("AdminRemoveUserFromGroup")); n != 4 {
		t.Errorf("%d calls, want 4 (one throttled and retried)", n)
	}
	var re *membership.RemoveError
	var nf *types.ResourceNotFoundException
	if !errors.As(res[2].Err, &re) || !errors.As(res[2].Err, &nf) {
		t.Fatalf("error %v: want a *RemoveError wrapping ResourceNotFoundException", res[2].Err)
	}
	if got, want := res[2].Err.Error(), `remove user from group "missing": group does not exist in user pool `+pool; !strings.HasPrefix(got, want) {
		t.Errorf("Error() = %q, want it to start with %q", got, want)
	}
	if strings.Contains(res[2].Err.Error(), "user-1") {
		t.Errorf("Error() names the user: %q", res[2].Err)
	}
}

func TestRemoveThrottledEndsInBudget(t *testing.T) {
	s, c := newServer(t, "a")
	s.AlwaysThrottle()
	r := membership.NewRemover(c, membership.Options{Budget: 200 * time.Millisecond, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	start := time.Now()
	res := r.Remove(context.Background(), pool, "user-1", []string{"a"})
	if d := time.Since(start); d > time.Second {
		t.Errorf("Remove took %v, want about the 200ms budget", d)
	}
	if k := res[0].Kind; k != membership.KindThrottled && k != membership.KindTimeout {
		t.Errorf("kind %s, want throttled or timed_out", k)
	}
}

func TestListGroups(t *testing.T) {
	s, c := newServer(t)
	s.CreateUser(pool, "user-1")
	s.CreateUser(pool, "user-2")
	want := []string{"g1", "g2", "g3", "g4", "g5"}
	for _, g := range want {
		s.AddToGroup(pool, g, "user-1")
	}
	l := membership.NewGroupLister(c, fastRetries)
	gr := l.ListGroups(context.Background(), pool, "user-1")
	if gr.Kind != membership.KindOK || gr.Op != membership.OpListGroups {
		t.Fatalf("ListGroups = %+v", gr)
	}
	if diff := cmp.Diff(want, gr.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if gr := l.ListGroups(context.Background(), pool, "user-2"); gr.Kind != membership.KindOK || gr.Groups == nil || len(gr.Groups) != 0 {
		t.Errorf("a user without groups: %+v, want ok and an empty list", gr)
	}
	gr = l.ListGroups(context.Background(), pool, "nobody")
	var re *membership.ReadError
	if gr.Kind != membership.KindUserNotFound || gr.Groups != nil || !errors.As(gr.Err, &re) {
		t.Errorf("unknown user: %+v, want user_not_found, no groups, a *ReadError", gr)
	}
	if !strings.HasPrefix(gr.Err.Error(), "read user (AdminListGroupsForUser): user does not exist") {
		t.Errorf("Error() = %q", gr.Err)
	}
}

// pagedGroups answers AdminListGroupsForUser two groups a page.
type pagedGroups struct{ tokens []string }

func (p *pagedGroups) AdminListGroupsForUser(_ context.Context, in *cip.AdminListGroupsForUserInput, _ ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error) {
	p.tokens = append(p.tokens, aws.ToString(in.NextToken))
	page := map[string]struct {
		groups []string
		next   *string
	}{"": {[]string{"a", "b"}, aws.String("t1")}, "t1": {[]string{"c", "d"}, aws.String("t2")}, "t2": {[]string{"e"}, nil}}[aws.ToString(in.NextToken)]
	out := &cip.AdminListGroupsForUserOutput{NextToken: page.next}
	for _, g := range page.groups {
		out.Groups = append(out.Groups, types.GroupType{GroupName: aws.String(g)})
	}
	return out, nil
}

func TestListGroupsPages(t *testing.T) {
	api := &pagedGroups{}
	gr := membership.NewGroupLister(api, fastRetries).ListGroups(context.Background(), pool, "user-1")
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, gr.Groups); diff != "" || gr.Attempts != 3 {
		t.Errorf("%d attempts; groups (-want +got):\n%s", gr.Attempts, diff)
	}
	if diff := cmp.Diff([]string{"", "t1", "t2"}, api.tokens); diff != "" {
		t.Errorf("NextToken sent (-want +got):\n%s", diff)
	}
}

func TestListGroupsThrottled(t *testing.T) {
	s, c := newServer(t)
	s.Inject(cognitofake.Fault{Op: "AdminListGroupsForUser", Type: "TooManyRequestsException"})
	gr := membership.NewGroupLister(c, membership.Options{Budget: 150 * time.Millisecond, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}).
		ListGroups(context.Background(), pool, "user-1")
	if gr.Kind != membership.KindThrottled && gr.Kind != membership.KindTimeout {
		t.Errorf("kind %s, want throttled or timed_out", gr.Kind)
	}
	if gr.Attempts < 2 {
		t.Errorf("%d attempts, want retries", gr.Attempts)
	}
}
