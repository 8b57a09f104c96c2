package fake

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A durable mirror or source (one whose config names a consumer) takes its messages from a push
// consumer on the origin that acks by flow control, instead of a consumer of its own. nats-server
// resets that consumer to its ack floor with a CONSUMER.RESET request, takes its deliveries on
// their deliver subject, and acks them by answering the consumer's flow-control requests. The
// fake stores each delivery as the consumer makes it and acks it at once.

// durableResetWait is how long nats-server waits for the answer to its reset request before it
// tries again; a missing consumer leaves the request unanswered.
const durableResetWait = 5 * time.Second

// connectDurable resets the origin's consumer the link names and takes it, or fails as the
// server's link fails and schedules the next attempt. It reports whether the link connected.
func (l *streamLink) connectDurable(origin *stream, now time.Time) bool {
	cs := l.src.Consumer
	l.err = nil // as the server clears it when it sends the request
	c := origin.consumers[cs.Name]
	if c == nil {
		l.fails++
		l.schedule(durableResetWait + l.retryDelay(now.Add(durableResetWait)))
		return false
	}
	if c.cfg.AckPolicy != jetstream.AckFlowControlPolicy {
		if l.mirror {
			l.err = jsMirrorConsumerRequiresAckFCErr.err()
		} else {
			l.err = jsSourceConsumerRequiresAckFCErr.err()
		}
		l.fails++
		l.schedule(l.retryDelay(now))
		return false
	}
	l.release()
	_, _ = c.resetTo(0) // to its ack floor, which a reset always allows
	// A consumer that delivers elsewhere than the link listens brings it nothing.
	l.muted = c.cfg.DeliverSubject != cs.DeliverSubject
	if !l.muted {
		l.durable, c.link = c, l
	}
	l.sseq = max(l.sseq, c.delivered.s)
	return true
}

// release lets the link's consumer go back to delivering as any push consumer does.
func (l *streamLink) release() {
	c := l.durable
	if c == nil {
		return
	}
	l.durable = nil
	if c.link == l {
		c.link = nil
		c.kick()
	}
}

// durableGone is called when the link's consumer is deleted: the link hears nothing more until
// the server finds it stale and tries again.
func (l *streamLink) durableGone() {
	l.durable, l.connected = nil, false
	l.schedule(linkStaleInterval)
}

// catchUpDurable stores what the link's consumer delivers, acking each delivery as the answer to
// the consumer's flow control does. A message the stream refuses resets the consumer to its ack
// floor, so that it comes again with the next.
func (l *streamLink) catchUpDurable() {
	c, st := l.durable, l.st
	l.busy = true
	defer func() { l.busy = false }()
	for !c.gone && !c.paused() {
		m, dc := c.next()
		if m == nil {
			return
		}
		dseq := c.record(m, dc)
		if subj, ok := l.takes(m.subj); ok {
			if e := l.store(subj, m); e != nil {
				_, _ = c.resetTo(0)
				return
			}
			l.stored = m.seq
		}
		c.processAck(m.seq, dseq)
		l.sseq = m.seq
		l.last = st.j.s.clock.Now()
	}
}
