package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/plan"
)

// This file reads one user: by sub (backfill --user, explain --pool) or
// by username (backfill --plan), with the user's groups.

// userBySub returns the user of the pool whose sub is sub, with every group
// the user belongs to. ListUsers with a Filter finds the user;
// AdminListGroupsForUser reads the groups.
func (r *reader) userBySub(ctx context.Context, poolID, sub string) (plan.User, error) {
	if err := r.limiter.Wait(ctx); err != nil {
		return plan.User{}, err
	}
	filter := "sub = " + strconv.Quote(sub)
	out, err := r.api.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: &poolID, Filter: &filter}, r.opts)
	if err != nil {
		return plan.User{}, &readError{"ListUsers", "find the user with sub " + sub, err}
	}
	if len(out.Users) == 0 {
		return plan.User{}, fmt.Errorf("find the user with sub %s: user pool %s has no such user", sub, poolID)
	}
	u := planUser(&out.Users[0], nil, nil)
	u.Groups, err = r.userGroups(ctx, poolID, u.Username, sub)
	return u, err
}

// userByName returns the user of the pool named username, with every group
// the user belongs to; found is false when there is no such user.
func (r *reader) userByName(ctx context.Context, poolID, username, key string) (_ plan.User, found bool, _ error) {
	if err := r.limiter.Wait(ctx); err != nil {
		return plan.User{}, false, err
	}
	out, err := r.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: &username}, r.opts)
	if err != nil {
		if notFoundUser(err) {
			return plan.User{}, false, nil
		}
		return plan.User{}, false, &readError{"AdminGetUser", "read user " + key, err}
	}
	u := plan.User{Username: aws.ToString(out.Username), Status: string(out.UserStatus), Disabled: !out.Enabled,
		Attributes: make(map[string]string, len(out.UserAttributes))}
	for _, a := range out.UserAttributes {
		u.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	u.Groups, err = r.userGroups(ctx, poolID, username, key)
	return u, true, err
}

// userGroups returns the names of the groups a user belongs to.
func (r *reader) userGroups(ctx context.Context, poolID, username, key string) ([]string, error) {
	var groups []string
	p := cip.NewAdminListGroupsForUserPaginator(r.api, &cip.AdminListGroupsForUserInput{UserPoolId: &poolID, Username: &username})
	for p.HasMorePages() {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := p.NextPage(ctx, r.opts)
		if err != nil {
			return nil, &readError{"AdminListGroupsForUser", "list the groups of user " + key, err}
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	return groups, nil
}

// notFoundUser reports whether err says that the user does not exist.
func notFoundUser(err error) bool { return membership.Classify(err) == membership.KindUserNotFound }
