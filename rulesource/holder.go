package rulesource

import (
	"context"
	"errors"
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

// StartTimeout bounds the first fetch, which Load makes.
const StartTimeout = 3 * time.Second

// FallbackVersion is the Version of a fallback ruleset in force (see Load).
const FallbackVersion = "fallback"

// fallbacker is a source with a fallback: the source whose ruleset Load puts
// in force when the first fetch fails or does not load.
type fallbacker interface {
	Fallback() Source
}

// Holder holds the ruleset in force, parsed from its source. Build it with
// Load. It is safe for concurrent use: Ruleset never waits for a refresh
// that another goroutine is making.
type Holder struct {
	src Source
	log *slog.Logger // nil: failed refreshes in Ruleset are not logged

	current  atomic.Pointer[loaded]
	due      atomic.Int64 // when a refresh is due, in Unix nanoseconds; 0: never
	interval atomic.Int64 // the source's last NextPoll, in nanoseconds

	refreshing sync.Mutex  // held by the refresh in progress
	fallback   atomic.Bool // the fallback ruleset is in force: retry at every invocation
}

// loaded is a ruleset that loaded, with the version it came with.
type loaded struct {
	rs      *rules.Ruleset
	version string
}

// Load fetches and parses the ruleset of src, within ctx and at most
// StartTimeout, and returns a Holder with it. When the ruleset does not
// load, the error is a *LoadError listing every problem.
//
// A source with a fallback (the AppConfig source of FromEnv) is not refused
// so: when its first fetch fails or does not load, Load logs why at ERROR,
// puts the fallback's ruleset in force (Version FallbackVersion), and the
// next invocation's Ruleset tries the source again, as does every one after
// it until a ruleset from the source loads. Only a fallback that does not
// load makes Load fail.
//
// logger receives the failures of refreshes that Ruleset makes and the
// versions it puts in force; nil means they are not logged.
func Load(ctx context.Context, src Source, logger *slog.Logger) (*Holder, error) {
	h := &Holder{src: src, log: logger}
	sctx, cancel := context.WithTimeout(ctx, StartTimeout)
	err := h.Refresh(sctx)
	cancel()
	if err == nil {
		h.logInForce(ctx, "ruleset loaded")
		return h, nil
	}
	fb, ok := src.(fallbacker)
	if !ok {
		return nil, err
	}
	f, ferr := fb.Fallback().Fetch(ctx)
	if ferr != nil {
		return nil, fmt.Errorf("%w; and the fallback: %w", err, ferr)
	}
	rs, perr := rules.Parse(f.Rules)
	if perr != nil {
		return nil, &LoadError{Name: fb.Fallback().Name(), Problems: rules.Problems(perr), Err: perr}
	}
	h.current.Store(&loaded{rs: rs, version: FallbackVersion})
	h.fallback.Store(true)
	if le := (*LoadError)(nil); !errors.As(err, &le) {
		// Fetching failed: the next invocation tries again. A ruleset that
		// did not load is asked again when the source said.
		h.due.Store(time.Now().UnixNano())
	}
	if logger != nil {
		logger.ErrorContext(ctx, "ruleset source failed at start; the fallback ruleset is in force until it answers",
			"source", src.Name(), "fallback", fb.Fallback().Name(), "rulesVersion", FallbackVersion, "error", err.Error())
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
	rs, _ := h.RulesetVersion(ctx)
	return rs
}

// RulesetVersion is Ruleset that also returns the version of the ruleset it
// returns (see Version), read together so that a concurrent refresh cannot
// pair one ruleset with another's version.
func (h *Holder) RulesetVersion(ctx context.Context) (*rules.Ruleset, string) {
	if h.isDue() && h.refreshing.TryLock() {
		if h.isDue() { // not refreshed by another goroutine meanwhile
			before := h.current.Load()
			rctx, cancel := context.WithTimeout(ctx, RefreshTimeout)
			err := h.refresh(rctx)
			cancel()
			h.logRefresh(ctx, before, err)
		}
		h.refreshing.Unlock()
	}
	l := h.current.Load()
	return l.rs, l.version
}

// logRefresh logs a refresh that Ruleset made: a failure at ERROR with the
// version in force (a ruleset that does not load with its version and every
// problem as LINE:COL: message, the ruleset in force staying), a new
// ruleset in force at INFO.
func (h *Holder) logRefresh(ctx context.Context, before *loaded, err error) {
	if h.log == nil {
		return
	}
	if err == nil {
		if now := h.current.Load(); now != before && now.version != before.version {
			h.logInForce(ctx, "ruleset updated")
		}
		return
	}
	attrs := []any{"source", h.src.Name()}
	if v := h.Version(); v != "" {
		attrs = append(attrs, "rulesVersion", v)
	}
	var le *LoadError
	if errors.As(err, &le) {
		problems := make([]string, len(le.Problems))
		for i, p := range le.Problems {
			problems[i] = p.Error()
		}
		if le.Version != "" {
			attrs = append(attrs, "refusedVersion", le.Version)
		}
		attrs = append(attrs, "problems", problems)
	}
	h.log.ErrorContext(ctx, "ruleset refresh failed", append(attrs, "error", err.Error())...)
}

// logInForce logs the ruleset in force, for a polled source (one with
// versions).
func (h *Holder) logInForce(ctx context.Context, msg string) {
	if h.log != nil && h.Version() != "" {
		h.log.InfoContext(ctx, msg, "source", h.src.Name(), "rulesVersion", h.Version())
	}
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
		if h.fallback.Load() {
			h.due.Store(time.Now().UnixNano()) // the next invocation tries again
		} else {
			h.schedule(time.Duration(h.interval.Load())) // try again as often as before
		}
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
		return &LoadError{Name: h.src.Name(), Version: f.Version, Problems: rules.Problems(err), Err: err}
	}
	h.current.Store(&loaded{rs: rs, version: f.Version})
	h.fallback.Store(false)
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
// source has no versions, FallbackVersion while Load's fallback is in force.
func (h *Holder) Version() string { return h.current.Load().version }

// Name returns the name of the holder's source.
func (h *Holder) Name() string { return h.src.Name() }

// LoadError is a ruleset that was fetched but does not load.
type LoadError struct {
	// Name is the source's name.
	Name string
	// Version is the version the source labelled the ruleset with, "" for
	// none.
	Version string
	// Problems are the problems rules.Parse found, in source order.
	Problems []rules.Problem
	// Err is rules.Parse's error.
	Err error
}

// Error lists every problem, one per line, as
// "ruleset NAME does not load (N problems):" then NAME:LINE:COL: message.
// A Version shows as "ruleset NAME version V".
func (e *LoadError) Error() string {
	name := e.Name
	if e.Version != "" {
		name += " version " + e.Version
	}
	if len(e.Problems) == 0 {
		return fmt.Sprintf("ruleset %s: %v", name, e.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ruleset %s does not load (%d problems):", name, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n" + p.Format(e.Name))
	}
	return b.String()
}

// Unwrap returns rules.Parse's error.
func (e *LoadError) Unwrap() error { return e.Err }
