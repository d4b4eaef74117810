package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets.
const (
	initRatioTarget   = 1.5        // function INIT REPORT / floor INIT REPORT
	groupsRatioTarget = 1.5        // warm median with 5 groups / with 1 group
	evalTargetNs      = 20_000     // Groups with 100 rules, ns/op
	memoryTarget      = 40_000_000 // peak resident memory, bytes
	zipTarget         = 8_000_000  // zip size, bytes
	tokenRatioTarget  = 1.05       // token function INIT REPORT / function's (no slower, within noise)
)

// The generated section of BENCHMARKS.md lies between these lines.
const (
	beginMarker = "<!-- BEGIN make bench: generated, replaced by every run -->"
	endMarker   = "<!-- END make bench -->"
)

type report struct {
	Machine machine
	Config  config
	Engine  engineResults
	Cold    coldResult
	Init    [2]initTrace // the function's, the floor's
	Warm    []warmResult
	Token   []time.Duration // the token function's warm latencies, nothing missing
	Sizes   sizes
	Load    []loadRun
	// AppConfig is the function with RULES_SOURCE set beside unset.
	AppConfig appConfigResult
	Duration  time.Duration
	When      time.Time
}

// markdown returns the generated section: how and where it ran, the table,
// and the raw cold-start figures.
func (r report) markdown() string {
	var b strings.Builder
	m := r.Machine
	args := "go run ./bench"
	if len(os.Args) > 1 {
		args += " " + strings.Join(os.Args[1:], " ")
	}
	how := "`" + args + "`"
	if os.Getenv("MAKELEVEL") != "" {
		how = "`make bench` (" + how + ")"
	}
	fmt.Fprintf(&b, "Last run: %s, %s, %s in all.\n\n",
		r.When.UTC().Format("2006-01-02 15:04 MST"), how, r.Duration.Round(time.Second))
	fmt.Fprintf(&b, "- Machine: %s, %d cores; %s; %s.\n", m.CPU, m.Cores, m.Go, m.OS)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min): %s at the start, %s at the end. The machine is shared:\n"+
		"  absolute times move with the load; the ratios, measured in the same run, are what the targets use.\n", m.LoadStart, m.LoadEnd)
	fmt.Fprintf(&b, "- Engine: `%s`.\n", engineCommand)
	fmt.Fprintf(&b, "- Cold start: %d fresh aws-lambda-rie processes each for the function (shipped ruleset, a password-reset\n"+
		"  event it passes through) and the floor (bench/floor), interleaved; the same flags as the Lambda build, for the host.\n", r.Config.coldRuns)
	fmt.Fprintf(&b, "- Warm: %d invocations after %d warm-up, one aws-lambda-rie per ruleset, Cognito faked locally answering\n"+
		"  each call after %s; every sign-up reads the user back (AdminGetUser), then adds the k groups its ruleset selects.\n", r.Config.warmRuns, r.Config.warmUp, r.Config.delay)
	b.WriteString("- Token function: the same cold starts with a V1 sign-in of a user who holds the group the shipped ruleset selects,\n" +
		"  and warm invocations of it: no Cognito call, the groups returned as sent.\n")
	fmt.Fprintf(&b, "- Rules from AppConfig: %d cold starts each with RULES_SOURCE at a fake Data API (internal/appconfigfake, serving\n"+
		"  the shipped ruleset) and unset, interleaved; warm k=1 as above, the ruleset from the fake beside RULES_FILE.\n", r.Config.coldRuns)
	b.WriteString("- MB are 10^6 bytes.\n\n")

	b.WriteString("| Area | Measure | Result | Target | |\n|---|---|---|---|---|\n")
	row := func(area, measure, result, target, verdict string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", area, measure, result, target, verdict)
	}

	for _, e := range engineRows {
		res := r.Engine[e.bench]
		target, verdict := "", ""
		if e.bench == evalTargetBench {
			target, verdict = "< 20 µs", pass(res.NsOp < evalTargetNs)
		}
		row("engine", e.label, fmt.Sprintf("%s/op · %s B/op · %s allocs/op",
			duration(res.NsOp), thousands(res.BytesOp), thousands(res.AllocsOp)), target, verdict)
	}

	fn, fl := r.Cold.Function, r.Cold.Floor
	n := len(fn)
	first := func(s []coldSample) float64 {
		return median(collect(s, func(c coldSample) float64 { return ns(c.FirstResponse) }))
	}
	invoke := func(s []coldSample) float64 {
		return median(collect(s, func(c coldSample) float64 { return ns(c.FirstInvoke) }))
	}
	initMs := func(s []coldSample) float64 {
		return median(collect(s, func(c coldSample) float64 { return c.InitMs * 1e6 }))
	}
	row("cold start", fmt.Sprintf("process start → first response, median of %d", n), versus(first(fn), first(fl)), "", "")
	row("cold start", "of which the first invocation (exec, init, invoke)", versus(invoke(fn), invoke(fl)), "", "")
	initRatio := initMs(fn) / initMs(fl)
	row("cold start", fmt.Sprintf("INIT REPORT durationMs, median of %d", n), versus(initMs(fn), initMs(fl)),
		"≤ 1.5× floor", pass(initRatio <= initRatioTarget))
	tk := r.Cold.Token
	tokenInitRatio := initMs(tk) / initMs(fn)
	row("cold start", fmt.Sprintf("token function INIT REPORT durationMs, median of %d", len(tk)),
		fmt.Sprintf("token %s · function %s (%.2f×) · floor %s", duration(initMs(tk)), duration(initMs(fn)), tokenInitRatio, duration(initMs(fl))),
		"≤ function (+5%)", pass(tokenInitRatio <= tokenRatioTarget))

	var k1 float64
	var peak int64
	var peaks []string
	for _, w := range r.Warm {
		lat := collect(w.Latencies, ns)
		med, p90 := median(lat), percentile(lat, 90)
		result := fmt.Sprintf("median %s · p90 %s", duration(med), duration(p90))
		target, verdict := "", ""
		switch w.Groups {
		case 1:
			k1 = med
		case 5:
			target, verdict = "≤ 1.5× k=1", pass(med/k1 <= groupsRatioTarget)
		}
		if w.Groups != 1 && k1 > 0 {
			result += fmt.Sprintf(" (%.2f× k=1)", med/k1)
		}
		row("warm", fmt.Sprintf("k=%d groups, %d invocations", w.Groups, len(w.Latencies)), result, target, verdict)
		peak = max(peak, w.PeakMemory)
		peaks = append(peaks, fmt.Sprintf("k=%d %s", w.Groups, megabytes(w.PeakMemory)))
	}
	tokenLat := collect(r.Token, ns)
	tokenMed := median(tokenLat)
	row("warm", fmt.Sprintf("token function, user missing nothing (no Cognito call), %d invocations", len(tokenLat)),
		fmt.Sprintf("median %s · p90 %s (%.2f× sign-up k=1)", duration(tokenMed), duration(percentile(tokenLat, 90)), tokenMed/k1),
		"≤ sign-up k=1", pass(tokenMed <= k1))
	floorPeak := int64(median(collect(fl, func(c coldSample) float64 { return float64(c.PeakMemory) })))
	row("memory", "peak resident memory of the function process (VmHWM) after the warm runs",
		fmt.Sprintf("%s (%s; floor %s)", megabytes(peak), strings.Join(peaks, ", "), megabytes(floorPeak)),
		"< 40 MB", pass(peak < memoryTarget))
	row("size", "arm64 bootstrap (make build-PostConfirmationFunction)", megabytes(r.Sizes.Bootstrap), "", "")
	row("size", "its zip (Deflate, as sam build)", megabytes(r.Sizes.Zip), "< 8 MB", pass(r.Sizes.Zip < zipTarget))
	r.AppConfig.rows(row)

	b.WriteString("\nCold starts, run by run (ms; function, token function and floor take turns to start first):\n\n")
	msList := func(s []coldSample, f func(coldSample) float64) string {
		var parts []string
		for _, c := range s {
			parts = append(parts, strconv.FormatFloat(f(c), 'f', 1, 64))
		}
		return strings.Join(parts, " ")
	}
	fmt.Fprintf(&b, "- function INIT REPORT: %s\n", msList(fn, func(c coldSample) float64 { return c.InitMs }))
	fmt.Fprintf(&b, "- token function INIT REPORT: %s\n", msList(tk, func(c coldSample) float64 { return c.InitMs }))
	fmt.Fprintf(&b, "- floor INIT REPORT: %s\n", msList(fl, func(c coldSample) float64 { return c.InitMs }))
	fmt.Fprintf(&b, "- function start → first response: %s\n", msList(fn, func(c coldSample) float64 { return ns(c.FirstResponse) / 1e6 }))
	fmt.Fprintf(&b, "- floor start → first response: %s\n", msList(fl, func(c coldSample) float64 { return ns(c.FirstResponse) / 1e6 }))

	fi, fli := r.Init[0], r.Init[1]
	top, sum, count := heaviestOnlyIn(fi, fli, 12)
	fmt.Fprintf(&b, "\nPackage initialisation (GODEBUG=inittrace=1, median clock per package over %d starts of each binary):\n"+
		"function %.1f ms in %d packages, floor %.1f ms in %d. The %d packages only the function has take %.1f ms; the heaviest:\n\n",
		fi.Starts, fi.total(), len(fi.Packages), fli.total(), len(fli.Packages), count, sum)
	for _, p := range top {
		fmt.Fprintf(&b, "- %s %.2f ms\n", p, fi.Packages[p])
	}
	r.loadSection(&b)
	return b.String()
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**MISS**"
}

// versus formats the function's and the floor's figures and their ratio.
func versus(function, floor float64) string {
	return fmt.Sprintf("function %s · floor %s (%.2f×)", duration(function), duration(floor), function/floor)
}

func ns(d time.Duration) float64 { return float64(d) }

func collect[T any](s []T, f func(T) float64) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the nearest-rank p-th percentile.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(v))
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// duration formats nanoseconds with three significant figures.
func duration(ns float64) string {
	v, unit := ns, "ns"
	switch {
	case ns >= 1e9:
		v, unit = ns/1e9, "s"
	case ns >= 1e6:
		v, unit = ns/1e6, "ms"
	case ns >= 1e3:
		v, unit = ns/1e3, "µs"
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// thousands formats a whole number with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeSection replaces the generated section of the file at path with md,
// keeping everything outside the markers. A file without the markers gets
// the section appended; a missing file is created.
func writeSection(path, md string) error {
	section := beginMarker + "\n\n" + md + "\n" + endMarker + "\n"
	old, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		return os.WriteFile(path, []byte("# Benchmarks\n\n`make bench` measures the engine, the function's cold start and warm latency, "+
			"its memory and its size.\n\n"+section), 0o644)
	case err != nil:
		return err
	}
	begin := bytes.Index(old, []byte(beginMarker))
	end := bytes.Index(old, []byte(endMarker))
	var out []byte
	if begin < 0 || end < begin {
		out = append(append(bytes.TrimRight(old, "\n"), "\n\n"...), section...)
	} else {
		rest := old[end+len(endMarker):]
		rest = bytes.TrimPrefix(rest, []byte("\n"))
		out = append(append(append([]byte{}, old[:begin]...), section...), rest...)
	}
	return os.WriteFile(path, out, 0o644)
}
