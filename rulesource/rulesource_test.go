package rulesource_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

const (
	rulesA = "version: 1\ndefaultGroups: [a]\n"
	rulesB = "version: 1\ndefaultGroups: [b]\n"
	// badRules has two problems, on lines 1 and 4.
	badRules = "version: 2\nrules:\n  - name: x\n    when: {nope: 1}\n    groups: [a]\n"
)

func groups(rs *rules.Ruleset) []string { return rs.GroupNames() }

func TestEmbedded(t *testing.T) {
	src := rulesource.Embedded()
	if src.Name() != "rules.yaml (embedded)" {
		t.Errorf("Name() = %q, want rules.yaml (embedded)", src.Name())
	}
	h, err := rulesource.Load(t.Context(), src, nil)
	if err != nil {
		t.Fatalf("the shipped ruleset does not load: %v", err)
	}
	shipped, err := rules.Parse(autogroup.ShippedRules)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shipped.GroupNames(), groups(h.Ruleset(t.Context()))); diff != "" || len(shipped.GroupNames()) == 0 {
		t.Errorf("embedded ruleset's groups differ from the shipped one's (-want +got):\n%s", diff)
	}
}

func TestFromEnv(t *testing.T) {
	files := map[string]string{"/rules/mine.yaml": rulesA}
	var read []string
	readFile := func(path string) ([]byte, error) {
		read = append(read, path)
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	tests := []struct {
		name, rulesFile, wantName string
		wantGroups                []string
		wantErr                   string
	}{
		{"unset", "", "rules.yaml (embedded)", nil, ""},
		{"a file", "/rules/mine.yaml", "/rules/mine.yaml", []string{"a"}, ""},
		{"a missing file", "/rules/absent.yaml", "/rules/absent.yaml", nil, "RULES_FILE: open /rules/absent.yaml: file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read = nil
			src := rulesource.FromEnv(func(k string) string { return map[string]string{"RULES_FILE": tt.rulesFile}[k] }, readFile)
			if src.Name() != tt.wantName {
				t.Errorf("Name() = %q, want %q", src.Name(), tt.wantName)
			}
			h, err := rulesource.Load(t.Context(), src, nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("Load error = %v, want %q", err, tt.wantErr)
				}
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("Load error %v does not wrap the read error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantGroups != nil {
				if diff := cmp.Diff(tt.wantGroups, groups(h.Ruleset(t.Context()))); diff != "" {
					t.Errorf("groups (-want +got):\n%s", diff)
				}
			}
			if tt.rulesFile == "" && len(read) > 0 {
				t.Errorf("the embedded source read files %v", read)
			}
		})
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(badRules), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := rulesource.Load(t.Context(), rulesource.File(path, os.ReadFile), nil)
	var le *rulesource.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load error = %v, want a *LoadError", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if want := "ruleset " + path + " does not load (2 problems):"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[1], path+":1:") || !strings.HasPrefix(lines[2], path+":4:") {
		t.Errorf("problem lines %q, want one per problem as PATH:LINE:COL: message", lines[1:])
	}
	if got := len(rules.Problems(err)); got != 2 {
		t.Errorf("rules.Problems(err) found %d problems, want 2", got)
	}

	_, err = rulesource.Load(t.Context(), rulesource.File(filepath.Join(t.TempDir(), "absent.yaml"), os.ReadFile), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "ruleset file: open ") {
		t.Errorf("Load of a missing file: %v, want a ruleset file: error", err)
	}
}

// script is a fake polled source that answers its steps in turn, then the
// last one again.
type script struct {
	mu    sync.Mutex
	steps []step
	calls int
}

type step struct {
	f   rulesource.Fetched
	err error
}

func (s *script) Name() string { return "script" }

func (s *script) Fetch(ctx context.Context) (rulesource.Fetched, error) {
	s.mu.Lock()
	st := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	s.mu.Unlock()
	return st.f, st.err
}

func (s *script) fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestRefreshKeepsTheLastThatLoaded(t *testing.T) {
	src := &script{steps: []step{
		{f: rulesource.Fetched{Rules: []byte(rulesA), Version: "1"}},
		{f: rulesource.Fetched{Rules: []byte(badRules), Version: "2"}},
		{err: errors.New("service unavailable")},
		{f: rulesource.Fetched{Unchanged: true}},
		{f: rulesource.Fetched{Rules: []byte(rulesB), Version: "3"}},
	}}
	ctx := t.Context()
	h, err := rulesource.Load(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, wantGroups []string, wantVersion string) {
		t.Helper()
		if got := groups(h.Ruleset(ctx)); !slices.Equal(got, wantGroups) || h.Version() != wantVersion {
			t.Errorf("after %s: groups %v version %q, want %v version %q", step, got, h.Version(), wantGroups, wantVersion)
		}
	}
	check("load", []string{"a"}, "1")

	var le *rulesource.LoadError
	if err := h.Refresh(ctx); !errors.As(err, &le) || le.Name != "script" || len(le.Problems) != 2 {
		t.Errorf("Refresh to a bad ruleset: %v, want a *LoadError with 2 problems", err)
	}
	check("a ruleset that does not load", []string{"a"}, "1")

	if err := h.Refresh(ctx); err == nil || err.Error() != "service unavailable" {
		t.Errorf("Refresh with a failing source: %v, want its error", err)
	}
	check("a failed fetch", []string{"a"}, "1")

	if err := h.Refresh(ctx); err != nil {
		t.Errorf("Refresh answered unchanged: %v", err)
	}
	check("unchanged", []string{"a"}, "1")

	if err := h.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	check("a new ruleset", []string{"b"}, "3")
	if h.Name() != "script" {
		t.Errorf("Name() = %q, want script", h.Name())
	}
}

func TestLoadRefusesUnchangedFirst(t *testing.T) {
	src := &script{steps: []step{{f: rulesource.Fetched{Unchanged: true}}}}
	if _, err := rulesource.Load(t.Context(), src, nil); err == nil {
		t.Error("Load accepted a source that sent no ruleset")
	}
}

// TestRulesetPollsWhenDue checks that Ruleset refreshes a polled source once
// its NextPoll has passed, and only then; that a failed refresh keeps the
// ruleset and is logged; and that a hung source delays an invocation by
// RefreshTimeout at most.
func TestRulesetPollsWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hung := make(chan struct{})
		src := &script{steps: []step{
			{f: rulesource.Fetched{Rules: []byte(rulesA), NextPoll: 10 * time.Second}},
			{f: rulesource.Fetched{Rules: []byte(rulesB), NextPoll: 10 * time.Second}},
			{f: rulesource.Fetched{Rules: []byte(badRules), NextPoll: 10 * time.Second}},
		}}
		var logs bytes.Buffer
		ctx := context.Background()
		h, err := rulesource.Load(ctx, src, slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(9 * time.Second)
		if got := groups(h.Ruleset(ctx)); !slices.Equal(got, []string{"a"}) || src.fetches() != 1 {
			t.Errorf("before NextPoll: groups %v after %d fetches, want [a] after 1", got, src.fetches())
		}
		time.Sleep(time.Second)
		if got := groups(h.Ruleset(ctx)); !slices.Equal(got, []string{"b"}) || src.fetches() != 2 {
			t.Errorf("at NextPoll: groups %v after %d fetches, want [b] after 2", got, src.fetches())
		}
		time.Sleep(10 * time.Second)
		if got := groups(h.Ruleset(ctx)); !slices.Equal(got, []string{"b"}) || src.fetches() != 3 {
			t.Errorf("after a bad ruleset: groups %v after %d fetches, want [b] after 3", got, src.fetches())
		}
		if l := logs.String(); !strings.Contains(l, `"level":"ERROR","msg":"ruleset refresh failed","source":"script","problems":["1:10: `) ||
			!strings.Contains(l, `"error":"ruleset script does not load (2 problems):`) {
			t.Errorf("the failed refresh is not logged at ERROR with its problems:\n%s", logs.String())
		}

		// A source that hangs: the invocation waits RefreshTimeout, no more.
		hangs := &hangingSource{release: hung, script: &script{steps: []step{
			{f: rulesource.Fetched{Rules: []byte(rulesA), NextPoll: 10 * time.Second}},
		}}}
		h2, err := rulesource.Load(ctx, hangs, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		hangs.hang.Store(true)
		start := time.Now()
		rs := h2.Ruleset(ctx)
		if waited := time.Since(start); waited != rulesource.RefreshTimeout || rs == nil {
			t.Errorf("Ruleset waited %v for a hung source, want %v and the ruleset in force", waited, rulesource.RefreshTimeout)
		}
		close(hung)
	})
}

// hangingSource is script that, once hang is set, blocks in Fetch until its
// context ends.
type hangingSource struct {
	*script
	hang    atomic.Bool
	release chan struct{}
}

func (s *hangingSource) Fetch(ctx context.Context) (rulesource.Fetched, error) {
	if s.hang.Load() {
		select {
		case <-ctx.Done():
			return rulesource.Fetched{}, ctx.Err()
		case <-s.release:
		}
	}
	return s.script.Fetch(ctx)
}

// TestConcurrentRulesetAndRefresh runs Ruleset in many goroutines while
// refreshes swap the ruleset, by Refresh and by polling; under -race it
// checks the swap is atomic: every answer is one whole ruleset.
func TestConcurrentRulesetAndRefresh(t *testing.T) {
	steps := make([]step, 0, 200)
	for i := range 200 {
		src := rulesA
		if i%2 == 1 {
			src = rulesB
		}
		if i%7 == 3 {
			src = badRules
		}
		steps = append(steps, step{f: rulesource.Fetched{Rules: []byte(src), NextPoll: time.Nanosecond}})
	}
	src := &script{steps: steps}
	ctx := t.Context()
	h, err := rulesource.Load(ctx, src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if g := groups(h.Ruleset(ctx)); !slices.Equal(g, []string{"a"}) && !slices.Equal(g, []string{"b"}) {
					t.Errorf("Ruleset returned a ruleset with groups %v", g)
					return
				}
				_ = h.Version()
			}
		})
	}
	for range 100 {
		_ = h.Refresh(ctx)
	}
	close(stop)
	wg.Wait()
	if n := src.fetches(); n < 101 {
		t.Errorf("%d fetches, want at least 101", n)
	}
}
