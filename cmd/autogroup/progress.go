package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = 200 * time.Millisecond

// progress shows one status line on a terminal, redrawn in place on
// standard error, and keeps the lines printed meanwhile (on standard output
// or standard error) from running into it. It draws nothing when its writer
// is not a terminal.
type progress struct {
	w  io.Writer
	on bool

	mu    sync.Mutex // held while writing to a terminal
	shown bool       // a status line is on the screen
	stop  chan struct{}
	done  chan struct{}
}

// newProgress returns a progress for w, drawing only if w is a terminal.
func newProgress(w io.Writer) *progress {
	return &progress{w: w, on: isTerminal(w)}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// start redraws status() every progressEvery until finish. It replaces the
// status of an earlier start.
func (p *progress) start(status func() string) {
	if !p.on {
		return
	}
	p.finish()
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			s := status() // before taking mu: status may take its own locks
			p.mu.Lock()
			fmt.Fprintf(p.w, "\r\033[K%s", visible(s)) // the tool's own control sequence
			p.shown = true
			p.mu.Unlock()
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}(p.stop, p.done)
}

// finish stops the redrawing and erases the status line.
func (p *progress) finish() {
	if !p.on || p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop, p.done = nil, nil
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
}

// clear erases the status line; p.mu must be held.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// printf writes to w (standard output or standard error) below the status
// line, which is redrawn at the next tick.
func (p *progress) printf(w io.Writer, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	printf(w, format, args...)
}

// duration formats d for the status line: 1m05s, 42s.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if d >= time.Minute {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}
