// Package supervise starts and stops the long-running processes of the
// end-to-end harness and the benchmarks (aws-lambda-rie, cognito-local) and
// runs their short-lived helpers (go, make), on Unix systems.
//
// A Process runs in a process group of its own with its standard output and
// error in a log file. Stop ends it with SIGTERM, then SIGKILL after a grace
// period; it first stops the process groups the process's children lead,
// because aws-lambda-rie starts the bootstrap in a group of its own and does
// not stop it on SIGTERM. On Linux the kernel also kills a child whose
// starter dies without stopping it. WaitForPort waits until a process
// listens, FreePort finds a loopback port, Tail reads the end of a log and
// Environ filters the environment handed to a child.
package supervise

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultGrace is how long a process has to exit after SIGTERM before it
// is killed, when Options.Grace is zero.
const DefaultGrace = 3 * time.Second

// ErrExited is wrapped by the error of WaitForPort when the process ended
// before it listened.
var ErrExited = errors.New("exited before listening")

// ErrPortTaken is wrapped by the error of WaitForPort when another process
// listens on the address: FreePort's port was taken between the check and
// the start (by another test binary starting emulators at the same time,
// say). Starting again on new ports is the remedy.
var ErrPortTaken = errors.New("port taken by another process")

// Options configure Start.
type Options struct {
	// Name names the process in errors; the base name of argv[0] when empty.
	Name string
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Env is the whole environment of the process (see Environ); nil means
	// an empty one, not the caller's.
	Env []string
	// Log is the file that receives standard output and standard error. It
	// is created, or truncated.
	Log string
	// Grace is how long Stop waits after SIGTERM; DefaultGrace when zero.
	Grace time.Duration
}

// Process is a running process started by Start. Its methods are safe for
// concurrent use.
type Process struct {
	name  string
	log   string
	grace time.Duration
	cmd   *exec.Cmd
	done  chan struct{} // closed once the process has been reaped
	err   error         // what Wait returned; read after done
	once  sync.Once
}

// Start starts argv with o, in a new process group, and returns at once.
// Call Stop when done, whatever happens next.
func Start(o Options, argv ...string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("supervise: no command")
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(argv[0])
	}
	f, err := os.Create(o.Log)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	grace := o.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	p := &Process{name: name, log: o.Log, grace: grace, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Name returns the process's name, as Options.Name or argv[0] gave it.
func (p *Process) Name() string { return p.name }

// Pid returns the process id, which is also its process group id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath returns the path of the process's log file.
func (p *Process) LogPath() string { return p.log }

// Done returns a channel that is closed when the process has ended and
// been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns how the process ended (what exec.Cmd.Wait returned), or nil
// while it runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Tail returns the last n lines of the process's log, without terminal
// colours.
func (p *Process) Tail(n int) string { return Tail(p.log, n) }

// Stop ends the process and what it started, and waits until the process
// has been reaped. First the process groups led by its children (found by
// pid) get SIGTERM, and SIGKILL after the grace period if they are still
// there; then the process's own group, the same way. Anything left in the
// process's group afterwards is killed. Stop is safe to call more than
// once, concurrently, and on a nil *Process.
func (p *Process) Stop() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		pgid := p.Pid() // Setpgid: the group id is the leader's pid
		if !p.Exited() {
			var leaders []int
			for _, k := range Children(p.Pid()) {
				if g, err := syscall.Getpgid(k); err == nil && g == k {
					leaders = append(leaders, k)
				}
			}
			for _, k := range leaders {
				_ = syscall.Kill(-k, syscall.SIGTERM)
			}
			waitGone(leaders, p.grace)
			for _, k := range leaders {
				if alive(k) {
					_ = syscall.Kill(-k, syscall.SIGKILL)
				}
			}
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(p.grace):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-p.done
			}
			waitGone(leaders, p.grace)
		}
		// Whatever the leader left in its group goes too (a no-op when the
		// group is empty).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// waitGone waits until none of pids is alive, or timeout has passed.
func waitGone(pids []int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// WaitForPort waits until addr accepts TCP connections from the process
// (or a process of its group), polling every millisecond. It fails when
// the process exits first (the error wraps ErrExited, and ErrPortTaken
// when another process listens on addr), when timeout passes, or when ctx
// ends; the first two errors carry the end of the process's log. Who
// listens is known on Linux only (from /proc); elsewhere any listener
// counts.
func (p *Process) WaitForPort(ctx context.Context, addr string, timeout time.Duration) error {
	const logLines = 20
	deadline := time.Now().Add(timeout)
	var d net.Dialer
	taken := false
	for {
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		conn, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			conn.Close()
			if taken = !p.listensOn(addr); !taken {
				return nil
			}
		}
		switch {
		case p.Exited() && taken:
			return fmt.Errorf("%s %w: %w on %s (%v); its log:\n%s", p.name, ErrExited, ErrPortTaken, addr, p.err, p.Tail(logLines))
		case p.Exited():
			return fmt.Errorf("%s %w on %s (%v); its log:\n%s", p.name, ErrExited, addr, p.err, p.Tail(logLines))
		case ctx.Err() != nil:
			return fmt.Errorf("waiting for %s: %w", p.name, ctx.Err())
		case time.Now().After(deadline) && taken:
			return fmt.Errorf("%s not listening on %s after %s: %w; its log:\n%s", p.name, addr, timeout, ErrPortTaken, p.Tail(logLines))
		case time.Now().After(deadline):
			return fmt.Errorf("%s not listening on %s after %s; its log:\n%s", p.name, addr, timeout, p.Tail(logLines))
		}
		time.Sleep(time.Millisecond)
	}
}

// listensOn reports whether the socket listening on addr's port is the
// process's or its group's; true when that cannot be told.
func (p *Process) listensOn(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil {
		return true
	}
	groups, known := listenerGroups(n)
	return !known || groups[p.Pid()]
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// Tail returns the last n lines of the file at path, without terminal
// colours: "(empty)" for an empty file, and a note saying why for one that
// cannot be read.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	data = ansiEscape.ReplaceAll(data, nil)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(empty)"
	}
	return strings.Join(lines, "\n")
}

// Environ returns the current environment without the variables in drop
// (names, or prefixes ending in "*"), followed by add.
func Environ(drop []string, add ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		for _, d := range drop {
			if prefix, ok := strings.CutSuffix(d, "*"); ok && strings.HasPrefix(name, prefix) || name == d {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return append(env, add...)
}
