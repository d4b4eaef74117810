package playground

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// web holds the page's own files: index.html, app.js, style.css.
//
//go:embed web
var web embed.FS

// Sample is an event the page offers one click away.
type Sample struct {
	Name  string `json:"name"`
	Event string `json:"event"`
}

// WriteSite writes the page's static files into dir: index.html, app.js
// and style.css; wasm_exec.js (the Go toolchain's loader, wasmExecJS); and
// samples.js, which holds ruleset (the editor's starting ruleset) and the
// *.json files of events, by name. The engine itself, autogroup.wasm, is
// built by `GOOS=js GOARCH=wasm go build ./playground/wasm`.
func WriteSite(dir string, ruleset []byte, events fs.FS, wasmExecJS []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	err := fs.WalkDir(web, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path.Base(p)), b, 0o644)
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), wasmExecJS, 0o644); err != nil {
		return err
	}
	js, err := samplesJS(ruleset, events)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "samples.js"), js, 0o644)
}

// samplesJS returns the script that defines window.AUTOGROUP_SAMPLES.
func samplesJS(ruleset []byte, events fs.FS) ([]byte, error) {
	names, err := fs.Glob(events, "*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no sample event (*.json) found")
	}
	slices.Sort(names)
	v := struct {
		Rules  string   `json:"rules"`
		Events []Sample `json:"events"`
	}{Rules: string(ruleset)}
	for _, n := range names {
		b, err := fs.ReadFile(events, n)
		if err != nil {
			return nil, err
		}
		v.Events = append(v.Events, Sample{Name: n, Event: strings.TrimRight(string(b), "\n") + "\n"})
	}
	// json.Marshal escapes <, > and &, so no sample can end the script.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "// Written by `make playground` from events/ and the shipped ruleset.\nwindow.AUTOGROUP_SAMPLES = %s;\n", b), nil
}
