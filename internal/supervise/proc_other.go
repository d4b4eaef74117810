//go:build unix && !linux

package supervise

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts a child in a process group of its own, so that Stop
// reaches everything it starts. (Only Linux can have the kernel kill it
// when its starter dies.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// Children returns the pids of pid's child processes, from pgrep -P.
func Children(pid int) []int {
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// alive reports whether pid exists (a zombie counts until it is reaped).
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// listenerGroups cannot tell who listens on a port here: known is false.
func listenerGroups(int) (groups map[int]bool, known bool) { return nil, false }
