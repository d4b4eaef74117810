package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeEvent checks that decodeEvent never panics and reports a
// problem or an input with a trigger source.
func FuzzDecodeEvent(f *testing.F) {
	paths, _ := filepath.Glob(eventsDir + "*.json")
	more, _ := filepath.Glob("testdata/*.json")
	for _, path := range append(paths, more...) {
		if src, err := os.ReadFile(path); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(`{"triggerSource":"x","request":{"userAttributes":{"a":1,"a":"2"}}}`))
	f.Add([]byte(`{"triggerSource":"x"} trailing`))
	f.Fuzz(func(t *testing.T, src []byte) {
		in, errs := decodeEvent(src)
		if len(errs) == 0 && in.TriggerSource == "" {
			t.Fatalf("no problem and no trigger source")
		}
		for _, e := range errs {
			if e.msg == "" || e.line < 0 || (e.line > 0 && e.col < 1) {
				t.Fatalf("malformed problem %+v", e)
			}
		}
	})
}
