package harness

import "syscall"

// sysProcAttr puts a child in its own process group, so that stop reaches
// everything it started, and has the kernel kill it if the harness dies
// without stopping it (a test binary killed on timeout, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
