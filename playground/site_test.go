package playground_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/playground"
)

func TestWriteSite(t *testing.T) {
	dir := t.TempDir()
	events := fstest.MapFS{
		"b.json":     {Data: []byte(`{"x": "</script>"}`)},
		"a.json":     {Data: []byte("{}\n\n")},
		"README.txt": {Data: []byte("not an event")},
	}
	if err := playground.WriteSite(dir, []byte("version: 1\n"), events, []byte("// wasm_exec\n")); err != nil {
		t.Fatalf("WriteSite: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"app.js", "index.html", "samples.js", "style.css", "wasm_exec.js"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("WriteSite wrote (-want +got):\n%s", diff)
	}
	js, err := os.ReadFile(filepath.Join(dir, "samples.js"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "</script>") {
		t.Errorf("samples.js holds </script> unescaped: a sample could end the page's script")
	}
	_, obj, _ := strings.Cut(string(js), "window.AUTOGROUP_SAMPLES = ")
	var got struct {
		Rules  string              `json:"rules"`
		Events []playground.Sample `json:"events"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimSpace(obj), ";")), &got); err != nil {
		t.Fatalf("samples.js: %v", err)
	}
	wantEvents := []playground.Sample{{Name: "a.json", Event: "{}\n"}, {Name: "b.json", Event: "{\"x\": \"</script>\"}\n"}}
	if diff := cmp.Diff(wantEvents, got.Events); diff != "" || got.Rules != "version: 1\n" {
		t.Errorf("samples.js rules %q, events (-want +got):\n%s", got.Rules, diff)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`id="groups"`, `id="problems"`} {
		if !strings.Contains(string(html), id) {
			t.Errorf("index.html has no element with %s", id)
		}
	}
	if slices.ContainsFunc([]string{"http://", "https://"}, func(s string) bool { return strings.Contains(string(html), s) }) {
		t.Errorf("index.html names a remote address: the page must fetch nothing from elsewhere")
	}
}

func TestWriteSiteNoEvents(t *testing.T) {
	if err := playground.WriteSite(t.TempDir(), nil, fstest.MapFS{}, nil); err == nil {
		t.Error("WriteSite with no sample event: no error, want one")
	}
}
