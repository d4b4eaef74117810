package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// cleanup holds what must go when the driver ends: processes still running
// and temporary directories.
var cleanup = &registry{procs: map[*supervise.Process]bool{}}

type registry struct {
	mu    sync.Mutex
	procs map[*supervise.Process]bool
	dirs  []string
}

func (r *registry) dir(d string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dirs = append(r.dirs, d)
}

// run stops every process still running, then removes the directories.
func (r *registry) run() {
	r.mu.Lock()
	procs := make([]*supervise.Process, 0, len(r.procs))
	for p := range r.procs {
		procs = append(procs, p)
	}
	r.procs = map[*supervise.Process]bool{}
	dirs := r.dirs
	r.dirs = nil
	r.mu.Unlock()
	for _, p := range procs {
		p.Stop()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

// proc is a long-running process the driver started (aws-lambda-rie), run
// by package supervise, and stopped by cleanup if still running at the end.
type proc struct {
	*supervise.Process
}

// startProc starts argv in dir with exactly env, in a new process group,
// with stdout and stderr in logPath.
func startProc(dir, logPath string, env []string, argv ...string) (*proc, error) {
	p, err := supervise.Start(supervise.Options{Dir: dir, Env: env, Log: logPath}, argv...)
	if err != nil {
		return nil, err
	}
	cleanup.mu.Lock()
	cleanup.procs[p] = true
	cleanup.mu.Unlock()
	return &proc{p}, nil
}

// stop ends the process and the bootstrap aws-lambda-rie started in a
// process group of its own (supervise.Process.Stop). Safe to call more
// than once.
func (p *proc) stop() {
	p.Stop()
	cleanup.mu.Lock()
	delete(cleanup.procs, p.Process)
	cleanup.mu.Unlock()
}

// childRunning returns the pid of the child of pid whose executable is exe.
func childRunning(pid int, exe string) (int, error) {
	for _, k := range supervise.Children(pid) {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", k)); err == nil && target == exe {
			return k, nil
		}
	}
	return 0, fmt.Errorf("no child of process %d runs %s", pid, exe)
}

// vmHWM returns the peak resident set size of pid, in bytes.
func vmHWM(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// logTail is how much of an emulator's log an error carries.
const logTail = 40

// tail returns the end of a log file, for error messages.
func tail(path string) string { return supervise.Tail(path, logTail) }
