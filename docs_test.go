package autogroup_test

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/ruletest"
)

// readmeMaxLines is the most the README may grow to: it says what and why
// and links to docs/ for the rest.
const readmeMaxLines = 350

// docPages lists the markdown pages whose relative links must resolve:
// README.md, CONTRIBUTING.md and every page in docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md", "CONTRIBUTING.md"}, pages...)
}

func TestREADMELength(t *testing.T) {
	src, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte("\n")); n > readmeMaxLines {
		t.Errorf("README.md has %d lines, want at most %d: move reference material into docs/", n, readmeMaxLines)
	}
}

// TestDocsLinks checks that every relative link in the docs names a file or
// directory that exists and, when it has a #fragment and names a markdown
// page, a heading of that page (as GitHub makes anchors of headings).
func TestDocsLinks(t *testing.T) {
	pages := docPages(t)
	anchors := map[string]map[string]bool{} // slash path -> anchors
	anchorsOf := func(p string) (map[string]bool, error) {
		if a, ok := anchors[p]; ok {
			return a, nil
		}
		src, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			return nil, err
		}
		a := map[string]bool{}
		for _, s := range parseMarkdown(src).anchors {
			a[s] = true
		}
		anchors[p] = a
		return a, nil
	}
	checked := 0
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range parseMarkdown(src).links {
			if isExternal(l.target) {
				continue
			}
			checked++
			target, fragment, _ := strings.Cut(l.target, "#")
			file := filepath.ToSlash(page)
			if target != "" {
				file = path.Join(path.Dir(filepath.ToSlash(page)), target)
				if strings.HasPrefix(target, "/") {
					file = strings.TrimPrefix(path.Clean(target), "/")
				}
			}
			info, err := os.Stat(filepath.FromSlash(file))
			if err != nil {
				t.Errorf("%s:%d: link %q: %s does not exist", page, l.line, l.target, file)
				continue
			}
			if fragment == "" || info.IsDir() || !strings.HasSuffix(file, ".md") {
				continue
			}
			a, err := anchorsOf(file)
			if err != nil {
				t.Fatal(err)
			}
			if !a[fragment] {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", page, l.line, l.target, file, fragment)
			}
		}
	}
	if checked == 0 {
		t.Errorf("no relative links found in %v: the parser is broken", pages)
	}
}

// TestREADMELayout checks that the README's layout table names every
// top-level directory, every function and every internal package, so that a
// new one cannot be added without a line saying what it is.
func TestREADMELayout(t *testing.T) {
	src, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := layoutPaths(src)
	if len(listed) == 0 {
		t.Fatal("README.md has no table under \"## Layout\"")
	}
	ignored := gitignoredDirs(t)
	var want []string
	for _, dir := range []string{".", "functions", "internal"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() || strings.HasPrefix(name, ".") || (dir == "." && ignored[name]) {
				continue
			}
			want = append(want, path.Join(dir, name))
		}
	}
	for _, dir := range want {
		if !covers(listed, dir) {
			t.Errorf("README.md's layout table has no row for %s/: add one that says what it is", dir)
		}
	}
}

// covers reports whether the layout lists dir itself or a path below it
// (`cmd/autogroup/` says what `cmd/` holds).
func covers(listed map[string]bool, dir string) bool {
	for p := range listed {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// layoutPaths returns the paths in backticks in the first column of the
// table under the README's "## Layout" heading, without trailing slashes.
func layoutPaths(readme []byte) map[string]bool {
	paths := map[string]bool{}
	in := false
	for line := range strings.Lines(string(readme)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "## ") {
			in = line == "## Layout"
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range codeSpan.FindAllStringSubmatch(first, -1) {
			paths[strings.TrimSuffix(m[1], "/")] = true
		}
	}
	return paths
}

// gitignoredDirs returns the top-level directories .gitignore names as
// "/name/" or "name/": build output, not part of the layout.
func gitignoredDirs(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(".gitignore")
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{}
	for line := range strings.Lines(string(src)) {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutSuffix(strings.TrimPrefix(line, "/"), "/"); ok && !strings.Contains(name, "/") {
			dirs[name] = true
		}
	}
	return dirs
}

// link is a markdown link target and the line it is on.
type link struct {
	line   int
	target string
}

// markdown is what the link check needs from a page.
type markdown struct {
	links   []link
	anchors []string // in order, duplicates numbered as GitHub numbers them
}

var (
	fence        = regexp.MustCompile("^ {0,3}(```|~~~)")
	heading      = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	codeSpan     = regexp.MustCompile("`+([^`]*)`+")
	inlineLink   = regexp.MustCompile(`!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	referenceDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	htmlAnchor   = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	scheme       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// parseMarkdown returns the links and heading anchors of a page, leaving out
// fenced code blocks and code spans, where brackets and hashes are text.
func parseMarkdown(src []byte) markdown {
	var md markdown
	seen := map[string]int{}
	var open string // the fence that opened the current code block
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		if m := fence.FindStringSubmatch(trimmed); m != nil {
			switch {
			case open == "":
				open = m[1]
			case open == m[1]:
				open = ""
			}
			continue
		}
		if open != "" {
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			s := slug(m[2])
			a := s
			if k := seen[s]; k > 0 {
				a = fmt.Sprintf("%s-%d", s, k)
			}
			seen[s]++
			md.anchors = append(md.anchors, a)
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			md.anchors = append(md.anchors, m[1])
		}
		text := codeSpan.ReplaceAllString(line, "")
		if m := referenceDef.FindStringSubmatch(text); m != nil {
			md.links = append(md.links, link{n, m[1]})
			continue
		}
		for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
			md.links = append(md.links, link{n, m[2]})
		}
	}
	return md
}

// slug makes the anchor GitHub gives a heading: the text as rendered (code
// spans and links as their text, emphasis markers dropped), lowercased, with
// every character that is not a letter, mark, number, '-', '_' or a space
// removed, and each space turned into '-'.
func slug(text string) string {
	text = inlineLink.ReplaceAllString(text, "$1")
	text = codeSpan.ReplaceAllString(text, "$1")
	text = strings.ReplaceAll(text, "*", "")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isExternal reports whether a link target leaves the repository: a URL with
// a scheme (https:, mailto:) or a protocol-relative one.
func isExternal(target string) bool {
	return scheme.MatchString(target) || strings.HasPrefix(target, "//")
}

func TestDocsSlug(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"The decision record", "the-decision-record"},
		{"With Docker: `sam local invoke`", "with-docker-sam-local-invoke"},
		{"`make invoke EVENT=events/<file>.json [RULES=file]`", "make-invoke-eventeventsfilejson-rulesfile"},
		{"Existing users: check-pool and backfill", "existing-users-check-pool-and-backfill"},
		{"A — B", "a--b"},
		{"**Bold** and [a link](x.md)", "bold-and-a-link"},
		{"Ünïcode Straße 2", "ünïcode-straße-2"},
		{"snake_case_name", "snake_case_name"},
	}
	for _, tc := range tests {
		if got := slug(tc.heading); got != tc.want {
			t.Errorf("slug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

func TestDocsParseMarkdown(t *testing.T) {
	// The links are on lines 2, 3, 4, 14 and 15.
	src := strings.Join([]string{
		"# Title",
		"See [rules](docs/rules.md#conditions) and",
		"[the site](https://example.com \"title\").",
		"`[not a link](nowhere.md)` but ![img](a.png)",
		"```sh",
		"# not a heading",
		"[not a link](inside-code.md)",
		"```",
		"## Title",
		"  ```",
		"  indented [fence](skipped.md)",
		"  ```",
		"## Title",
		"[ref]: CONTRIBUTING.md",
		`<a id="custom"></a> [local](#title-1)`,
	}, "\n")
	got := parseMarkdown([]byte(src))
	wantLinks := []link{
		{2, "docs/rules.md#conditions"},
		{3, "https://example.com"},
		{4, "a.png"},
		{14, "CONTRIBUTING.md"},
		{15, "#title-1"},
	}
	if diff := cmp.Diff(wantLinks, got.links, cmp.AllowUnexported(link{})); diff != "" {
		t.Errorf("parseMarkdown links (-want +got):\n%s", diff)
	}
	wantAnchors := []string{"title", "title-1", "title-2", "custom"}
	if diff := cmp.Diff(wantAnchors, got.anchors); diff != "" {
		t.Errorf("parseMarkdown anchors (-want +got):\n%s", diff)
	}
}

func TestDocsLayoutPaths(t *testing.T) {
	readme := "# X\n\n## Layout\n\n| path | what |\n|---|---|\n" +
		"| `rules/` | the engine, see `internal/` |\n" +
		"| `template.yaml`, `samconfig.toml` | SAM |\n\n" +
		"## Licence\n\n| `not/` | in another section |\n"
	got := slices.Sorted(maps.Keys(layoutPaths([]byte(readme))))
	want := []string{"rules", "samconfig.toml", "template.yaml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layoutPaths (-want +got):\n%s", diff)
	}
}

func TestDocsIsExternal(t *testing.T) {
	for target, want := range map[string]bool{
		"https://github.com/aws/aws-lambda-go": true,
		"mailto:security@example.com":          true,
		"//example.com/x":                      true,
		"docs/rules.md":                        false,
		"../BENCHMARKS.md#findings":            false,
		"#the-decision-record":                 false,
	} {
		if got := isExternal(target); got != want {
			t.Errorf("isExternal(%q) = %v, want %v", target, got, want)
		}
	}
}

// TestDocsShowTheShippedCaseCount keeps the "N passed, 0 failed" that the
// README and docs/cli.md show for the shipped test cases in step with the
// cases file.
func TestDocsShowTheShippedCaseCount(t *testing.T) {
	src, err := os.ReadFile("functions/post-confirmation/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ruletest.Parse(src)
	if err != nil || len(cases) == 0 {
		t.Fatalf("the shipped cases: %d, %v", len(cases), err)
	}
	want := fmt.Sprintf("%d passed, 0 failed", len(cases))
	for _, doc := range []string{"README.md", "docs/cli.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\d+ passed, 0 failed`).FindAllString(string(b), -1) {
			if m != want {
				t.Errorf("%s shows %q for the shipped cases, which give %q", doc, m, want)
			}
		}
	}
}
