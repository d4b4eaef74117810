package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// initTrace is what GODEBUG=inittrace=1 reports for one binary: the clock
// time of each package's initialisation, median over several starts.
type initTrace struct {
	Starts   int
	Packages map[string]float64 // package → ms
}

func (t initTrace) total() float64 {
	var s float64
	for _, v := range t.Packages {
		s += v
	}
	return s
}

// traceInits starts the function and the floor n times each, alternately,
// directly (not under the emulator: with no AWS_LAMBDA_RUNTIME_API,
// lambda.Start fails at once, after package initialisation and, for the
// function, after main has loaded the ruleset and built the client), with
// GODEBUG=inittrace=1.
func (l *lab) traceInits(ctx context.Context, n int) (fn, floor initTrace, err error) {
	runs := map[string][]map[string]float64{}
	for range n {
		for _, exe := range []string{l.bin.function, l.bin.floor} {
			pk, err := inittrace(ctx, exe, append(l.env(), "GODEBUG=inittrace=1"))
			if err != nil {
				return fn, floor, err
			}
			runs[exe] = append(runs[exe], pk)
		}
	}
	return medianTrace(runs[l.bin.function]), medianTrace(runs[l.bin.floor]), nil
}

func inittrace(ctx context.Context, exe string, env []string) (map[string]float64, error) {
	cmd := supervise.Command(ctx, "", env, exe)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run() // it exits 1: there is no runtime API to call
	// init PKG @T ms, C ms clock, B bytes, A allocs
	pk := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(stderr.Bytes()))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 7 && f[0] == "init" && f[6] == "clock," {
			if v, err := strconv.ParseFloat(f[4], 64); err == nil {
				pk[f[1]] += v
			}
		}
	}
	if len(pk) == 0 {
		return nil, fmt.Errorf("%s with GODEBUG=inittrace=1 printed no init lines (%v):\n%s", exe, runErr, stderr.String())
	}
	return pk, nil
}

func medianTrace(runs []map[string]float64) initTrace {
	t := initTrace{Starts: len(runs), Packages: map[string]float64{}}
	all := map[string][]float64{}
	for _, r := range runs {
		for p, v := range r {
			all[p] = append(all[p], v)
		}
	}
	for p, v := range all {
		for len(v) < len(runs) {
			v = append(v, 0)
		}
		t.Packages[p] = median(v)
	}
	return t
}

// heaviestOnlyIn lists the n packages of t absent from base, heaviest first.
func heaviestOnlyIn(t, base initTrace, n int) (names []string, sum float64, count int) {
	var only []string
	for p, v := range t.Packages {
		if _, ok := base.Packages[p]; !ok {
			only = append(only, p)
			sum += v
		}
	}
	slices.SortFunc(only, func(a, b string) int {
		switch va, vb := t.Packages[a], t.Packages[b]; {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return strings.Compare(a, b)
	})
	count = len(only)
	if len(only) > n {
		only = only[:n]
	}
	return only, sum, count
}
