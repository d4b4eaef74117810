package retry

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// UserReader reads a user back from Cognito, checking its sub;
// *membership.Reader implements it.
type UserReader interface {
	GetUser(ctx context.Context, poolID, username, sub string) membership.Read
}

// VerifyUser returns the Verify hook of AUTOGROUP_VERIFY_USER: it reads the
// message's user with reader (AdminGetUser) and answers Mismatch when
// Cognito holds no such user, or holds it with another sub than the
// message's (the username was deleted and taken again, or the message was
// forged); Excluded when the ruleset has an exclude condition and it holds
// on the attributes Cognito holds now (the user was put on hold after
// signing up), evaluated as a confirmed sign-up, as the backfill evaluates
// users; else Proceed. A read that fails for another reason (throttled,
// timed out, access denied) is an error: the message comes back later.
//
// When the exclude condition tests the user's current groups (memberOf,
// as a hold group does), they are listed with lister
// (AdminListGroupsForUser); a nil lister lists none.
func VerifyUser(reader UserReader, lister GroupLister) Verify {
	return func(ctx context.Context, m *retryqueue.Message, rs *rules.Ruleset) (Verdict, error) {
		read := reader.GetUser(ctx, m.UserPoolID, m.Username, m.Sub)
		switch read.Kind {
		case membership.KindOK:
		case membership.KindUserNotFound, membership.KindSubMismatch:
			return Mismatch, nil
		default:
			return Proceed, read.Err
		}
		if rs != nil && rs.HasExclude() {
			in := rules.Input{TriggerSource: rules.TriggerConfirmSignUp, UserAttributes: read.User.Attributes}
			if rs.UsesGroups() && lister != nil {
				groups, err := listGroups(ctx, lister, m.UserPoolID, m.Username)
				if err != nil {
					return Proceed, err
				}
				in.Groups = groups
			}
			d := rs.Decide(in)
			if d.Excluded {
				return Excluded, nil
			}
		}
		return Proceed, nil
	}
}

// GroupLister lists a user's groups; *cognitoidentityprovider.Client
// implements it.
type GroupLister interface {
	AdminListGroupsForUser(ctx context.Context, in *cip.AdminListGroupsForUserInput, optFns ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error)
}

// listGroups returns the names of the user's groups, every page. The error
// names the pool and the error's kind, never the user.
func listGroups(ctx context.Context, lister GroupLister, poolID, username string) ([]string, error) {
	var groups []string
	p := cip.NewAdminListGroupsForUserPaginator(lister, &cip.AdminListGroupsForUserInput{UserPoolId: &poolID, Username: &username})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the user's groups in user pool %s: %s", poolID, membership.Classify(err))
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	return groups, nil
}
