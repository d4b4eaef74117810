package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ascii, quotes \" and \\ too", "plain ascii, quotes \" and \\ too"},
		{"ünïcödé ✓ — jo@exämple.com", "ünïcödé ✓ — jo@exämple.com"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"line\nforged\ttab\r", `line\nforged\ttab\r`},
		{"\x00\x7f", `\x00\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"bidi \u202eevil\u202c \u2066x\u2069 \u200f", `bidi \u202eevil\u202c \u2066x\u2069 \u200f`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"line\u2028sep\u00a0nbsp", `line\u2028sep\u00a0nbsp`},
		{"tag \U000e0041", `tag \U000e0041`},
		{"bad \xcc byte", `bad \xcc byte`},
		{"already quoted: \"\\x1b\"", "already quoted: \"\\x1b\""},
	}
	for _, tt := range tests {
		if got := visible(tt.in); got != tt.want {
			t.Errorf("visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := visible(visible(tt.in)); got != tt.want {
			t.Errorf("visible(visible(%q)) = %q, want %q (idempotent)", tt.in, got, tt.want)
		}
	}
}

func TestPrintf(t *testing.T) {
	var b strings.Builder
	printf(&b, "%s: %q %v %d %-*s|\n", "a\nb", "c\x1bd", []string{"e\u202ef"}, 7, 4, "g")
	if want := "a\\nb: \"c\\x1bd\" [e\\u202ef] 7 g   |\n"; b.String() != want {
		t.Errorf("printf wrote %q, want %q", b.String(), want)
	}
	if got, want := sprintf("%s", fmt.Errorf("wrapped: %w", os.ErrNotExist)), "wrapped: file does not exist"; got != want {
		t.Errorf("sprintf of an error = %q, want %q", got, want)
	}
}

// hostile is what an input may hold: an escape sequence that clears the
// screen, a newline that starts a forged finding, a bidi override, a
// zero-width space, a C1 control and DEL. hostileYAML and hostileJSON write
// it in those formats.
const (
	hostile     = "\x1b[2J\nok: forged\u202e\u200b\u0085\x7f"
	hostileYAML = `\e[2J\nok: forged\u202e\u200b\x85\x7f`
	hostileJSON = `\u001b[2J\nok: forged\u202e\u200b\u0085\u007f`
)

// hostileEscaped is hostile as the tool prints it.
const hostileEscaped = `\x1b[2J\nok: forged\u202e\u200b\u0085\x7f`

func TestVisibleJSON(t *testing.T) {
	for _, s := range []string{hostile, "tag \U000e0041 bad \xcc", "plain", "line\u2028sep"} {
		data, err := json.MarshalIndent(map[string]string{"k": s}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out := visibleJSON(data)
		assertVisible(t, "visibleJSON", string(out))
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("visibleJSON(%s) = %s, not JSON: %v", data, out, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back["k"] != want {
			t.Errorf("visibleJSON(%s) decodes to %q, want %q", data, back["k"], want)
		}
	}
}

// assertVisible fails when out holds a control character other than the
// newline, a format character (such as U+202E) or a byte that is not
// UTF-8, or a line forged by a newline from the input.
func assertVisible(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		bad := r == utf8.RuneError || (r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)))
		if bad {
			t.Errorf("%s: output holds %U at byte %d: %q", what, r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
	for l := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(l, "ok: forged") {
			t.Errorf("%s: the input started a line of its own: %q", what, l)
		}
	}
}

// TestOutputEscapesInput runs every command on inputs that hold hostile
// and checks that no control or invisible character reaches the output,
// text or JSON, and that the text shows them escaped.
func TestOutputEscapesInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rules := write("rules"+hostile+".yaml", `version: 1
rules:
  - name: plan
    when:
      attribute: custom:plan
      equals: "`+hostileYAML+`"
    groups: [paid]
  - name: promo
    when:
      clientMetadata: promo
      equals: "yes"
    groups: [promo]
defaultGroups: [customers]
`)
	invalid := write("invalid"+hostile+".yaml", "version: 1\nrules:\n  - name: a\n    when: {\""+hostileYAML+"\": x}\n    groups: [g]\n")
	event := write("event"+hostile+".json", `{"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {"custom:plan": "`+hostileJSON+`"}}}`)
	unhandled := write("unhandled.json", `{"triggerSource": "`+hostileJSON+`", "request": {"userAttributes": {}}}`)
	badEvent := write("bad.json", `{"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {"`+hostileJSON+`": 5}}}`)
	cases := write("cases"+hostile+".yaml", `cases:
  - name: "`+hostileYAML+`"
    triggerSource: "`+hostileYAML+`"
    userAttributes: {custom:plan: "`+hostileYAML+`"}
    groups: [paid]
`)
	state := filepath.Join(dir, "state"+hostile+".json")

	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{Name: hostile, PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f" + hostile, CustomAttributes: []string{"custom:plan"}})
	s.CreateGroup(fakePool, "customers")
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "c1" + hostile, ClientName: "web" + hostile})
	s.PutUser(fakePool, cognitofake.User{Username: "u" + hostile, Attributes: map[string]string{"sub": "sub" + hostile}})
	s.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Type: "AccessDeniedException", Message: "denied" + hostile})

	tests := []struct {
		name    string
		args    []string
		json    bool // stdout is JSON (the last line, for backfill)
		escaped bool // the text shows hostile escaped
	}{
		{"validate", []string{"validate", rules, invalid}, false, true},
		{"explain", []string{"explain", "--rules", rules, event}, false, true},
		{"explain-json", []string{"explain", "--rules", rules, "--json", unhandled}, true, false},
		{"explain-not-handled", []string{"explain", "--rules", rules, unhandled}, false, true},
		{"explain-bad-event", []string{"explain", "--rules", rules, badEvent}, false, false},
		{"explain-invalid-rules", []string{"explain", "--rules", invalid, event}, false, true},
		{"test", []string{"test", "--rules", rules, cases}, false, true},
		{"backfill", []string{"backfill", "--pool", fakePool, "--rules", rules, "--apply", "--state", state, "--show-usernames", "--json"}, true, true},
		{"check-pool", []string{"check-pool", "--pool", fakePool, "--rules", rules}, false, true},
		{"check-pool-json", []string{"check-pool", "--pool", fakePool, "--rules", rules, "--json"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFake(t, s, nil, tt.args...)
			if r.code == exitUsage && tt.name != "explain-bad-event" && tt.name != "explain-invalid-rules" {
				t.Fatalf("exit 2\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			}
			assertVisible(t, "stdout", r.stdout)
			assertVisible(t, "stderr", r.stderr)
			if tt.escaped && !strings.Contains(r.stdout+r.stderr, hostileEscaped) {
				t.Errorf("output does not show the input escaped as %s:\nstdout:\n%s\nstderr:\n%s", hostileEscaped, r.stdout, r.stderr)
			}
			if tt.json {
				lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
				last := lines[len(lines)-1]
				if tt.name != "backfill" {
					last = r.stdout
				}
				var v struct {
					Failures []failure `json:"failures"`
				}
				if err := json.Unmarshal([]byte(last), &v); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, last)
				}
				// Escaped for the terminal, the same value for a program.
				if tt.name == "backfill" && (len(v.Failures) != 1 || v.Failures[0].Sub != "sub"+hostile || v.Failures[0].Username != "u"+hostile) {
					t.Errorf("failures = %+v, want one, of sub %q and username %q", v.Failures, "sub"+hostile, "u"+hostile)
				}
			}
		})
	}
}
