package autogroup_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// makeTargets returns the rules of a Makefile, as target → prerequisites:
// every line "target...: prerequisites" outside recipes, comments and
// variable assignments.
func makeTargets(mk string) map[string][]string {
	targets := map[string][]string{}
	for _, line := range strings.Split(mk, "\n") {
		if line == "" || line[0] == '\t' || line[0] == '#' || line[0] == ' ' {
			continue
		}
		head, prereqs, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(prereqs, "=") || strings.ContainsAny(head, "=?+$") {
			continue
		}
		for _, target := range strings.Fields(head) {
			targets[target] = append(targets[target], strings.Fields(prereqs)...)
		}
	}
	return targets
}

// reaches reports whether target depends on want, directly or through
// other targets.
func reaches(targets map[string][]string, target, want string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if n == want {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		return slices.ContainsFunc(targets[n], walk)
	}
	return walk(target)
}

func TestMakeTargets(t *testing.T) {
	mk := "GO ?= go\nX := a:b\n.PHONY: all build\nall: build test\nbuild: check build-A\n\tcmd: not a rule\n# c: no\nbuild-A build-B: check\n\t$(GO) build\ncheck:\n"
	got := makeTargets(mk)
	want := map[string][]string{
		".PHONY": {"all", "build"}, "all": {"build", "test"}, "build": {"check", "build-A"},
		"build-A": {"check"}, "build-B": {"check"}, "check": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("makeTargets (-want +got):\n%s", diff)
	}
	if !reaches(got, "all", "build-A") || reaches(got, "all", "build-B") || !reaches(got, "build-B", "check") {
		t.Errorf("reaches: all -> build-A %v, all -> build-B %v, build-B -> check %v; want true, false, true",
			reaches(got, "all", "build-A"), reaches(got, "all", "build-B"), reaches(got, "build-B", "check"))
	}
}

// TestBuildRefusesBrokenRuleset runs the Makefile's check-rules, which
// every build target runs first, on a copy of the shipped ruleset with a
// duplicate rule name: it must fail and name the problem. On the copy as
// shipped it must pass.
func TestBuildRefusesBrokenRuleset(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("make is not on PATH and CI is set: %v", err)
		}
		t.Skipf("make is not on PATH: %v", err)
	}
	shipped, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	names := ruleNames(t, shipped)
	if len(names) == 0 {
		t.Fatalf("%s has no rule to repeat the name of", rulesFile)
	}
	groups, err := rulesGroups(shipped)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := withRule(shipped, names[0], groups[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		src     []byte
		wantErr string // "" for success
	}{
		{"shipped", shipped, ""},
		{"duplicate rule name", broken, "duplicate rule name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, tc.src, 0o644); err != nil {
				t.Fatal(err)
			}
			// The make running this test, if any, must not pass its flags on.
			cmd := exec.CommandContext(t.Context(), "make", "-s", "check-rules", "RULES="+path)
			cmd.Env = supervise.Environ([]string{"MAKEFLAGS", "MAKELEVEL", "MFLAGS"})
			out, err := cmd.CombinedOutput()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("make check-rules on the shipped ruleset failed: %v\n%s", err, out)
			case tc.wantErr != "" && err == nil:
				t.Errorf("make check-rules on a ruleset with a %s succeeded, want it to fail:\n%s", tc.name, out)
			case tc.wantErr != "" && !strings.Contains(string(out), tc.wantErr):
				t.Errorf("make check-rules output = %q, want the problem (%q)", out, tc.wantErr)
			}
		})
	}
}
