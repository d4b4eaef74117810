package main

import (
	"errors"
	"os"
	"syscall"
)

// errorSharingViolation is ERROR_SHARING_VIOLATION: the file is open
// elsewhere with a share mode that excludes this open.
const errorSharingViolation syscall.Errno = 32

// lockFile opens the file at path, creating it, with no sharing at all, so
// that no other open succeeds while it is open: errLockHeld when another
// process (or another run) has it open. The lock is released by the
// function returned, or when the process ends.
func lockFile(path string) (func() error, error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(name, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if errors.Is(err, errorSharingViolation) {
		return nil, errLockHeld
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return func() error { return syscall.CloseHandle(h) }, nil
}
