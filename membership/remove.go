package membership

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// RemoveAPI is the Cognito call a Remover makes.
// *cognitoidentityprovider.Client implements it.
type RemoveAPI interface {
	AdminRemoveUserFromGroup(ctx context.Context, in *cognitoidentityprovider.AdminRemoveUserFromGroupInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminRemoveUserFromGroupOutput, error)
}

// Remover removes a user from groups with the machinery of Adder: bounded
// concurrency, retries inside a budget, Options.Wait before every attempt
// (AdminRemoveUserFromGroup counts against the same UserUpdate quota as
// AdminAddUserToGroup) and classified errors. Build it with NewRemover; it
// is immutable and safe for concurrent use.
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
// group, in the order of groups, with the retries and budget of Adder.Add.
// A Result's Err is a *RemoveError. Cognito answers success when the user
// is not a member, so a removal already done is KindOK.
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
			n, k, err := run.retry(func(ctx context.Context) error {
				_, err := r.api.AdminRemoveUserFromGroup(ctx, in)
				return err
			})
			res := Result{Group: g, Kind: k, Attempts: n, Duration: time.Since(run.start)}
			if k != KindOK {
				res.Err = &RemoveError{Group: g, PoolID: poolID, Kind: k, Attempts: n, Err: err}
			}
			results[i] = res
		})
	}
	wg.Wait()
	return results
}

// RemoveError is the failure of a removal, as AddError is of an add. It
// never contains the username.
type RemoveError struct {
	Group, PoolID string
	Kind          Kind
	Attempts      int
	Err           error
}

// Error describes the failure, for example `remove user from group
// "admins": access denied: the caller needs IAM permission
// cognito-idp:AdminRemoveUserFromGroup on user pool us-east-1_abc`.
func (e *RemoveError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "remove user from group %q: ", e.Group)
	detail := true
	switch e.Kind {
	case KindGroupNotFound:
		fmt.Fprintf(&b, "group does not exist in user pool %s", e.PoolID)
	case KindAccessDenied:
		fmt.Fprintf(&b, "access denied: the caller needs IAM permission cognito-idp:AdminRemoveUserFromGroup on user pool %s", e.PoolID)
	case KindInvalidParameter:
		fmt.Fprintf(&b, "invalid request for user pool %s: check the pool id and the group name", e.PoolID)
	default:
		detail = writeFailure(&b, e.Kind, e.PoolID, e.Attempts, e.Err)
	}
	writeDetail(&b, detail, e.Err)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *RemoveError) Unwrap() error { return e.Err }
