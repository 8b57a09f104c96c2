package fake

import "time"

// A publisher faster than a subscriber is slowed as nats-server slows it (client.go,
// stalledWait): once a connection has more than three quarters of the pending limit queued, it
// opens a gate, and a client whose publish would add to that queue waits for the gate to close
// (the queue back under three quarters, or all written), 2 ms at a time (5 ms when the queue is
// full), at most 10 ms in one read. After that it goes on, and a subscriber that still does not
// read becomes a slow consumer. Only a client's publishes wait: JetStream's own never do.
//
// The waits are on timers, not the server's clock: they stand for the network's back pressure,
// which a frozen clock must not stop. A server started in a testing/synctest bubble never stalls:
// an in-process client blocked writing to a stalled reader holds its connection's mutex, which
// the bubble does not count as durably blocked, so the stall's timer would never fire.
const (
	stallMin   = 2 * time.Millisecond
	stallMax   = 5 * time.Millisecond
	stallTotal = 10 * time.Millisecond
)

// stallGateLocked opens c's gate if its queue is past three quarters of the pending limit.
// c.outMu must be held.
func (c *client) stallGateLocked() {
	if c.stall == nil && !c.srv.noStall && int64(c.out.len()+c.inFlight) > c.srv.opts.maxPending/4*3 {
		c.stall = make(chan struct{})
	}
}

// stallDoneLocked closes c's gate once its queue is back under three quarters of the limit.
// c.outMu must be held.
func (c *client) stallDoneLocked() {
	if c.stall != nil && (c.out.len() == 0 || int64(c.out.len()) < c.srv.opts.maxPending/4*3) {
		close(c.stall)
		c.stall = nil
	}
}

// stalledWait holds producer p (the reader routing this publish) at receiver c's gate, for as long
// as nats-server would. c's writer is woken first: p's deliveries are otherwise flushed only once
// its read is done.
func (p *client) stalledWait(c *client, gate chan struct{}, full bool) {
	if p.stalled >= stallTotal {
		return
	}
	ttl := stallMin
	if full {
		ttl = stallMax
	}
	ttl = min(ttl, stallTotal-p.stalled)
	c.signal()
	c.srv.stats.stalls.Add(1)
	t := time.NewTimer(ttl)
	start := time.Now()
	select {
	case <-gate:
	case <-c.done:
	case <-t.C:
	}
	t.Stop()
	p.stalled += time.Since(start)
}
