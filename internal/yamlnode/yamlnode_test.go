package yamlnode

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSuggest(t *testing.T) {
	allowed := []string{"version", "rules", "defaultGroups"}
	for _, tc := range []struct{ in, want string }{
		{"version", "version"},
		{"VERSION", "version"},
		{"verison", "version"},
		{"rule", "rules"},
		{"defaultgroup", "defaultGroups"},
		{"groups", ""},
		{"", ""},
		{"x", ""},
	} {
		if got := suggest(tc.in, allowed); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	long := string(make([]byte, 65))
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"abc", "", 3},
		{"kitten", "sitting", 3},
		{"ab", "ba", 2},
		{long, "", 1 << 30},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	for _, tc := range []struct{ name, where, want string }{
		{"verison", "", `unknown key "verison"; expected one of version, rules (did you mean "version"?)`},
		{"zzz", "in rule", `unknown key "zzz" in rule; expected one of version, rules`},
	} {
		if got := unknownKey(tc.name, tc.where, []string{"version", "rules"}); got != tc.want {
			t.Errorf("unknownKey(%q, %q) = %q, want %q", tc.name, tc.where, got, tc.want)
		}
	}
}

// value returns the node of the YAML value src.
func value(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("v: "+src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0].Content[1]
}

func TestDescribeAndQuoteHint(t *testing.T) {
	for _, tc := range []struct{ src, describe, hint string }{
		{"{a: 1}", "a mapping", ""},
		{"[1]", "a list", ""},
		{"abc", "a string", ""},
		{"'12'", "a string", ""},
		{"12", "an integer", "; quote it"},
		{"1.5", "a number", "; quote it"},
		{"true", "a boolean", "; quote it"},
		{"", "nothing", ""},
		{"~", "null", "; quote it"},
		{"null", "null", "; quote it"},
		{"2001-12-14", "a timestamp", "; quote it"},
		{"!!binary aGk=", "binary data", ""},
		{"!custom x", "a value tagged !custom", ""},
	} {
		n := value(t, tc.src)
		if got := Describe(n); got != tc.describe {
			t.Errorf("Describe(%q) = %q, want %q", tc.src, got, tc.describe)
		}
		if got := QuoteHint(n); got != tc.hint {
			t.Errorf("QuoteHint(%q) = %q, want %q", tc.src, got, tc.hint)
		}
	}
	if got := Describe(&yaml.Node{Kind: yaml.AliasNode}); got != "an unexpected YAML node" {
		t.Errorf("Describe(alias) = %q", got)
	}
}

func TestDecode(t *testing.T) {
	d := Document{Name: "file", Expected: "a mapping"}
	for _, tc := range []struct {
		name string
		src  string
		want Problem // zero when a node is expected
	}{
		{"ok", "a: 1\n", Problem{}},
		{"empty", "# nothing\n", Problem{1, 1, "empty file; expected a mapping"}},
		{"empty document", "---\n", Problem{1, 1, "empty file; expected a mapping"}},
		{"several", "a: 1\n---\nb: 2\n", Problem{2, 1, "several YAML documents; a file is one document"}},
		{"empty trailing document", "a: 1\n---\n", Problem{}},
		{"empty trailing document with a comment", "a: 1\n--- # end\n...\n", Problem{}},
		{"syntax", "a: 1\nb: [\n", Problem{2, 1, "invalid YAML: did not find expected node content"}},
		{"syntax on the first line", "a: 1: 2\n", Problem{1, 1, "invalid YAML: mapping values are not allowed in this context"}},
		{"unknown anchor, located", "a: 1\nb: [é, *x]\n", Problem{2, 8, `invalid YAML: unknown anchor "x" referenced`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			top := p.Decode([]byte(tc.src), d)
			ps := Problems(p.Err())
			switch {
			case tc.want == Problem{} && (len(ps) > 0 || top == nil || top.Kind != yaml.MappingNode):
				t.Errorf("Decode = %v, %v; want a mapping", top, ps)
			case tc.want != Problem{} && (top != nil || len(ps) != 1 || ps[0] != tc.want):
				t.Errorf("Decode = %v, %+v; want nil, %+v", top, ps, tc.want)
			}
		})
	}
}
