package fake

import (
	"encoding/json"
	"strconv"
	"time"
)

// A message is one publish on its way to subscribers.
type message struct {
	subject, reply string
	hdr, data      []byte  // hdr is the whole header block, or nil
	from           *client // nil for the server's own publishes
	flushBy        *client // the reader that wakes the receivers' writers once its read is done
	direct         bool    // queued by JetStream for sendTo, not route: an answer to a reply subject
}

// route delivers m to every plain subscription it matches and to one member of each queue group,
// after the faults in force have had their say, and answers a request nobody hears with a 503.
func (s *Server) route(m *message) {
	eff := effect{copies: 1}
	// The index has its own lock; the server's is taken only for faults in force and to pick
	// queue members.
	r := s.subs.match(m.subject)
	var picks [4]*subscription
	queued := picks[:0]
	if faulty := s.faultsOn.Load(); faulty || len(r.groups) > 0 {
		s.mu.Lock()
		if len(s.faults) > 0 {
			eff = s.applyFaultsLocked(m)
		}
		if eff.refuse {
			s.mu.Unlock()
			s.noResponders(m)
			return
		}
		if eff.fail != nil {
			s.mu.Unlock()
			b, _ := json.Marshal(apiHead{Type: typePrefix + "error_response", Error: eff.fail})
			s.sendTo(m.reply, &message{subject: m.reply, data: b})
			return
		}
		queued = s.pickAllLocked(r, m.from, queued)
		s.mu.Unlock()
	}

	if eff.delay > 0 {
		s.fanOutLater(m.clone(), eff, r.plain, append([]*subscription(nil), queued...))
		return
	}
	delivered := false
	for range eff.copies {
		delivered = s.fanOut(m, r.plain, queued) || delivered
	}
	if !delivered && m.reply != "" && !eff.drop {
		s.noResponders(m)
	}
}

// fanOutLater delivers m after eff's delay, eff's copies of it. route hands it a copy of its
// picks, so that route's own list stays on its stack.
func (s *Server) fanOutLater(m *message, eff effect, plain, queued []*subscription) {
	s.clock.AfterFunc(eff.delay, func() {
		for range eff.copies {
			s.fanOut(m, plain, queued)
		}
	})
}

// clone copies m's bytes, for a delivery that happens after the publisher's buffer is reused.
func (m *message) clone() *message {
	cp := *m
	cp.flushBy = nil
	if m.hdr != nil {
		cp.hdr = append([]byte(nil), m.hdr...)
	}
	cp.data = append([]byte(nil), m.data...)
	return &cp
}

// fanOut delivers m to the plain subscriptions and the chosen queue members; it reports whether
// any delivery was made.
func (s *Server) fanOut(m *message, plain, queued []*subscription) bool {
	delivered := false
	// Clients first, then the server's own subscriptions: what JetStream does with an ack (an
	// advisory, a redelivery) reaches a client after the ack itself, as from nats-server, which
	// queues acks for its consumers.
	internal := false
	for _, sub := range plain {
		if sub.internal != nil {
			internal = true
			continue
		}
		if m.from != nil && sub.client == m.from && !m.from.opts.Echo {
			continue
		}
		delivered = s.deliver(sub, m) || delivered
	}
	for _, sub := range plain {
		if internal && sub.internal != nil {
			delivered = s.deliver(sub, m) || delivered
		}
	}
	for _, sub := range queued {
		delivered = s.deliver(sub, m) || delivered
	}
	return delivered
}

// pickAllLocked appends to queued the member of each of r's queue groups that gets the
// message. s.mu is held.
func (s *Server) pickAllLocked(r *matchResult, from *client, queued []*subscription) []*subscription {
	for i := range r.groups {
		if sub := s.pickLocked(&r.groups[i], from); sub != nil {
			queued = append(queued, sub)
		}
	}
	return queued
}

// pickLocked chooses the member of g that gets the next message: at random, or in turn under
// QueueRoundRobin. A publisher that asked for no echo never gets its own message.
func (s *Server) pickLocked(g *queueGroup, from *client) *subscription {
	n := len(g.members)
	var start int
	if s.opts.queuePolicy == QueueRoundRobin {
		start = int(s.rr[g.name] % uint64(n))
	} else {
		start = s.rng.IntN(n)
	}
	for i := range n {
		idx := (start + i) % n
		sub := g.members[idx]
		if sub.client == from && from != nil && !from.opts.Echo || sub.gone.Load() {
			continue // no echo, or unsubscribed since the match
		}
		if s.opts.queuePolicy == QueueRoundRobin {
			s.rr[g.name] = uint64(idx + 1)
		}
		return sub
	}
	return nil
}

// deliver writes m to sub's connection as MSG or HMSG, and ends sub once it reaches its max.
func (s *Server) deliver(sub *subscription, m *message) bool {
	if sub.gone.Load() {
		return false
	}
	if sub.internal != nil {
		return sub.internal(m)
	}
	c := sub.client
	if c.perms != nil && !c.perms.canReceive(m.subject) {
		return false
	}
	// count, then look at the limit: see unsub for the other half
	if n, max := sub.delivered.Add(1), sub.max.Load(); max > 0 {
		if n > max {
			return false
		}
		if n == max {
			s.mu.Lock()
			s.unsubscribeLocked(sub)
			s.mu.Unlock()
		}
	}
	hdr := m.hdr
	if !c.headers.Load() {
		hdr = nil
	}
	size := len(hdr) + len(m.data)
	c.outMu.Lock()
	if c.closing {
		c.outMu.Unlock()
		return false
	}
	if gate := c.stall; gate != nil && m.flushBy != nil {
		full := int64(c.out.len()+c.inFlight) >= s.opts.maxPending
		c.outMu.Unlock()
		m.flushBy.stalledWait(c, gate, full)
		c.outMu.Lock()
		if c.closing {
			c.outMu.Unlock()
			return false
		}
	}
	if int64(c.out.len()+c.inFlight+size+len(m.subject)+len(m.reply)+64) > s.opts.maxPending {
		c.outMu.Unlock()
		c.slowConsumer()
		return false
	}
	o := &c.out
	if hdr != nil {
		o.writeString("HMSG ")
	} else {
		o.writeString("MSG ")
	}
	o.writeString(m.subject)
	o.writeByte(' ')
	o.writeString(sub.sid)
	o.writeByte(' ')
	if m.reply != "" {
		o.writeString(m.reply)
		o.writeByte(' ')
	}
	if hdr != nil {
		o.writeInt(len(hdr))
		o.writeByte(' ')
	}
	o.writeInt(size)
	o.writeString("\r\n")
	o.write(hdr)
	o.write(m.data)
	o.writeString("\r\n")
	c.stallGateLocked()
	c.outMu.Unlock()
	if f := m.flushBy; f != nil {
		f.notePending(c)
	} else {
		c.signal()
	}
	c.outMsgs.Add(1)
	c.outBytes.Add(int64(size))
	return true
}

// noResponders answers a request nobody received with a 503 status, on the publisher's own
// subscription to the reply subject, as nats-server does.
func (s *Server) noResponders(m *message) {
	c := m.from
	if c == nil || m.reply == "" || !c.opts.NoResponders || !c.opts.Headers {
		return
	}
	var target *subscription
	for _, sub := range s.subs.match(m.reply).plain {
		if sub.client == c && (target == nil || sub.subject == m.reply && target.subject != m.reply) {
			target = sub
		}
	}
	if target == nil {
		return
	}
	hdr := "NATS/1.0 503\r\nNats-Subject: " + m.subject + "\r\n\r\n"
	n := strconv.Itoa(len(hdr))
	c.enqueue([]byte("HMSG " + m.reply + " " + target.sid + " " + n + " " + n + "\r\n" + hdr + "\r\n"))
}

// effect is what the faults in force do to one message.
type effect struct {
	drop, refuse bool
	fail         *apiError // answer with this JetStream error instead
	copies       int
	delay        time.Duration
}
