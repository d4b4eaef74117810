package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// machine describes where the measurements ran.
type machine struct {
	CPU       string // model name from /proc/cpuinfo
	Cores     int
	Go        string // go version of the toolchain that built everything
	OS        string
	LoadStart string // /proc/loadavg's 1, 5 and 15 minute averages
	LoadEnd   string
}

func describeMachine(ctx context.Context, root string) (machine, error) {
	m := machine{CPU: "unknown", Cores: runtime.NumCPU(), LoadStart: loadAverage()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	out, err := supervise.Output(ctx, root, goEnv(), "go", "version")
	if err != nil {
		return m, err
	}
	m.Go = strings.TrimPrefix(strings.TrimSpace(out), "go version ")

	m.OS = runtime.GOOS
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", Linux " + strings.TrimSpace(string(data))
	}
	return m, nil
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
