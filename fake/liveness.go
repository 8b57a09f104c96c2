package fake

import "time"

// nats-server's liveness constants.
const (
	// firstClientPingInterval caps the interval before the first PING after CONNECT.
	firstClientPingInterval = 2 * time.Second
	// rttMeasurementInterval is how old a round-trip measurement may get before the server pings
	// again even on a busy connection.
	rttMeasurementInterval = time.Hour
)

// liveness is a connection's pings and authentication timer, on the server's clock, as
// nats-server keeps them: a PING every ping interval, unless the client was heard from within
// it; -ERR 'Stale Connection' and a close once more than max-pings-out go unanswered; -ERR
// 'Authentication Timeout' and a close when auth is required and no CONNECT came in time.
// Its fields are guarded by client.liveMu.
type liveness struct {
	pingTimer *clockTimer
	authTimer *clockTimer
	pingsOut  int
	lastIn    time.Time // last PING, publish or subscription change from the client
	rttStart  time.Time // when the last PING was sent
	rtt       bool      // a round trip has been measured (CONNECT or PONG)
	connected bool      // CONNECT was received: the auth timer is done with
	firstPong bool      // the PONG to the first PING after CONNECT was sent
	asyncInfo bool      // the client takes INFO updates (protocol 1), known at the first PING
	stopped   bool
	answered  chan struct{} // closed by the PONG that answers the PINGs out; nil with none out
}

// pongPatience bounds how long FastForward waits for the clients it pinged to answer.
const pongPatience = 250 * time.Millisecond

// startLiveness arms the connection's timers as nats-server does on accept: the auth timer when
// auth is required, and the ping timer at the full interval (CONNECT resets it to a short one).
func (c *client) startLiveness() {
	s := c.srv
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	if s.authRequired() {
		c.live.authTimer = s.clock.AfterFunc(s.opts.authTimeout, c.authTimeout)
	}
	c.live.pingTimer = s.clock.AfterFunc(s.opts.pingEvery, c.pingTimer)
}

// stopLiveness stops the timers of a closing connection.
func (c *client) stopLiveness() {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	c.live.stopped = true
	c.live.pingTimer.Stop()
	c.live.authTimer.Stop()
}

// authTimeout closes a connection that sent no CONNECT within the auth timeout.
func (c *client) authTimeout() {
	c.liveMu.Lock()
	late := !c.live.connected && !c.live.stopped
	c.liveMu.Unlock()
	if !late {
		return
	}
	c.srv.logf("fake: client %d: authentication timeout", c.id)
	c.sendErr("Authentication Timeout")
	c.close(closeAuthTimeout)
}

// connectReceived stops the auth timer and schedules the first PING at the short interval,
// randomized up to 20% later, as nats-server does once CONNECT arrives. It reports false if the
// auth timer fired first: the connection is being closed.
func (c *client) connectReceived() bool {
	s := c.srv
	d := min(s.opts.pingEvery, firstClientPingInterval)
	if d/5 > 0 {
		s.mu.Lock()
		d += time.Duration(s.jitter.Int64N(int64(d / 5)))
		s.mu.Unlock()
	}
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	if c.live.stopped {
		return false
	}
	if !c.live.connected {
		c.live.connected = true
		c.live.authTimer.Stop()
		c.live.authTimer = nil
	}
	c.live.rtt = true
	c.live.pingTimer.Stop()
	c.live.pingTimer = s.clock.AfterFunc(d, c.pingTimer)
	return true
}

// pingTimer is nats-server's processPingTimer: it sends a PING unless the client was heard from
// within the interval (and the round trip is fresh), and closes the connection as stale when
// that PING would be one more than max-pings-out.
func (c *client) pingTimer() {
	s := c.srv
	now := s.clock.Now()
	c.liveMu.Lock()
	if c.live.stopped {
		c.liveMu.Unlock()
		return
	}
	l := &c.live
	needRTT := !l.rtt || now.Sub(l.rttStart) > rttMeasurementInterval
	if now.Sub(l.lastIn) >= s.opts.pingEvery || needRTT {
		if l.pingsOut+1 > s.opts.maxPingsOut {
			c.liveMu.Unlock()
			s.logf("fake: client %d (%s): stale connection, closing", c.id, c.Name())
			c.sendErr("Stale Connection")
			c.close(closeStale)
			return
		}
		l.rttStart = now
		l.pingsOut++
		if l.answered == nil {
			l.answered = make(chan struct{})
		}
		l.pingTimer = s.clock.AfterFunc(s.opts.pingEvery, c.pingTimer)
		c.liveMu.Unlock()
		c.enqueue([]byte("PING\r\n")) // outside liveMu: a slow consumer closes c here
		s.mu.Lock()
		if s.pinged == nil {
			s.pinged = make(map[*client]struct{})
		}
		s.pinged[c] = struct{}{}
		s.mu.Unlock()
		return
	}
	l.pingTimer = s.clock.AfterFunc(s.opts.pingEvery, c.pingTimer)
	c.liveMu.Unlock()
}

// pinged notes a PING from the client. The reader goroutine calls it, after CONNECT or not.
func (c *client) pinged() {
	now := c.srv.clock.Now()
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	c.live.lastIn = now
	if c.connected && !c.live.firstPong {
		c.live.firstPong = true
		c.live.asyncInfo = c.opts.Protocol >= 1
	}
}

// ponged notes a PONG: every PING sent so far is answered.
func (c *client) ponged() {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	c.live.pingsOut = 0
	c.live.rtt = true
	if c.live.answered != nil {
		close(c.live.answered)
		c.live.answered = nil
	}
}

// pongWait is closed once the PINGs c has out are answered; nil if none are out.
func (c *client) pongWait() <-chan struct{} {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	return c.live.answered
}

// awaitPongs waits, at most pongPatience in all, for the clients pinged since the last call to
// answer or close. A jump of the clock gives a client no time to answer; the wait gives it the
// moment it needs, so that only a client that does not answer is found stale.
func (s *Server) awaitPongs() {
	s.mu.Lock()
	pinged := s.pinged
	s.pinged = nil
	s.mu.Unlock()
	if len(pinged) == 0 {
		return
	}
	t := time.NewTimer(pongPatience)
	defer t.Stop()
	for c := range pinged {
		ch := c.pongWait()
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		case <-c.done:
		case <-t.C:
			return
		}
	}
}

// heard notes that the client published or changed its subscriptions in the last read.
func (c *client) heard() {
	now := c.srv.clock.Now()
	c.liveMu.Lock()
	c.live.lastIn = now
	c.liveMu.Unlock()
}

// takesAsyncInfo reports whether the server may send the client an INFO update: it sent CONNECT
// with protocol 1 and a PING after it, as nats-server requires.
func (c *client) takesAsyncInfo() bool {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	return c.live.asyncInfo && !c.live.stopped
}

// ignoresPing reports whether a fault in force makes the server leave this PING of c
// unanswered, and uses the fault up.
func (s *Server) ignoresPing(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	hit := false
	for _, f := range append([]*Fault(nil), s.faults...) {
		if f.kind != faultIgnorePings || (f.pattern != "" && f.pattern != c.Name()) {
			continue
		}
		hit = true
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.removeFaultLocked(f)
			}
		}
	}
	return hit
}
