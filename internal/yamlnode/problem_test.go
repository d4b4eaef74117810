package yamlnode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProblemFormat(t *testing.T) {
	p := Problem{Line: 3, Column: 14, Message: "groups: expected a list"}
	if got, want := p.Error(), "3:14: groups: expected a list"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := p.Format("rules.yaml"), "rules.yaml:3:14: groups: expected a list"; got != want {
		t.Errorf("Format(rules.yaml) = %q, want %q", got, want)
	}
	// A problem without a position (an empty file, say) names only the source.
	noPos := Problem{Message: "empty file"}
	if got, want := noPos.Format("ev.json"), "ev.json: empty file"; got != want {
		t.Errorf("Format(ev.json) = %q, want %q", got, want)
	}
}

func TestSortProblems(t *testing.T) {
	a := Problem{2, 5, "a"}
	b := Problem{2, 5, "b"}
	c := Problem{1, 9, "c"}
	d := Problem{2, 1, "d"}
	// A node reached twice through aliases reports a and b twice: the
	// duplicates are not next to each other once sorted.
	got := SortProblems([]Problem{a, b, d, c, a, b, d})
	if diff := cmp.Diff([]Problem{c, d, a, b}, got); diff != "" {
		t.Errorf("SortProblems mismatch (-want +got):\n%s", diff)
	}
	if got := SortProblems(nil); len(got) != 0 {
		t.Errorf("SortProblems(nil) = %v, want empty", got)
	}
}

func TestJoinProblems(t *testing.T) {
	if err := JoinProblems(nil); err != nil {
		t.Errorf("JoinProblems(nil) = %v, want nil", err)
	}
	err := JoinProblems([]Problem{{4, 1, "second"}, {1, 2, "first"}, {4, 1, "second"}})
	if got, want := err.Error(), "1:2: first\n4:1: second"; got != want {
		t.Errorf("JoinProblems(...).Error() = %q, want %q", got, want)
	}
	var p Problem
	if !errors.As(err, &p) || p != (Problem{1, 2, "first"}) {
		t.Errorf("errors.As(JoinProblems(...), *Problem) = %v, want the first problem", p)
	}
}

func TestProblemsAndFormatProblems(t *testing.T) {
	joined := JoinProblems([]Problem{{2, 3, "b"}, {1, 1, "a"}})
	one := Problem{5, 6, "c"}
	tests := []struct {
		name string
		err  error
		want []Problem
		text string
	}{
		{"joined", joined, []Problem{{1, 1, "a"}, {2, 3, "b"}}, "f.yaml:1:1: a\nf.yaml:2:3: b"},
		{"wrapped", fmt.Errorf("load: %w", joined), []Problem{{1, 1, "a"}, {2, 3, "b"}}, "f.yaml:1:1: a\nf.yaml:2:3: b"},
		{"joined twice", errors.Join(one, joined, errors.New("other"), joined),
			[]Problem{{1, 1, "a"}, {2, 3, "b"}, one}, "f.yaml:1:1: a\nf.yaml:2:3: b\nf.yaml:5:6: c"},
		{"a pointer", &one, []Problem{one}, "f.yaml:5:6: c"},
		{"no problem", errors.New("permission denied"), nil, "f.yaml: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Problems(tt.err)); diff != "" {
				t.Errorf("Problems(%v) mismatch (-want +got):\n%s", tt.err, diff)
			}
			if got := FormatProblems("f.yaml", tt.err); got != tt.text {
				t.Errorf("FormatProblems(f.yaml, %v) = %q, want %q", tt.err, got, tt.text)
			}
		})
	}
}
