package yamlnode

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSyntaxPositions decodes each testdata/syntax/*.yaml, whose YAML is
// broken, and compares the problem with its .golden file: the line and
// column where the error is, not where the enclosing construct began.
func TestSyntaxPositions(t *testing.T) {
	files, err := filepath.Glob("testdata/syntax/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var p Parser
			if p.Decode(src, Document{Name: "ruleset", Expected: "a mapping"}) != nil {
				t.Fatalf("Decode(%s) = a node, want a syntax problem", file)
			}
			got := FormatProblems(filepath.ToSlash(file), p.Err())
			if !strings.HasSuffix(got, "\n") {
				got += "\n"
			}
			path := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs (-want +got; run go test ./internal/yamlnode -run TestSyntaxPositions -update to accept):\n%s", path, diff)
			}
		})
	}
}

func TestSyntaxColumn(t *testing.T) {
	tests := []struct {
		line, what string
		want       int
	}{
		{"    groups: [paid, customers\n", "did not find expected ',' or ']'", 13},
		{"   groups: [staff]\n", "did not find expected '-' indicator", 4},
		{"\n", "did not find expected key", 1},
		{"  when: {a: b\n", "did not find expected ',' or '}'", 9},
	}
	for _, tt := range tests {
		if got := syntaxColumn([]byte(tt.line), tt.what); got != tt.want {
			t.Errorf("syntaxColumn(%q, %q) = %d, want %d", tt.line, tt.what, got, tt.want)
		}
	}
}
