package fake

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// A pullRequest is one CONSUMER.MSG.NEXT request waiting for messages.
type pullRequest struct {
	c         *consumer
	reply     string
	n         int // messages still wanted
	b         int // bytes still allowed; 0 without max_bytes
	maxBytes  bool
	noWait    bool
	expires   time.Time
	hb        time.Duration
	delivered int
	lastSent  since
	exp, hbt  *clientTimer
	done      bool
	pg        *nextPriority // the priority fields of a JSON request, nil otherwise
}

func (w *pullRequest) stop() {
	w.done = true
	w.exp.stop()
	w.hbt.stop()
}

type nextRequest struct {
	Batch     int           `json:"batch,omitempty"`
	Expires   time.Duration `json:"expires,omitempty"`
	NoWait    bool          `json:"no_wait,omitempty"`
	MaxBytes  int           `json:"max_bytes,omitempty"`
	Heartbeat time.Duration `json:"idle_heartbeat,omitempty"`
	nextPriority
}

// pullRequest takes a request for messages. A consumer that does not exist has no responder.
func (j *jetStream) pullRequest(reply, streamName, name string, body, hdr []byte) bool {
	st, ok := j.streams[streamName]
	if !ok {
		return false
	}
	c, ok := st.consumers[name]
	if !ok {
		return false
	}
	if reply == "" {
		return true
	}
	if c.isPush() {
		j.status(reply, "409 Consumer is push based")
		return true
	}
	if levelRefused(hdr) {
		j.status(reply, "412 Required Api Level")
		return true
	}
	req := nextRequest{Batch: 1}
	isJSON := false
	trimmed := strings.TrimSpace(string(body))
	switch {
	case trimmed == "":
	case trimmed[0] == '{':
		isJSON = true
		if err := json.Unmarshal([]byte(trimmed), &req); err != nil {
			j.status(reply, "400 Bad Request - "+err.Error())
			return true
		}
		if req.Heartbeat > 0 && req.Heartbeat*2 > req.Expires {
			j.status(reply, "400 Bad Request - heartbeat value too large")
			return true
		}
	default:
		// nats-server reads a body that is neither JSON nor a number as a request for one.
		if n, err := strconv.Atoi(trimmed); err == nil {
			req.Batch = n
		}
	}
	if req.Batch <= 0 {
		req.Batch = 1
	}
	cfg := c.cfg
	switch {
	case cfg.MaxRequestBatch > 0 && req.Batch > cfg.MaxRequestBatch:
		j.status(reply, "409 Exceeded MaxRequestBatch of "+strconv.Itoa(cfg.MaxRequestBatch))
		return true
	case cfg.MaxRequestExpires > 0 && req.Expires > cfg.MaxRequestExpires:
		j.status(reply, "409 Exceeded MaxRequestExpires of "+cfg.MaxRequestExpires.String())
		return true
	case cfg.MaxRequestMaxBytes > 0 && req.MaxBytes > cfg.MaxRequestMaxBytes:
		j.status(reply, "409 Exceeded MaxRequestMaxBytes of "+strconv.Itoa(cfg.MaxRequestMaxBytes))
		return true
	}
	var pg *nextPriority
	if isJSON {
		pg = &req.nextPriority
	}
	if line := c.checkPriorityRequest(pg); line != "" {
		j.status(reply, line)
		return true
	}
	c.lastActive = j.s.clock.Now()
	if req.NoWait && req.Expires == 0 && !c.available() {
		j.status(reply, "404 No Messages")
		return true
	}
	if cfg.MaxWaiting > 0 && len(c.waiting) >= cfg.MaxWaiting {
		c.dropDeadRequests()
		if len(c.waiting) >= cfg.MaxWaiting {
			j.status(reply, "409 Exceeded MaxWaiting")
			return true
		}
	}
	w := &pullRequest{c: c, reply: reply, n: req.Batch, b: req.MaxBytes, maxBytes: req.MaxBytes > 0,
		noWait: req.NoWait, hb: req.Heartbeat, lastSent: j.mark(), pg: pg}
	if req.Expires > 0 {
		w.expires = j.s.clock.Now().Add(req.Expires)
		w.exp = j.afterClient(req.Expires, func() { c.expire(w) })
	}
	if w.hb > 0 {
		w.hbt = j.afterClient(w.hb, func() { c.heartbeat(w) })
	}
	c.enqueue(w)
	c.servePull()
	return true
}

func (c *consumer) numWaiting() int { return len(c.waiting) }

func (c *consumer) removeWaiting(w *pullRequest) {
	w.stop()
	for i, x := range c.waiting {
		if x == w {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			break
		}
	}
}

// dropDeadRequests forgets requests whose inbox nobody listens on any more.
func (c *consumer) dropDeadRequests() {
	live := c.waiting[:0]
	for _, w := range c.waiting {
		if c.st.j.s.hasInterest(w.reply) {
			live = append(live, w)
		} else {
			w.stop()
		}
	}
	clear(c.waiting[len(live):])
	c.waiting = live
}

// servePull hands available messages to the waiting requests in turn, oldest first.
func (c *consumer) servePull() {
	j := c.st.j
	if c.paused() {
		c.endWhilePaused()
		return
	}
	if c.pullHeld() {
		return
	}
	if c.cfg.PriorityPolicy != jetstream.PriorityPolicyNone {
		if c.servePriority(); c.pullHeld() {
			return
		}
	}
	for c.cfg.PriorityPolicy == jetstream.PriorityPolicyNone && len(c.waiting) > 0 {
		w := c.waiting[0]
		if !j.s.hasInterest(w.reply) {
			c.removeWaiting(w)
			continue
		}
		if !c.hasNext() {
			break
		}
		sseq, lps, rdq := c.sseq, c.lps, c.rdq
		m, dc := c.next()
		if m == nil {
			break
		}
		if w.maxBytes && c.wireSize(m, dc) > w.b {
			// put the message back and end the request
			if dc > 1 {
				c.rdc[m.seq]--
			}
			c.sseq, c.lps, c.rdq = sseq, lps, rdq
			j.status(w.reply, "409 Message Size Exceeds MaxBytes",
				"Nats-Pending-Messages", strconv.Itoa(w.n), "Nats-Pending-Bytes", strconv.Itoa(w.b))
			c.removeWaiting(w)
			continue
		}
		// as nats-server does, a request that wants more goes to the back of the queue
		ended, held := c.deliverPull(w, m, dc)
		if !ended {
			c.requeue()
		}
		if held {
			return
		}
	}
	c.replayCaughtUp()
	if c.available() {
		return
	}
	// the end of the stream ends no-wait requests
	c.endNoWait()
}

// endNoWait ends with 404 the no-wait requests that have nothing more coming: those without an
// expiry, and those that got something.
func (c *consumer) endNoWait() {
	for _, w := range append([]*pullRequest(nil), c.waiting...) {
		if w.noWait && (w.expires.IsZero() || w.delivered > 0) {
			c.st.j.status(w.reply, "404 No Messages")
			c.removeWaiting(w)
		}
	}
}

// endWhilePaused does for the waiting requests of a paused consumer what nats-server does: it
// forgets those nobody listens for, and ends with 404 the no-wait requests that would end at
// the end of the stream; the others wait, and expire.
func (c *consumer) endWhilePaused() {
	j := c.st.j
	for _, w := range append([]*pullRequest(nil), c.waiting...) {
		switch {
		case !j.s.hasInterest(w.reply):
			c.removeWaiting(w)
		case w.noWait && (w.expires.IsZero() || w.delivered > 0):
			j.status(w.reply, "404 No Messages")
			c.removeWaiting(w)
		}
	}
}

// deliverTo sends m, its dc-th delivery, to pull request w and counts it against the request; it
// reports whether that ended the request (which is then removed).
func (c *consumer) deliverTo(w *pullRequest, m *storedMsg, dc uint64) bool {
	sent := c.send(w.reply, m, dc)
	w.lastSent = c.st.j.mark()
	w.delivered++
	w.n--
	if w.maxBytes {
		w.b -= sent
	}
	if w.n <= 0 || (w.maxBytes && w.b <= 0) {
		c.removeWaiting(w)
		return true
	}
	return false
}

// expire ends a request whose time is up with 408 and what it still wanted.
func (c *consumer) expire(w *pullRequest) {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || w.done {
		return
	}
	c.removeWaiting(w)
	j.status(w.reply, "408 Request Timeout",
		"Nats-Pending-Messages", strconv.Itoa(w.n), "Nats-Pending-Bytes", strconv.Itoa(w.b))
	c.lastActive = j.s.clock.Now()
	c.wake()
}

// wake delivers what a consumer resumed through the API holds, at a moment nats-server's delivery
// loop wakes: a request's expiry or heartbeat, a push heartbeat.
func (c *consumer) wake() {
	if c.asleep {
		c.kick()
	}
}

// heartbeat tells a waiting request the consumer is alive when nothing else was sent lately.
func (c *consumer) heartbeat(w *pullRequest) {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || w.done {
		return
	}
	if !j.s.hasInterest(w.reply) {
		c.removeWaiting(w)
		return
	}
	wait := w.hb
	if c.pullHeld() {
		// nats-server's delivery loop sends no heartbeat while it waits out a replay gap
	} else if idle := w.lastSent.idle(j); idle >= w.hb {
		c.sendHeartbeat(w.reply)
		w.lastSent = j.mark()
	} else {
		wait = w.hb - idle
	}
	w.hbt = j.afterClient(wait, func() { c.heartbeat(w) })
	c.wake()
}

func (c *consumer) sendHeartbeat(to string) {
	c.st.j.status(to, "100 Idle Heartbeat",
		"Nats-Last-Consumer", strconv.FormatUint(c.dseq, 10),
		"Nats-Last-Stream", strconv.FormatUint(c.sseq-1, 10))
}

// deliverPush sends every available message to the deliver subject while someone listens.
func (c *consumer) deliverPush() {
	if c.gone {
		return
	}
	j := c.st.j
	target := c.cfg.DeliverSubject
	if c.hb == nil {
		c.startHeartbeats()
	}
	if c.link != nil { // a durable source takes its messages
		c.link.catchUp()
		return
	}
	if !j.s.hasInterest(target) || c.paused() {
		return
	}
	for !c.cfg.FlowControl || c.pbytes < flowWindow {
		var m *storedMsg
		var dc uint64
		if c.paced() {
			m, dc = c.nextPaced()
		} else {
			m, dc = c.next()
		}
		if m == nil {
			return
		}
		n := c.send(target, m, dc)
		c.lastSent = j.mark()
		if c.cfg.FlowControl {
			c.pbytes += n
			if c.fcid == "" && (c.pbytes > flowWindow/2 || c.ackedByFlowControl() && len(c.pending) >= c.cfg.MaxAckPending) {
				c.requestFlowControl(target)
			}
		}
	}
}

// ackedByFlowControl reports whether the consumer's acks are its flow-control answers.
func (c *consumer) ackedByFlowControl() bool {
	return c.cfg.AckPolicy == jetstream.AckFlowControlPolicy
}

// requestFlowControl sends a flow-control request to target, covering what was sent so far.
func (c *consumer) requestFlowControl(target string) {
	c.fcid = "$JS.FC." + c.st.name() + "." + c.name + "." + nuid.Next()[:4]
	c.fcsz = c.pbytes
	c.st.j.s.sendTo(target, &message{subject: target, reply: c.fcid, hdr: []byte("NATS/1.0 100 FlowControl Request\r\n\r\n")})
}

// flowWindow is how many bytes a push consumer with flow control sends before the client must
// answer a flow-control request: half of it sends the request, all of it stalls delivery.
const flowWindow = 4 << 20

// handleFlowControl takes a client's answer to a flow-control request and lets delivery go on.
func (j *jetStream) handleFlowControl(m *message) bool {
	tok := strings.Split(m.subject, ".")
	if len(tok) != 5 {
		return true
	}
	j.lock()
	defer j.unlock()
	if j.closed {
		return true
	}
	if st, ok := j.streams[tok[2]]; ok {
		if c, ok := st.consumers[tok[3]]; ok && c.fcid == m.subject {
			c.pbytes = max(c.pbytes-c.fcsz, 0)
			c.fcid, c.fcsz = "", 0
			if c.ackedByFlowControl() {
				// the answer acks all up to the last delivery it names, as nats-server takes it
				lseq, _ := strconv.ParseUint(hdrValue(m.hdr, "Nats-Last-Stream"), 10, 64)
				ldseq, _ := strconv.ParseUint(hdrValue(m.hdr, "Nats-Last-Consumer"), 10, 64)
				if lseq > 0 {
					c.processAck(lseq, ldseq)
				}
			}
			c.deliverPush()
		}
	}
	return true
}

// startHeartbeats starts the idle heartbeat of a push consumer that asked for one.
func (c *consumer) startHeartbeats() {
	c.hb.stop()
	c.hb = nil
	if c.cfg.IdleHeartbeat <= 0 || c.gone {
		return
	}
	c.lastSent = c.st.j.mark()
	c.hb = c.st.j.afterClient(c.cfg.IdleHeartbeat, c.pushHeartbeat)
}

func (c *consumer) pushHeartbeat() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.gone {
		return
	}
	hb := c.cfg.IdleHeartbeat
	wait := hb
	if j.s.hasInterest(c.cfg.DeliverSubject) {
		c.lastActive = j.s.clock.Now()
		if idle := c.lastSent.idle(j); idle >= hb {
			if c.fcid != "" {
				c.st.j.status(c.cfg.DeliverSubject, "100 Idle Heartbeat",
					"Nats-Last-Consumer", strconv.FormatUint(c.dseq, 10),
					"Nats-Last-Stream", strconv.FormatUint(c.sseq-1, 10),
					"Nats-Consumer-Stalled", c.fcid)
			} else {
				c.sendHeartbeat(c.cfg.DeliverSubject)
				if c.ackedByFlowControl() && len(c.pending) > 0 {
					c.requestFlowControl(c.cfg.DeliverSubject) // what was delivered gets acked
				}
			}
			c.lastSent = j.mark()
		} else {
			wait = hb - idle
		}
	}
	c.hb = j.afterClient(wait, c.pushHeartbeat)
	c.wake()
}

// signalShutdown ends every waiting pull request with 409 Server Shutdown and what it still
// wanted, as nats-server does for its R1 consumers when it shuts down; the requests are
// forgotten, as a server that comes back knows none of them.
func (j *jetStream) signalShutdown() {
	j.lock()
	defer j.unlock()
	if j.closed {
		return
	}
	for _, st := range j.streams {
		for _, c := range st.consumers {
			for _, w := range append([]*pullRequest(nil), c.waiting...) {
				j.status(w.reply, "409 Server Shutdown",
					"Nats-Pending-Messages", strconv.Itoa(w.n), "Nats-Pending-Bytes", strconv.Itoa(w.b))
				c.removeWaiting(w)
			}
		}
	}
	j.dropVolatile()
}

// dropVolatile forgets what a nats-server restart loses, without the advisories of a delete:
// streams with memory storage, and consumers with memory storage (ordered consumers among them)
// on the streams that stay.
func (j *jetStream) dropVolatile() {
	n := len(j.outbox)
	for _, st := range j.streams {
		if st.cfg.Storage == jetstream.MemoryStorage {
			j.deleteStream(st)
			continue
		}
		for _, c := range st.consumers {
			if c.cfg.MemoryStorage {
				c.delete()
			}
		}
	}
	j.outbox = j.outbox[:n]
}
