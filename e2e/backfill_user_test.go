package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// TestBackfillOneUser runs backfill --user SUB against cognito-local, whose
// ListUsers honours a Filter as Cognito's does: of several users the rules
// would each give a group, only the one with that sub gets it.
func TestBackfillOneUser(t *testing.T) {
	env := start(t, harness.Options{})
	ctx := testContext(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Created by AdminCreateUser, which runs no trigger: none has a group,
	// and the shipped rules give each of them staff.
	var subs []string
	for i := range 4 {
		email := fmt.Sprintf("user%d@example.com", i)
		_, sub, err := pool.CreateUser(ctx, email, map[string]string{"email": email, "email_verified": "true"})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	target := subs[2]

	r := runCLI(t, ctx, env, "backfill", "--pool", pool.ID, "--rules", env.RulesFile(), "--user", target, "--apply", "--json")
	if r.code != 0 {
		t.Fatalf("backfill --user: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var sum struct {
		Users, Added int
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Users != 1 || sum.Added != 1 {
		t.Errorf("summary = %+v (err %v), want 1 user and 1 membership added:\n%s", sum, err, r.stdout)
	}
	for _, sub := range subs {
		got, err := pool.GroupsOf(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{}
		if sub == target {
			want = []string{"staff"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("groups of user %d after backfill --user %s (-want +got):\n%s", slices.Index(subs, sub), target, diff)
		}
	}

	// A sub the pool does not hold matches no user: nothing is done.
	r = runCLI(t, ctx, env, "backfill", "--pool", pool.ID, "--rules", env.RulesFile(), "--user", "00000000-0000-4000-8000-000000000000", "--apply")
	if r.code != 2 {
		t.Errorf("backfill --user of no user: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
}
