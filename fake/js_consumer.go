package fake

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/subject"
)

// A consumer follows a stream, delivering to pull requests or to a deliver subject, and keeps the
// state nats-server keeps: sequences, pending acks, redelivery counts, ack floors.
type consumer struct {
	st   *stream
	name string
	cfg  jetstream.ConsumerConfig
	// ackPrefix is "$JS.ACK.<stream>.<consumer>.", made at the first delivery
	ackPrefix string
	created   time.Time
	filters   []string // empty for every subject
	covers    bool     // the filters take in every subject of the stream

	dseq      uint64 // last consumer sequence issued
	sseq      uint64 // next stream sequence to look at
	lps       []uint64
	lpsResume uint64

	pending map[uint64]*pendingAck // by stream sequence
	rdc     map[uint64]uint64      // redeliveries so far, by stream sequence
	rdq     []uint64               // due for redelivery, in order

	// the consumer store's view, which consumer info reports
	delivered, ackFloor seqPair
	// the running floors, which decide whether an ack or nak still counts
	adflr, asflr uint64

	history     map[uint64]*MessageState // what happened to each message, for inspection
	historyKept int                      // its size after the last pruning

	// no message in [scanFrom, scanTo] matches the filters: where a wildcard filter's search
	// for the next message goes on from
	scanFrom, scanTo uint64

	waiting []*pullRequest

	ackTimer      *clockTimer
	pauseTimer    *clockTimer // ends the pause
	asleep        bool        // resumed through the API: delivers once something wakes it
	ackDue        time.Time   // when ackTimer fires
	inactiveTimer *clockTimer
	lastActive    time.Time // on the server clock, for the inactive threshold
	lastDelivery  time.Time // reported as delivered.last_active
	lastAck       time.Time // reported as ack_floor.last_active
	pace          pacing    // replay "original" and the rate limit, on push consumers
	hb            *clientTimer
	lastSent      since  // the last push delivery or heartbeat
	pbytes, fcsz  int    // push flow control: bytes sent and not yet cleared, and covered by fcid
	fcid          string // the flow-control request waiting for the client's answer
	prio          priorityState
	gone          bool
	link          *streamLink // the durable source or mirror this consumer feeds, if any
}

type seqPair struct{ c, s uint64 }

type pendingAck struct {
	dseq     uint64 // consumer sequence of the first delivery
	deadline time.Time
	ts       time.Time // the last delivery or progress report, on the server's clock: an ack's delay
}

func (c *consumer) isPush() bool { return c.cfg.DeliverSubject != "" }

func (c *consumer) ackNone() bool { return c.cfg.AckPolicy == jetstream.AckNonePolicy }

func (c *consumer) matches(subj string) bool {
	if len(c.filters) == 0 {
		return true
	}
	for _, f := range c.filters {
		if subject.Matches(f, subj) {
			return true
		}
	}
	return false
}

// newConsumer makes a consumer and sets its starting point as nats-server does.
func (st *stream) newConsumer(cfg jetstream.ConsumerConfig) *consumer {
	c := &consumer{
		st:      st,
		name:    cfg.Name,
		cfg:     cfg,
		created: st.j.s.clock.Now().UTC(),
		pending: make(map[uint64]*pendingAck),
		rdc:     make(map[uint64]uint64),
		history: make(map[uint64]*MessageState),
	}
	c.setFilters()
	c.selectStart()
	c.startPace()
	c.asflr = c.sseq - 1
	c.delivered = seqPair{0, c.sseq - 1}
	c.ackFloor = seqPair{0, c.sseq - 1}
	c.lastActive = st.j.s.clock.Now()
	st.consumers[c.name] = c
	st.consumersChanged()
	c.scheduleInactive()
	c.schedulePause()
	return c
}

func (c *consumer) setFilters() {
	c.filters = consumerFilters(c.cfg)
	c.st.consumersChanged()
	c.scanFrom, c.scanTo = 0, 0
	c.covers = len(c.filters) == 0
	// A mirror or a stream with sources holds subjects beyond its own (a mirror has none).
	if !c.covers && c.st.cfg.Mirror == nil && len(c.st.cfg.Sources) == 0 {
		c.covers = true
		for _, s := range c.st.cfg.Subjects {
			in := false
			for _, f := range c.filters {
				if patternSubset(s, f) {
					in = true
					break
				}
			}
			if !in {
				c.covers = false
				break
			}
		}
	}
}

// patternSubset reports whether every subject matching sub also matches super.
func patternSubset(sub, super string) bool {
	a, b := strings.Split(sub, "."), strings.Split(super, ".")
	for i := range a {
		if i >= len(b) {
			return false
		}
		switch {
		case b[i] == ">":
			return true
		case a[i] == ">":
			return false
		case b[i] == "*":
			continue
		case a[i] == "*" || a[i] != b[i]:
			return false
		}
	}
	return len(a) == len(b)
}

func (c *consumer) selectStart() {
	st := c.st
	first, last := st.first, st.last
	if m := st.firstMsg(); m != nil {
		first = m.seq
	}
	cfg := c.cfg
	if cfg.OptStartSeq == 0 {
		switch cfg.DeliverPolicy {
		case jetstream.DeliverAllPolicy:
			c.sseq = first
		case jetstream.DeliverLastPolicy:
			if len(c.filters) == 0 {
				c.sseq = last
			} else {
				for _, f := range c.filters {
					if m := st.lastMatching(f); m != nil && m.seq > c.sseq {
						c.sseq = m.seq
					}
				}
			}
		case jetstream.DeliverLastPerSubjectPolicy:
			if st.cfg.MaxMsgsPerSubject == 1 {
				c.sseq = first
			} else {
				c.lpsResume = last
				c.lps = st.lastPerSubject(c)
				if len(c.lps) == 0 {
					c.sseq = last
				} else {
					c.sseq = c.lps[0]
				}
			}
		case jetstream.DeliverByStartTimePolicy:
			c.sseq = last + 1
			if cfg.OptStartTime != nil {
				for _, m := range st.msgs.from(0) {
					if !m.time().Before(*cfg.OptStartTime) {
						c.sseq = m.seq
						break
					}
				}
			}
		default:
			c.sseq = last + 1
		}
	} else {
		c.sseq = cfg.OptStartSeq
	}
	stateFirst := first
	if st.msgs.len() == 0 && st.last == 0 {
		stateFirst = st.first
	}
	switch {
	case stateFirst == 0 && cfg.OptStartSeq == 0:
		c.sseq = 1
	case c.sseq > last && cfg.OptStartSeq == 0:
		c.sseq = last + 1
	case c.sseq < stateFirst:
		c.sseq = stateFirst
	}
	if c.sseq == 0 {
		c.sseq = 1
	}
}

// lastPerSubject is the sequence of the newest message of each subject the consumer takes, in
// stream order.
func (st *stream) lastPerSubject(c *consumer) []uint64 {
	var seqs []uint64
	for subj, list := range st.bySubj {
		if c.matches(subj) {
			last, _, _ := list.last()
			seqs = append(seqs, last)
		}
	}
	slices.Sort(seqs)
	return seqs
}

func (c *consumer) info() jetstream.ConsumerInfo {
	c.dropDeadRequests()
	cfg := c.cfg
	cfg.Metadata = withDynamicMetadata(cfg.Metadata)
	info := jetstream.ConsumerInfo{
		Stream:         c.st.name(),
		Name:           c.name,
		Created:        c.created,
		Config:         cfg,
		Delivered:      jetstream.SequenceInfo{Consumer: c.delivered.c, Stream: c.delivered.s},
		AckFloor:       jetstream.SequenceInfo{Consumer: c.ackFloor.c, Stream: c.ackFloor.s},
		NumAckPending:  len(c.pending),
		NumRedelivered: len(c.rdc),
		NumWaiting:     c.numWaiting(),
		NumPending:     c.numPending(),
		TimeStamp:      c.st.j.s.clock.Now().UTC(),
		PriorityGroups: c.priorityInfo(),
	}
	if c.delivered == (seqPair{}) {
		info.Delivered = jetstream.SequenceInfo{Consumer: c.dseq, Stream: c.sseq - 1}
	}
	if c.cfg.MaxDeliver == 1 {
		info.NumRedelivered = 0
	}
	if !c.lastDelivery.IsZero() {
		t := c.lastDelivery
		info.Delivered.Last = &t
	}
	if !c.lastAck.IsZero() {
		t := c.lastAck
		info.AckFloor.Last = &t
	}
	if c.isPush() {
		info.PushBound = c.st.j.s.hasInterest(c.cfg.DeliverSubject)
	}
	if info.Paused = c.paused(); info.Paused {
		info.PauseRemaining = c.pauseRemaining()
	}
	return info
}

// numPending is how many messages the consumer has yet to deliver for the first time.
func (c *consumer) numPending() uint64 {
	st := c.st
	n := uint64(len(c.lps))
	from := c.sseq
	if len(c.lps) > 0 {
		from = c.lpsResume + 1
	}
	if c.covers {
		return n + uint64(st.msgs.countFrom(from))
	}
	if c.literal() {
		for _, f := range c.filters {
			if seqs := st.bySubj[f]; seqs != nil {
				n += uint64(seqs.countFrom(from))
			}
		}
		return n
	}
	// by subject or by message, whichever is fewer
	if len(st.bySubj) < st.msgs.countFrom(from) {
		for subj, seqs := range st.bySubj {
			if c.matches(subj) {
				n += uint64(seqs.countFrom(from))
			}
		}
		return n
	}
	for _, m := range st.msgs.from(from) {
		if c.matches(m.subj) {
			n++
		}
	}
	return n
}

// delete removes the consumer, ending its waiting pull requests with 409 Consumer Deleted.
func (c *consumer) delete() {
	if c.gone {
		return
	}
	c.gone = true
	c.adviseAction(actionDelete)
	for _, w := range c.waiting {
		w.stop()
		c.st.j.status(w.reply, "409 Consumer Deleted")
	}
	c.waiting = nil
	c.stopTimers()
	if l := c.link; l != nil {
		c.link = nil
		l.durableGone()
	}
	delete(c.st.consumers, c.name)
	c.st.consumersChanged()
	c.st.j.retentionChanged(c.st)
}

// next is the next message to deliver and its delivery count: redeliveries first, then the
// last-per-subject list, then new messages. It returns nil when there is none.
func (c *consumer) next() (*storedMsg, uint64) {
	st := c.st
	for len(c.rdq) > 0 {
		seq := c.rdq[0]
		c.rdq = c.rdq[1:]
		p, ok := c.pending[seq]
		if !ok {
			continue
		}
		c.rdc[seq]++
		dc := c.rdc[seq] + 1
		if c.cfg.MaxDeliver > 0 && dc > uint64(c.cfg.MaxDeliver) {
			c.notifyMaxDeliveries(seq, dc-1)
			delete(c.pending, seq)
			c.moveAckFloor(p.dseq, seq)
			continue
		}
		m := st.get(seq)
		if m == nil {
			c.rdc[seq]--
			c.ack(seq, p.dseq)
			continue
		}
		return m, dc
	}
	if !c.ackNone() && c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending {
		return nil, 0
	}
	for len(c.lps) > 0 {
		seq := c.lps[0]
		if len(c.lps) == 1 {
			c.lps = nil
			c.sseq = c.lpsResume + 1
		} else {
			c.lps = c.lps[1:]
			c.sseq = seq + 1
		}
		if m := st.get(seq); m != nil {
			return m, 1
		}
	}
	m := c.nextNew()
	if m == nil {
		return nil, 0
	}
	c.sseq = m.seq + 1
	return m, 1
}

// nextNew is the first message at or after sseq that the consumer takes.
func (c *consumer) nextNew() *storedMsg {
	st := c.st
	if c.covers {
		_, m, _ := st.msgs.nextFrom(c.sseq)
		return m
	}
	if c.literal() {
		var best uint64
		for _, f := range c.filters {
			if seqs := st.bySubj[f]; seqs != nil {
				if s, _, ok := seqs.nextFrom(c.sseq); ok && (best == 0 || s < best) {
					best = s
				}
			}
		}
		if best == 0 {
			return nil
		}
		return st.get(best)
	}
	start := c.sseq
	if c.scanFrom <= start && start <= c.scanTo {
		start = c.scanTo + 1
	}
	for _, m := range st.msgs.from(start) {
		if c.matches(m.subj) {
			if m.seq > c.sseq {
				c.scanFrom, c.scanTo = c.sseq, m.seq-1
			}
			return m
		}
	}
	if st.last >= c.sseq {
		c.scanFrom, c.scanTo = c.sseq, st.last
	}
	return nil
}

// literal reports whether the consumer has filters and none holds a wildcard.
func (c *consumer) literal() bool {
	for _, f := range c.filters {
		if hasWildcard(f) {
			return false
		}
	}
	return len(c.filters) > 0
}

// available reports whether the consumer has anything left to deliver, whether or not max ack
// pending lets it deliver now.
func (c *consumer) available() bool {
	for _, seq := range c.rdq {
		if _, ok := c.pending[seq]; ok {
			return true
		}
	}
	return len(c.lps) > 0 || c.nextNew() != nil
}

// hasNext reports whether next would return a message, without taking it.
func (c *consumer) hasNext() bool {
	for _, seq := range c.rdq {
		if _, ok := c.pending[seq]; ok {
			return true
		}
	}
	if !c.ackNone() && c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending {
		return false
	}
	return len(c.lps) > 0 || c.nextNew() != nil
}

// send delivers m to target with its ack subject, and records it as delivered.
func (c *consumer) send(target string, m *storedMsg, dc uint64) int {
	dseq := c.record(m, dc)
	ack, hdr, data := c.delivery(m, dc, dseq)
	size := len(m.subj) + len(ack) + len(hdr) + len(data) // a request's max bytes do not count the pin
	hdr = c.pinHeader(hdr)
	c.st.j.s.sendTo(target, &message{subject: m.subj, reply: ack, hdr: hdr, data: data})
	return size
}

// record counts m's dc-th delivery as made and returns its delivery sequence.
func (c *consumer) record(m *storedMsg, dc uint64) uint64 {
	c.dseq++
	dseq := c.dseq
	now := c.st.j.s.clock.Now()
	if !c.ackNone() {
		p := c.pending[m.seq]
		if p == nil {
			p = &pendingAck{dseq: dseq}
			c.pending[m.seq] = p
		}
		p.deadline = now.Add(c.ackWaitFor(c.rdc[m.seq]))
		p.ts = now
		if dseq > c.delivered.c {
			c.delivered.c = dseq
		}
		if m.seq > c.delivered.s {
			c.delivered.s = m.seq
		}
		if c.ackTimer == nil || p.deadline.Before(c.ackDue) {
			c.scheduleAck()
		}
	} else {
		if dseq > c.delivered.c {
			c.delivered.c, c.ackFloor.c = dseq, dseq
		}
		if m.seq > c.delivered.s {
			c.delivered.s, c.ackFloor.s = m.seq, m.seq
		}
		c.adflr, c.asflr = c.delivered.c, c.delivered.s
	}
	h := c.history[m.seq]
	if h == nil {
		h = &MessageState{Stream: m.seq, Subject: m.subj}
		c.history[m.seq] = h
		if len(c.history) >= 2*c.historyKept+historyDone {
			c.pruneHistory()
		}
	}
	h.Deliveries = int(dc)
	h.Consumer = dseq
	h.LastDelivered = now
	if c.ackNone() {
		h.Ack = AckedByPolicy
	} else {
		h.Ack = AckPending
	}
	c.lastActive = now
	c.lastDelivery = now.UTC()
	return dseq
}

// delivery is the ack subject, headers and payload of m's dc-th delivery as delivery dseq.
func (c *consumer) delivery(m *storedMsg, dc, dseq uint64) (ack string, hdr, data []byte) {
	ack = c.ackSubject(m, dc, dseq, c.numPending())
	hdr, data = m.hdr, m.data
	if c.cfg.HeadersOnly {
		hdr = appendHeaders(m.hdr, "Nats-Msg-Size", strconv.Itoa(len(m.data)))
		data = nil
	}
	return ack, hdr, data
}

// wireSize is what m's dc-th delivery, the next one, counts against a pull request's max bytes,
// as nats-server counts it: subject, ack reply, headers and payload (not the pin header).
func (c *consumer) wireSize(m *storedMsg, dc uint64) int {
	ack, hdr, data := c.delivery(m, dc, c.dseq+1)
	return len(m.subj) + len(ack) + len(hdr) + len(data)
}

// historyDone is how many of the messages it has finished with a consumer's history keeps.
const historyDone = 1000

// pruneHistory forgets all but the latest historyDone messages the consumer has finished with:
// its history stays in proportion to its outstanding acks, not to what it delivered.
func (c *consumer) pruneHistory() {
	var done []uint64
	for seq := range c.history {
		if _, ok := c.pending[seq]; !ok {
			done = append(done, seq)
		}
	}
	if len(done) > historyDone {
		slices.Sort(done)
		for _, seq := range done[:len(done)-historyDone] {
			delete(c.history, seq)
		}
	}
	c.historyKept = len(c.history)
}

// stored tells the consumer about a new message.
func (c *consumer) stored(*storedMsg) { c.kick() }

// removed tells the consumer a message is gone.
func (c *consumer) removed(m *storedMsg) {
	if i, ok := slices.BinarySearch(c.lps, m.seq); ok {
		c.lps = append(c.lps[:i], c.lps[i+1:]...)
		if len(c.lps) == 0 {
			c.sseq = max(c.sseq, c.lpsResume+1)
		}
	}
}

// purge moves the consumer past purged messages, as nats-server's consumer does: start is the
// first sequence it may still deliver (0 when nothing it takes is left), last the stream's last.
func (c *consumer) purge(start, last uint64, wider bool) {
	if start == 0 && !wider {
		start = last + 1
	}
	var lps []uint64
	for _, seq := range c.lps {
		if c.st.get(seq) != nil {
			lps = append(lps, seq)
		}
	}
	c.lps = lps
	if len(c.lps) == 0 && c.lpsResume > 0 && c.sseq <= c.lpsResume {
		c.sseq = c.lpsResume + 1
	}
	if c.sseq < start {
		c.sseq = start
	}
	if c.asflr < start {
		c.asflr = start - 1
		for seq, p := range c.pending {
			if seq <= c.asflr || (wider && c.st.get(seq) == nil) {
				if p.dseq > c.adflr {
					c.adflr = p.dseq
					if c.adflr > c.dseq {
						c.dseq = c.adflr
					}
				}
				delete(c.pending, seq)
				delete(c.rdc, seq)
			}
		}
	}
	if len(c.pending) == 0 {
		c.adflr, c.asflr = c.dseq, c.sseq-1
	}
	rdq := c.rdq[:0]
	for _, seq := range c.rdq {
		if seq >= c.sseq {
			rdq = append(rdq, seq)
		}
	}
	c.rdq = rdq
	c.delivered = seqPair{c.dseq, c.sseq - 1}
	c.ackFloor = seqPair{c.adflr, c.asflr}
	c.scheduleAck()
}

// filterSubsetOf reports whether every subject the consumer takes matches subj.
func (c *consumer) filterSubsetOf(subj string) bool {
	if len(c.filters) == 0 {
		return false
	}
	for _, f := range c.filters {
		if !patternSubset(f, subj) {
			return false
		}
	}
	return true
}

// filterWithin reports whether one of the consumer's filters lies within subj.
func (c *consumer) filterWithin(subj string) bool {
	for _, f := range c.filters {
		if patternSubset(f, subj) {
			return true
		}
	}
	return false
}

// kick delivers what can be delivered now: to waiting pull requests, or to the push subject.
func (c *consumer) kick() {
	if c.gone {
		return
	}
	c.asleep = false
	if c.isPush() {
		c.deliverPush()
		return
	}
	c.servePull()
}

// matchesPattern reports whether some subject matching pattern is one the consumer takes.
func (c *consumer) matchesPattern(pattern string) bool {
	if len(c.filters) == 0 {
		return true
	}
	for _, f := range c.filters {
		if subjectsCollide(f, pattern) {
			return true
		}
	}
	return false
}
