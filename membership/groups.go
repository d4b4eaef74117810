package membership

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// GroupsAPI is the Cognito call ListGroups makes.
// *cognitoidentityprovider.Client implements it; tests pass a small fake.
type GroupsAPI interface {
	AdminListGroupsForUser(ctx context.Context, in *cognitoidentityprovider.AdminListGroupsForUserInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminListGroupsForUserOutput, error)
}

// OpListGroups is the operation GroupLister.ListGroups calls, as Read.Op
// names it.
const OpListGroups = "AdminListGroupsForUser"

// listGroupsLimit is the largest page AdminListGroupsForUser returns; a user
// holds at most 100 groups, so two pages.
const listGroupsLimit = 60

// GroupLister reads the groups a user belongs to, with the retries and the
// budget of a Reader. Build it with NewGroupLister; it is immutable and safe
// for concurrent use.
type GroupLister struct {
	api GroupsAPI
	o   Options
}

// NewGroupLister returns a GroupLister that calls api. Zero fields of o
// take the defaults (see Options); Concurrency and Wait do not apply.
func NewGroupLister(api GroupsAPI, o Options) *GroupLister {
	return &GroupLister{api: api, o: o.withDefaults()}
}

// GroupsRead is the outcome of reading a user's groups.
type GroupsRead struct {
	// Read says how the read went (Op is OpListGroups; User is nil).
	Read
	// Groups are the user's groups, in Cognito's order, when Kind is KindOK.
	Groups []string
}

// ListGroups reads every group the user belongs to with
// AdminListGroupsForUser, page after page, each page retried as
// Reader.GetUser retries its read, all under one budget. A user that does
// not exist ends with KindUserNotFound, a pool that does not exist with
// KindPoolNotFound; a failed read has no Groups.
func (l *GroupLister) ListGroups(ctx context.Context, poolID, username string) GroupsRead {
	run, cancel := newRun(ctx, &l.o, nil, nil)
	defer cancel()
	in := &cognitoidentityprovider.AdminListGroupsForUserInput{UserPoolId: &poolID, Username: &username, Limit: aws.Int32(listGroupsLimit)}
	groups := []string{}
	total := 0
	var k Kind
	var err error
	for {
		var out *cognitoidentityprovider.AdminListGroupsForUserOutput
		var n int
		n, k, err = run.retry(func(ctx context.Context) error {
			o, err := l.api.AdminListGroupsForUser(ctx, in)
			out = o
			return err
		})
		total += n
		if k == KindOK && out == nil {
			k, err = KindUnknown, errNoAnswer
		}
		if k != KindOK {
			break
		}
		for _, g := range out.Groups {
			if g.GroupName != nil {
				groups = append(groups, *g.GroupName)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	gr := GroupsRead{Read: Read{Op: OpListGroups, Kind: k, Attempts: total, Deadline: run.deadline}}
	if k == KindGroupNotFound {
		gr.Kind = KindPoolNotFound
	}
	if gr.Kind != KindOK {
		gr.Err = &ReadError{Op: OpListGroups, PoolID: poolID, Kind: gr.Kind, Attempts: total, Err: err}
	} else {
		gr.Groups = groups
	}
	gr.Duration = time.Since(run.start)
	return gr
}
