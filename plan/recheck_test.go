package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRecheck(t *testing.T) {
	p := NewPlanner(mustParse(t, reconcileRules))
	pool := Pool{ID: "us-east-1_test"}
	user := User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com"), Groups: []string{"admins"}}
	saved := p.User(pool, user) // add staff, remove admins
	if len(saved.Add) != 1 || len(saved.Remove) != 1 {
		t.Fatalf("User() = add %v remove %v, want add staff, remove admins", saved.Add, saved.Remove)
	}
	tests := []struct {
		name       string
		now        User
		wantHolds  bool
		wantAdd    []string
		wantRemove []string
	}{
		{"unchanged", user, true, []string{"staff"}, []string{"admins"}},
		{"add already done", User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com"), Groups: []string{"admins", "staff"}},
			true, nil, []string{"admins"}},
		{"removal already gone", User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com")},
			true, []string{"staff"}, nil},
		{"attributes changed", User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com", "custom:role", "admin"), Groups: []string{"admins"}},
			false, []string{"staff"}, nil},
		{"put on hold", User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s1", "u@example.com"), Groups: []string{"admins", "hold"}},
			false, nil, nil},
		{"another user under the username", User{Username: "u", Status: "CONFIRMED", Attributes: attrs("s2", "u@example.com"), Groups: []string{"admins"}},
			false, []string{"staff"}, []string{"admins"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, holds := p.Recheck(pool, &saved, tt.now)
			if holds != tt.wantHolds {
				t.Errorf("Recheck() holds = %v, want %v", holds, tt.wantHolds)
			}
			if diff := cmp.Diff(tt.wantAdd, got.Add); diff != "" {
				t.Errorf("Recheck().Add (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRemove, got.Remove); diff != "" {
				t.Errorf("Recheck().Remove (-want +got):\n%s", diff)
			}
		})
	}
}
