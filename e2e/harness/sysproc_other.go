//go:build unix && !linux

package harness

import "syscall"

// sysProcAttr puts a child in its own process group, so that stop reaches
// everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
