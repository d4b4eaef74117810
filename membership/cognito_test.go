package membership_test

// Tests through the real SDK client, built by NewCognitoClient, against
// cognitofake: what production's client configuration does with Cognito's
// answers and failures.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

const pool = "us-east-1_abc"

// newServer returns a fake Cognito in which the groups exist, and a client
// for it.
func newServer(t *testing.T, groups ...string) (*cognitofake.Server, *cip.Client) {
	t.Helper()
	s := cognitofake.New(t)
	for _, g := range groups {
		s.CreateGroup(pool, g)
	}
	return s, s.Client(t)
}

func addInput(group string) *cip.AdminAddUserToGroupInput {
	return &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(pool), Username: aws.String("user-1"), GroupName: aws.String(group)}
}

// TestClassifySDKErrors checks that what the real SDK client makes of each
// answer is classified as expected, and that the modelled exception types
// survive the trip for errors.As.
func TestClassifySDKErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*cognitofake.Server)
		group   string
		timeout time.Duration
		want    membership.Kind
		as      any // a pointer to an exception type errors.As must find
	}{
		{"ok", func(*cognitofake.Server) {}, "g", 0, membership.KindOK, nil},
		{"group missing", func(*cognitofake.Server) {}, "missing", 0, membership.KindGroupNotFound, new(*types.ResourceNotFoundException)},
		{"NotFound fault", func(s *cognitofake.Server) { s.NotFound("g") }, "g", 0, membership.KindGroupNotFound, new(*types.ResourceNotFoundException)},
		{"user missing", func(s *cognitofake.Server) { s.CreateUser(pool, "someone-else") }, "g", 0, membership.KindUserNotFound, new(*types.UserNotFoundException)},
		{"UserNotFound fault", func(s *cognitofake.Server) { s.UserNotFound() }, "g", 0, membership.KindUserNotFound, new(*types.UserNotFoundException)},
		{"access denied", func(s *cognitofake.Server) { s.AccessDenied() }, "g", 0, membership.KindAccessDenied, nil},
		{"not authorized", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Type: "NotAuthorizedException", Message: "Access Token has been revoked"})
		}, "g", 0, membership.KindNotAuthorized, new(*types.NotAuthorizedException)},
		{"invalid parameter", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Type: "InvalidParameterException", Message: "bad group name"})
		}, "g", 0, membership.KindInvalidParameter, new(*types.InvalidParameterException)},
		{"empty group name", func(*cognitofake.Server) {}, "", 0, membership.KindInvalidParameter, new(*types.InvalidParameterException)},
		{"throttled", func(s *cognitofake.Server) { s.ThrottleFirst(1) }, "g", 0, membership.KindThrottled, new(*types.TooManyRequestsException)},
		{"ThrottlingException", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Type: "ThrottlingException", Message: "Rate exceeded"})
		}, "g", 0, membership.KindThrottled, nil},
		{"500 InternalErrorException", func(s *cognitofake.Server) { s.FailWith500Once() }, "g", 0, membership.KindServerError, new(*types.InternalErrorException)},
		{"bare 503", func(s *cognitofake.Server) { s.Inject(cognitofake.Fault{Status: 503}) }, "g", 0, membership.KindServerError, nil},
		{"connection reset", func(s *cognitofake.Server) { s.ResetConnection(1) }, "g", 0, membership.KindNetwork, nil},
		{"hang until the deadline", func(s *cognitofake.Server) { s.Hang() }, "g", 200 * time.Millisecond, membership.KindTimeout, nil},
		{"unknown exception", func(s *cognitofake.Server) {
			s.Inject(cognitofake.Fault{Type: "BrandNewException", Message: "?"})
		}, "g", 0, membership.KindUnknown, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newServer(t, "g")
			tt.setup(s)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := c.AdminAddUserToGroup(ctx, addInput(tt.group))
			if got := membership.Classify(err); got != tt.want {
				t.Errorf("Classify(%v) = %s, want %s", err, got, tt.want)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("errors.As(%v, %T) = false, want true", err, tt.as)
			}
			if n := len(s.Calls()); n != 1 {
				t.Errorf("the client made %d calls, want 1 (SDK retries must be off)", n)
			}
		})
	}
}

func TestClassifyConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	c, err := membership.NewClientFromEnv(mapEnv(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": url,
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AdminAddUserToGroup(t.Context(), addInput("g"))
	if got := membership.Classify(err); got != membership.KindNetwork {
		t.Errorf("Classify(%v) = %s, want %s", err, got, membership.KindNetwork)
	}
}

// fastRetries keeps backoffs short so that retry tests run quickly.
var fastRetries = membership.Options{BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

func TestAddThroughSDK(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(*cognitofake.Server)
		wantKind     membership.Kind
		wantAttempts int
		wantMsg      []string
	}{
		{"ok", func(*cognitofake.Server) {}, membership.KindOK, 1, nil},
		{"throttled twice", func(s *cognitofake.Server) { s.ThrottleFirst(2) }, membership.KindOK, 3, nil},
		{"500 once", func(s *cognitofake.Server) { s.FailWith500Once() }, membership.KindOK, 2, nil},
		{"connection reset once", func(s *cognitofake.Server) { s.ResetConnection(1) }, membership.KindOK, 2, nil},
		{"always throttled", func(s *cognitofake.Server) { s.AlwaysThrottle() }, membership.KindThrottled, membership.DefaultMaxAttempts,
			[]string{`add user to group "g": throttled by Cognito (TooManyRequestsException) after 6 attempts`, pool}},
		{"access denied", func(s *cognitofake.Server) { s.AccessDenied() }, membership.KindAccessDenied, 1,
			[]string{`add user to group "g": access denied`, "IAM permission cognito-idp:AdminAddUserToGroup", pool}},
		{"user not found", func(s *cognitofake.Server) { s.UserNotFound() }, membership.KindUserNotFound, 1,
			[]string{`add user to group "g": user does not exist in user pool ` + pool}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newServer(t, "g")
			tt.setup(s)
			r := membership.NewAdder(c, fastRetries).Add(t.Context(), pool, "user-1", []string{"g"})[0]
			if r.Kind != tt.wantKind || r.Attempts != tt.wantAttempts {
				t.Errorf("Add = %s after %d attempts (%v), want %s after %d", r.Kind, r.Attempts, r.Err, tt.wantKind, tt.wantAttempts)
			}
			if n := len(s.Calls()); n != r.Attempts {
				t.Errorf("Cognito got %d calls, Result.Attempts = %d", n, r.Attempts)
			}
			for _, w := range tt.wantMsg {
				if r.Err == nil || !strings.Contains(r.Err.Error(), w) {
					t.Errorf("Result.Err = %v, want it to contain %q", r.Err, w)
				}
			}
			if strings.Contains(fmt.Sprint(r.Err), "user-1") {
				t.Errorf("Result.Err = %v, want no username in it", r.Err)
			}
			if r.Kind == membership.KindOK {
				if diff := cmp.Diff([]string{"user-1"}, s.Members(pool, "g")); diff != "" {
					t.Errorf("members of g (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAddOneGroupMissing(t *testing.T) {
	s, c := newServer(t, "a", "c")
	s.NotFound("b")
	res := membership.NewAdder(c, fastRetries).Add(t.Context(), pool, "user-1", []string{"a", "b", "c"})
	var got []string
	for _, r := range res {
		got = append(got, fmt.Sprintf("%s:%s:%d", r.Group, r.Kind, r.Attempts))
	}
	if diff := cmp.Diff([]string{"a:ok:1", "b:group_not_found:1", "c:ok:1"}, got); diff != "" {
		t.Errorf("Add results (-want +got):\n%s", diff)
	}
	want := `add user to group "b": group does not exist in user pool us-east-1_abc`
	if err := res[1].Err; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Result.Err = %v, want it to start with %q", err, want)
	}
	var notFound *types.ResourceNotFoundException
	if !errors.As(res[1].Err, &notFound) {
		t.Errorf("errors.As(%v, *types.ResourceNotFoundException) = false", res[1].Err)
	}
	if diff := cmp.Diff([]string{"a", "c"}, s.GroupsForUser(pool, "user-1")); diff != "" {
		t.Errorf("groups of user-1 (-want +got):\n%s", diff)
	}
}

// TestAddAlwaysThrottled: a Cognito that always throttles costs
// MaxAttempts calls with short backoffs, far less than the budget.
// (Stopping at the budget is tested with the hand-written fake, in
// TestAddAlwaysThrottledStopsBeforeBudget.)
func TestAddAlwaysThrottled(t *testing.T) {
	s, c := newServer(t, "g")
	s.AlwaysThrottle()
	o := membership.Options{Budget: 4 * time.Second, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
	start := time.Now()
	r := membership.NewAdder(c, o).Add(t.Context(), pool, "user-1", []string{"g"})[0]
	elapsed := time.Since(start)
	if r.Kind != membership.KindThrottled || r.Attempts != membership.DefaultMaxAttempts {
		t.Errorf("Add = %s after %d attempts (%v), want throttled after %d", r.Kind, r.Attempts, r.Err, membership.DefaultMaxAttempts)
	}
	if elapsed >= time.Second {
		t.Errorf("Add took %v, want well under the %v budget (under 1s)", elapsed, o.Budget)
	}
}

// TestAddSlowGroupsRunConcurrently: five groups that each take 1.2s are
// added in well under 5 x 1.2s.
func TestAddSlowGroupsRunConcurrently(t *testing.T) {
	t.Parallel()
	groups := []string{"a", "b", "c", "d", "e"}
	s, c := newServer(t, groups...)
	s.Delay(1200 * time.Millisecond)
	start := time.Now()
	res := membership.NewAdder(c, membership.Options{}).Add(t.Context(), pool, "user-1", groups)
	elapsed := time.Since(start)
	for _, r := range res {
		if r.Kind != membership.KindOK {
			t.Errorf("group %s: %s (%v), want ok", r.Group, r.Kind, r.Err)
		}
	}
	if elapsed >= 2*time.Second {
		t.Errorf("Add took %v, want under 2s", elapsed)
	}
	if got := s.MaxInFlight(); got != len(groups) {
		t.Errorf("most calls in flight = %d, want %d", got, len(groups))
	}
}

// TestAddHungCognito: with the default 4s budget, a Cognito that never
// answers yields timed_out before Cognito's 5s trigger timeout.
func TestAddHungCognito(t *testing.T) {
	t.Parallel()
	s, c := newServer(t, "a", "b")
	s.Hang()
	start := time.Now()
	res := membership.NewAdder(c, membership.Options{Budget: 4 * time.Second}).Add(t.Context(), pool, "user-1", []string{"a", "b"})
	elapsed := time.Since(start)
	for _, r := range res {
		if r.Kind != membership.KindTimeout || r.Attempts != 1 {
			t.Errorf("group %s: %s after %d attempts (%v), want timed_out after 1", r.Group, r.Kind, r.Attempts, r.Err)
		}
		if r.Err == nil || !strings.Contains(r.Err.Error(), "timed out: the time budget ran out after 1 attempt") {
			t.Errorf("group %s: Err = %v, want a message that the budget ran out", r.Group, r.Err)
		}
	}
	if elapsed < 3900*time.Millisecond || elapsed >= 5*time.Second {
		t.Errorf("Add took %v, want about 4s and under 5s", elapsed)
	}
}

func TestAddContextDeadlineWins(t *testing.T) {
	t.Parallel()
	s, c := newServer(t, "g")
	s.Hang()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := membership.NewAdder(c, membership.Options{Budget: 4 * time.Second}).Add(ctx, pool, "user-1", []string{"g"})[0]
	elapsed := time.Since(start)
	if r.Kind != membership.KindTimeout {
		t.Errorf("Add kind = %s (%v), want timed_out", r.Kind, r.Err)
	}
	// Real HTTP on a busy machine may add a second or more; the budget
	// winning would take 4s.
	if elapsed < 250*time.Millisecond || elapsed >= 3*time.Second {
		t.Errorf("Add took %v, want about 300ms (the context's deadline, not the 4s budget) and under 3s", elapsed)
	}
}

// TestAddNoRetryThatCannotFit: every answer takes 600ms and is a 500; with a
// 1400ms budget, a retry after the first answer cannot fit (it is assumed to
// cost half as long again as the longest attempt, 900ms or more, and 800ms
// or less are left), so exactly one call is made and the result is
// server_error, not timed_out. The 800ms between the answer and the budget's
// end leave room for a loaded machine's slow HTTP.
func TestAddNoRetryThatCannotFit(t *testing.T) {
	t.Parallel()
	s, c := newServer(t, "g")
	s.Delay(600 * time.Millisecond)
	s.FailWith500(0)
	o := fastRetries
	o.Budget = 1400 * time.Millisecond
	o.MaxAttempts = 100
	r := membership.NewAdder(c, o).Add(t.Context(), pool, "user-1", []string{"g"})[0]
	if r.Kind != membership.KindServerError || r.Attempts != 1 {
		t.Errorf("Add = %s after %d attempts (%v), want server_error after 1", r.Kind, r.Attempts, r.Err)
	}
	if n := len(s.Calls()); n != 1 {
		t.Errorf("Cognito got %d calls, want 1", n)
	}
}

func TestAddConcurrencyBound(t *testing.T) {
	t.Parallel()
	groups := make([]string, 12)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%02d", i)
	}
	s, c := newServer(t, groups...)
	s.Delay(200 * time.Millisecond)
	res := membership.NewAdder(c, membership.Options{Concurrency: 3}).Add(t.Context(), pool, "user-1", groups)
	for _, r := range res {
		if r.Kind != membership.KindOK {
			t.Errorf("group %s: %s (%v), want ok", r.Group, r.Kind, r.Err)
		}
	}
	if got := s.MaxInFlight(); got != 3 {
		t.Errorf("most calls in flight = %d, want 3", got)
	}
}

// TestAddIdempotent: overlapping and repeated Add calls for the same user,
// as Cognito's repeated trigger invocations make them, all succeed and leave
// the same membership.
func TestAddIdempotent(t *testing.T) {
	groups := []string{"a", "b", "c"}
	s, c := newServer(t, groups...)
	a := membership.NewAdder(c, fastRetries)
	var wg sync.WaitGroup
	results := make([][]membership.Result, 4)
	for i := range 3 {
		wg.Go(func() { results[i] = a.Add(t.Context(), pool, "user-1", groups) })
	}
	wg.Wait()
	results[3] = a.Add(t.Context(), pool, "user-1", groups)
	for i, res := range results {
		for _, r := range res {
			if r.Kind != membership.KindOK || r.Err != nil {
				t.Errorf("Add #%d, group %s: %s (%v), want ok", i, r.Group, r.Kind, r.Err)
			}
		}
	}
	if diff := cmp.Diff(groups, s.GroupsForUser(pool, "user-1")); diff != "" {
		t.Errorf("groups of user-1 (-want +got):\n%s", diff)
	}
	for _, g := range groups {
		if diff := cmp.Diff([]string{"user-1"}, s.Members(pool, g)); diff != "" {
			t.Errorf("members of %s (-want +got):\n%s", g, diff)
		}
	}
	if n := len(s.Calls()); n != 4*len(groups) {
		t.Errorf("Cognito got %d calls, want %d", n, 4*len(groups))
	}
}

func TestAddWaitHook(t *testing.T) {
	t.Run("before every attempt", func(t *testing.T) {
		s, c := newServer(t, "g")
		s.ThrottleFirst(2)
		var mu sync.Mutex
		var waits []int // calls Cognito had seen at each Wait
		o := fastRetries
		o.Wait = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, len(s.Calls()))
			return nil
		}
		r := membership.NewAdder(c, o).Add(t.Context(), pool, "user-1", []string{"g"})[0]
		if r.Kind != membership.KindOK || r.Attempts != 3 {
			t.Errorf("Add = %s after %d attempts (%v), want ok after 3", r.Kind, r.Attempts, r.Err)
		}
		if diff := cmp.Diff([]int{0, 1, 2}, waits); diff != "" {
			t.Errorf("calls seen at each Wait (-want +got):\n%s", diff)
		}
	})
	t.Run("error stops the work", func(t *testing.T) {
		s, c := newServer(t, "a", "b")
		errLimit := errors.New("rate: Wait(n=1) would exceed context deadline")
		o := fastRetries
		o.Wait = func(context.Context) error { return errLimit }
		res := membership.NewAdder(c, o).Add(t.Context(), pool, "user-1", []string{"a", "b"})
		for _, r := range res {
			if r.Attempts != 0 || !errors.Is(r.Err, errLimit) {
				t.Errorf("group %s: %s after %d attempts (%v), want 0 attempts and the Wait error", r.Group, r.Kind, r.Attempts, r.Err)
			}
		}
		if n := len(s.Calls()); n != 0 {
			t.Errorf("Cognito got %d calls, want 0", n)
		}
	})
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestNewClientFromEnv: region, credentials and endpoint come from the
// variables the Lambda runtime sets, and the SDK does not retry even when the
// environment asks for retries.
func TestNewClientFromEnv(t *testing.T) {
	s := cognitofake.New(t)
	s.CreateGroup(pool, "g")
	s.FailWith500Once()
	c, err := membership.NewClientFromEnv(mapEnv(map[string]string{
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": s.URL(),
		"AWS_REGION":            "eu-west-1",
		"AWS_ACCESS_KEY_ID":     "AKIDENV",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN":     "token",
		"AWS_MAX_ATTEMPTS":      "5",
		"AWS_RETRY_MODE":        "standard",
	}))
	if err != nil {
		t.Fatalf("NewClientFromEnv: %v", err)
	}
	if got := c.Options().Region; got != "eu-west-1" {
		t.Errorf("client region = %q, want eu-west-1 from AWS_REGION", got)
	}
	creds, err := c.Options().Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "AKIDENV" || creds.SessionToken != "token" {
		t.Errorf("credentials = %+v, %v; want those of the environment", creds, err)
	}
	_, err = c.AdminAddUserToGroup(t.Context(), addInput("g"))
	if got := membership.Classify(err); got != membership.KindServerError {
		t.Errorf("first call: Classify(%v) = %s, want server_error (no SDK retry)", err, got)
	}
	if _, err := c.AdminAddUserToGroup(t.Context(), addInput("g")); err != nil {
		t.Errorf("second call: %v", err)
	}
	if n := len(s.Calls()); n != 2 {
		t.Errorf("Cognito got %d calls, want 2: one per AdminAddUserToGroup", n)
	}
}

func TestNewClientFromEnvSettings(t *testing.T) {
	base := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name         string
		env          map[string]string
		wantErr      string
		wantRegion   string
		wantEndpoint string
	}{
		{name: "lambda", env: base, wantRegion: "us-east-1"},
		{name: "default region", env: with("AWS_REGION", "", "AWS_DEFAULT_REGION", "ap-south-1"), wantRegion: "ap-south-1"},
		{name: "no region", env: with("AWS_REGION", ""), wantErr: "AWS_REGION"},
		{name: "no credentials", env: with("AWS_SECRET_ACCESS_KEY", ""), wantErr: "AWS_SECRET_ACCESS_KEY"},
		{name: "service endpoint wins", env: with("AWS_ENDPOINT_URL", "http://127.0.0.1:1", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://127.0.0.1:2"), wantRegion: "us-east-1", wantEndpoint: "http://127.0.0.1:2"},
		{name: "global endpoint", env: with("AWS_ENDPOINT_URL", "http://127.0.0.1:1"), wantRegion: "us-east-1", wantEndpoint: "http://127.0.0.1:1"},
		{name: "endpoints ignored", env: with("AWS_ENDPOINT_URL", "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), wantRegion: "us-east-1"},
		{name: "bad endpoint", env: with("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "localhost:9229"), wantErr: "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := membership.NewClientFromEnv(mapEnv(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewClientFromEnv error = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClientFromEnv: %v", err)
			}
			o := c.Options()
			if o.Region != tt.wantRegion {
				t.Errorf("region = %q, want %q", o.Region, tt.wantRegion)
			}
			if got := aws.ToString(o.BaseEndpoint); got != tt.wantEndpoint {
				t.Errorf("endpoint = %q, want %q", got, tt.wantEndpoint)
			}
			if _, ok := o.Retryer.(aws.NopRetryer); !ok {
				t.Errorf("retryer = %T, want aws.NopRetryer", o.Retryer)
			}
		})
	}
}
