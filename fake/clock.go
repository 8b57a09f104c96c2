package fake

import (
	"sync"
	"time"
)

// clock is where the server's time comes from.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) timer
}

type timer interface{ Stop() bool }

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// timers runs callbacks after a delay on the server's clock and lets Close stop and wait for them.
type timers struct {
	mu      sync.Mutex
	pending map[*pendingTimer]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type pendingTimer struct{ t timer }

// after runs f after d unless the server closes first.
func (ts *timers) after(c clock, d time.Duration, f func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return
	}
	if ts.pending == nil {
		ts.pending = make(map[*pendingTimer]struct{})
	}
	p := &pendingTimer{}
	ts.wg.Add(1)
	ts.pending[p] = struct{}{}
	p.t = c.AfterFunc(d, func() {
		defer ts.wg.Done()
		ts.mu.Lock()
		_, live := ts.pending[p]
		delete(ts.pending, p)
		ts.mu.Unlock()
		if live {
			f()
		}
	})
}

// close stops every pending callback and waits for those already running.
func (ts *timers) close() {
	ts.mu.Lock()
	ts.closed = true
	for p := range ts.pending {
		if p.t.Stop() {
			ts.wg.Done()
		}
		delete(ts.pending, p)
	}
	ts.mu.Unlock()
	ts.wg.Wait()
}
