package membership

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// RemoveAPI is the Cognito call a Remover makes.
// *cognitoidentityprovider.Client implements it; tests pass a small fake.
type RemoveAPI interface {
	AdminRemoveUserFromGroup(ctx context.Context, in *cognitoidentityprovider.AdminRemoveUserFromGroupInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminRemoveUserFromGroupOutput, error)
}

// Remover removes a user from groups, with the concurrency bound, retries
// and budget of an Adder (see Adder.Add). Build it with NewRemover; it is
// immutable and safe for concurrent use. AdminRemoveUserFromGroup counts
// against the same UserUpdate quota as AdminAddUserToGroup.
type Remover struct {
	api RemoveAPI
	o   Options
}

// NewRemover returns a Remover that calls api. Zero fields of o take the
// defaults (see Options).
func NewRemover(api RemoveAPI, o Options) *Remover {
	return &Remover{api: api, o: o.withDefaults()}
}

// Remove removes the user from every group and returns one Result per
// group, in the order of groups, as Adder.Add does for adds: KindOK when the
// user was removed (or was not a member), else Err is a *RemoveError.
func (r *Remover) Remove(ctx context.Context, poolID, username string, groups []string) []Result {
	results := make([]Result, len(groups))
	if len(groups) == 0 {
		return results
	}
	run, cancel := newRun(ctx, &r.o, make(chan struct{}, r.o.Concurrency), r.o.Wait)
	defer cancel()
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() {
			in := &cognitoidentityprovider.AdminRemoveUserFromGroupInput{UserPoolId: &poolID, Username: &username, GroupName: &g}
			attempts, k, err := run.retry(func(ctx context.Context) error {
				_, err := r.api.AdminRemoveUserFromGroup(ctx, in)
				return err
			})
			res := Result{Group: g, Kind: k, Attempts: attempts, Duration: time.Since(run.start)}
			if k != KindOK {
				res.Err = &RemoveError{Group: g, PoolID: poolID, Kind: k, Attempts: attempts, Err: err}
			}
			results[i] = res
		})
	}
	wg.Wait()
	return results
}

// RemoveError is the error of a group the user could not be removed from.
// Like AddError, it names the group and the pool, never the username.
type RemoveError struct {
	// Group and PoolID say where the user was to be removed from.
	Group, PoolID string
	// Kind classifies Err.
	Kind Kind
	// Attempts counts the calls made.
	Attempts int
	// Err is the last error, from the SDK or the context.
	Err error
}

// Error describes the failure, for example `remove user from group "beta":
// throttled by Cognito (TooManyRequestsException) after 3 attempts in user
// pool us-east-1_abc`.
func (e *RemoveError) Error() string {
	return groupError("remove user from group", "cognito-idp:AdminRemoveUserFromGroup", e.Group, e.PoolID, e.Kind, e.Attempts, e.Err)
}

// Unwrap returns the underlying error, so that errors.As finds the SDK's
// exception types.
func (e *RemoveError) Unwrap() error { return e.Err }
