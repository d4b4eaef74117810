package membership_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// userCognito is a hand-written fake of AdminGetUser (and of
// AdminAddUserToGroup, for a budget shared with an Adder). answer says how
// long attempt n (from 1) takes and what it returns; a call whose context
// ends first returns the context's error, as the SDK does.
type userCognito struct {
	answer func(n int) (time.Duration, *cip.AdminGetUserOutput, error)
	addFor time.Duration // how long an add takes

	mu    sync.Mutex
	gets  []*cip.AdminGetUserInput
	addAt []time.Time // when each add's context ends
}

func (f *userCognito) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	f.mu.Lock()
	f.gets = append(f.gets, in)
	n := len(f.gets)
	f.mu.Unlock()
	d, out, err := f.answer(n)
	if err := sleep(ctx, d); err != nil {
		return nil, fmt.Errorf("operation error Cognito Identity Provider: AdminGetUser, %w", err)
	}
	return out, err
}

func (f *userCognito) AdminAddUserToGroup(ctx context.Context, _ *cip.AdminAddUserToGroupInput, _ ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error) {
	dl, _ := ctx.Deadline()
	f.mu.Lock()
	f.addAt = append(f.addAt, dl)
	f.mu.Unlock()
	if err := sleep(ctx, f.addFor); err != nil {
		return nil, fmt.Errorf("operation error Cognito Identity Provider: AdminAddUserToGroup, %w", err)
	}
	return &cip.AdminAddUserToGroupOutput{}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const (
	readPool = "us-east-1_read"
	// readUser is a username that is an email address, as in pools that
	// sign in with email: no error may carry it.
	readUser = "ana.lima@example.com"
	readSub  = "5f2b1c3e-7a41-4d2e-9b0a-1c2d3e4f5a6b"
)

// cognitoUser is AdminGetUser's answer for readUser with these attributes.
func cognitoUser(status types.UserStatusType, attrs ...string) *cip.AdminGetUserOutput {
	out := &cip.AdminGetUserOutput{Username: aws.String(readSub), UserStatus: status, Enabled: true}
	for i := 0; i+1 < len(attrs); i += 2 {
		out.UserAttributes = append(out.UserAttributes, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
	}
	return out
}

// answers fails the first len(errs) attempts with errs, in order, then
// answers ok.
func answers(ok *cip.AdminGetUserOutput, errs ...error) func(int) (time.Duration, *cip.AdminGetUserOutput, error) {
	return func(n int) (time.Duration, *cip.AdminGetUserOutput, error) {
		if n <= len(errs) {
			return 0, nil, errs[n-1]
		}
		return 0, ok, nil
	}
}

var quick = membership.Options{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func TestGetUser(t *testing.T) {
	user := cognitoUser(types.UserStatusTypeExternalProvider, "sub", readSub, "email", readUser, "custom:plan", "pro")
	throttled := &types.TooManyRequestsException{Message: aws.String("Too many requests.")}
	always := func(err error) func(int) (time.Duration, *cip.AdminGetUserOutput, error) {
		return func(int) (time.Duration, *cip.AdminGetUserOutput, error) { return 0, nil, err }
	}
	tests := []struct {
		name         string
		answer       func(int) (time.Duration, *cip.AdminGetUserOutput, error)
		sub          string
		wantKind     membership.Kind
		wantAttempts int
		wantErr      string // in the error's text
	}{
		{"ok", answers(user), readSub, membership.KindOK, 1, ""},
		{"throttled twice", answers(user, throttled, throttled), readSub, membership.KindOK, 3, ""},
		{"server error once", answers(user, &types.InternalErrorException{}), readSub, membership.KindOK, 2, ""},
		{"always throttled", always(throttled), readSub, membership.KindThrottled, membership.DefaultMaxAttempts, "throttled by Cognito (TooManyRequestsException) after 6 attempts in user pool " + readPool},
		{"user not found", always(&types.UserNotFoundException{Message: aws.String("User does not exist.")}), readSub,
			membership.KindUserNotFound, 1, "read user (AdminGetUser): user does not exist in user pool " + readPool + " (UserNotFoundException: User does not exist.)"},
		{"pool not found", always(&types.ResourceNotFoundException{Message: aws.String("User pool does not exist.")}), readSub,
			membership.KindPoolNotFound, 1, "user pool " + readPool + " does not exist"},
		{"access denied", always(&smithy.GenericAPIError{Code: "AccessDeniedException"}), readSub,
			membership.KindAccessDenied, 1, "the caller needs IAM permission cognito-idp:AdminGetUser on user pool " + readPool},
		{"another sub", answers(user), "7d0c0000-0000-4000-8000-000000000000", membership.KindSubMismatch, 1,
			`has sub "` + readSub + `", not the expected "7d0c0000-0000-4000-8000-000000000000"`},
		{"no sub expected", answers(user), "", membership.KindSubMismatch, 1, `not the expected ""`},
		{"no sub in Cognito", answers(cognitoUser(types.UserStatusTypeConfirmed, "email", readUser)), "", membership.KindSubMismatch, 1, `has sub "", not`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &userCognito{answer: tt.answer}
			rd := membership.NewReader(api, quick).GetUser(t.Context(), readPool, readUser, tt.sub)
			if rd.Op != membership.OpGetUser || rd.Kind != tt.wantKind || rd.Attempts != tt.wantAttempts {
				t.Errorf("GetUser = %s %s after %d attempts (%v), want %s after %d", rd.Op, rd.Kind, rd.Attempts, rd.Err, tt.wantKind, tt.wantAttempts)
			}
			if len(api.gets) != rd.Attempts {
				t.Errorf("calls made = %d, Read.Attempts = %d", len(api.gets), rd.Attempts)
			}
			for _, in := range api.gets {
				if aws.ToString(in.UserPoolId) != readPool || aws.ToString(in.Username) != readUser {
					t.Errorf("AdminGetUser(%q, %q), want the pool and username given", aws.ToString(in.UserPoolId), aws.ToString(in.Username))
				}
			}
			if tt.wantKind == membership.KindOK {
				want := &membership.User{Username: readSub, Status: "EXTERNAL_PROVIDER", Enabled: true, Attributes: map[string]string{
					"sub": readSub, "email": readUser, "custom:plan": "pro", "cognito:user_status": "EXTERNAL_PROVIDER",
				}}
				if diff := cmp.Diff(want, rd.User); diff != "" || rd.Err != nil {
					t.Errorf("GetUser user (-want +got):\n%s(error %v)", diff, rd.Err)
				}
				return
			}
			var re *membership.ReadError
			if rd.User != nil || !errors.As(rd.Err, &re) || re.Kind != rd.Kind || re.PoolID != readPool || re.Attempts != rd.Attempts {
				t.Fatalf("GetUser = user %v, error %#v; want no user and a *ReadError of kind %s", rd.User, rd.Err, rd.Kind)
			}
			if msg := rd.Err.Error(); !strings.Contains(msg, tt.wantErr) || strings.Contains(msg, "ana.lima") {
				t.Errorf("error = %q, want it to contain %q and not the username", msg, tt.wantErr)
			}
		})
	}
}

// TestGetUserBudget: the read ends by the earlier of the context's deadline
// and its start plus the budget, and says when that is, so that the adds
// that follow share the budget.
func TestGetUserBudget(t *testing.T) {
	hang := func(int) (time.Duration, *cip.AdminGetUserOutput, error) { return time.Hour, nil, nil }
	tests := []struct {
		name     string
		budget   time.Duration
		ctxAfter time.Duration // 0: no deadline on the caller's context
		want     time.Duration
	}{
		{"budget", 300 * time.Millisecond, 0, 300 * time.Millisecond},
		{"earlier context deadline wins", 10 * time.Second, 200 * time.Millisecond, 200 * time.Millisecond},
		{"earlier budget wins", 300 * time.Millisecond, 10 * time.Second, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if tt.ctxAfter > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctxAfter)
					defer cancel()
				}
				start := time.Now()
				rd := membership.NewReader(&userCognito{answer: hang}, membership.Options{Budget: tt.budget}).GetUser(ctx, readPool, readUser, readSub)
				if rd.Kind != membership.KindTimeout || rd.Attempts != 1 {
					t.Errorf("GetUser = %s after %d attempts (%v), want timed_out after 1", rd.Kind, rd.Attempts, rd.Err)
				}
				if got := time.Since(start); got != tt.want || rd.Duration != tt.want {
					t.Errorf("GetUser took %v (Duration %v), want %v", got, rd.Duration, tt.want)
				}
				if !rd.Deadline.Equal(start.Add(tt.want)) {
					t.Errorf("Read.Deadline = start + %v, want start + %v", rd.Deadline.Sub(start), tt.want)
				}
			})
		})
	}
}

// TestReadDeadlineSharedWithAdd: an Add given Read.Deadline ends with the
// read's budget, not with one of its own.
func TestReadDeadlineSharedWithAdd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &userCognito{
			answer: func(int) (time.Duration, *cip.AdminGetUserOutput, error) {
				return 200 * time.Millisecond, cognitoUser(types.UserStatusTypeConfirmed, "sub", readSub), nil
			},
			addFor: 200 * time.Millisecond,
		}
		o := membership.Options{Budget: 300 * time.Millisecond}
		start := time.Now()
		rd := membership.NewReader(api, o).GetUser(t.Context(), readPool, readUser, readSub)
		if rd.Kind != membership.KindOK {
			t.Fatalf("GetUser = %s (%v), want ok", rd.Kind, rd.Err)
		}
		ctx, cancel := context.WithDeadline(t.Context(), rd.Deadline)
		defer cancel()
		res := membership.NewAdder(api, o).Add(ctx, readPool, readUser, []string{"g"})
		if res[0].Kind != membership.KindTimeout {
			t.Errorf("Add after the read = %s, want timed_out: 200ms of the 300ms budget were spent reading", res[0].Kind)
		}
		if got := time.Since(start); got != o.Budget {
			t.Errorf("read and add took %v, want the one %v budget", got, o.Budget)
		}
		if len(api.addAt) != 1 || !api.addAt[0].Equal(start.Add(o.Budget)) {
			t.Errorf("the add's deadlines %v, want start + %v", api.addAt, o.Budget)
		}
	})
}

func TestVerifyUserFromEnv(t *testing.T) {
	tests := []struct {
		value   string
		want    bool
		wantErr string
	}{
		{"", true, ""},
		{"true", true, ""},
		{"false", false, ""},
		{"False", false, `AUTOGROUP_VERIFY_USER: want true or false, got "False"`},
		{"1", false, `AUTOGROUP_VERIFY_USER: want true or false, got "1"`},
		{"no", false, `AUTOGROUP_VERIFY_USER: want true or false, got "no"`},
	}
	for _, tt := range tests {
		got, err := membership.VerifyUserFromEnv(func(k string) string {
			if k == "AUTOGROUP_VERIFY_USER" {
				return tt.value
			}
			return ""
		})
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("VerifyUserFromEnv(%q) error = %v, want %q", tt.value, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("VerifyUserFromEnv(%q) = %v, %v; want %v", tt.value, got, err, tt.want)
		}
	}
}

func ExampleReader_GetUser() {
	// In production both are built on one client, with one Options:
	//
	//	client, err := membership.NewClientFromEnv(os.Getenv)
	//	reader, adder := membership.NewReader(client, opts), membership.NewAdder(client, opts)
	api := &userCognito{answer: answers(cognitoUser(types.UserStatusTypeConfirmed,
		"sub", readSub, "email", "ana.lima@example.com", "email_verified", "true"))}
	reader := membership.NewReader(api, membership.Options{})

	rd := reader.GetUser(context.Background(), readPool, "ana.lima@example.com", readSub)
	fmt.Println(rd.Kind, rd.User.Attributes["email_verified"], rd.User.Attributes["cognito:user_status"])

	// An event whose sub is not the user's decides nothing.
	rd = reader.GetUser(context.Background(), readPool, "ana.lima@example.com", "an-older-sub")
	fmt.Println(rd.Kind, rd.User == nil)
	fmt.Println(rd.Err)
	// Output:
	// ok true CONFIRMED
	// sub_mismatch true
	// read user (AdminGetUser): the user in user pool us-east-1_read has sub "5f2b1c3e-7a41-4d2e-9b0a-1c2d3e4f5a6b", not the expected "an-older-sub": nothing is decided for another user
}
