package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is the format of the state file.
const stateVersion = 1

// saveEvery and saveInterval bound the work redone after a crash: record
// saves the state after this many users or this long, whichever first.
const (
	saveEvery    = 50
	saveInterval = time.Second
)

// backfillState is the --state file of backfill: the users whose missing
// memberships were all added, so that a run that was interrupted continues
// where it stopped. It belongs to one user pool and one ruleset (the SHA-256
// of its source): a run refuses a state file of another.
type backfillState struct {
	Version int    `json:"version"`
	Pool    string `json:"pool"`
	Rules   string `json:"rulesSha256"`
	Updated string `json:"updated"`
	// Done are the subs of the users done, in the order they were done.
	Done []string `json:"done"`

	path      string
	done      map[string]bool
	sinceSave int       // users recorded since the last save
	lastSave  time.Time // when save was last called
}

// rulesHash identifies a ruleset by its source.
func rulesHash(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// loadState reads the state file at path, or starts a new one when there is
// no file. It refuses a file written for another pool or ruleset.
func loadState(path, pool, rulesSum string) (*backfillState, error) {
	st := &backfillState{Version: stateVersion, Pool: pool, Rules: rulesSum, path: path, done: map[string]bool{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, unwrapPath(err))
	}
	var old backfillState
	if err := json.Unmarshal(data, &old); err != nil {
		return nil, fmt.Errorf("state file %s is not a backfill state: %v", path, err)
	}
	switch {
	case old.Version != stateVersion:
		return nil, fmt.Errorf("state file %s has format version %d; this autogroup writes version %d", path, old.Version, stateVersion)
	case old.Pool != pool:
		return nil, fmt.Errorf("state file %s was written for user pool %s, not %s: pass another --state FILE", path, old.Pool, pool)
	case old.Rules != rulesSum:
		return nil, fmt.Errorf("state file %s was written for another ruleset (sha256 %.12s…, this one is %.12s…): the rules changed since, so the users it lists may lack groups the new rules select; pass another --state FILE to start over", path, old.Rules, rulesSum)
	}
	st.Done = old.Done
	for _, sub := range old.Done {
		st.done[sub] = true
	}
	return st, nil
}

// unwrapPath drops the path from an error that names it already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isDone reports whether the user was done in an earlier run.
func (st *backfillState) isDone(sub string) bool { return st.done[sub] }

// markDone records that the user is done.
func (st *backfillState) markDone(sub string) {
	if !st.done[sub] {
		st.done[sub] = true
		st.Done = append(st.Done, sub)
	}
}

// record marks the user done, and saves the state when saveEvery users
// were recorded or saveInterval passed since the last save.
func (st *backfillState) record(sub string) error {
	st.markDone(sub)
	st.sinceSave++
	if st.sinceSave < saveEvery && time.Since(st.lastSave) < saveInterval {
		return nil
	}
	return st.save()
}

// save writes the state atomically: to a temporary file in the same
// directory, synced, then renamed over the file.
func (st *backfillState) save() error {
	st.sinceSave, st.lastSave = 0, time.Now()
	st.Updated = time.Now().UTC().Format(time.RFC3339)
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir, base := filepath.Split(st.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, base+".tmp*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), st.path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// doneCount returns how many users the state lists.
func (st *backfillState) doneCount() int { return len(st.Done) }
