package rules

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testdataFiles returns the rulesets (YAML and JSON) in testdata/dir.
func testdataFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	for _, ext := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, ext))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no rulesets in testdata/%s", dir)
	}
	return files
}

// golden compares got with the golden file, or rewrites it under -update.
// An empty got under -update removes the file.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if got == "" {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		want = nil
	} else if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; run go test ./rules -run %s -update to accept):\n%s", path, t.Name(), diff)
	}
}

// goldenPath is the golden file of a testdata ruleset.
func goldenPath(file, suffix string) string {
	return strings.TrimSuffix(file, filepath.Ext(file)) + suffix
}

func TestInvalidRulesets(t *testing.T) {
	for _, file := range testdataFiles(t, "invalid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Parse(src)
			if err == nil {
				t.Fatalf("Parse(%s) = %v, nil; want an error", file, rs)
			}
			if rs != nil {
				t.Errorf("Parse(%s) returned a ruleset with its error", file)
			}
			problems := Problems(err)
			if len(problems) == 0 {
				t.Errorf("Problems(%v) = none, want at least one", err)
			}
			for _, p := range problems {
				if p.Line < 1 || p.Column < 1 {
					t.Errorf("problem %q has no position", p.Message)
				}
				if m := p.Message; m == "" || strings.ToLower(m[:1]) != m[:1] {
					t.Errorf("problem %q does not start in lower case", m)
				}
			}
			golden(t, goldenPath(file, ".golden"), err.Error()+"\n")
		})
	}
}

func TestValidRulesets(t *testing.T) {
	for _, file := range testdataFiles(t, "valid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse(%s):\n%v", file, err)
			}
			var b strings.Builder
			for _, w := range rs.Warnings() {
				b.WriteString(w.Error() + "\n")
			}
			golden(t, goldenPath(file, ".warnings.golden"), b.String())
		})
	}
}
