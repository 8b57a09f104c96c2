package fake

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Replay "original" on a pull consumer, as nats-server's delivery loop does it for pull and push
// alike, on the server's clock: once a message has a waiting request to go to (which counts it
// at once), it waits the time between its own timestamp and the previous delivered message's
// (when that is over a millisecond), and nothing else is delivered meanwhile. The consumer
// stops waiting once it has caught up with what the stream held when it was made.

// pullHold is a message taken for a pull request and waiting for its time.
type pullHold struct {
	w  *pullRequest
	m  *storedMsg
	dc uint64
}

// replayWait is how long m waits under replay "original": 0 when it goes now.
func (c *consumer) replayWait(m *storedMsg) time.Duration {
	if !c.replaysOriginal() || c.pace.lastTS.IsZero() {
		return 0
	}
	if d := m.time().Sub(c.pace.lastTS); d > time.Millisecond {
		return d
	}
	return 0
}

// deliverPull is deliverTo under replay "original": a message that must wait is counted against
// w, held, and sent when a timer on the clock says its time has come. It reports whether w
// ended, and whether the message is held (the caller then stops delivering).
func (c *consumer) deliverPull(w *pullRequest, m *storedMsg, dc uint64) (ended, held bool) {
	if d := c.replayWait(m); d > 0 {
		c.pace.pull = &pullHold{w: w, m: m, dc: dc}
		w.delivered++
		w.n--
		ended = w.n <= 0
		if ended {
			c.removeWaiting(w)
		}
		c.pace.timer.Stop()
		c.pace.timer = c.st.j.s.clock.AfterFunc(d, c.pullDue)
		return ended, true
	}
	if c.cfg.ReplayPolicy == jetstream.ReplayOriginalPolicy {
		c.pace.lastTS = m.time()
	}
	return c.deliverTo(w, m, dc), false
}

// pullHeld reports whether a pull consumer holds a message for its time: it delivers nothing
// else until then.
func (c *consumer) pullHeld() bool { return c.pace.pull != nil }

// pullDue sends the held message to its request, whether the request still waits or not, as
// nats-server does, and goes on delivering.
func (c *consumer) pullDue() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	h := c.pace.pull
	if j.closed || c.gone || h == nil {
		return
	}
	c.pace.pull = nil
	c.pace.lastTS = h.m.time()
	sent := c.send(h.w.reply, h.m, h.dc)
	h.w.lastSent = j.mark()
	if h.w.maxBytes {
		h.w.b -= sent
		if h.w.b <= 0 && !h.w.done {
			c.removeWaiting(h.w)
		}
	}
	c.servePull()
}

// replayCaughtUp ends replay "original" once the consumer has nothing more to deliver and has
// passed what the stream held when it was made.
func (c *consumer) replayCaughtUp() {
	if c.replaysOriginal() && c.sseq > c.pace.replayTo && !c.hasNext() {
		c.pace.caughtUp = true
	}
}
