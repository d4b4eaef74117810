package playground_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/playground"
)

var screenshot = flag.String("screenshot", "", "write TestBrowser's screenshot of the page to `FILE` too (make playground-screenshot: docs/playground.png)")

// browserCase is one link the browser opens, and what the page must show.
type browserCase struct {
	Name       string `json:"name"`
	Fragment   string `json:"fragment"`
	Click      string `json:"click,omitempty"`
	Screenshot bool   `json:"screenshot,omitempty"`
	ProblemClk bool   `json:"problemClick,omitempty"`

	wantGroups   string
	wantProblems []string
	wantBad      []int
	wantSelected string // the ruleset line a click on the first problem selects
	wantEvent    string // the event the fragment holds afterwards; "" not checked
}

// seen is what browser_test.mjs reports of one case.
type seen struct {
	Name, State, Status, Groups, ProblemsText, Hash, Selection string
	Problems, MatchedRules, Errors, Foreign                    []string
	BadLines                                                   []int
	Conditions                                                 int
}

// TestBrowser serves a freshly built site/ on localhost and opens shared
// links in Debian's chromium through playwright-core: the page must show
// the groups `autogroup explain` gives for each pair, and a broken
// ruleset's problems with their lines highlighted.
func TestBrowser(t *testing.T) {
	chromium, node := requireBrowser(t)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	dir := buildSite(ctx, t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	tmp := t.TempDir()
	engineer := readFile(t, "../events/signup-engineer.json")
	custom := readFile(t, "../events/signup-custom-attributes.json")
	company := readFile(t, "../events/signup-company-email.json")
	// A ruleset of the reader's own, with text outside ASCII (UTF-8 in the
	// fragment) and a rule that does not match.
	own := "version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp]\ndefaultGroups: [everyone]\nrules:\n" +
		"  - name: equipe-securite\n    description: « sécurité » and nothing else\n    when:\n      attribute: custom:department\n      equals: Sécurité\n    groups: [security]\n" +
		"  - name: any-verified\n    when:\n      attribute: email_verified\n      equals: \"true\"\n    groups: [verified, members]\n"
	broken := "version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp]\nrules:\n  - name: staff\n    when:\n      emailDomian: example.com\n    groups: [staff]\n  - name: bad\n    when: {always: true}\n    groups: [\"no spaces\"]\n"
	res := playground.Evaluate(broken, engineer)
	if len(res.Problems) == 0 {
		t.Fatal("the broken ruleset loads: fix the test")
	}
	var wantProblems []string
	var wantBad []int
	for _, p := range res.Problems {
		wantProblems = append(wantProblems, fmtProblem(p))
		if !slices.Contains(wantBad, p.Line) {
			wantBad = append(wantBad, p.Line)
		}
	}
	slices.Sort(wantBad)
	lines := strings.Split(broken, "\n")

	cases := []browserCase{
		{Name: "shared link, shipped ruleset, padded", Fragment: fragment(base64.URLEncoding, string(autogroup.ShippedRules), engineer),
			Screenshot: true, wantGroups: explainGroups(ctx, t, tmp, string(autogroup.ShippedRules), engineer)},
		{Name: "shared link, own ruleset", Fragment: fragment(base64.RawURLEncoding, own, custom),
			wantGroups: explainGroups(ctx, t, tmp, own, custom)},
		{Name: "broken ruleset", Fragment: fragment(base64.RawURLEncoding, broken, engineer), ProblemClk: true,
			wantProblems: wantProblems, wantBad: wantBad, wantSelected: lines[res.Problems[0].Line-1]},
		{Name: "sample button", Click: "signup-company-email.json", wantEvent: company,
			wantGroups: explainGroups(ctx, t, tmp, string(autogroup.ShippedRules), company)},
	}
	if !slices.ContainsFunc(cases, func(c browserCase) bool { return strings.Contains(c.wantGroups, ",") }) {
		t.Fatal("no case selects two groups or more: the comparison proves little")
	}

	shot := filepath.Join(tmp, "playground.png")
	got := runBrowser(ctx, t, node, map[string]any{
		"chromium": chromium, "baseURL": srv.URL, "userDataDir": filepath.Join(tmp, "chromium-profile"),
		"screenshot": shot, "cases": cases,
	})
	if len(got) != len(cases) {
		t.Fatalf("browser_test.mjs reported %d cases, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		s := got[i]
		t.Run(c.Name, func(t *testing.T) {
			if s.State != "ready" || len(s.Errors) > 0 {
				t.Fatalf("page state %q, status %q, errors %q; want ready and none", s.State, s.Status, s.Errors)
			}
			if len(s.Foreign) > 0 {
				t.Errorf("the page requested %q: it must fetch nothing but its own files", s.Foreign)
			}
			if s.Groups != c.wantGroups {
				t.Errorf("#groups = %q, want %q (autogroup explain)", s.Groups, c.wantGroups)
			}
			if diff := cmp.Diff(c.wantProblems, s.Problems, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("#problems items (-want +got):\n%s", diff)
			}
			if want := strings.Join(c.wantProblems, ""); s.ProblemsText != want {
				t.Errorf("#problems text = %q, want %q", s.ProblemsText, want)
			}
			if !slices.Equal(s.BadLines, c.wantBad) {
				t.Errorf("highlighted ruleset lines = %v, want %v", s.BadLines, c.wantBad)
			}
			if c.wantSelected != "" && s.Selection != c.wantSelected {
				t.Errorf("a click on the first problem selects %q, want line %q", s.Selection, c.wantSelected)
			}
			if c.wantGroups != "" && s.Conditions == 0 {
				t.Errorf("the tree shows no condition with ✓ or ✗")
			}
			if c.wantEvent != "" {
				if ev := fragmentPart(t, s.Hash, "event"); ev != c.wantEvent {
					t.Errorf("after the click the fragment's event is %q, want the sample", ev)
				}
			}
		})
	}
	png := readFile(t, shot)
	if !strings.HasPrefix(png, "\x89PNG") {
		t.Fatalf("%s is not a PNG", shot)
	}
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, []byte(png), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// requireBrowser returns the paths of chromium and node. Without them, or
// without playwright-core, it skips with the reason, or fails under CI.
func requireBrowser(t *testing.T) (chromium, node string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and "+format, args...)
		}
		t.Skipf(format+" (required when CI is set)", args...)
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("chromium is missing (%v): apt-get install chromium, or set CHROMIUM", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is missing: %v", err)
	}
	if _, err := os.Stat("node_modules/playwright-core/package.json"); err != nil {
		missing("playwright-core is not installed (%v): make playground-deps", err)
	}
	return chromium, node
}

// buildSite builds the page as make playground does, into a new directory.
func buildSite(ctx context.Context, t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "autogroup.wasm"), "./wasm")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./playground/wasm: %v\n%s", err, out)
	}
	root, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	// Go 1.24 moved wasm_exec.js from misc/wasm to lib/wasm.
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "lib", "wasm", "wasm_exec.js"))
	if errors.Is(err, fs.ErrNotExist) {
		js, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "misc", "wasm", "wasm_exec.js"))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := playground.WriteSite(dir, autogroup.ShippedRules, os.DirFS("../events"), js); err != nil {
		t.Fatalf("WriteSite: %v", err)
	}
	return dir
}

// explainGroups returns the groups `autogroup explain --json` gives for
// the pair, comma separated.
func explainGroups(ctx context.Context, t *testing.T, tmp, ruleset, event string) string {
	t.Helper()
	rf, err := os.CreateTemp(tmp, "rules-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ef := strings.TrimSuffix(rf.Name(), ".yaml") + ".json"
	if _, err := rf.WriteString(ruleset); err != nil || rf.Close() != nil || os.WriteFile(ef, []byte(event), 0o600) != nil {
		t.Fatalf("write the case: %v", err)
	}
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/autogroup", "explain", "--json", "--rules", rf.Name(), ef)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("autogroup explain: %v\n%s", err, stderr.Bytes())
	}
	var x struct{ Groups []string }
	if err := json.Unmarshal(out, &x); err != nil {
		t.Fatalf("autogroup explain --json: %v", err)
	}
	return strings.Join(x.Groups, ",")
}

// runBrowser runs browser_test.mjs on spec and returns what it saw.
func runBrowser(ctx context.Context, t *testing.T, node string, spec map[string]any) []seen {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(specFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "browser_test.mjs", specFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node browser_test.mjs: %v\n%s", err, stderr.Bytes())
	}
	var got []seen
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("browser_test.mjs output: %v\n%s", err, out)
	}
	return got
}

func fragment(enc *base64.Encoding, ruleset, event string) string {
	return "rules=" + enc.EncodeToString([]byte(ruleset)) + "&event=" + enc.EncodeToString([]byte(event))
}

func fragmentPart(t *testing.T, hash, key string) string {
	t.Helper()
	for kv := range strings.SplitSeq(strings.TrimPrefix(hash, "#"), "&") {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
			if err != nil {
				t.Fatalf("fragment %s: %v", key, err)
			}
			return string(b)
		}
	}
	return ""
}

// fmtProblem formats p as the page does: "LINE:COL: message".
func fmtProblem(p playground.Problem) string {
	if p.Line == 0 {
		return p.Message
	}
	return fmt.Sprintf("%d:%d: %s", p.Line, p.Column, p.Message)
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
