package membership

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// fakeRemoveAPI answers AdminRemoveUserFromGroup with the errors of errs,
// attempt by attempt per group, then success.
type fakeRemoveAPI struct {
	mu    sync.Mutex
	errs  map[string][]error
	calls map[string]int
}

func (f *fakeRemoveAPI) AdminRemoveUserFromGroup(_ context.Context, in *cip.AdminRemoveUserFromGroupInput, _ ...func(*cip.Options)) (*cip.AdminRemoveUserFromGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := aws.ToString(in.GroupName)
	n := f.calls[g]
	f.calls[g]++
	if n < len(f.errs[g]) {
		return nil, f.errs[g][n]
	}
	return &cip.AdminRemoveUserFromGroupOutput{}, nil
}

func TestRemoverRetriesAndClassifies(t *testing.T) {
	f := &fakeRemoveAPI{calls: map[string]int{}, errs: map[string][]error{
		"admins": {&types.TooManyRequestsException{}, &types.TooManyRequestsException{}},
		"ops":    {&types.ResourceNotFoundException{}},
	}}
	var waits int
	var mu sync.Mutex
	r := NewRemover(f, Options{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, Wait: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		waits++
		return nil
	}})
	res := r.Remove(t.Context(), "us-east-1_x", "u1", []string{"admins", "ops"})
	if res[0].Kind != KindOK || res[0].Attempts != 3 {
		t.Errorf("Remove(admins) = %v after %d attempts, want ok after 3", res[0].Kind, res[0].Attempts)
	}
	if res[1].Kind != KindGroupNotFound || res[1].Attempts != 1 {
		t.Errorf("Remove(ops) = %v after %d attempts, want group_not_found after 1", res[1].Kind, res[1].Attempts)
	}
	var re *RemoveError
	if !errors.As(res[1].Err, &re) || !strings.HasPrefix(re.Error(), `remove user from group "ops": group does not exist`) {
		t.Errorf("Remove(ops).Err = %v, want a RemoveError saying the group does not exist", res[1].Err)
	}
	if waits != 4 {
		t.Errorf("Wait called %d times, want 4 (once per attempt)", waits)
	}
}
