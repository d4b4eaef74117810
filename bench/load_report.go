package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// parseLevels reads a comma-separated list of load levels; empty is none.
func parseLevels(s string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) {
			return nil, fmt.Errorf("level %q: want a positive number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// levelList formats levels as "1, 3 and 10".
func levelList(levels []float64) string {
	parts := make([]string, len(levels))
	for i, v := range levels {
		parts[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// loadSection writes the load runs' table: one row per level and mode, the
// target (no sign-up failed, no assignment lost) on the rows with the queue.
func (r report) loadSection(b *strings.Builder) {
	if len(r.Load) == 0 {
		return
	}
	c := r.Config.load
	fmt.Fprintf(b, "\nLoad: %d sign-ups a run, arriving evenly at %s times an emulated AdminAddUserToGroup quota of %v calls per\n"+
		"second (`cognitofake` RateLimit: a token bucket of one second's worth; Cognito answering after %s), one group each, the\n"+
		"default 4 s budget, `onError: fail`, %d warm instances of the function under aws-lambda-rie (more start cold when all are\n"+
		"busy). With the queue: goaws, and %d assignment-retry instances at `AUTOGROUP_RETRY_RATE=%v` (%v of the %v calls per second,\n"+
		"as the template's 2 × 5 are of 25) behind the bench's event source mapping (batches of %d, visibility %d s,\n"+
		"maxReceiveCount %d). A sign-up fails when the function returns an error or answers after Cognito's 5 s. An\n"+
		"assignment is lost when its user lacks the group once the queue is empty (without the queue: once the sign-ups\n"+
		"returned). Time to converge runs from the first sign-up to the last user's first successful add.\n\n",
		c.signUps, levelList(c.levels), c.quota, r.Config.delay, c.signUps, c.consumers, c.consumerRate,
		c.consumerRate*float64(c.consumers), c.quota, consumerBatch, queueVisibility, maxReceiveCount)
	b.WriteString("| Load | Retry queue | Sign-ups failed | Assignments lost | Calls throttled | Deferred · failed deliveries · dead letters | Time to converge | Sign-up latency median · max | Target | |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	// By level, without the queue and then with it, side by side.
	runs := slices.Clone(r.Load)
	slices.SortStableFunc(runs, func(a, b loadRun) int { return cmp.Compare(a.Level, b.Level) })
	for _, run := range runs {
		mode, deferred, target, verdict := "without", "—", "", ""
		if run.Queue {
			mode = "with"
			deferred = fmt.Sprintf("%d · %d · %d", run.Deferred, run.Redelivered, run.DeadLetters)
			target, verdict = "0 failed, 0 lost", pass(run.Failed == 0 && run.Lost == 0)
		}
		converge := "never"
		if run.Lost == 0 {
			converge = duration(ns(run.Converge))
		}
		lat := collect(run.Latencies, ns)
		slowest := 0.0
		for _, v := range lat {
			slowest = max(slowest, v)
		}
		load := fmt.Sprintf("%v× (%v/s)", run.Level, run.Level*c.quota)
		if run.ColdStarts > 0 {
			load += fmt.Sprintf(", %d cold starts", run.ColdStarts)
		}
		fmt.Fprintf(b, "| %s | %s | %d of %d | %d | %d of %d | %s | %s | %s · %s | %s | %s |\n",
			load, mode, run.Failed, run.SignUps, run.Lost, run.Throttled, run.AddCalls, deferred, converge,
			duration(median(lat)), duration(slowest), target, verdict)
	}
}
