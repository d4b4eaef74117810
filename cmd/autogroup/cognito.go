package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/plan"
)

// cognitoAPI is what backfill, check-pool, attach and detach call. *cip.Client implements it.
type cognitoAPI interface {
	membership.API
	membership.RemoveAPI
	cip.AdminListGroupsForUserAPIClient
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	cip.ListUsersAPIClient
	cip.ListUsersInGroupAPIClient
	cip.ListGroupsAPIClient
	cip.ListUserPoolClientsAPIClient
	cip.ListIdentityProvidersAPIClient
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
	DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
	DescribeIdentityProvider(ctx context.Context, in *cip.DescribeIdentityProviderInput, optFns ...func(*cip.Options)) (*cip.DescribeIdentityProviderOutput, error)
	// UpdateUserPool is attach's and detach's only write.
	UpdateUserPool(ctx context.Context, in *cip.UpdateUserPoolInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolOutput, error)
	// CreateGroup is check-pool --create-missing-groups' only write.
	CreateGroup(ctx context.Context, in *cip.CreateGroupInput, optFns ...func(*cip.Options)) (*cip.CreateGroupOutput, error)
}

// Retries of the read calls (List*, Describe*): the client built by
// newCognitoClient does not retry, and the adds retry in
// membership.Adder; reads retry here, with the SDK's standard retryer,
// which backs off from a 1s base on throttling.
const (
	readMaxAttempts = 6
	readMaxBackoff  = 10 * time.Second
)

// cognitoClient returns the Cognito client of e for the user pool poolID
// (whose id names the region when nothing else does), or reports why there
// is none on stderr.
func (e *env) cognitoClient(cmd, poolID string) (cognitoAPI, bool) {
	var (
		c   cognitoAPI
		err error
	)
	if e.cognito != nil {
		c, err = e.cognito(e.ctx)
	} else {
		c, err = newCognitoClient(e.ctx, e.aws, poolID)
	}
	if err != nil {
		printf(e.stderr, "autogroup %s: %v\n", cmd, err)
		return nil, false
	}
	return c, true
}

// reader makes the read calls of a command: paced by a rate limiter of its
// own (the reads count against other Cognito quotas than the adds) and
// retried.
type reader struct {
	api     cognitoAPI
	limiter *rate.Limiter
	retryer aws.Retryer
}

func newReader(api cognitoAPI, perSecond float64) *reader {
	return &reader{
		api:     api,
		limiter: rate.NewLimiter(rate.Limit(perSecond), 1),
		retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = readMaxAttempts
			o.MaxBackoff = readMaxBackoff
			o.RateLimiter = ratelimit.None // the limiter paces; every throttled call may retry
			// An operation the endpoint does not implement fails again.
			o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if notImplemented(err) {
					return aws.FalseTernary
				}
				return aws.UnknownTernary
			})}, o.Retryables...)
		}),
	}
}

// notImplemented reports whether err says that the endpoint does not
// implement the operation: UnknownOperationException, or the Unsupported
// error of emulators such as cognito-local ("CognitoLocal#Unsupported",
// HTTP 500), which lack ListIdentityProviders.
func notImplemented(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	code := apiErr.ErrorCode()
	return code == "UnknownOperationException" || code == "Unsupported"
}

// opts returns the per-call options that turn retries on.
func (r *reader) opts(o *cip.Options) {
	o.Retryer = r.retryer
}

// users calls f with each page of the pool's users.
func (r *reader) users(ctx context.Context, poolID string, f func(*cip.ListUsersOutput) error) error {
	p := cip.NewListUsersPaginator(r.api, &cip.ListUsersInput{UserPoolId: &poolID})
	for p.HasMorePages() {
		if err := r.limiter.Wait(ctx); err != nil {
			return err
		}
		out, err := p.NextPage(ctx, r.opts)
		if err != nil {
			return &readError{"ListUsers", "list the users of user pool " + poolID, err}
		}
		if err := f(out); err != nil {
			return err
		}
	}
	return nil
}

// members returns the usernames of a group's members.
func (r *reader) members(ctx context.Context, poolID, group string) (map[string]bool, error) {
	members := map[string]bool{}
	p := cip.NewListUsersInGroupPaginator(r.api, &cip.ListUsersInGroupInput{UserPoolId: &poolID, GroupName: &group})
	for p.HasMorePages() {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := p.NextPage(ctx, r.opts)
		if err != nil {
			return nil, &readError{"ListUsersInGroup", fmt.Sprintf("list the members of group %q", group), err}
		}
		for _, u := range out.Users {
			members[aws.ToString(u.Username)] = true
		}
	}
	return members, nil
}

// memberships returns the members of each group, by username, and the
// groups that do not exist: those for which ListUsersInGroup answered
// ResourceNotFoundException (the group, or the pool: ListUsers tells which).
func (r *reader) memberships(ctx context.Context, poolID string, groups []string) (map[string]map[string]bool, []string, error) {
	members := make(map[string]map[string]bool, len(groups))
	var missing []string
	for _, g := range groups {
		m, err := r.members(ctx, poolID, g)
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			missing = append(missing, g)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		members[g] = m
	}
	return members, missing, nil
}

// planUser is the planner's view of a user that ListUsers returned: its
// attributes, status, and memberships among groups (members as
// memberships returns them).
func planUser(u *types.UserType, groups []string, members map[string]map[string]bool) plan.User {
	pu := plan.User{
		Username:   aws.ToString(u.Username),
		Status:     string(u.UserStatus),
		Attributes: make(map[string]string, len(u.Attributes)),
		Disabled:   !u.Enabled,
	}
	for _, a := range u.Attributes {
		pu.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	for _, g := range groups {
		if members[g][pu.Username] {
			pu.Groups = append(pu.Groups, g)
		}
	}
	return pu
}

// groups returns the names of the pool's groups.
func (r *reader) groups(ctx context.Context, poolID string) (map[string]bool, error) {
	groups := map[string]bool{}
	p := cip.NewListGroupsPaginator(r.api, &cip.ListGroupsInput{UserPoolId: &poolID})
	for p.HasMorePages() {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := p.NextPage(ctx, r.opts)
		if err != nil {
			return nil, &readError{"ListGroups", "list the groups of user pool " + poolID, err}
		}
		for _, g := range out.Groups {
			groups[aws.ToString(g.GroupName)] = true
		}
	}
	return groups, nil
}

// clients returns the pool's app clients, described.
func (r *reader) clients(ctx context.Context, poolID string) ([]*cip.DescribeUserPoolClientOutput, error) {
	var ids []string
	p := cip.NewListUserPoolClientsPaginator(r.api, &cip.ListUserPoolClientsInput{UserPoolId: &poolID})
	for p.HasMorePages() {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := p.NextPage(ctx, r.opts)
		if err != nil {
			return nil, &readError{"ListUserPoolClients", "list the app clients of user pool " + poolID, err}
		}
		for _, c := range out.UserPoolClients {
			ids = append(ids, aws.ToString(c.ClientId))
		}
	}
	var clients []*cip.DescribeUserPoolClientOutput
	for _, id := range ids {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := r.api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &poolID, ClientId: &id}, r.opts)
		if err != nil {
			return nil, &readError{"DescribeUserPoolClient", "describe app client " + id, err}
		}
		clients = append(clients, out)
	}
	return clients, nil
}

// providers returns the pool's identity providers, described.
func (r *reader) providers(ctx context.Context, poolID string) ([]*types.IdentityProviderType, error) {
	var names []string
	p := cip.NewListIdentityProvidersPaginator(r.api, &cip.ListIdentityProvidersInput{UserPoolId: &poolID})
	for p.HasMorePages() {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := p.NextPage(ctx, r.opts)
		if err != nil {
			return nil, &readError{"ListIdentityProviders", "list the identity providers of user pool " + poolID, err}
		}
		for _, d := range out.Providers {
			names = append(names, aws.ToString(d.ProviderName))
		}
	}
	var providers []*types.IdentityProviderType
	for _, name := range names {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := r.api.DescribeIdentityProvider(ctx, &cip.DescribeIdentityProviderInput{UserPoolId: &poolID, ProviderName: &name}, r.opts)
		if err != nil {
			return nil, &readError{"DescribeIdentityProvider", fmt.Sprintf("describe identity provider %q", name), err}
		}
		providers = append(providers, out.IdentityProvider)
	}
	return providers, nil
}

// pool describes the user pool.
func (r *reader) pool(ctx context.Context, poolID string) (*cip.DescribeUserPoolOutput, error) {
	if err := r.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	out, err := r.api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &poolID}, r.opts)
	if err != nil {
		return nil, &readError{"DescribeUserPool", "describe user pool " + poolID, err}
	}
	return out, nil
}

// readError is the failure of a read call: what was being done, and the
// error, told briefly, with the IAM action to grant when access was denied.
type readError struct {
	op   string // the Cognito operation, such as "ListUsers"
	what string
	err  error
}

func (e *readError) Error() string {
	var b strings.Builder
	b.WriteString(e.what + ": ")
	var apiErr smithy.APIError
	if errors.As(e.err, &apiErr) {
		b.WriteString(apiErr.ErrorCode())
		if msg := apiErr.ErrorMessage(); msg != "" {
			b.WriteString(": " + msg)
		}
	} else {
		b.WriteString(e.err.Error())
	}
	switch membership.Classify(e.err) {
	case membership.KindAccessDenied:
		fmt.Fprintf(&b, " (the caller needs IAM permission cognito-idp:%s)", e.op)
	case membership.KindNotAuthorized:
		b.WriteString(" (check the credentials and the region)")
	}
	return b.String()
}

func (e *readError) Unwrap() error { return e.err }
