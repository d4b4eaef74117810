package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExplainPoolUser(t *testing.T) {
	s := newReconcilePool(t)
	ana := s.Sub(fakePool, "ana")
	r := runFake(t, s, nil, "explain", "--rules", reconcileRules, "--pool", fakePool, "--user", ana)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"current: admins, auditors, staff",
		"✗ staff: no match",
		"would remove  admins, staff (managed; no rule selects them)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := len(s.CallsTo("AdminRemoveUserFromGroup")); n != 0 {
		t.Errorf("explain made %d AdminRemoveUserFromGroup calls, want none", n)
	}

	held := runFake(t, s, nil, "explain", "--rules", reconcileRules, "--pool", fakePool, "--user", s.Sub(fakePool, "ben"), "--json")
	var out explainPoolOut
	if err := json.Unmarshal([]byte(held.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, held.stdout)
	}
	if out.Explanation.Excluded == nil || !*out.Explanation.Excluded || out.Backfill.Skip != "excluded" || len(out.Backfill.Remove) != 0 || out.Backfill.Username != "" {
		t.Errorf("held user: excluded %v, backfill %+v; want excluded, skip excluded, no removal, no username", out.Explanation.Excluded, out.Backfill)
	}
	if diff := cmp.Diff([]string{"hold", "staff"}, out.Explanation.CurrentGroups); diff != "" {
		t.Errorf("currentGroups (-want +got):\n%s", diff)
	}

	if r := runFake(t, s, nil, "explain", "--pool", fakePool); r.code != exitUsage {
		t.Errorf("--pool without --user: exit %d, want 2", r.code)
	}
}
