package main

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// engineCommand is the command runEngine runs, as it appears in the report.
const engineCommand = "go test -run '^$' -bench . -benchmem ./rules/"

// benchResult is one line of go test -bench output.
type benchResult struct {
	Name     string // without the -GOMAXPROCS suffix: BenchmarkParse/rules=10
	NsOp     float64
	BytesOp  float64
	AllocsOp float64
}

// engineResults are the rules benchmarks by name.
type engineResults map[string]benchResult

var procsSuffix = regexp.MustCompile(`-\d+$`)

// runEngine runs the rules package's benchmarks.
func runEngine(ctx context.Context, root string) (engineResults, error) {
	out, err := supervise.Output(ctx, root, goEnv(), "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "./rules/")
	if err != nil {
		return nil, err
	}
	res := engineResults{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		r := benchResult{Name: procsSuffix.ReplaceAllString(f[0], "")}
		// f[1] is the iteration count; then value-unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("go test -bench: cannot read %q in %q", f[i], sc.Text())
			}
			switch f[i+1] {
			case "ns/op":
				r.NsOp = v
			case "B/op":
				r.BytesOp = v
			case "allocs/op":
				r.AllocsOp = v
			}
		}
		res[r.Name] = r
	}
	for _, name := range engineRows {
		if _, ok := res[name.bench]; !ok {
			return nil, fmt.Errorf("go test -bench printed no %s; its output:\n%s", name.bench, out)
		}
	}
	return res, nil
}

// engineRows are the benchmarks the report shows, in order.
var engineRows = []struct{ bench, label string }{
	{"BenchmarkParse/rules=10", "Parse, 10 rules"},
	{"BenchmarkParse/rules=100", "Parse, 100 rules"},
	{"BenchmarkParse/rules=1000", "Parse, 1,000 rules"},
	{"BenchmarkGroups/rules=10", "Groups (evaluation), 10 rules"},
	{"BenchmarkGroups/rules=100", "Groups (evaluation), 100 rules"},
	{"BenchmarkGroups/rules=1000", "Groups (evaluation), 1,000 rules"},
	{"BenchmarkDecide", "Decide (what the handler calls: groups and matched rules), 100 rules"},
	{"BenchmarkExplain", "Explain (autogroup explain), 100 rules"},
}

// evalTargetBench is the benchmark the evaluation target applies to.
// It is Decide, the call the function makes per sign-up.
const evalTargetBench = "BenchmarkDecide"
