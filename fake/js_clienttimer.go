package fake

import (
	"sync"
	"time"
)

// Pull request expiry and idle heartbeats run on the server's clock, as every JetStream timer
// does: FastForward past a request's expiry ends it with 408, and in a testing/synctest bubble
// the bubble's clock moves them. But the client measures the same intervals on its own clock: it
// gives up on a pull request, and reports missing heartbeats, when they do not come in its time.
// A frozen clock (WithFrozenClock) moves only when the test moves it, so on one these timers
// also fire once their time has passed in real time, whichever comes first, and an idle interval
// is the longer of the two clocks' measures: the client never sees a server that went silent.
// (On a clock that flows, the server's time is real time plus what FastForward added, never
// behind it, so the server's clock alone is enough.)

// A clientTimer is a callback on the server's clock, and on real time too while the clock is
// frozen. It runs at most once; jetStream.close stops and waits for a real one.
type clientTimer struct {
	j     *jetStream
	mu    sync.Mutex // held while the timers are set, so that neither runs before both are
	ended bool       // run or stopped
	clk   *clockTimer
	real  *time.Timer
}

// afterClient runs f once d has passed on the server's clock (or, on a frozen clock, in real time).
func (j *jetStream) afterClient(d time.Duration, f func()) *clientTimer {
	t := &clientTimer{j: j}
	t.mu.Lock()
	defer t.mu.Unlock()
	clk := j.s.clock
	t.clk = clk.AfterFunc(d, func() {
		if t.end(false) {
			f()
		}
	})
	if clk.isFrozen() {
		j.wg.Add(1)
		t.real = time.AfterFunc(d, func() {
			defer j.wg.Done()
			if t.end(true) {
				f()
			}
		})
	}
	return t
}

// end ends t and reports whether it had not ended: it stops the clock's timer, and the real one
// unless that is the one running.
func (t *clientTimer) end(fromReal bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return false
	}
	t.ended = true
	t.clk.Stop()
	if !fromReal && t.real != nil && t.real.Stop() {
		t.j.wg.Done()
	}
	return true
}

func (t *clientTimer) stop() {
	if t != nil {
		t.end(false)
	}
}

// A since marks when something was last sent, on both clocks: how long ago is the longer of the
// server clock's measure and real time's, which only differ on a frozen clock.
type since struct {
	clock, wall time.Time
}

func (j *jetStream) mark() since { return since{j.s.clock.Now(), time.Now()} }

func (s since) idle(j *jetStream) time.Duration {
	return max(j.s.clock.Now().Sub(s.clock), time.Since(s.wall))
}
