package fake

import (
	"container/heap"
	"sync"
	"time"
)

// clock is the server's time: real time plus whatever FastForward added, or, when frozen, a time
// that moves only when the test moves it. Its timers fire in deadline order, on a real timer
// when time flows by itself and inside FastForward when the test moves it.
type clock struct {
	mu      sync.Mutex
	offset  time.Duration // added to time.Now while not frozen
	frozen  bool
	at      time.Time // the time while frozen
	timers  timerHeap
	seq     uint64
	real    *time.Timer // wakes fireDue at the earliest deadline while not frozen
	closed  bool
	fireMu  sync.Mutex // one firing at a time, so callbacks run in deadline order
	running sync.WaitGroup
}

// A clockTimer is one callback waiting on the clock.
type clockTimer struct {
	c     *clock
	when  time.Time
	seq   uint64
	f     func()
	index int // in the heap, or -1
}

func newClock() *clock { return &clock{} }

func (c *clock) freeze(at time.Time) {
	c.mu.Lock()
	c.frozen, c.at = true, at
	c.mu.Unlock()
}

// isFrozen reports whether the clock moves only when the test moves it.
func (c *clock) isFrozen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frozen
}

func (c *clock) nowLocked() time.Time {
	if c.frozen {
		return c.at
	}
	return time.Now().Add(c.offset)
}

// Now is the server's current time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

// AfterFunc runs f once the clock reaches now+d, unless the timer is stopped first.
func (c *clock) AfterFunc(d time.Duration, f func()) *clockTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &clockTimer{c: c, when: c.nowLocked().Add(d), seq: c.seq, f: f, index: -1}
	if c.closed {
		return t
	}
	heap.Push(&c.timers, t)
	if t.index == 0 {
		c.armLocked()
	}
	return t
}

// Stop cancels t; it reports whether t was still waiting.
func (t *clockTimer) Stop() bool {
	if t == nil {
		return false
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&c.timers, t.index)
	return true
}

// dueBy reports whether t is waiting to fire at or before at.
func (t *clockTimer) dueBy(at time.Time) bool {
	if t == nil {
		return false
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return t.index >= 0 && !t.when.After(at)
}

// armLocked sets the real timer for the earliest deadline, when time flows by itself.
func (c *clock) armLocked() {
	if c.frozen || c.closed || len(c.timers) == 0 {
		return
	}
	d := c.timers[0].when.Sub(c.nowLocked())
	if c.real == nil {
		c.real = time.AfterFunc(d, c.fireDue)
		return
	}
	c.real.Reset(d)
}

// advance moves the clock forward by d (a frozen one to at+d) and runs every callback that falls
// due, in deadline order, before it returns; callbacks that schedule more work due by then run too.
func (c *clock) advance(d time.Duration) {
	c.fireMu.Lock()
	defer c.fireMu.Unlock()
	c.mu.Lock()
	if d > 0 {
		if c.frozen {
			c.at = c.at.Add(d)
		} else {
			c.offset += d
		}
	}
	c.mu.Unlock()
	c.fireDueLocked()
}

func (c *clock) fireDue() {
	c.fireMu.Lock()
	defer c.fireMu.Unlock()
	c.fireDueLocked()
}

func (c *clock) fireDueLocked() {
	for {
		c.mu.Lock()
		if c.closed || len(c.timers) == 0 || c.timers[0].when.After(c.nowLocked()) {
			c.armLocked()
			c.mu.Unlock()
			return
		}
		t := heap.Pop(&c.timers).(*clockTimer)
		c.running.Add(1)
		c.mu.Unlock()
		t.f()
		c.running.Done()
	}
}

// close drops every waiting callback and waits for one that is running.
func (c *clock) close() {
	c.mu.Lock()
	c.closed = true
	for _, t := range c.timers {
		t.index = -1
	}
	c.timers = nil
	if c.real != nil {
		c.real.Stop()
	}
	c.mu.Unlock()
	c.fireMu.Lock()
	c.fireMu.Unlock() //nolint:staticcheck // waits for a firing in progress
	c.running.Wait()
}

// timerHeap orders timers by deadline, then by the order they were set.
type timerHeap []*clockTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*clockTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
