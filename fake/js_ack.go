package fake

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// ackWaitFor is how long a delivery waits for its ack, after rdc redeliveries.
func (c *consumer) ackWaitFor(rdc uint64) time.Duration {
	if l := len(c.cfg.BackOff); l > 0 {
		return c.cfg.BackOff[min(int(rdc), l-1)]
	}
	return c.cfg.AckWait
}

// handleAck takes an ack, nak, term or progress report for a delivered message.
func (j *jetStream) handleAck(m *message) bool {
	tok := strings.Split(m.subject, ".")
	if len(tok) != 9 {
		return true
	}
	streamName, name := tok[2], tok[3]
	dc, _ := strconv.ParseUint(tok[4], 10, 64)
	sseq, _ := strconv.ParseUint(tok[5], 10, 64)
	dseq, _ := strconv.ParseUint(tok[6], 10, 64)
	body := string(m.data)
	reply := m.reply

	j.lock()
	defer j.unlock()
	if j.closed {
		return false
	}
	st, ok := j.streams[streamName]
	if !ok {
		return reply == ""
	}
	c, ok := st.consumers[name]
	if !ok || c.cfg.AckPolicy == jetstream.AckFlowControlPolicy { // acked by flow control only
		return reply == ""
	}
	c.lastActive = j.s.clock.Now()
	isAck := body == "" || body == "+ACK" || body == "+OK"
	// nats-server drops an ack beyond the consumer's next message (one of a delivery made before
	// a reset) without an answer; a term of one is announced, and not answered either
	silent := c.ahead(sseq) && (isAck || strings.HasPrefix(body, "+TERM"))
	if silent && isAck {
		return true
	}
	if !silent {
		c.lastAck = c.lastActive.UTC()
	}
	// the bodies nats-server knows; it ignores any other, and answers it as it answers an ack
	switch {
	case isAck:
		c.sampleAck(sseq, dseq, dc)
		c.processAck(sseq, dseq)
	case strings.HasPrefix(body, "+NXT"):
		// an ack and a pull request in one: the next messages go to the ack's reply subject,
		// which gets no answer of its own
		c.sampleAck(sseq, dseq, dc)
		c.processAck(sseq, dseq)
		c.kick()
		if !c.gone {
			j.pullRequest(reply, streamName, name, []byte(body[4:]), nil)
		}
		return true
	case strings.HasPrefix(body, "-NAK"):
		c.processNak(sseq, dseq, dc, strings.TrimSpace(body[4:]))
	case body == "+WPI":
		c.processProgress(sseq)
	case strings.HasPrefix(body, "+TERM"):
		c.processTerm(sseq, dseq, dc, strings.TrimSpace(body[5:]))
	}
	if reply != "" && !silent {
		j.s.sendTo(reply, &message{subject: reply})
	}
	c.kick()
	return true
}

// ahead reports whether sseq is at or beyond the next message the consumer would deliver: an
// ack of it changes nothing.
func (c *consumer) ahead(sseq uint64) bool {
	return sseq >= c.sseq && len(c.lps) == 0 && !c.cfg.FlowControl
}

func (c *consumer) processAck(sseq, dseq uint64) {
	if c.ahead(sseq) {
		return
	}
	switch c.cfg.AckPolicy {
	case jetstream.AckExplicitPolicy:
		if p, ok := c.pending[sseq]; ok {
			c.ack(sseq, p.dseq)
		}
		delete(c.rdc, sseq)
		c.removeFromRdq(sseq)
	case jetstream.AckAllPolicy, jetstream.AckFlowControlPolicy:
		if dseq <= c.adflr || sseq <= c.asflr {
			return
		}
		var acked []uint64
		for seq := range c.pending {
			if seq <= sseq {
				acked = append(acked, seq)
			}
		}
		slices.Sort(acked)
		c.adflr, c.asflr = dseq, sseq
		c.ackFloor = seqPair{dseq, sseq}
		for _, seq := range acked {
			delete(c.pending, seq)
			delete(c.rdc, seq)
			c.removeFromRdq(seq)
			c.markAcked(seq, Acked)
		}
		c.st.j.retentionAcked(c.st, c, acked)
	}
}

// ack removes an explicitly acked message from pending and moves the floors as the server does.
func (c *consumer) ack(sseq, odseq uint64) {
	delete(c.pending, sseq)
	c.moveAckFloor(odseq, sseq)
	// the store's floor
	if len(c.pending) == 0 {
		c.ackFloor = c.delivered
	} else if odseq == c.ackFloor.c+1 {
		c.ackFloor = seqPair{odseq, sseq}
		if c.delivered.c > odseq {
			for ss := sseq + 1; ss <= c.delivered.s; ss++ {
				if p, ok := c.pending[ss]; ok {
					if p.dseq > 0 {
						c.ackFloor = seqPair{p.dseq - 1, ss - 1}
					}
					break
				}
			}
		}
	}
	c.markAcked(sseq, Acked)
	c.st.j.retentionAcked(c.st, c, []uint64{sseq})
}

func (c *consumer) markAcked(sseq uint64, state AckState) {
	if h := c.history[sseq]; h != nil && h.Ack != Termed {
		h.Ack = state
	}
}

// moveAckFloor moves the running floors, as nats-server's consumer does.
func (c *consumer) moveAckFloor(dseq, sseq uint64) {
	if len(c.pending) == 0 {
		c.adflr = c.dseq
		c.asflr = c.sseq - 1
		return
	}
	if dseq == c.adflr+1 {
		c.adflr, c.asflr = dseq, sseq
		for ss := sseq + 1; ss < c.sseq; ss++ {
			if p, ok := c.pending[ss]; ok {
				if p.dseq > 0 {
					c.adflr, c.asflr = p.dseq-1, ss-1
				}
				break
			}
		}
	}
}

func (c *consumer) removeFromRdq(seq uint64) {
	if i := slices.Index(c.rdq, seq); i >= 0 {
		c.rdq = append(c.rdq[:i], c.rdq[i+1:]...)
	}
}

type nakDelay struct {
	Delay time.Duration `json:"delay"`
}

func (c *consumer) processNak(sseq, dseq, dc uint64, arg string) {
	if dseq <= c.adflr || dseq > c.dseq {
		return
	}
	p, ok := c.pending[sseq]
	if !ok {
		return
	}
	c.st.j.advise("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED."+c.st.name()+"."+c.name, deliveryAdvisory{
		Type: "io.nats.jetstream.advisory.v1.nak", ID: nuid.Next(), Time: c.st.j.now(),
		Stream: c.st.name(), Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq, Deliveries: dc,
	})
	if h := c.history[sseq]; h != nil {
		h.Ack = Naked
	}
	if arg != "" {
		var d time.Duration
		var err error
		if arg[0] == '{' {
			var nd nakDelay
			if err = json.Unmarshal([]byte(arg), &nd); err == nil {
				d = nd.Delay
			}
		} else {
			d, err = time.ParseDuration(arg)
		}
		if err == nil && d > 0 {
			c.removeFromRdq(sseq)
			now := c.st.j.s.clock.Now()
			p.deadline = now.Add(d)
			p.ts = now.Add(d - c.cfg.AckWait) // as nats-server: expired at now, offset by the delay
			c.scheduleAck()
			return
		}
	}
	if !slices.Contains(c.rdq, sseq) {
		c.rdq = append(c.rdq, sseq)
	}
}

func (c *consumer) processProgress(sseq uint64) {
	p, ok := c.pending[sseq]
	if !ok {
		return
	}
	p.ts = c.st.j.s.clock.Now()
	p.deadline = p.ts.Add(c.ackWaitFor(c.rdc[sseq]))
	c.removeFromRdq(sseq)
	if h := c.history[sseq]; h != nil {
		h.Ack = InProgress
	}
	c.scheduleAck()
}

func (c *consumer) processTerm(sseq, dseq, dc uint64, reason string) {
	c.processAck(sseq, dseq)
	if h := c.history[sseq]; h != nil {
		h.Ack = Termed
		h.TermReason = reason
	}
	c.st.j.advise("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED."+c.st.name()+"."+c.name, deliveryAdvisory{
		Type: "io.nats.jetstream.advisory.v1.terminated", ID: nuid.Next(), Time: c.st.j.now(),
		Stream: c.st.name(), Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq, Deliveries: dc, Reason: reason,
	})
}

type deliveryAdvisory struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	Time        time.Time `json:"timestamp"`
	Stream      string    `json:"stream"`
	Consumer    string    `json:"consumer"`
	ConsumerSeq uint64    `json:"consumer_seq,omitempty"`
	StreamSeq   uint64    `json:"stream_seq"`
	Deliveries  uint64    `json:"deliveries"`
	Reason      string    `json:"reason,omitempty"`
}

func (c *consumer) notifyMaxDeliveries(sseq, dc uint64) {
	if h := c.history[sseq]; h != nil {
		h.MaxDeliveriesReached = true
	}
	c.st.j.advise("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+c.st.name()+"."+c.name, struct {
		Type       string    `json:"type"`
		ID         string    `json:"id"`
		Time       time.Time `json:"timestamp"`
		Stream     string    `json:"stream"`
		Consumer   string    `json:"consumer"`
		StreamSeq  uint64    `json:"stream_seq"`
		Deliveries uint64    `json:"deliveries"`
	}{"io.nats.jetstream.advisory.v1.max_deliver", nuid.Next(), c.st.j.now(), c.st.name(), c.name, sseq, dc})
}

// expirePending queues every message waiting for its ack for redelivery now, as nats-server does
// when a push consumer moves to a new deliver subject; one that has had its max deliveries is
// given up on instead.
func (c *consumer) expirePending() {
	c.redeliverDue(func(*pendingAck) bool { return true })
	c.scheduleAck()
}

// redeliverDue queues for redelivery, in stream order, each message waiting for its ack that is
// not queued already and that due selects, or gives up on it once it has had its max deliveries.
func (c *consumer) redeliverDue(due func(*pendingAck) bool) {
	queued := make(map[uint64]bool, len(c.rdq))
	for _, seq := range c.rdq {
		queued[seq] = true
	}
	var expired []uint64
	for seq, p := range c.pending {
		if !queued[seq] && due(p) {
			expired = append(expired, seq)
		}
	}
	slices.Sort(expired)
	for _, seq := range expired {
		dc := c.rdc[seq] + 1
		if c.cfg.MaxDeliver > 0 && dc >= uint64(c.cfg.MaxDeliver) {
			p := c.pending[seq]
			c.notifyMaxDeliveries(seq, dc)
			delete(c.pending, seq)
			c.moveAckFloor(p.dseq, seq)
			c.rdc[seq] = dc
			continue
		}
		c.rdq = append(c.rdq, seq)
		if h := c.history[seq]; h != nil && h.Ack != Naked {
			h.Ack = AckExpired
		}
	}
}
