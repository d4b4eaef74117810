package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before it is killed.
const stopGrace = 3 * time.Second

// process is one emulator started by the harness, in its own process group,
// with its standard output and error going to one log file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	err     error         // what Wait returned; read after done
}

// startProcess starts argv in dir with env, in a new process group, writing
// stdout and stderr to logPath.
func startProcess(name, dir, logPath string, env []string, argv ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after stopGrace, and
// waits for the process to be reaped. It is safe to call more than once.
func (p *process) stop() {
	if p == nil || p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid // Setpgid: the group id is the leader's pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Anything the leader left in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// waitForPort waits until addr accepts TCP connections, the process exits,
// timeout passes or ctx ends.
func (p *process) waitForPort(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before listening on %s (%v); its log:\n%s", p.name, addr, p.err, tail(p.logPath, 20))
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for %s: %w", p.name, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %s; its log:\n%s", p.name, addr, timeout, tail(p.logPath, 20))
		}
		time.Sleep(25 * time.Millisecond)
	}
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

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// tail returns the last n lines of the file at path, without terminal colours.
func tail(path string, n int) string {
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
