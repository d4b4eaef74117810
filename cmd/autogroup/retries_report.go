package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
)

// This file is what retries reports: the line of a message, the counts and
// the JSON object.

// retriesReport is the run's report, and its JSON form.
type retriesReport struct {
	Queue       string           `json:"queue"`
	To          string           `json:"to"`
	Redrive     bool             `json:"redrive"`
	Messages    int              `json:"messages"`
	Users       int              `json:"users"`
	Undecodable int              `json:"undecodable"`
	Truncated   bool             `json:"truncated"`
	ByGroup     map[string]int   `json:"byGroup"`
	ByReason    map[string]int   `json:"byReason"`
	BySource    map[string]int   `json:"bySource"`
	Oldest      string           `json:"oldest"`
	Newest      string           `json:"newest"`
	Entries     []retryEntry     `json:"entries"`
	Moved       int              `json:"moved"`
	Failures    []redriveFailure `json:"failures"`
	Interrupted bool             `json:"interrupted"`
}

// retryEntry is one message read. A message that does not decode has only
// its id and Error.
type retryEntry struct {
	MessageID     string       `json:"messageId"`
	Sub           string       `json:"sub,omitempty"`
	UserPoolID    string       `json:"userPoolId,omitempty"`
	Source        string       `json:"source,omitempty"`
	Groups        []retryGroup `json:"groups,omitempty"`
	EnqueuedAt    string       `json:"enqueuedAt,omitempty"`
	FirstFailedAt string       `json:"firstFailedAt,omitempty"`
	// Error says why the message does not decode: the field and the
	// problem, never the body.
	Error string `json:"error,omitempty"`
	Moved bool   `json:"moved"`
}

type retryGroup struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Code   string `json:"code,omitempty"`
}

// redriveFailure is a message --redrive could not move.
type redriveFailure struct {
	MessageID string `json:"messageId"`
	Sub       string `json:"sub"`
	Error     string `json:"error"`
}

func (rep *retriesReport) init(f retriesFlags) {
	rep.Queue, rep.To, rep.Redrive = f.queue, f.to, f.redrive
	rep.ByGroup, rep.ByReason, rep.BySource = map[string]int{}, map[string]int{}, map[string]int{}
	rep.Entries, rep.Failures = []retryEntry{}, []redriveFailure{}
}

// add records an entry and counts it; m is the message it decodes to, nil
// when it does not decode.
func (rep *retriesReport) add(e retryEntry, m *retryqueue.Message) {
	rep.Entries = append(rep.Entries, e)
	rep.Messages++
	if e.Moved {
		rep.Moved++
	}
	if m == nil {
		rep.Undecodable++
		return
	}
	for _, g := range m.Groups {
		rep.ByGroup[g.Name]++
		rep.ByReason[string(g.Reason)]++
	}
	rep.BySource[string(m.Source)]++
	if rep.Oldest == "" || e.EnqueuedAt < rep.Oldest {
		rep.Oldest = e.EnqueuedAt
	}
	if e.EnqueuedAt > rep.Newest {
		rep.Newest = e.EnqueuedAt
	}
}

func (rep *retriesReport) fail(f redriveFailure) {
	rep.Failures = append(rep.Failures, f)
}

// describe is the text of a message's line: sub, pool, each group with the
// reason of its last failure, the source and when it was queued.
func (e retryEntry) describe() string {
	groups := make([]string, len(e.Groups))
	for i, g := range e.Groups {
		groups[i] = g.Name + " (" + g.Reason + ")"
	}
	return fmt.Sprintf("%s  %s  %s  %s, enqueued %s", e.Sub, e.UserPoolID, strings.Join(groups, ", "), e.Source, e.EnqueuedAt)
}

// header prints what the run does.
func (r *retriesRun) header() {
	w := r.e.stdout
	printf(w, "dead-letter queue: %s\n", r.f.queue)
	switch {
	case r.f.redrive:
		printf(w, "mode:              redrive: each message that decodes is sent to %s, then deleted here\n", r.f.to)
	case r.f.to != "":
		printf(w, "mode:              redrive preview: nothing is moved (--redrive moves the messages to %s)\n", r.f.to)
	default:
		printf(w, "mode:              look only: nothing is moved (--redrive --to QUEUE_URL moves the messages back)\n")
	}
	fmt.Fprintln(w)
}

// report prints the counts, or the JSON object, and returns the exit code
// of a report that could not be written.
func (r *retriesRun) report() int {
	rep := &r.rep
	rep.Users = len(r.subs)
	w := r.e.stdout
	if r.f.json {
		data, err := json.Marshal(rep)
		if err != nil {
			r.prog.printf(r.e.stderr, "autogroup retries: %v\n", err)
			return exitUsage
		}
		_, _ = w.Write(append(visibleJSON(data), '\n')) // a failed write of stdout has no better place to go
		return exitOK
	}
	if rep.Messages > 0 {
		fmt.Fprintln(w)
	}
	decoded := rep.Messages - rep.Undecodable
	switch {
	case rep.Messages == 0:
		printf(w, "messages:    none: the dead-letter queue is empty\n")
	default:
		line := fmt.Sprintf("%d read: %s for %s", rep.Messages, plural(decoded, "retry message", "retry messages"), plural(rep.Users, "user", "users"))
		if rep.Undecodable > 0 {
			line += ", " + plural(rep.Undecodable, "that does not decode", "that do not decode")
		}
		printf(w, "messages:    %s\n", line)
	}
	if decoded > 0 {
		printf(w, "by group:    %s\n", counts(rep.ByGroup))
		printf(w, "by reason:   %s\n", counts(rep.ByReason))
		printf(w, "by source:   %s\n", counts(rep.BySource))
		printf(w, "enqueued:    oldest %s, newest %s\n", rep.Oldest, rep.Newest)
	}
	stays := ""
	if rep.Undecodable > 0 {
		stays = "; " + plural(rep.Undecodable, "that does not decode stays", "that do not decode stay") + " in the dead-letter queue"
	}
	switch {
	case r.f.redrive:
		printf(w, "result:      %d moved to %s, %d failed%s\n", rep.Moved, r.f.to, len(rep.Failures), stays)
	case r.f.to != "":
		printf(w, "result:      nothing moved; --redrive would move %s to %s%s\n", plural(decoded, "message", "messages"), r.f.to, stays)
	case decoded > 0:
		printf(w, "result:      nothing moved; once the cause is fixed, --redrive --to QUEUE_URL moves %s back\n", plural(decoded, "message", "messages"))
	default:
		printf(w, "result:      nothing moved\n")
	}
	if rep.Truncated {
		printf(w, "note:        stopped at --max %d: more messages may wait\n", r.f.max)
	}
	if len(rep.Failures) > 0 {
		printf(w, "\nnot moved (%d):\n", len(rep.Failures))
		for _, f := range rep.Failures {
			printf(w, "  %s  %s  %s\n", f.MessageID, f.Sub, f.Error)
		}
		r.prog.printf(r.e.stderr, "autogroup retries: the redrive stopped at a message it could not move (listed above); run again once the cause is fixed\n")
	}
	if rep.Interrupted {
		r.prog.printf(r.e.stderr, "autogroup retries: interrupted after %s\n", plural(rep.Messages, "message", "messages"))
	}
	return exitOK
}

// counts formats counts by name, the largest first: "contractors 5, staff 1".
func counts(m map[string]int) string {
	names := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}
