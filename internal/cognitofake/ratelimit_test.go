package cognitofake

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRateLimitDraw drives the bucket with explicit times: a burst of one
// second's worth, one token back every 1/PerSecond, throttled calls taking
// none, other operations untouched, and Times counting throttled calls.
func TestRateLimitDraw(t *testing.T) {
	s := New(t)
	s.RateLimit("AdminAddUserToGroup", 5)
	s.Inject(Fault{Op: "ListUsers", PerSecond: 1, Times: 1, Type: "TooManyRequestsException"})
	t0 := time.Now()
	add := &request{op: "AdminAddUserToGroup"}
	list := &request{op: "ListUsers"}
	outcome := func(r *request, at time.Duration) string {
		s.mu.Lock()
		defer s.mu.Unlock()
		if f := s.draw(r, t0.Add(at)); f != nil {
			return f.Type
		}
		return "ok"
	}
	var got []string
	for range 6 { // the burst: 5, then throttled
		got = append(got, outcome(add, 0))
	}
	got = append(got, outcome(add, 100*time.Millisecond)) // no token yet
	got = append(got, outcome(add, 200*time.Millisecond)) // one back
	got = append(got, outcome(add, 210*time.Millisecond))
	for range 6 { // long idle: the bucket holds 5, not more
		got = append(got, outcome(add, time.Minute))
	}
	const tm = "TooManyRequestsException"
	want := []string{"ok", "ok", "ok", "ok", "ok", tm, tm, "ok", tm, "ok", "ok", "ok", "ok", "ok", tm}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AdminAddUserToGroup at 5/s (-want +got):\n%s", diff)
	}
	// ListUsers: its own bucket of 1; the fault is used up once it throttled a call.
	got = []string{outcome(list, 0), outcome(list, 0), outcome(list, 0)}
	if diff := cmp.Diff([]string{"ok", tm, "ok"}, got); diff != "" {
		t.Errorf("ListUsers at 1/s, once (-want +got):\n%s", diff)
	}
}

// TestRateLimitOverHTTP: beyond the rate, the SDK sees Cognito's throttling
// answer, and the fake records the call as throttled.
func TestRateLimitOverHTTP(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	s.AllowAnyGroup()
	s.RateLimit("AdminAddUserToGroup", 0.5) // a burst of 1, a token every 2s
	var got []string
	for range 4 {
		got = append(got, errorCode(add(t.Context(), c, "u1", "g")))
	}
	const tm = "TooManyRequestsException"
	if diff := cmp.Diff([]string{"", tm, tm, tm}, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	throttled := 0
	for _, call := range s.CallsTo("AdminAddUserToGroup") {
		if call.Outcome == tm && call.Status == 400 {
			throttled++
		}
	}
	if throttled != 3 || len(s.Members(testPool, "g")) != 1 {
		t.Errorf("%d calls recorded as throttled, members %v; want 3 and u1 added once", throttled, s.Members(testPool, "g"))
	}
}
