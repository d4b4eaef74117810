package cognitofake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const testPool = "us-east-1_fake"

func add(ctx context.Context, c *cip.Client, user, group string) error {
	_, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
		UserPoolId: aws.String(testPool), Username: aws.String(user), GroupName: aws.String(group),
	})
	return err
}

// errorCode returns the service error code of err, or "" for nil and
// "not an API error" for anything else.
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func TestAdminAddUserToGroup(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.CreateGroup(testPool, "staff")

	if err := add(t.Context(), c, "u1", "staff"); err != nil {
		t.Fatalf("add u1 to staff: %v", err)
	}
	if err := add(t.Context(), c, "u1", "staff"); err != nil {
		t.Errorf("add u1 to staff again = %v, want success (idempotent)", err)
	}
	var notFound *types.ResourceNotFoundException
	if err := add(t.Context(), c, "u1", "nope"); !errors.As(err, &notFound) || aws.ToString(notFound.Message) != "Group not found." {
		t.Errorf("add to a missing group = %v, want ResourceNotFoundException \"Group not found.\"", err)
	}
	if diff := cmp.Diff([]string{"u1"}, s.Members(testPool, "staff")); diff != "" {
		t.Errorf("Members(staff) (-want +got):\n%s", diff)
	}

	calls := s.Calls()
	if len(calls) != 3 {
		t.Fatalf("Calls() has %d calls, want 3", len(calls))
	}
	got := calls[2]
	if got.Op != "AdminAddUserToGroup" || got.PoolID != testPool || got.Username != "u1" || got.Group != "nope" ||
		got.Status != 400 || got.Outcome != "ResourceNotFoundException" || got.End.Before(got.Start) || got.Start.IsZero() {
		t.Errorf("Calls()[2] = %+v, want the failed call to nope", got)
	}
}

func TestAllowAnyGroupAndUsers(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.AllowAnyGroup()
	if err := add(t.Context(), c, "anyone", "new-group"); err != nil {
		t.Fatalf("add with AllowAnyGroup = %v, want success", err)
	}
	s.CreateUser(testPool, "known")
	var userNotFound *types.UserNotFoundException
	if err := add(t.Context(), c, "stranger", "new-group"); !errors.As(err, &userNotFound) {
		t.Errorf("add of an unknown user in a pool with users = %v, want UserNotFoundException", err)
	}
	if err := add(t.Context(), c, "known", "other"); err != nil {
		t.Errorf("add of a known user = %v, want success", err)
	}
	if diff := cmp.Diff([]string{"new-group"}, s.GroupsForUser(testPool, "anyone")); diff != "" {
		t.Errorf("GroupsForUser(anyone) (-want +got):\n%s", diff)
	}
}

func TestCreateGroupAndListGroupsForUser(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	out, err := c.CreateGroup(t.Context(), &cip.CreateGroupInput{
		UserPoolId: aws.String(testPool), GroupName: aws.String("b"), Description: aws.String("B"), Precedence: aws.Int32(3),
	})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if aws.ToString(out.Group.GroupName) != "b" || aws.ToString(out.Group.Description) != "B" || aws.ToInt32(out.Group.Precedence) != 3 || out.Group.CreationDate == nil {
		t.Errorf("CreateGroup output = %+v", out.Group)
	}
	var exists *types.GroupExistsException
	if _, err := c.CreateGroup(t.Context(), &cip.CreateGroupInput{UserPoolId: aws.String(testPool), GroupName: aws.String("b")}); !errors.As(err, &exists) {
		t.Errorf("CreateGroup of an existing group = %v, want GroupExistsException", err)
	}
	s.CreateGroup(testPool, "a")
	s.CreateGroup(testPool, "c")
	for _, g := range []string{"c", "a", "b"} {
		if err := add(t.Context(), c, "u1", g); err != nil {
			t.Fatalf("add u1 to %s: %v", g, err)
		}
	}
	list, err := c.AdminListGroupsForUser(t.Context(), &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(testPool), Username: aws.String("u1")})
	if err != nil {
		t.Fatalf("AdminListGroupsForUser: %v", err)
	}
	var names []string
	for _, g := range list.Groups {
		names = append(names, aws.ToString(g.GroupName))
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, names); diff != "" {
		t.Errorf("AdminListGroupsForUser (-want +got):\n%s", diff)
	}
}

func TestGetGroup(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.CreateGroup(testPool, "staff")
	out, err := c.GetGroup(t.Context(), &cip.GetGroupInput{UserPoolId: aws.String(testPool), GroupName: aws.String("staff")})
	if err != nil || aws.ToString(out.Group.GroupName) != "staff" || aws.ToString(out.Group.UserPoolId) != testPool {
		t.Fatalf("GetGroup(staff) = %+v, %v; want the group", out, err)
	}
	var notFound *types.ResourceNotFoundException
	if _, err := c.GetGroup(t.Context(), &cip.GetGroupInput{UserPoolId: aws.String(testPool), GroupName: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Errorf("GetGroup of a missing group = %v, want ResourceNotFoundException", err)
	}
	s.AllowAnyGroup()
	if _, err := c.GetGroup(t.Context(), &cip.GetGroupInput{UserPoolId: aws.String(testPool), GroupName: aws.String("nope")}); err != nil {
		t.Errorf("GetGroup with AllowAnyGroup = %v, want the group", err)
	}
}

func TestUnknownOperation(t *testing.T) {
	s := New(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", targetPrefix+"NoSuchOperation")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Type string `json:"__type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || body.Type != "UnknownOperationException" || resp.Header.Get("X-Amzn-ErrorType") != body.Type {
		t.Errorf("unknown operation answered %d %q (header %q), want 400 UnknownOperationException",
			resp.StatusCode, body.Type, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*Server)
		calls  []string // group of each call, in order
		want   []string // error code of each call ("" for success)
	}{
		{"ThrottleFirst counts calls", func(s *Server) { s.ThrottleFirst(2) },
			[]string{"a", "b", "a"}, []string{"TooManyRequestsException", "TooManyRequestsException", ""}},
		{"AlwaysThrottle", func(s *Server) { s.AlwaysThrottle() },
			[]string{"a", "a", "a"}, []string{"TooManyRequestsException", "TooManyRequestsException", "TooManyRequestsException"}},
		{"FailWith500Once", func(s *Server) { s.FailWith500Once() },
			[]string{"a", "a"}, []string{"InternalErrorException", ""}},
		{"NotFound is per group", func(s *Server) { s.NotFound("b") },
			[]string{"a", "b", "b"}, []string{"", "ResourceNotFoundException", "ResourceNotFoundException"}},
		{"AccessDenied", func(s *Server) { s.AccessDenied() },
			[]string{"a"}, []string{"AccessDeniedException"}},
		{"UserNotFound", func(s *Server) { s.UserNotFound() },
			[]string{"a"}, []string{"UserNotFoundException"}},
		{"first matching fault wins", func(s *Server) {
			s.ThrottleFirst(1)
			s.FailWith500(1)
		}, []string{"a", "a", "a"}, []string{"TooManyRequestsException", "InternalErrorException", ""}},
		{"fault for another operation", func(s *Server) { s.Inject(Fault{Op: "CreateGroup", Type: "TooManyRequestsException"}) },
			[]string{"a"}, []string{""}},
		{"ClearFaults", func(s *Server) {
			s.AlwaysThrottle()
			s.ClearFaults()
		}, []string{"a"}, []string{""}},
		{"ResetConnection", func(s *Server) { s.ResetConnection(1) },
			[]string{"a", "a"}, []string{"not an API error", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			c := s.Client(t)
			s.CreateGroup(testPool, "a")
			s.CreateGroup(testPool, "b")
			tt.inject(s)
			var got []string
			for _, g := range tt.calls {
				code := errorCode(add(t.Context(), c, "u1", g))
				if strings.HasPrefix(code, "not an API error") {
					code = "not an API error"
				}
				got = append(got, code)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDelayAndMaxInFlight(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.AllowAnyGroup()
	s.Delay(200 * time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	for _, g := range []string{"a", "b", "c"} {
		wg.Go(func() {
			if err := add(t.Context(), c, "u1", g); err != nil {
				t.Errorf("add to %s: %v", g, err)
			}
		})
	}
	wg.Wait()
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("three delayed calls took %v, want at least 200ms", elapsed)
	}
	if got := s.MaxInFlight(); got != 3 {
		t.Errorf("MaxInFlight() = %d, want 3", got)
	}
}

func TestHangEndsWhenClientGivesUp(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.CreateGroup(testPool, "a")
	s.Hang()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := add(ctx, c, "u1", "a")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung call = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("hung call returned after %v, want about 200ms", elapsed)
	}
	// The server notices that the client left and records the end.
	deadline := time.Now().Add(2 * time.Second)
	for {
		calls := s.Calls()
		if len(calls) == 1 && calls[0].Outcome == "hung" && !calls[0].End.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Calls() = %+v, want one hung call that ended", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCleanupReleasesHungCalls: a call still hanging when the test ends
// fails (it does not get an empty success) and does not block the cleanup.
func TestCleanupReleasesHungCalls(t *testing.T) {
	errc := make(chan error, 1)
	start := time.Now()
	t.Run("hang", func(t *testing.T) {
		s := New(t)
		c := s.Client(t)
		s.Hang()
		go func() { errc <- add(context.Background(), c, "u1", "a") }()
		for len(s.Calls()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	})
	select {
	case err := <-errc:
		if err == nil {
			t.Error("call hanging at cleanup succeeded, want an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("call hanging at cleanup still waits 5s later")
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("cleanup took %v, want it not to wait for the hung call", elapsed)
	}
}

// TestClientIgnoresEndpointFromEnvironment: Client talks to its server even
// when the environment names another Cognito endpoint.
func TestClientIgnoresEndpointFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://127.0.0.1:1")
	s := New(t)
	s.AllowAnyGroup()
	if err := add(t.Context(), s.Client(t), "u1", "g"); err != nil {
		t.Fatalf("add: %v", err)
	}
	if n := len(s.Calls()); n != 1 {
		t.Errorf("server got %d calls, want 1", n)
	}
}

// post sends one raw JSON 1.1 request, as a client that is not the SDK
// (the benchmarks' function, say) would.
func post(url, op, body string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String(), err
}

func TestStartOutsideATest(t *testing.T) {
	const delay = 50 * time.Millisecond
	s, err := Start(Options{Delay: delay, AllowAnyGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := `{"UserPoolId":"` + testPool + `","Username":"u1","GroupName":"any-group"}`
	begin := time.Now()
	status, answer, err := post(s.URL(), "AdminAddUserToGroup", body)
	if elapsed := time.Since(begin); elapsed < delay {
		t.Errorf("call answered after %v, want at least the %v delay", elapsed, delay)
	}
	if err != nil || status != http.StatusOK || strings.TrimSpace(answer) != "{}" {
		t.Errorf("AdminAddUserToGroup = %d %q, %v; want 200 {}", status, answer, err)
	}
	calls := s.CallsTo("AdminAddUserToGroup")
	if len(calls) != 1 || calls[0].Outcome != "ok" || calls[0].Group != "any-group" {
		t.Errorf("CallsTo(AdminAddUserToGroup) = %+v, want one ok call for any-group", calls)
	}
	if diff := cmp.Diff([]string{"u1"}, s.Members(testPool, "any-group")); diff != "" {
		t.Errorf("Members(any-group) (-want +got):\n%s", diff)
	}

	s.Close()
	s.Close() // again: a no-op
	if _, _, err := post(s.URL(), "AdminAddUserToGroup", body); err == nil {
		t.Error("call after Close succeeded, want a connection error")
	}
}

func TestStartErrors(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := strings.TrimPrefix(s.URL(), "http://")
	if s2, err := Start(Options{Addr: addr}); err == nil {
		s2.Close()
		t.Errorf("Start on %s, which is in use, succeeded; want an error", addr)
	}
}

// TestCloseReleasesHungCalls: Close does not wait for a hung call's client
// to give up, and the client gets an error, not an empty success.
func TestCloseReleasesHungCalls(t *testing.T) {
	s, err := Start(Options{AllowAnyGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Hang()
	errc := make(chan error, 1)
	go func() {
		_, _, err := post(s.URL(), "AdminAddUserToGroup", `{"UserPoolId":"p","Username":"u","GroupName":"g"}`)
		errc <- err
	}()
	for len(s.Calls()) == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting for a hung call after 10s")
	}
	if err := <-errc; err == nil {
		t.Error("hung call answered without error when the server closed")
	}
}
