package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExplainTokenEvent checks that explain reads a PreTokenGeneration
// event with the user's current groups, so memberOf sees them, and that
// --groups replaces them.
func TestExplainTokenEvent(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(`version: 1
rules:
  - name: loyal
    when: {memberOf: customers}
    groups: [loyal]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	groups := func(args ...string) []string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"explain", "--json", "--rules", rules}, args...), strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("explain %v: exit %d\n%s", args, code, stderr.String())
		}
		var out struct{ Groups []string }
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("explain %v: %v\n%s", args, err, stdout.String())
		}
		return out.Groups
	}
	// The event's groupConfiguration lists customers.
	if got := groups("../../events/token-v2-signin.json"); !cmp.Equal(got, []string{"loyal"}) {
		t.Errorf("Groups(token event) = %v, want [loyal]", got)
	}
	if got := groups("--groups", "staff", "../../events/token-v2-signin.json"); len(got) != 0 {
		t.Errorf("Groups(token event, --groups staff) = %v, want none", got)
	}
}
