package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestStateRecordSaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := loadState(path, fakePool, rulesHash([]byte("rules")))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.save(); err != nil { // as apply does before the first add
		t.Fatal(err)
	}
	saved := func() int {
		var s backfillState
		if err := json.Unmarshal(mustRead(t, path), &s); err != nil {
			t.Fatal(err)
		}
		return len(s.Done)
	}
	for i := range saveEvery - 1 {
		if err := st.record(string(rune('a'+i%26)) + string(rune('a'+i/26))); err != nil {
			t.Fatal(err)
		}
	}
	if n := saved(); n != 0 {
		t.Errorf("after %d users recorded in well under %v, the file lists %d, want 0 (not saved yet)", saveEvery-1, saveInterval, n)
	}
	if err := st.record("last"); err != nil {
		t.Fatal(err)
	}
	if n := saved(); n != saveEvery {
		t.Errorf("after %d users recorded, the file lists %d, want all (saved)", saveEvery, n)
	}
}
