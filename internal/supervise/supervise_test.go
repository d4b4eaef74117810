package supervise

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the supervised program: with SUPERVISE_HELPER
// set it runs helper instead of the tests.
const helperVar = "SUPERVISE_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperVar); mode != "" {
		helper(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper is the supervised program. Modes:
//
//	sleep         block until signalled
//	ignore-term   ignore SIGTERM, then block
//	spawn-leader  start a "sleep" child in a process group of its own (as
//	              aws-lambda-rie starts the bootstrap), print its pid, block;
//	              SIGTERM ends this process and not the child
//	spawn-member  the same with the child in this process's group
//	listen        listen on $SUPERVISE_ADDR after $SUPERVISE_DELAY, block
//	exit          print a coloured line and exit with status 3
//	output        print "out" on stdout and "bad thing" on stderr, exit 1
func helper(mode string) {
	switch mode {
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
	case "spawn-leader", "spawn-member":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperVar+"=sleep")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: mode == "spawn-leader"}
		if err := cmd.Start(); err != nil {
			fmt.Println("start child:", err)
			os.Exit(1)
		}
		fmt.Println("child", cmd.Process.Pid)
	case "listen":
		d, _ := time.ParseDuration(os.Getenv("SUPERVISE_DELAY"))
		time.Sleep(d)
		l, err := net.Listen("tcp", os.Getenv("SUPERVISE_ADDR"))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		defer l.Close()
	case "exit":
		fmt.Println("starting")
		fmt.Println("\x1b[31mboom\x1b[0m")
		os.Exit(3)
	case "output":
		fmt.Print("out")
		fmt.Fprint(os.Stderr, "bad thing")
		os.Exit(1)
	}
	for {
		time.Sleep(time.Hour) // not select{}: the runtime would call that a deadlock
	}
}

// start starts the helper in mode with a log in a temporary directory.
func start(t *testing.T, mode string, o Options, env ...string) *Process {
	t.Helper()
	if o.Log == "" {
		o.Log = filepath.Join(t.TempDir(), mode+".log")
	}
	o.Env = append([]string{helperVar + "=" + mode}, env...)
	p, err := Start(o, os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// logLine waits until the process's log has a line starting with prefix
// and returns the rest of it.
func logLine(t *testing.T, p *Process, prefix string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		data, _ := os.ReadFile(p.LogPath())
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok && strings.HasSuffix(string(data), "\n") {
				return rest
			}
		}
	}
	t.Fatalf("%s's log has no line %q after 10s:\n%s", p.Name(), prefix, p.Tail(10))
	return ""
}

// groupGone reports, within a few seconds, whether pid and every process
// of the process group pid are gone. Zombies count as gone: whoever adopts
// an orphan may take its time to reap it.
func groupGone(pid int) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !alive(pid) && !groupHasLiveMember(pid) {
			return true
		}
	}
	return false
}

// groupHasLiveMember reports whether a process that is not a zombie is in
// process group pgid: from /proc where there is one, else by signal 0
// (which zombies answer too).
func groupHasLiveMember(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	if len(stats) == 0 {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

func TestStopEndsTheGroup(t *testing.T) {
	p := start(t, "sleep", Options{})
	pid := p.Pid()
	if g, err := syscall.Getpgid(pid); err != nil || g != pid {
		t.Fatalf("Getpgid(%d) = %d, %v; want a process group of its own", pid, g, err)
	}
	if p.Exited() || p.Err() != nil {
		t.Fatalf("Exited, Err = %v, %v before Stop; want false, nil", p.Exited(), p.Err())
	}
	p.Stop()
	if !p.Exited() {
		t.Error("Exited() = false after Stop")
	}
	if !groupGone(pid) {
		t.Errorf("process group %d still exists after Stop", pid)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done() not closed after Stop")
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) {
		t.Errorf("Err() = %v, want an *exec.ExitError (killed by a signal)", p.Err())
	}
	p.Stop() // again: a no-op
	var nilProcess *Process
	nilProcess.Stop()
}

func TestStopEndsChildren(t *testing.T) {
	for _, mode := range []string{"spawn-leader", "spawn-member"} {
		t.Run(mode, func(t *testing.T) {
			p := start(t, mode, Options{Grace: time.Second})
			child, err := strconv.Atoi(logLine(t, p, "child "))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(Children(p.Pid()), child) {
				t.Errorf("Children(%d) = %v, want it to list %d", p.Pid(), Children(p.Pid()), child)
			}
			p.Stop()
			if !groupGone(p.Pid()) {
				t.Errorf("process group %d still exists after Stop", p.Pid())
			}
			if !groupGone(child) {
				_ = syscall.Kill(-child, syscall.SIGKILL)
				_ = syscall.Kill(child, syscall.SIGKILL)
				t.Errorf("child %d (%s) survived Stop", child, mode)
			}
		})
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	const grace = 300 * time.Millisecond
	p := start(t, "ignore-term", Options{Grace: grace})
	logLine(t, p, "ready")
	begin := time.Now()
	p.Stop()
	elapsed := time.Since(begin)
	if elapsed < grace {
		t.Errorf("Stop took %v, want at least the %v grace before SIGKILL", elapsed, grace)
	}
	if elapsed > grace+5*time.Second {
		t.Errorf("Stop took %v, want about the %v grace", elapsed, grace)
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Err() = %v, want killed by SIGKILL", p.Err())
	}
	if !groupGone(p.Pid()) {
		t.Errorf("process group %d still exists after Stop", p.Pid())
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Start(Options{Log: filepath.Join(dir, "x.log")}, filepath.Join(dir, "no-such-program")); err == nil || !strings.Contains(err.Error(), "start no-such-program") {
		t.Errorf("Start(missing program) error = %v, want one naming it", err)
	}
	if _, err := Start(Options{Name: "x", Log: filepath.Join(dir, "no-dir", "x.log")}, os.Args[0]); err == nil || !strings.Contains(err.Error(), "create x log") {
		t.Errorf("Start(unwritable log) error = %v, want one about the log", err)
	}
	if _, err := Start(Options{Log: filepath.Join(dir, "x.log")}); err == nil {
		t.Error("Start(no argv) succeeded, want an error")
	}
}

func TestWaitForPort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)

	t.Run("listens", func(t *testing.T) {
		p := start(t, "listen", Options{}, "SUPERVISE_ADDR="+addr, "SUPERVISE_DELAY=200ms")
		if err := p.WaitForPort(t.Context(), addr, 10*time.Second); err != nil {
			t.Fatalf("WaitForPort: %v", err)
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial after WaitForPort: %v", err)
		}
		conn.Close()
	})
	t.Run("times out", func(t *testing.T) {
		p := start(t, "sleep", Options{Name: "sleeper"})
		const timeout = 300 * time.Millisecond
		begin := time.Now()
		err := p.WaitForPort(t.Context(), addr, timeout)
		if elapsed := time.Since(begin); elapsed < timeout || elapsed > timeout+3*time.Second {
			t.Errorf("WaitForPort returned after %v, want about %v", elapsed, timeout)
		}
		if err == nil || !strings.Contains(err.Error(), "sleeper not listening on "+addr+" after 300ms") || errors.Is(err, ErrExited) {
			t.Errorf("WaitForPort error = %v, want sleeper not listening after 300ms", err)
		}
	})
	t.Run("exited", func(t *testing.T) {
		p := start(t, "exit", Options{})
		err := p.WaitForPort(t.Context(), addr, 10*time.Second)
		if !errors.Is(err, ErrExited) {
			t.Fatalf("WaitForPort error = %v, want ErrExited", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "exit status 3") || !strings.HasSuffix(msg, "its log:\nstarting\nboom") {
			t.Errorf("WaitForPort error = %q, want the exit status and the log without colours", msg)
		}
	})
	t.Run("taken by another process", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("who listens is known on Linux only")
		}
		// The port answers, but for another process: this one fails to
		// listen there and exits, as aws-lambda-rie does.
		other := start(t, "listen", Options{Name: "other"}, "SUPERVISE_ADDR="+addr, "SUPERVISE_DELAY=0s")
		if err := other.WaitForPort(t.Context(), addr, 10*time.Second); err != nil {
			t.Fatalf("WaitForPort of the first: %v", err)
		}
		p := start(t, "listen", Options{Name: "late"}, "SUPERVISE_ADDR="+addr, "SUPERVISE_DELAY=50ms")
		err := p.WaitForPort(t.Context(), addr, 10*time.Second)
		if !errors.Is(err, ErrPortTaken) || !errors.Is(err, ErrExited) {
			t.Errorf("WaitForPort of the second = %v, want ErrPortTaken and ErrExited", err)
		}
		// A process that never listens times out with ErrPortTaken.
		q := start(t, "sleep", Options{Name: "sleeper"})
		if err := q.WaitForPort(t.Context(), addr, 300*time.Millisecond); !errors.Is(err, ErrPortTaken) || errors.Is(err, ErrExited) {
			t.Errorf("WaitForPort of a sleeper = %v, want ErrPortTaken, not ErrExited", err)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		p := start(t, "sleep", Options{})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if err := p.WaitForPort(ctx, addr, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitForPort error = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestOutput(t *testing.T) {
	env := func(mode string) []string { return []string{helperVar + "=" + mode} }
	if _, err := Output(t.Context(), "", env("output"), os.Args[0]); err == nil ||
		!strings.Contains(err.Error(), "exit status 1\nbad thing") {
		t.Errorf("Output(failing) error = %v, want the exit status and standard error", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if _, err := Output(ctx, "", env("sleep"), os.Args[0]); err == nil {
		t.Error("Output(sleep) with a context ending succeeded, want an error")
	}
	if elapsed := time.Since(begin); elapsed > DefaultGrace {
		t.Errorf("Output returned %v after its context ended, want it stopped by SIGINT at once", elapsed)
	}
	out, err := Output(t.Context(), t.TempDir(), nil, "pwd")
	if err != nil || !filepath.IsAbs(strings.TrimSpace(out)) {
		t.Errorf("Output(pwd) = %q, %v; want a directory", out, err)
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	if err := os.WriteFile(path, []byte("one\ntwo\n\x1b[1;32mthree\x1b[0m\nfour"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		n    int
		want string
	}{
		{path, 2, "three\nfour"},
		{path, 10, "one\ntwo\nthree\nfour"},
		{empty, 5, "(empty)"},
	} {
		if got := Tail(tt.path, tt.n); got != tt.want {
			t.Errorf("Tail(%s, %d) = %q, want %q", filepath.Base(tt.path), tt.n, got, tt.want)
		}
	}
	if got := Tail(filepath.Join(dir, "missing"), 3); !strings.HasPrefix(got, "(cannot read ") {
		t.Errorf("Tail(missing) = %q, want a note that it cannot be read", got)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("listen on FreePort's %d: %v", port, err)
	}
	l.Close()
}

func TestEnviron(t *testing.T) {
	t.Setenv("AWS_PROFILE", "real-account")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
	t.Setenv("SUPERVISE_TEST_KEEP", "kept")
	t.Setenv("RULES_FILE", "/somewhere")
	t.Setenv("RULES_FILE_2", "kept too")
	env := Environ([]string{"AWS_*", "RULES_FILE"}, "AWS_REGION=us-east-1")
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_PROFILE=") || strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") || strings.HasPrefix(kv, "RULES_FILE=") {
			t.Errorf("Environ kept %s", kv)
		}
	}
	for _, want := range []string{"SUPERVISE_TEST_KEEP=kept", "RULES_FILE_2=kept too", "AWS_REGION=us-east-1"} {
		if !slices.Contains(env, want) {
			t.Errorf("Environ = %v, want it to contain %s", env, want)
		}
	}
}
