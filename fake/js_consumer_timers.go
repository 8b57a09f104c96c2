package fake

import (
	"time"
)

func (c *consumer) stopTimers() {
	c.ackTimer.Stop()
	c.inactiveTimer.Stop()
	c.pace.timer.Stop()
	// The pause timer outlives the consumer, as nats-server's does (see pauseEnded).
	c.hb.stop()
	for _, w := range c.waiting {
		w.stop()
	}
}

// scheduleAck sets the ack timer for the earliest deadline among pending messages.
func (c *consumer) scheduleAck() {
	if c.cfg.AckWait == 0 && len(c.cfg.BackOff) == 0 { // a consumer acked by flow control
		c.ackTimer.Stop()
		c.ackTimer = nil
		return
	}
	var next time.Time
	queued := make(map[uint64]bool, len(c.rdq))
	for _, seq := range c.rdq {
		queued[seq] = true
	}
	for seq, p := range c.pending {
		if queued[seq] {
			continue
		}
		if next.IsZero() || p.deadline.Before(next) {
			next = p.deadline
		}
	}
	c.ackTimer.Stop()
	c.ackTimer = nil
	if next.IsZero() {
		return
	}
	c.ackDue = next
	clk := c.st.j.s.clock
	c.ackTimer = clk.AfterFunc(max(next.Sub(clk.Now()), 0), c.checkPending)
}

// checkPending queues for redelivery every message whose ack deadline has passed, or gives up
// on it once it has been delivered max deliver times.
func (c *consumer) checkPending() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.gone {
		return
	}
	now := j.s.clock.Now()
	c.redeliverDue(func(p *pendingAck) bool { return !p.deadline.After(now) })
	c.scheduleAck()
	c.kick()
}

// scheduleInactive arms the inactive threshold: an ephemeral consumer (or a durable with a
// threshold) with nobody pulling and no push interest is deleted once it passes.
func (c *consumer) scheduleInactive() {
	c.inactiveTimer.Stop()
	c.inactiveTimer = nil
	if c.cfg.InactiveThreshold <= 0 {
		return
	}
	c.inactiveTimer = c.st.j.s.clock.AfterFunc(c.cfg.InactiveThreshold, c.checkInactive)
}

func (c *consumer) checkInactive() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.gone {
		return
	}
	active := len(c.waiting) > 0 || (c.isPush() && j.s.hasInterest(c.cfg.DeliverSubject))
	idle := j.s.clock.Now().Sub(c.lastActive)
	if active || idle < c.cfg.InactiveThreshold {
		wait := c.cfg.InactiveThreshold - idle
		if active || wait <= 0 {
			wait = c.cfg.InactiveThreshold
		}
		c.inactiveTimer = j.s.clock.AfterFunc(wait, c.checkInactive)
		return
	}
	c.delete()
}
