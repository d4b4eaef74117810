package main

import (
	"errors"
	"fmt"
)

// errLockHeld is returned by lockFile when another process (or another run
// in this one) holds the lock.
var errLockHeld = errors.New("the lock is held")

// stateLockPath is the lock file of the --state file at path: a file of its
// own beside it, since save replaces the state file by a rename, which a
// lock on the file itself would not survive. It is left in place after the
// run: removing it would let a third run lock a new file while a second one
// still waits on the old.
func stateLockPath(path string) string { return path + ".lock" }

// lockState takes the exclusive lock of the --state file at path without
// waiting, and returns the function that releases it. A lock held by
// another run is reported as such, naming the file.
func lockState(path string) (func() error, error) {
	lock := stateLockPath(path)
	release, err := lockFile(lock)
	if errors.Is(err, errLockHeld) {
		return nil, fmt.Errorf("state file %s is in use by another backfill run (it holds %s); wait for that run to end, or pass another --state FILE", path, lock)
	}
	if err != nil {
		return nil, fmt.Errorf("state file %s: cannot lock %s: %w", path, lock, unwrapPath(err))
	}
	return release, nil
}
