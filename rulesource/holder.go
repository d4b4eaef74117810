package rulesource

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// RefreshTimeout bounds a refresh that Ruleset makes because one is due, so
// that an invocation waits at most this long for a polled source.
const RefreshTimeout = 500 * time.Millisecond

// Holder holds the ruleset in force, parsed from its source. Build it with
// Load. It is safe for concurrent use: Ruleset never waits for a refresh
// that another goroutine is making.
type Holder struct {
	src Source
	log *slog.Logger // nil: failed refreshes in Ruleset are not logged

	current  atomic.Pointer[loaded]
	due      atomic.Int64 // when a refresh is due, in Unix nanoseconds; 0: never
	interval atomic.Int64 // the source's last NextPoll, in nanoseconds

	refreshing sync.Mutex // held by the refresh in progress
}

// loaded is a ruleset that loaded, with the version it came with.
type loaded struct {
	rs      *rules.Ruleset
	version string
}

// Load fetches and parses the ruleset of src and returns a Holder with it.
// When the ruleset does not load, the error is a *LoadError listing every
// problem. logger receives the failures of refreshes that Ruleset makes; nil
// means they are not logged.
func Load(ctx context.Context, src Source, logger *slog.Logger) (*Holder, error) {
	h := &Holder{src: src, log: logger}
	if err := h.Refresh(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// Ruleset returns the ruleset in force. Ask it on every invocation rather
// than keeping the result. When the source's NextPoll has passed, it first
// refreshes, within ctx and at most RefreshTimeout, unless another
// goroutine is refreshing; a refresh that fails leaves the ruleset as it
// was and is logged at ERROR. For a source that never polls, Ruleset is two
// atomic loads.
func (h *Holder) Ruleset(ctx context.Context) *rules.Ruleset {
	if h.isDue() && h.refreshing.TryLock() {
		if h.isDue() { // not refreshed by another goroutine meanwhile
			rctx, cancel := context.WithTimeout(ctx, RefreshTimeout)
			err := h.refresh(rctx)
			cancel()
			if err != nil && h.log != nil {
				h.log.ErrorContext(ctx, "ruleset refresh failed", "source", h.src.Name(), "error", err.Error())
			}
		}
		h.refreshing.Unlock()
	}
	return h.current.Load().rs
}

func (h *Holder) isDue() bool {
	due := h.due.Load()
	return due != 0 && time.Now().UnixNano() >= due
}

// Refresh fetches the ruleset again and, when it loads, puts it in force.
// When the fetch fails or the ruleset does not load (a *LoadError), it
// returns why and the ruleset in force stays. A source's Unchanged answer
// changes nothing. Refreshes are made one at a time.
func (h *Holder) Refresh(ctx context.Context) error {
	h.refreshing.Lock()
	defer h.refreshing.Unlock()
	return h.refresh(ctx)
}

// refresh is Refresh with h.refreshing held.
func (h *Holder) refresh(ctx context.Context) error {
	f, err := h.src.Fetch(ctx)
	if err != nil {
		h.schedule(time.Duration(h.interval.Load())) // try again as often as before
		return err
	}
	h.interval.Store(int64(f.NextPoll))
	h.schedule(f.NextPoll)
	if f.Unchanged {
		if h.current.Load() == nil {
			return fmt.Errorf("ruleset %s: the source answered unchanged before sending a ruleset", h.src.Name())
		}
		return nil
	}
	rs, err := rules.Parse(f.Rules)
	if err != nil {
		return &LoadError{Name: h.src.Name(), Problems: rules.Problems(err), Err: err}
	}
	h.current.Store(&loaded{rs: rs, version: f.Version})
	return nil
}

// schedule makes a refresh due after d; never when d is 0.
func (h *Holder) schedule(d time.Duration) {
	if d <= 0 {
		h.due.Store(0)
		return
	}
	h.due.Store(time.Now().Add(d).UnixNano())
}

// Version returns the version the ruleset in force came with, "" when its
// source has no versions.
func (h *Holder) Version() string { return h.current.Load().version }

// Name returns the name of the holder's source.
func (h *Holder) Name() string { return h.src.Name() }

// LoadError is a ruleset that was fetched but does not load.
type LoadError struct {
	// Name is the source's name.
	Name string
	// Problems are the problems rules.Parse found, in source order.
	Problems []rules.Problem
	// Err is rules.Parse's error.
	Err error
}

// Error lists every problem, one per line, as
// "ruleset NAME does not load (N problems):" then NAME:LINE:COL: message.
func (e *LoadError) Error() string {
	if len(e.Problems) == 0 {
		return fmt.Sprintf("ruleset %s: %v", e.Name, e.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ruleset %s does not load (%d problems):", e.Name, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n" + p.Format(e.Name))
	}
	return b.String()
}

// Unwrap returns rules.Parse's error.
func (e *LoadError) Unwrap() error { return e.Err }
