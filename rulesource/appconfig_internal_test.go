package rulesource

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// scriptedAPI answers GetLatestConfiguration from a script; hang makes a
// call wait for its context.
type scriptedAPI struct {
	mu      sync.Mutex
	answers []latest
	hang    bool
	gets    int
}

func (a *scriptedAPI) startSession(context.Context, AppConfigID) (string, error) { return "t0", nil }

func (a *scriptedAPI) getLatest(ctx context.Context, token string) (latest, error) {
	a.mu.Lock()
	a.gets++
	hang := a.hang
	var l latest
	if len(a.answers) > 0 {
		l, a.answers = a.answers[0], a.answers[1:]
	}
	a.mu.Unlock()
	if hang {
		<-ctx.Done()
		return latest{}, ctx.Err()
	}
	return l, nil
}

// TestAppConfigPollTiming: the next GetLatestConfiguration waits for the
// service's NextPollIntervalInSeconds, the default applies when it names
// none, and a poll that hangs delays the invocation by RefreshTimeout only.
func TestAppConfigPollTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &scriptedAPI{answers: []latest{
			{configuration: []byte("version: 1\ndefaultGroups: [a]\n"), version: "1", nextToken: "t1", pollInterval: 30 * time.Second},
			{nextToken: "t2"}, // unchanged, no interval: DefaultPollInterval
		}}
		src := newAppConfigSource(AppConfigID{"a", "e", "p"}, func() dataAPI { return api }, Embedded())
		ctx := context.Background()
		h, err := Load(ctx, src, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(29 * time.Second)
		h.Ruleset(ctx)
		if api.gets != 1 {
			t.Fatalf("before the interval: %d polls, want 1", api.gets)
		}
		time.Sleep(time.Second)
		if got := h.Ruleset(ctx).GroupNames(); !slices.Equal(got, []string{"a"}) || api.gets != 2 {
			t.Fatalf("at the interval: groups %v after %d polls, want [a] after 2", got, api.gets)
		}
		time.Sleep(DefaultPollInterval - time.Second)
		h.Ruleset(ctx)
		if api.gets != 2 {
			t.Fatalf("before the default interval: %d polls, want 2", api.gets)
		}
		time.Sleep(time.Second)
		api.hang = true
		start := time.Now()
		if got := h.Ruleset(ctx).GroupNames(); !slices.Equal(got, []string{"a"}) {
			t.Errorf("hanging poll: groups %v, want [a]", got)
		}
		if waited := time.Since(start); waited != RefreshTimeout {
			t.Errorf("a hanging poll delayed the invocation %v, want RefreshTimeout (%v)", waited, RefreshTimeout)
		}
		if api.gets != 3 {
			t.Errorf("%d polls, want 3", api.gets)
		}
	})
}
