package membership_test

import (
	"testing"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// TestThrottleAttempts checks that ThrottleAttempts bounds the calls made
// while Cognito throttles, for adds and reads, and leaves other retryable
// failures to MaxAttempts.
func TestThrottleAttempts(t *testing.T) {
	tests := []struct {
		name             string
		setup            func(*cognitofake.Server)
		throttleAttempts int
		wantKind         membership.Kind
		wantAttempts     int
	}{
		{"stop at the first throttle", (*cognitofake.Server).AlwaysThrottle, 1, membership.KindThrottled, 1},
		{"two throttles", (*cognitofake.Server).AlwaysThrottle, 2, membership.KindThrottled, 2},
		{"zero: MaxAttempts bounds", (*cognitofake.Server).AlwaysThrottle, 0, membership.KindThrottled, 4},
		{"throttled once, then added", func(s *cognitofake.Server) { s.ThrottleFirst(1) }, 2, membership.KindOK, 2},
		{"server errors are not throttles", func(s *cognitofake.Server) { s.FailWith500(0) }, 1, membership.KindServerError, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := membership.Options{
				Budget: 5 * time.Second, MaxAttempts: 4, ThrottleAttempts: tt.throttleAttempts,
				BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
			}

			s, client := newServer(t, "g")
			s.CreateUser(pool, "user-1")
			tt.setup(s)
			res := membership.NewAdder(client, o).Add(t.Context(), pool, "user-1", []string{"g"})
			if res[0].Kind != tt.wantKind || res[0].Attempts != tt.wantAttempts {
				t.Errorf("Add = %s after %d attempts, want %s after %d", res[0].Kind, res[0].Attempts, tt.wantKind, tt.wantAttempts)
			}
			if n := len(s.CallsTo("AdminAddUserToGroup")); n != tt.wantAttempts {
				t.Errorf("AdminAddUserToGroup calls = %d, want %d", n, tt.wantAttempts)
			}

			s, client = newServer(t)
			s.CreateUser(pool, "user-1")
			tt.setup(s)
			read := membership.NewReader(client, o).GetUser(t.Context(), pool, "user-1", s.Sub(pool, "user-1"))
			if read.Kind != tt.wantKind || read.Attempts != tt.wantAttempts {
				t.Errorf("GetUser = %s after %d attempts, want %s after %d", read.Kind, read.Attempts, tt.wantKind, tt.wantAttempts)
			}
		})
	}
}
