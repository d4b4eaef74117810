package yamlnode

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// decoded returns a parser with small limits and the mapping under the
// top-level key "m" of src, which must decode.
func decoded(t *testing.T, src string) (*Parser, *yaml.Node) {
	t.Helper()
	p := &Parser{MaxNodes: 1000, MaxDepth: 4}
	top := p.Decode([]byte(src), Document{Name: "file", Expected: "a mapping"})
	if top == nil {
		t.Fatalf("Decode(%q): %v", src, p.Err())
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "m" {
			return p, p.Resolve(top.Content[i+1])
		}
	}
	t.Fatalf("no key m in %q", src)
	return nil, nil
}

// problemTexts returns p's problems as "LINE:COL: message".
func problemTexts(p *Parser) []string {
	var out []string
	for _, pr := range Problems(p.Err()) {
		out = append(out, pr.Error())
	}
	return out
}

func TestMapping(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		entries  string // name=value, in order
		problems []string
	}{
		{"in order", "m: {b: 1, a: 2}\n", "b=1 a=2", nil},
		{"merge: written keys win, then the first merged",
			"x: &x {a: 1, c: 3}\ny: &y {c: 4, d: 5}\nm: {a: 2, <<: [*x, *y]}\n", "a=2 c=3 d=5", nil},
		{"merge of one mapping", "x: &x {a: 1}\nm: {<<: *x, b: 2}\n", "b=2 a=1", nil},
		{"duplicate key", "m:\n  a: 1\n  b: 2\n  a: 3\n", "a=1 b=2", []string{`4:3: duplicate key "a"; first at 2:3`}},
		{"key that is not a scalar", "m:\n  ? [x]\n  : 1\n  a: 2\n", "a=2", []string{"2:5: expected a key, found a list"}},
		{"merge of a scalar", "m: {a: 1, <<: x}\n", "a=1", []string{"1:15: <<: expected a mapping or a list of mappings to merge, found a string"}},
		{"merge of a list with a scalar", "x: &x {k: v}\nm: {<<: [*x, 5]}\n", "k=v", []string{"2:14: <<: expected a mapping to merge, found an integer"}},
		{"merged too deep", "a: &a {k: v}\nb: &b {<<: *a}\nc: &c {<<: *b}\nd: &d {<<: *c}\nm: {<<: *d}\n", "",
			[]string{"1:4: nesting too deep: more than 4 levels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, m := decoded(t, tt.src)
			var got []string
			for _, e := range p.Mapping(m, 1) {
				got = append(got, e.Name+"="+p.Resolve(e.Val).Value)
			}
			if diff := cmp.Diff(tt.entries, strings.Join(got, " ")); diff != "" {
				t.Errorf("Mapping entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.problems, problemTexts(p)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveBudget(t *testing.T) {
	// Ten aliases to a mapping of ten aliases to a list of ten values:
	// 1,000 visits once expanded, from a few lines.
	src := "l: &l [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" +
		"k: &k {a: *l, b: *l, c: *l, d: *l, e: *l, f: *l, g: *l, h: *l, i: *l, j: *l}\n" +
		"m: {a: *k, b: *k, c: *k, d: *k, e: *k, f: *k, g: *k, h: *k, i: *k, j: *k}\n"
	p, m := decoded(t, src)
	p.MaxNodes = 200
	visited := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		switch n = p.Resolve(n); n.Kind {
		case yaml.MappingNode:
			for _, e := range p.Mapping(n, depth) {
				walk(e.Val, depth+1)
			}
		case yaml.SequenceNode:
			for _, item := range n.Content {
				if p.Full() {
					return
				}
				walk(item, depth+1)
			}
		default:
			visited++
		}
	}
	walk(m, 1)
	if !p.Full() {
		t.Fatalf("Full() = false after walking 1,000 nodes with MaxNodes 200")
	}
	if visited > 200 {
		t.Errorf("visited %d values, want the walk to stop within MaxNodes (200)", visited)
	}
	want := []string{"1:8: document too large: more than 200 nodes once aliases are expanded"}
	if diff := cmp.Diff(want, problemTexts(p)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestEnter(t *testing.T) {
	p := &Parser{MaxNodes: 10, MaxDepth: 2}
	n := &yaml.Node{Kind: yaml.MappingNode, Line: 3, Column: 4}
	if !p.Enter(n, 2) {
		t.Errorf("Enter(depth 2) = false with MaxDepth 2, want true")
	}
	if p.Enter(n, 3) {
		t.Errorf("Enter(depth 3) = true with MaxDepth 2, want false")
	}
	if diff := cmp.Diff([]string{"3:4: nesting too deep: more than 2 levels"}, problemTexts(p)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestScalars(t *testing.T) {
	tests := []struct {
		src     string
		read    func(p *Parser, v *yaml.Node) string
		want    string
		problem string
	}{
		{"abc", str, `"abc"`, ""},
		{"12", str, `""`, "1:8: k: expected a string, found an integer; quote it"},
		{"[a]", str, `""`, "1:8: k: expected a string, found a list"},
		{"true", boolean, "true", ""},
		{"'false'", boolean, "false", "1:8: k: expected true or false, found a string; remove the quotes"},
		{"yes", boolean, "false", "1:8: k: expected true or false, found a string; write true or false"},
		{"1", boolean, "false", "1:8: k: expected true or false, found an integer"},
		{"a", list(true), "[a] list=false", ""},
		{"[a, b]", list(true), "[a b] list=true", ""},
		{"[a, 5]", list(true), "<bad>", "1:12: k: expected a string, found an integer; quote it"},
		{"[]", list(true), "<bad>", "1:8: k: expected at least one value, found an empty list"},
		{"{a: b}", list(true), "<bad>", "1:8: k: expected a string or a list of strings, found a mapping"},
		{"a", list(false), "<bad>", "1:8: k: expected a list of strings, found a string"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p, m := decoded(t, "m: {k: "+tt.src+"}\n")
			e := p.Mapping(m, 1)[0]
			got := tt.read(p, p.Resolve(e.Val))
			if got != tt.want {
				t.Errorf("read(%s) = %s, want %s", tt.src, got, tt.want)
			}
			var want []string
			if tt.problem != "" {
				want = []string{tt.problem}
			}
			if diff := cmp.Diff(want, problemTexts(p)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func str(p *Parser, v *yaml.Node) string {
	s, _ := p.Str(v, "k")
	return fmt.Sprintf("%q", s)
}

func boolean(p *Parser, v *yaml.Node) string {
	b, _ := p.Bool(v, "k")
	return fmt.Sprint(b)
}

func list(scalarOK bool) func(p *Parser, v *yaml.Node) string {
	return func(p *Parser, v *yaml.Node) string {
		vals, nodes, isList, ok := p.StringList(v, "k", 2, scalarOK)
		if !ok {
			return "<bad>"
		}
		if len(nodes) != len(vals) {
			return fmt.Sprintf("%d nodes for %d values", len(nodes), len(vals))
		}
		return fmt.Sprintf("%v list=%v", vals, isList)
	}
}

func TestUnknownKeyRecorded(t *testing.T) {
	p, m := decoded(t, "m:\n  nmae: x\n")
	p.UnknownKey(p.Mapping(m, 1)[0], "in case", []string{"name", "groups"})
	want := []string{`2:3: unknown key "nmae" in case; expected one of name, groups (did you mean "name"?)`}
	if diff := cmp.Diff(want, problemTexts(p)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if p.NumProblems() != 1 {
		t.Errorf("NumProblems() = %d, want 1", p.NumProblems())
	}
}
