// Command bench measures cognito-autogroup and writes the results to
// BENCHMARKS.md; `make bench` runs it. In one run it measures:
//
//   - the rules engine: `go test -run '^$' -bench . -benchmem ./rules/`
//     (Parse and evaluation with 10, 100 and 1,000 rules);
//   - cold start: the function, built for this machine with the Lambda build's
//     flags, started under aws-lambda-rie in a fresh process N times, and
//     beside it, interleaved so that both share the machine's noise, the
//     floor (bench/floor: an aws-lambda-go function that returns its input);
//   - warm latency: invocations through aws-lambda-rie against a local fake
//     of Cognito (internal/cognitofake) that answers AdminGetUser (the
//     function reads the user back first) and AdminAddUserToGroup after a
//     fixed delay, for rulesets that select 1, 5 and 20 groups;
//   - the token function (functions/pre-token-generation): its cold start
//     beside the others, and its warm latency for a sign-in of a user who
//     holds every selected group, the common case, in which it makes no
//     Cognito call;
//   - the function process's peak resident memory (VmHWM), and the size of
//     the arm64 Lambda build and of its zip;
//   - load: bursts of sign-ups at 1, 3 and 10 times an emulated
//     AdminAddUserToGroup quota, against a pool of function instances under
//     aws-lambda-rie, without and with the retry queue (goaws, and the
//     assignment-retry function behind the bench's event source mapping):
//     sign-ups failed, assignments lost, calls throttled, time to converge.
//
// It prints one markdown table with the targets and whether each is met, and
// replaces the generated part of BENCHMARKS.md (between its markers),
// leaving the hand-written analysis around it alone.
//
// Every process it starts runs in its own process group and is stopped by
// its pid, also on SIGINT or SIGTERM; ports are free loopback ports; temporary
// directories are removed. Nothing here runs under `go test`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

// initTraceStarts is how many times each binary is started with
// GODEBUG=inittrace=1.
const initTraceStarts = 5

// config is what the flags set.
type config struct {
	out       string        // BENCHMARKS.md to update; empty: print only
	coldRuns  int           // fresh starts of each binary
	warmRuns  int           // timed invocations per ruleset
	warmUp    int           // untimed invocations before them
	delay     time.Duration // fake Cognito's answer delay
	groupSets []int         // groups selected per ruleset
	load      loadConfig    // the load runs; no levels: none
}

func main() {
	var c config
	flag.StringVar(&c.out, "o", "BENCHMARKS.md", "markdown file whose generated section is replaced (empty: print only)")
	flag.IntVar(&c.coldRuns, "cold", 10, "cold starts of the function and of the floor")
	flag.IntVar(&c.warmRuns, "warm", 50, "timed warm invocations per ruleset")
	flag.IntVar(&c.warmUp, "warmup", 5, "untimed invocations before the timed ones")
	flag.DurationVar(&c.delay, "delay", 20*time.Millisecond, "delay of the fake Cognito's answers")
	c.load = defaultLoad
	flag.IntVar(&c.load.signUps, "signups", c.load.signUps, "sign-ups per load run")
	levels := flag.String("levels", "1,3,10", "load runs' arrival rates, in multiples of the emulated quota (empty: no load runs)")
	flag.Parse()
	c.groupSets = []int{1, 5, 20}
	var err error
	c.load.levels, err = parseLevels(*levels)
	if err != nil || flag.NArg() > 0 || c.coldRuns < 1 || c.warmRuns < 1 || c.warmUp < 1 || c.load.signUps < 1 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench [-o BENCHMARKS.md] [-cold 10] [-warm 50] [-warmup 5] [-delay 20ms] [-signups 60] [-levels 1,3,10]")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, c)
	interrupted := ctx.Err() != nil
	stop()
	cleanup.run()
	if err != nil {
		if interrupted {
			err = errors.New("interrupted; every process started was stopped")
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	start := time.Now()
	root, err := findRoot()
	if err != nil {
		return err
	}
	m, err := describeMachine(ctx, root)
	if err != nil {
		return err
	}
	logf("machine: %s, %d cores, %s, %s; load average %s", m.CPU, m.Cores, m.Go, m.OS, m.LoadStart)

	tmp, err := os.MkdirTemp("", "autogroup-bench-")
	if err != nil {
		return err
	}
	cleanup.dir(tmp)

	logf("building the function and the floor for this machine, the arm64 Lambda build and aws-lambda-rie...")
	b, err := buildAll(ctx, root, tmp)
	if err != nil {
		return err
	}

	logf("engine: %s", engineCommand)
	eng, err := runEngine(ctx, root)
	if err != nil {
		return err
	}

	// Every group exists, and every call is answered after the same delay:
	// the latency of a Cognito call without its variance.
	fake, err := cognitofake.Start(cognitofake.Options{Delay: c.delay, AllowAnyGroup: true})
	if err != nil {
		return err
	}
	defer fake.Close()
	addBenchUser(fake)

	l := &lab{bin: b, dir: tmp, cognitoURL: fake.URL(), fake: fake}
	logf("cold start: %d fresh starts each of the function, the token function and the floor, interleaved", c.coldRuns)
	cold, err := l.coldStarts(ctx, c.coldRuns)
	if err != nil {
		return err
	}
	logf("package initialisation: GODEBUG=inittrace=1, %d starts each", initTraceStarts)
	fnInit, floorInit, err := l.traceInits(ctx, initTraceStarts)
	if err != nil {
		return err
	}
	logf("warm: the token function, nothing missing, %d invocations after %d warm-up", c.warmRuns, c.warmUp)
	tokenWarm, err := l.warmToken(ctx, c.warmUp, c.warmRuns)
	if err != nil {
		return err
	}
	var warm []warmResult
	for _, k := range c.groupSets {
		logf("warm: %d groups, %d invocations after %d warm-up, Cognito answering after %s", k, c.warmRuns, c.warmUp, c.delay)
		w, err := l.warm(ctx, k, c.warmUp, c.warmRuns)
		if err != nil {
			return err
		}
		warm = append(warm, w)
	}

	logf("rules from AppConfig: %d cold starts each with RULES_SOURCE set and unset, then warm k=1", c.coldRuns)
	ac, err := l.appConfig(ctx, c.coldRuns, c.warmUp, c.warmRuns)
	if err != nil {
		return err
	}
	var load []loadRun
	if len(c.load.levels) > 0 {
		logf("load: %d sign-ups a run at %s times an emulated quota of %v AdminAddUserToGroup calls per second, one group each, without and with the retry queue",
			c.load.signUps, levelList(c.load.levels), c.load.quota)
		if load, err = runLoad(ctx, root, b, filepath.Join(tmp, "load"), c.load, c.delay); err != nil {
			return err
		}
	}

	m.LoadEnd = loadAverage()
	r := report{
		Machine:   m,
		Config:    c,
		Engine:    eng,
		Cold:      cold,
		Init:      [2]initTrace{fnInit, floorInit},
		Warm:      warm,
		Token:     tokenWarm,
		Sizes:     b.sizes,
		Load:      load,
		AppConfig: ac,
		Duration:  time.Since(start),
		When:      start,
	}
	md := r.markdown()
	fmt.Println()
	fmt.Print(md)
	if c.out != "" {
		path := c.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeSection(path, md); err != nil {
			return err
		}
		logf("wrote %s", path)
	}
	logf("took %s", r.Duration.Round(time.Second))
	return nil
}

// logf reports progress on standard error, so that standard output carries
// only the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// findRoot returns the directory of the module's go.mod, searching up from
// the working directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/cognito-autogroup/cognito-autogroup\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the cognito-autogroup module (no go.mod of it in the working directory or above)")
		}
		dir = parent
	}
}
