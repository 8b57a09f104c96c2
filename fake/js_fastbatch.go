package fake

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Fast batch publish (a stream with allow_batched): each message of a batch is stored as it
// comes, checked on its own, and the batch is told by its reply subject,
// <prefix>.<id>.<flow>.<gap mode>.<batch seq>.<op>.$FI, with op 0 start, 1 append, 2 commit,
// 3 commit by an end-of-batch marker (not stored) and 4 ping. The stream answers on that reply
// with flow acks ({"type":"ack"}) every so many messages, gaps ({"type":"gap"}), per-message
// errors ({"type":"err"}) and, at the end, the batch's publish ack. The flow, the gap and error
// handling and the limits are nats-server's (processJetStreamFastBatchMsg and the fastBatch
// methods) for a stream with one replica, where every message is stored before the next.

const (
	fastInflightPerStream = 1000
	fastInflightTotal     = 50_000
	fastMaxAckMessages    = 500
)

const (
	fastOpStart = iota
	fastOpAppend
	fastOpCommit
	fastOpCommitEOB
	fastOpPing
)

// fastReq is what a fast batch message's reply subject says.
type fastReq struct {
	id     string
	seq    uint64
	flow   uint16
	ping   bool
	gapOk  bool
	commit bool
	eob    bool
}

// fastBatch is an open fast batch: lseq the last batch sequence taken, pseq the last stored,
// fseq the one the last flow ack named, sseq the stream sequence of the last stored message.
type fastBatch struct {
	timer                  *clockTimer
	lseq, pseq, fseq, sseq uint64
	ackMessages, maxAck    uint16
	gapOk                  bool
}

// parseFastBatch reads a fast batch reply subject as nats-server's getFastBatch does: nil and
// false for a reply that is not one, nil and true for one with the suffix that is malformed.
func parseFastBatch(reply string) (*fastReq, bool) {
	n := len(reply)
	if n <= 4 || !strings.HasSuffix(reply, ".$FI") {
		return nil, false
	}
	rest := reply[:n-4]
	token := func() (string, bool) {
		o := strings.LastIndexByte(rest, '.')
		if o < 0 {
			return "", false
		}
		t := rest[o+1:]
		rest = rest[:o]
		return t, true
	}
	opText, ok := token()
	if !ok {
		return nil, true
	}
	op := parseServerInt(opText)
	if op < fastOpStart || op > fastOpPing {
		return nil, true
	}
	r := &fastReq{ping: op == fastOpPing, eob: op == fastOpCommitEOB}
	r.commit = r.eob || op == fastOpCommit
	seqText, ok := token()
	if !ok {
		return nil, true
	}
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil || seq == 0 || seq == math.MaxUint64 || seqText[0] == '+' {
		return nil, true
	}
	r.seq = seq
	if (seq == 1 && r.eob) || (op == fastOpStart && seq != 1) || (op == fastOpAppend && seq <= 1) {
		return nil, true
	}
	gap, ok := token()
	if !ok || (gap != "fail" && gap != "ok") {
		return nil, true
	}
	r.gapOk = gap == "ok"
	flowText, ok := token()
	if !ok {
		return nil, true
	}
	switch a := parseServerInt(flowText); {
	case a <= 0:
		r.flow = 10
	case a > math.MaxUint16:
		r.flow = math.MaxUint16
	default:
		r.flow = uint16(a)
	}
	o := strings.LastIndexByte(rest, '.')
	if o < 0 {
		return nil, true
	}
	r.id = rest[o+1:]
	return r, false
}

// parseServerInt is nats-server's parseInt64: the decimal digits of s, -1 if s is empty, has
// anything else or overflows.
func parseServerInt(s string) int64 {
	if s == "" {
		return -1
	}
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return -1
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// fastCount is how many fast batches are open on the server.
func (j *jetStream) fastCount() int {
	n := 0
	for _, st := range j.streams {
		n += len(st.fast)
	}
	return n
}

func (st *stream) dropFast(id string) {
	if b, ok := st.fast[id]; ok {
		b.timer.Stop()
		delete(st.fast, id)
	}
}

// fastTimedOut drops a batch that went quiet for the batch timeout.
func (st *stream) fastTimedOut(id string, b *fastBatch) {
	j := st.j
	j.lock()
	defer j.unlock()
	if !j.closed && j.streams[st.name()] == st && st.fast[id] == b {
		delete(st.fast, id)
	}
}

// initFlow sets how often the batch is acknowledged: as often as its publisher asks, up to
// 500 messages, when it is the stream's only fast batch, and every message otherwise.
func (st *stream) initFlow(b *fastBatch) {
	b.ackMessages = min(fastMaxAckMessages, b.maxAck)
	if len(st.fast) > 1 {
		b.ackMessages = 1
	}
}

type fastFlowAck struct {
	Type     string `json:"type"`
	Sequence uint64 `json:"seq"`
	Messages uint16 `json:"msgs"`
}

type fastFlowGap struct {
	Type     string `json:"type"`
	Expected uint64 `json:"last_seq"`
	Sequence uint64 `json:"seq"`
}

type fastFlowErr struct {
	Type     string    `json:"type"`
	Sequence uint64    `json:"seq"`
	Error    *apiError `json:"error"`
}

// fastSend sends one of the batch's flow messages to its reply subject.
func (st *stream) fastSend(to string, queued int, v any) {
	if to == "" {
		return
	}
	b, _ := json.Marshal(v)
	st.batchReply(to, queued, b)
}

// flowAck sends the batch's flow ack for what it has stored.
func (st *stream) flowAck(b *fastBatch, to string, queued int) {
	st.fastSend(to, queued, fastFlowAck{Type: "ack", Sequence: b.fseq, Messages: b.ackMessages})
}

// checkFlow sends a flow ack once the batch has stored ackMessages more messages since the last,
// speeding the publisher up or slowing it down as the stream's open batches share 500.
func (st *stream) checkFlow(b *fastBatch, to string, queued int) bool {
	am := uint64(b.ackMessages)
	if b.pseq < b.fseq+am {
		return false
	}
	b.fseq += (b.pseq - b.fseq) / am * am
	limit := uint16(max(fastMaxAckMessages/len(st.fast), 1))
	limit = min(limit, b.maxAck)
	switch {
	case b.ackMessages < limit:
		b.ackMessages = min(b.ackMessages*2, limit)
	case b.ackMessages > limit:
		b.ackMessages = max(b.ackMessages/2, limit)
	}
	st.flowAck(b, to, queued)
	return true
}

// fastCommit ends the batch with its publish ack for what it stored.
func (st *stream) fastCommit(b *fastBatch, id, to string, queued int) {
	st.dropFast(id)
	st.batchReply(to, queued, st.batchAck(b.sseq, id, b.lseq))
}

// handleFast takes a message of a fast batch (r nil for a malformed reply). j.mu is held.
func (st *stream) handleFast(r *fastReq, m *message) {
	queued := len(st.j.outbox)
	fail := func(e *apiError) { st.batchErr(m.reply, queued, e) }
	hdr := m.hdr
	switch {
	case st.cfg.Sealed:
		fail(jsStreamSealedErr.err())
		return
	case st.cfg.MaxMsgSize >= 0 && len(hdr)+len(m.data) > int(st.cfg.MaxMsgSize):
		fail(jsStreamMessageExceedsMaximumErr.err())
		return
	case !st.cfg.AllowBatchPublish:
		fail(jsBatchPublishDisabledErr.err())
		return
	case r == nil:
		fail(jsBatchPublishInvalidPatternErr.err())
		return
	case len(r.id) > batchIDMaxLen:
		fail(jsBatchPublishInvalidBatchIDErr.err())
		return
	}
	id := r.id
	b, ok := st.fast[id]
	if ok && !b.timer.Stop() {
		delete(st.fast, id) // its timeout came while this message waited: the batch went first
		b, ok = nil, false
	}
	if !ok {
		if r.seq != 1 || r.ping {
			fail(jsBatchPublishUnknownBatchIDErr.err())
			return
		}
		if len(st.fast)+1 > fastInflightPerStream || st.j.fastCount()+1 > fastInflightTotal {
			fail(jsBatchPublishTooManyInflight.err())
			return
		}
		b = &fastBatch{gapOk: r.gapOk, maxAck: r.flow}
		if st.fast == nil {
			st.fast = make(map[string]*fastBatch)
		}
		st.fast[id] = b
		st.initFlow(b)
	}
	// the batch waits another timeout for its next message, unless this one ends it
	b.timer = nil
	defer func() {
		if st.fast[id] == b && b.timer == nil {
			b.timer = st.j.s.clock.AfterFunc(batchTimeout, func() { st.fastTimedOut(id, b) })
		}
	}()
	if _, ok := hdrGet(hdr, "Nats-Required-Api-Level"); ok {
		if v := hdrValue(hdr, "Nats-Required-Api-Level"); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n > jsAPILevel {
				delete(st.fast, id)
				fail(jsRequiredApiLevelErr.err())
				return
			}
		}
		hdr = withoutHeader(hdr, "Nats-Required-Api-Level")
	}
	if r.ping {
		if r.seq > b.lseq {
			st.fastSend(m.reply, queued, fastFlowGap{Type: "gap", Expected: b.lseq + 1, Sequence: r.seq + 1})
			if !b.gapOk {
				st.fastCommit(b, id, m.reply, queued)
				return
			}
			b.lseq, b.pseq = r.seq, r.seq
			if st.checkFlow(b, m.reply, queued) {
				return
			}
		}
		st.flowAck(b, m.reply, queued)
		return
	}
	b.lseq++
	if b.lseq != r.seq {
		st.fastSend(m.reply, queued, fastFlowGap{Type: "gap", Expected: b.lseq, Sequence: r.seq})
		if !b.gapOk || r.seq < b.lseq {
			b.lseq--
			st.fastCommit(b, id, m.reply, queued)
			return
		}
		b.lseq = r.seq
	}
	if r.eob {
		b.lseq--
		b.pseq = b.lseq
		st.fastCommit(b, id, m.reply, queued)
		return
	}
	if r.seq == 1 && !r.commit {
		st.flowAck(&fastBatch{ackMessages: b.ackMessages}, m.reply, queued)
	}
	now := st.j.s.clock.Now().UTC()
	c, dupSeq, e := st.checkStaged(&batchDiff{}, stagedMsg{subj: m.subject, hdr: hdr, data: m.data}, st.last, now)
	if e != nil {
		dup := e.ErrCode == jsAtomicPublishContainsDuplicateMessageErr.errCode
		if dup {
			b.pseq = r.seq
			st.checkFlow(b, m.reply, queued)
			if !r.commit {
				return
			}
		}
		if !b.gapOk && b.lseq == 1 {
			delete(st.fast, id)
			if dup && dupSeq > 0 {
				st.batchReply(m.reply, queued, st.storedAck(dupSeq, fmt.Sprintf(`,"duplicate": true,"batch":%q,"count":%d}`, id, r.seq)))
				return
			}
			fail(e)
			return
		}
		if !dup {
			st.fastSend(m.reply, queued, fastFlowErr{Type: "err", Sequence: r.seq, Error: e})
		}
		if b.gapOk && !r.commit {
			return
		}
		if !dup {
			b.lseq--
			b.pseq = b.lseq
		}
		st.fastCommit(b, id, m.reply, queued)
		return
	}
	seq, _, e := st.republishing(c.subj, c.hdr, c.data, func() (uint64, bool, *apiError) {
		return st.put(c.subj, c.hdr, c.data, now, c.rollup, c.ttl, nil)
	})
	if e != nil {
		fail(e)
		return
	}
	b.sseq = seq
	b.pseq = b.lseq
	if r.commit {
		st.fastCommit(b, id, m.reply, queued)
		return
	}
	st.checkFlow(b, m.reply, queued)
}
