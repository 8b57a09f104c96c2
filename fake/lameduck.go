package fake

import (
	"cmp"
	"slices"
	"time"
)

// LameDuck puts the server in lame duck mode, as nats-server's lameDuckMode (LameDuckShutdown,
// signal ldm) does, and returns at once; the rest happens on the server's clock. The server stops
// accepting connections, sends every client that takes INFO updates (CONNECT with protocol 1
// and a PING since, as nats.go does) an INFO with "ldm":true, which nats.go reports to its
// LameDuckModeHandler; it waits the grace period (WithLameDuckGracePeriod, 10 s by default), then
// closes the clients one by one, in random order, spread over the rest of duration: the gap
// between two closes is chosen at random between half and all of (duration - grace)/clients,
// and at most a second; a duration no longer than the grace period spreads them over a second.
// Where nats-server then shuts down, the fake stays up with no clients, refusing connections as
// after RefuseConnections, until AcceptConnections or Close. Calling it again, or after Close,
// does nothing.
func (s *Server) LameDuck(duration time.Duration) {
	s.mu.Lock()
	if s.closed || s.ldm {
		s.mu.Unlock()
		return
	}
	s.ldm = true
	s.mu.Unlock()
	s.logf("fake: entering lame duck mode, stop accepting new clients")
	s.RefuseConnections()

	s.mu.Lock()
	gp := s.opts.ldmGrace
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	if len(clients) == 0 {
		s.mu.Unlock()
		return
	}
	dur := duration - gp
	if dur <= 0 {
		dur = time.Second
	}
	n := time.Duration(len(clients))
	si, batch := dur/n, 1
	if si < 1 {
		si, batch = 1, int(n/dur)
	} else if si > time.Second {
		si = time.Second
	}
	// map order is random but not seeded: sort first, so WithSeed repeats the order
	slices.SortFunc(clients, func(a, b *client) int { return cmp.Compare(a.id, b.id) })
	s.jitter.Shuffle(len(clients), func(i, j int) { clients[i], clients[j] = clients[j], clients[i] })
	gaps := make([]time.Duration, len(clients))
	for i := range gaps {
		v := time.Duration(s.jitter.Int64N(int64(si)))
		gaps[i] = max(v, si/2)
	}
	s.mu.Unlock()

	for _, c := range clients {
		if c.takesAsyncInfo() {
			c.enqueue(s.info(c, true))
		}
	}
	var step func(i int)
	step = func(i int) {
		for ; i < len(clients); i++ {
			clients[i].close(closeServerShutdown)
			if i == len(clients)-1 {
				s.logf("fake: lame duck mode: every client closed")
				return
			}
			if batch == 1 || i%batch == 0 {
				next := i + 1
				s.clock.AfterFunc(gaps[i], func() { step(next) })
				return
			}
		}
	}
	s.clock.AfterFunc(gp, func() {
		s.logf("fake: lame duck mode: closing existing clients")
		step(0)
	})
}
