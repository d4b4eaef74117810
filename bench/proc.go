package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// cleanup holds what must go when the driver ends: processes still running
// and temporary directories.
var cleanup = &registry{procs: map[*proc]bool{}}

type registry struct {
	mu    sync.Mutex
	procs map[*proc]bool
	dirs  []string
}

func (r *registry) add(p *proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.procs[p] = true
}

func (r *registry) remove(p *proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.procs, p)
}

func (r *registry) dir(d string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dirs = append(r.dirs, d)
}

// run stops every process still running, then removes the directories.
func (r *registry) run() {
	r.mu.Lock()
	procs := make([]*proc, 0, len(r.procs))
	for p := range r.procs {
		procs = append(procs, p)
	}
	dirs := r.dirs
	r.dirs = nil
	r.mu.Unlock()
	for _, p := range procs {
		p.stop()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

// proc is a long-running process the driver started (aws-lambda-rie), in its
// own process group, with its output in a log file.
type proc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once the process is reaped
	err     error         // what Wait returned; read after done
	once    sync.Once
}

// startProc starts argv in dir with exactly env, in a new process group that
// the kernel kills if the driver dies, with stdout and stderr in logPath.
func startProc(dir, logPath string, env []string, argv ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(argv[0]), err)
	}
	p := &proc{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	cleanup.add(p)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process and the runtimes it started. aws-lambda-rie starts
// the bootstrap in a process group of its own (Setpgid), so signalling rie's
// group does not reach it, and rie does not stop it on SIGTERM: the
// bootstrap's group is signalled first, by the pid found among rie's
// children, and rie reaps it; then rie's group. SIGKILL follows SIGTERM after
// stopGrace. Safe to call more than once and concurrently.
func (p *proc) stop() {
	p.once.Do(func() {
		defer cleanup.remove(p)
		if !p.exited() {
			kids := children(p.pid())
			for _, k := range kids {
				_ = syscall.Kill(-k, syscall.SIGTERM)
			}
			waitGone(kids, stopGrace)
			for _, k := range kids {
				if alive(k) {
					_ = syscall.Kill(-k, syscall.SIGKILL)
				}
			}
			_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(stopGrace):
				_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
				<-p.done
			}
			waitGone(kids, stopGrace)
		}
		// Whatever the leader left in its group goes too (a no-op when the
		// group is empty).
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	})
}

// children returns the pids of pid's child processes.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// childRunning returns the pid of the child of pid whose executable is exe.
func childRunning(pid int, exe string) (int, error) {
	for _, k := range children(pid) {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", k)); err == nil && target == exe {
			return k, nil
		}
	}
	return 0, fmt.Errorf("no child of process %d runs %s", pid, exe)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitGone(pids []int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	}
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

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// command runs a short-lived command (go, make) in dir and returns its
// standard output. It runs in its own process group, which is signalled
// when ctx ends; on failure the error carries its standard error.
func command(ctx context.Context, dir string, env []string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// SIGINT, not SIGTERM: on an interrupt the go command stops its
	// children and removes its work directory.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = stopGrace
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers in its group
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, msg)
	}
	return stdout.String(), nil
}
