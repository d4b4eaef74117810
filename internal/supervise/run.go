package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// Command returns a command that runs argv in dir with exactly env, in a
// process group of its own. When ctx ends the group gets SIGINT (on which
// the go command stops its children and removes its work directory), and
// the process is killed DefaultGrace later if it has not exited.
func Command(ctx context.Context, dir string, env []string, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = DefaultGrace
	return cmd
}

// Output runs argv as Command does and returns its standard output. Whatever
// it left running in its process group is killed when it exits. On failure
// the error names the command and carries its standard error (or, when that
// is empty, its standard output).
func Output(ctx context.Context, dir string, env []string, argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("supervise: no command")
	}
	cmd := Command(ctx, dir, env, argv...)
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
		if msg == "" {
			return "", fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, msg)
	}
	return stdout.String(), nil
}
