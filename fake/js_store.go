package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// find returns the message a get request names, or nil.
func (st *stream) find(req msgGetRequest) *storedMsg {
	switch {
	case req.LastFor != "":
		return st.lastMatching(req.LastFor)
	case req.NextFor != "":
		return st.nextMatching(req.NextFor, req.Seq)
	default:
		return st.get(req.Seq)
	}
}

func (st *stream) get(seq uint64) *storedMsg {
	m, _ := st.msgs.get(seq)
	return m
}

// firstMsg is the oldest message, or nil.
func (st *stream) firstMsg() *storedMsg {
	_, m, _ := st.msgs.first()
	return m
}

// nextMatching is the first message at or after seq whose subject matches filter (which may
// hold wildcards).
func (st *stream) nextMatching(filter string, seq uint64) *storedMsg {
	if !hasWildcard(filter) {
		if seqs := st.bySubj[filter]; seqs != nil {
			if s, _, ok := seqs.nextFrom(seq); ok {
				return st.get(s)
			}
		}
		return nil
	}
	for _, m := range st.msgs.from(seq) {
		if subject.Matches(filter, m.subj) {
			return m
		}
	}
	return nil
}

// lastMatching is the newest message whose subject matches filter (which may hold wildcards).
func (st *stream) lastMatching(filter string) *storedMsg {
	if !hasWildcard(filter) {
		if seqs := st.bySubj[filter]; seqs != nil {
			if s, _, ok := seqs.last(); ok {
				return st.get(s)
			}
		}
		return nil
	}
	for _, m := range st.msgs.backward() {
		if subject.Matches(filter, m.subj) {
			return m
		}
	}
	return nil
}

// subjectCount is how many messages the stream holds on subj.
func (st *stream) subjectCount(subj string) int {
	if seqs := st.bySubj[subj]; seqs != nil {
		return seqs.len()
	}
	return 0
}

// pubAck is a refused publish's ack, as nats-server marshals it; storedAck writes the others.
type pubAck struct {
	Error    *apiError `json:"error,omitempty"`
	Stream   string    `json:"stream"`
	Sequence uint64    `json:"seq"`
}

// handlePublish stores a message published on one of the stream's subjects and acknowledges it
// to its reply subject.
func (st *stream) handlePublish(m *message) bool {
	j := st.j
	j.lock()
	defer j.unlock()
	if j.closed || j.streams[st.name()] != st {
		return false
	}
	if fb, bad := parseFastBatch(m.reply); fb != nil || bad {
		st.handleFast(fb, m)
		return true
	}
	if id := hdrValue(m.hdr, "Nats-Batch-Id"); id != "" {
		st.handleAtomic(id, m)
		return true
	}
	queued := len(j.outbox)
	seq, dup, e := st.ingest(m.subject, m.hdr, m.data)
	if m.reply == "" || st.cfg.NoAck {
		return true
	}
	var b []byte
	switch {
	case e != nil:
		b, _ = json.Marshal(pubAck{Stream: st.name(), Error: e})
	case dup:
		b = st.storedAck(seq, `,"duplicate": true}`)
	case st.cfg.AllowMsgCounter:
		b = st.storedAck(seq, fmt.Sprintf(`,"val":%q}`, st.counterAck(seq)))
	default:
		b = st.storedAck(seq, "}")
	}
	if st.cfg.RePublish != nil && len(j.outbox) > queued { // the server sends a republish before the ack
		j.outbox = append(j.outbox, &message{subject: m.reply, data: b, direct: true})
		return true
	}
	j.s.sendTo(m.reply, &message{subject: m.reply, data: b})
	return true
}

// storedAck is the ack of a message stored (or found a duplicate of) as seq, written as
// nats-server writes every such ack: the stream's name quoted as Go quotes it, the sequence,
// then tail, which closes the object ("}", a duplicate's, a counter's or a batch's fields).
func (st *stream) storedAck(seq uint64, tail string) []byte {
	if st.ackPrefix == nil {
		st.ackPrefix = fmt.Appendf(nil, "{%q:%q,%q:", "stream", st.name(), "seq")
	}
	b := make([]byte, 0, len(st.ackPrefix)+20+len(tail))
	b = append(b, st.ackPrefix...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, tail...)
}

var errNotStored = errors.New("not stored")

// store applies the header checks and limits and stores a copy of the message.
func (st *stream) store(subj string, hdr, data []byte) (uint64, bool, *apiError) {
	return st.storeMsg(subj, hdr, data, false)
}

// storeMsg stores a message; an internal one (a marker the stream leaves itself) is not a
// counter's increment.
func (st *stream) storeMsg(subj string, hdr, data []byte, internal bool) (uint64, bool, *apiError) {
	return st.storeWith(subj, hdr, data, internal, nil)
}

// storeWith stores a message; from is set for one a mirror or source brings in, which the
// stream takes as its origin stored it, without the checks a publish goes through.
func (st *stream) storeWith(subj string, hdr, data []byte, internal bool, from *linkedMsg) (uint64, bool, *apiError) {
	now := st.j.s.clock.Now().UTC()
	if st.cfg.Sealed {
		return 0, false, jsStreamSealedErr.err()
	}
	if st.cfg.MaxMsgSize >= 0 && len(hdr)+len(data) > int(st.cfg.MaxMsgSize) {
		return 0, false, jsStreamMessageExceedsMaximumErr.err()
	}
	var rollup string
	var ttl time.Duration
	var incr *big.Int
	var e *apiError
	if from != nil {
		var dup bool
		if rollup, ttl, dup = st.linkedHeaders(hdr, from, now); dup {
			return 0, true, nil
		}
	} else {
		if incr, e = st.checkIncr(hdr, data); e != nil {
			return 0, false, e
		}
	}
	if len(hdr) > 0 && from == nil {
		if _, ok := hdrGet(hdr, "Nats-Stream-Source"); ok {
			return 0, false, jsMessageSourceHdrNotAllowedErr.err()
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Stream"); ok && v != st.name() {
			return 0, false, jsStreamNotMatchErr.err()
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Subject-Sequence"); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			on := subj
			if s, ok := hdrGet(hdr, "Nats-Expected-Last-Subject-Sequence-Subject"); ok && s != "" {
				on = s
			}
			var have uint64
			if lm := st.lastMatching(on); lm != nil {
				have = lm.seq
			}
			if err != nil || n != have {
				return 0, false, jsStreamWrongLastSequenceErrF.err(have)
			}
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Sequence"); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n != st.last {
				return 0, false, jsStreamWrongLastSequenceErrF.err(st.last)
			}
		}
		if hdr, e = st.checkSchedule(subj, hdr, internal, now); e != nil {
			return 0, false, e
		}
		// As on nats-server, a duplicate is found after the checks above.
		if id, ok := hdrGet(hdr, "Nats-Msg-Id"); ok && id != "" {
			st.pruneDedupe(now)
			if d, ok := st.dedupe[id]; ok && now.Sub(d.ts) < st.cfg.Duplicates {
				return d.seq, true, nil
			}
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Msg-Id"); ok && v != st.lastMsgID {
			return 0, false, jsStreamWrongLastMsgIDErrF.err(st.lastMsgID)
		}
		if v, _ := hdrGet(hdr, "Nats-Rollup"); v != "" {
			v = strings.ToLower(v) // as nats-server reads it
			if !st.cfg.AllowRollup || st.cfg.DenyPurge {
				return 0, false, jsStreamRollupFailedF.err("rollup not permitted")
			}
			switch v {
			case "sub", "all":
				rollup = v
			default:
				return 0, false, jsStreamRollupFailedF.err("rollup value invalid: " + strconv.Quote(v))
			}
		}
		if v, ok := hdrGet(hdr, "Nats-TTL"); ok && v != "" {
			// As on nats-server: a TTL of 0 is none, and one that does not parse is invalid
			// whether or not the stream allows TTLs.
			d, err := parseTTL(v)
			if err == nil && d != 0 && !st.cfg.AllowMsgTTL {
				return 0, false, jsMessageTTLDisabledErr.err()
			}
			if err != nil {
				return 0, false, jsMessageTTLInvalidErr.err()
			}
			ttl = d
		}
		hdr, ttl = st.markerTTLFloor(hdr, ttl)
	}
	if st.cfg.AllowMsgCounter && !internal && from == nil {
		if hdr, data, e = st.applyIncr(subj, incr, hdr); e != nil {
			return 0, false, e
		}
	}
	if st.cfg.AllowMsgCounter && from != nil && !from.mirror {
		if hdr, data, e = st.applySourced(subj, hdr, data); e != nil {
			return 0, false, e
		}
	}
	// What the stream added (a counter's total, a schedule's rollup) counts too.
	if st.cfg.MaxMsgSize >= 0 && len(hdr)+len(data) > int(st.cfg.MaxMsgSize) {
		return 0, false, jsStreamMessageExceedsMaximumErr.err()
	}
	return st.put(subj, hdr, data, now, rollup, ttl, from)
}

// put stores a message whose header checks have passed: rollup is its Nats-Rollup ("sub",
// "all" or "") and ttl its Nats-TTL; from is set for one a mirror or source brings in. What the
// stream's limits refuse is still refused.
func (st *stream) put(subj string, hdr, data []byte, now time.Time, rollup string, ttl time.Duration, from *linkedMsg) (uint64, bool, *apiError) {
	m := &storedMsg{subj: subj, seq: st.last + 1, ns: now.UnixNano(), ttl: ttl}
	if from != nil && from.mirror {
		if from.seq <= st.last {
			return 0, true, nil // had it already
		}
		m.seq, m.ns, now = from.seq, from.ts.UnixNano(), from.ts
	}
	// One allocation holds the headers and the payload.
	buf := make([]byte, len(hdr)+len(data))
	copy(buf, hdr)
	copy(buf[len(hdr):], data)
	if len(hdr) > 0 {
		m.hdr = buf[:len(hdr):len(hdr)]
	}
	if len(data) > 0 {
		m.data = buf[len(hdr):]
	}
	size := st.size(m)
	if st.cfg.Discard == jetstream.DiscardNew {
		switch {
		case st.cfg.MaxMsgs > 0 && int64(st.msgs.len()) >= st.cfg.MaxMsgs:
			return 0, false, jsStreamStoreFailedF.err("maximum messages exceeded")
		case st.cfg.MaxBytes > 0 && st.bytes+size > uint64(st.cfg.MaxBytes):
			return 0, false, jsStreamStoreFailedF.err("maximum bytes exceeded")
		case st.cfg.DiscardNewPerSubject && st.cfg.MaxMsgsPerSubject > 0 && int64(st.subjectCount(subj)) >= st.cfg.MaxMsgsPerSubject:
			return 0, false, jsStreamStoreFailedF.err("maximum messages per subject exceeded")
		}
	}
	if st.cfg.MaxBytes > 0 && size > uint64(st.cfg.MaxBytes) {
		return 0, false, jsStreamStoreFailedF.err("message size exceeds maximum allowed")
	}
	if m.seq > st.last+1 { // a mirror's origin no longer holds the messages between
		st.last = m.seq - 1
		if st.msgs.len() == 0 {
			st.first = m.seq
		}
	}
	st.msgs.push(m.seq, m)
	if m.ttl > 0 {
		st.ttls++
		st.ttlq.push(ttlItem{m.ns + int64(m.ttl), m.seq})
	}
	if st.msgs.len() == 1 {
		st.first = m.seq
	}
	st.last = m.seq
	st.lastTime = now
	st.bytes += size
	seqs := st.bySubj[subj]
	if seqs == nil {
		seqs = &seqIndex[struct{}]{}
		st.bySubj[subj] = seqs
	}
	seqs.push(m.seq, struct{}{})
	id, _ := hdrGet(hdr, "Nats-Msg-Id")
	if id != "" {
		st.dedupe[id] = dedupeEntry{seq: m.seq, ts: now}
		st.dedupeQ = append(st.dedupeQ, dedupeItem{id, dedupeEntry{seq: m.seq, ts: now}})
	}
	st.lastMsgID = id
	switch rollup {
	case "sub":
		for s := range seqs.from(0) {
			if s != m.seq {
				st.remove(s)
			}
		}
	case "all":
		for s := range st.msgs.from(0) {
			if s != m.seq {
				st.remove(s)
			}
		}
	}
	st.scheduleStored(m)
	st.enforcePerSubject(subj)
	st.enforceTotals()
	if st.ageTimer == nil || st.msgs.len() == 1 {
		st.scheduleAge()
	}
	// The TTL timer is set again only when this message expires before it would fire, or
	// when the heap holds twice the messages with a TTL (scheduleTTL then sweeps it).
	if ttl > 0 && (len(st.ttlq) > 2*st.ttls+64 || !st.ttlTimer.dueBy(m.time().Add(m.ttl))) {
		st.scheduleTTL()
	}
	taking := st.consumersFor(m.subj)
	for _, c := range taking {
		c.stored(m)
	}
	taken := len(taking) > 0
	st.doneWithConsumers(taking)
	st.j.retentionStored(st, m, taken)
	st.j.feedLinks(st)
	return m.seq, false, nil
}

// parseTTL reads a Nats-TTL value as nats-server does: "never" (in any case) is -1, a Go
// duration of at least a second counts in whole seconds, and otherwise a number of seconds
// (digits only; 0 is no TTL).
func parseTTL(v string) (time.Duration, error) {
	if strings.ToLower(v) == "never" {
		return -1, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, errNotStored
		}
		return d.Truncate(time.Second), nil
	}
	if v == "" {
		return 0, errNotStored
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, errNotStored
		}
		n = n*10 + int64(v[i]-'0')
	}
	if n < 0 {
		return 0, errNotStored
	}
	return time.Duration(n) * time.Second, nil
}

// pruneDedupe forgets the ids older than the duplicate window, oldest first.
func (st *stream) pruneDedupe(now time.Time) {
	for ; st.dedupeAt < len(st.dedupeQ); st.dedupeAt++ {
		it := st.dedupeQ[st.dedupeAt]
		if now.Sub(it.ts) < st.cfg.Duplicates {
			break
		}
		if d, ok := st.dedupe[it.id]; ok && d.seq == it.seq {
			delete(st.dedupe, it.id)
		}
		st.dedupeQ[st.dedupeAt] = dedupeItem{}
	}
	if st.dedupeAt > len(st.dedupeQ)/2 {
		st.dedupeQ = append(st.dedupeQ[:0], st.dedupeQ[st.dedupeAt:]...)
		st.dedupeAt = 0
	}
}

// remove deletes one message, wherever it is, and tells the consumers.
func (st *stream) remove(seq uint64) bool {
	m, ok := st.msgs.remove(seq)
	if !ok {
		return false
	}
	st.bytes -= st.size(m)
	if m.ttl > 0 {
		st.ttls--
	}
	if seqs := st.bySubj[m.subj]; seqs != nil {
		seqs.remove(seq)
		if seqs.len() == 0 {
			delete(st.bySubj, m.subj)
		}
	}
	if first, _, ok := st.msgs.first(); ok {
		st.first = first
	} else {
		st.first = st.last + 1
	}
	for _, c := range st.consumers {
		c.removed(m)
	}
	return true
}

// enforceLimits evicts the oldest messages beyond max msgs, bytes and msgs per subject.
func (st *stream) enforceLimits() {
	if n := st.cfg.MaxMsgsPerSubject; n > 0 {
		for subj := range st.bySubj {
			st.enforcePerSubject(subj)
		}
	}
	st.enforceTotals()
}

func (st *stream) enforcePerSubject(subj string) {
	n := st.cfg.MaxMsgsPerSubject
	for seqs := st.bySubj[subj]; n > 0 && seqs != nil && int64(seqs.len()) > n; seqs = st.bySubj[subj] {
		first, _, _ := seqs.first()
		st.remove(first)
	}
}

// enforceTotals evicts the oldest messages beyond max msgs and bytes, and those aged out.
func (st *stream) enforceTotals() {
	for st.cfg.MaxMsgs > 0 && int64(st.msgs.len()) > st.cfg.MaxMsgs {
		st.remove(st.firstMsg().seq)
	}
	for st.cfg.MaxBytes > 0 && st.bytes > uint64(st.cfg.MaxBytes) && st.msgs.len() > 0 {
		st.remove(st.firstMsg().seq)
	}
	st.expire()
}
