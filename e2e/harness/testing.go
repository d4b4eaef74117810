package harness

import (
	"context"
	"os"
	"time"
)

// T is the part of *testing.T (or *testing.B) the harness uses.
type T interface {
	Helper()
	Cleanup(func())
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
}

// reportLines is how much of each log a failed test prints.
const reportLines = 40

// New starts an Env for a test and stops it when the test ends, however it
// ends; a failed test first prints the tail of every log and the
// invocations. When an emulator is not installed it skips the test, or
// fails it when the CI environment variable is set.
func New(t T, opts Options) *Env {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e, err := Start(ctx, opts)
	if err != nil {
		SkipOrFail(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("emulators after the failure:\n%s", e.Report(reportLines))
		}
		e.Stop()
	})
	return e
}

// SkipOrFail ends the test on err: a *MissingError skips it with the reason
// (and fails it when the CI environment variable is set); any other error
// fails it.
func SkipOrFail(t T, err error) {
	t.Helper()
	if !isMissing(err) {
		t.Fatalf("start the emulators: %v", err)
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("end-to-end test needs the emulators and CI is set: %v", err)
	}
	t.Skipf("end-to-end test skipped: %v", err)
}
