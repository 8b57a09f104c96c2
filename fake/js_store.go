package fake

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
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
		i := st.index(req.Seq)
		for ; i < len(st.msgs); i++ {
			if subject.Matches(req.NextFor, st.msgs[i].subj) {
				return st.msgs[i]
			}
		}
		return nil
	default:
		return st.get(req.Seq)
	}
}

// index is the position of the first message with sequence >= seq.
func (st *stream) index(seq uint64) int {
	return sort.Search(len(st.msgs), func(i int) bool { return st.msgs[i].seq >= seq })
}

func (st *stream) get(seq uint64) *storedMsg {
	i := st.index(seq)
	if i < len(st.msgs) && st.msgs[i].seq == seq {
		return st.msgs[i]
	}
	return nil
}

// lastMatching is the newest message whose subject matches filter (which may hold wildcards).
func (st *stream) lastMatching(filter string) *storedMsg {
	if !hasWildcard(filter) {
		seqs := st.bySubj[filter]
		if len(seqs) == 0 {
			return nil
		}
		return st.get(seqs[len(seqs)-1])
	}
	for i := len(st.msgs) - 1; i >= 0; i-- {
		if subject.Matches(filter, st.msgs[i].subj) {
			return st.msgs[i]
		}
	}
	return nil
}

type pubAck struct {
	Error     *apiError `json:"error,omitempty"`
	Stream    string    `json:"stream"`
	Sequence  uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate,omitempty"`
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
	seq, dup, e := st.store(m.subject, m.hdr, m.data)
	if m.reply == "" || st.cfg.NoAck {
		return true
	}
	ack := pubAck{Stream: st.name(), Sequence: seq, Duplicate: dup, Error: e}
	b, _ := json.Marshal(ack)
	j.s.sendTo(m.reply, &message{subject: m.reply, data: b})
	return true
}

var errNotStored = errors.New("not stored")

// store applies the header checks and limits and stores a copy of the message.
func (st *stream) store(subj string, hdr, data []byte) (uint64, bool, *apiError) {
	now := st.j.s.clock.Now().UTC()
	if st.cfg.Sealed {
		return 0, false, jsStreamSealedErr.err()
	}
	if st.cfg.MaxMsgSize >= 0 && len(hdr)+len(data) > int(st.cfg.MaxMsgSize) {
		return 0, false, jsStreamMessageExceedsMaximumErr.err()
	}
	var rollup string
	var ttl time.Duration
	if len(hdr) > 0 {
		if v, ok := hdrGet(hdr, "Nats-Expected-Stream"); ok && v != st.name() {
			return 0, false, jsStreamNotMatchErr.err()
		}
		if id, ok := hdrGet(hdr, "Nats-Msg-Id"); ok && id != "" {
			st.pruneDedupe(now)
			if d, ok := st.dedupe[id]; ok {
				return d.seq, true, nil
			}
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Msg-Id"); ok && v != st.lastMsgID {
			return 0, false, jsStreamWrongLastMsgIDErrF.err(st.lastMsgID)
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Sequence"); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n != st.last {
				return 0, false, jsStreamWrongLastSequenceErrF.err(st.last)
			}
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
		if v, ok := hdrGet(hdr, "Nats-Rollup"); ok {
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
		if v, ok := hdrGet(hdr, "Nats-TTL"); ok {
			if !st.cfg.AllowMsgTTL {
				return 0, false, jsMessageTTLDisabledErr.err()
			}
			d, err := parseTTL(v)
			if err != nil {
				return 0, false, jsMessageTTLInvalidErr.err()
			}
			ttl = d
		}
	}
	m := &storedMsg{subj: subj, seq: st.last + 1, ts: now, ttl: ttl}
	if len(hdr) > 0 {
		m.hdr = append([]byte(nil), hdr...)
	}
	m.data = append([]byte(nil), data...)
	size := st.size(m)
	if st.cfg.Discard == jetstream.DiscardNew {
		switch {
		case st.cfg.MaxMsgs > 0 && int64(len(st.msgs)) >= st.cfg.MaxMsgs:
			return 0, false, jsStreamStoreFailedF.err("maximum messages exceeded")
		case st.cfg.MaxBytes > 0 && st.bytes+size > uint64(st.cfg.MaxBytes):
			return 0, false, jsStreamStoreFailedF.err("maximum bytes exceeded")
		case st.cfg.DiscardNewPerSubject && st.cfg.MaxMsgsPerSubject > 0 && int64(len(st.bySubj[subj])) >= st.cfg.MaxMsgsPerSubject:
			return 0, false, jsStreamStoreFailedF.err("maximum messages per subject exceeded")
		}
	}
	if st.cfg.MaxBytes > 0 && size > uint64(st.cfg.MaxBytes) {
		return 0, false, jsStreamStoreFailedF.err("message size exceeds maximum allowed")
	}
	st.msgs = append(st.msgs, m)
	if m.ttl > 0 {
		st.ttls++
	}
	if len(st.msgs) == 1 {
		st.first = m.seq
	}
	st.last = m.seq
	st.lastTime = now
	st.bytes += size
	st.bySubj[subj] = append(st.bySubj[subj], m.seq)
	id, _ := hdrGet(hdr, "Nats-Msg-Id")
	if id != "" {
		st.dedupe[id] = dedupeEntry{seq: m.seq, ts: now}
	}
	st.lastMsgID = id
	switch rollup {
	case "sub":
		seqs := append([]uint64(nil), st.bySubj[subj]...)
		for _, s := range seqs[:len(seqs)-1] {
			st.remove(s)
		}
	case "all":
		for len(st.msgs) > 1 {
			st.remove(st.msgs[0].seq)
		}
	}
	st.enforcePerSubject(subj)
	st.enforceTotals()
	if st.ageTimer == nil || len(st.msgs) == 1 {
		st.scheduleAge()
	}
	if ttl > 0 {
		st.scheduleTTL()
	}
	for _, c := range st.consumers {
		c.stored(m)
	}
	st.j.retentionStored(st, m)
	return m.seq, false, nil
}

func parseTTL(v string) (time.Duration, error) {
	if v == "never" {
		return -1, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, errNotStored
		}
		return d, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, errNotStored
	}
	return time.Duration(n) * time.Second, nil
}

func (st *stream) pruneDedupe(now time.Time) {
	for id, d := range st.dedupe {
		if now.Sub(d.ts) >= st.cfg.Duplicates {
			delete(st.dedupe, id)
		}
	}
}

// remove deletes one message, wherever it is, and tells the consumers.
func (st *stream) remove(seq uint64) bool {
	i := st.index(seq)
	if i >= len(st.msgs) || st.msgs[i].seq != seq {
		return false
	}
	m := st.msgs[i]
	st.msgs = append(st.msgs[:i], st.msgs[i+1:]...)
	st.bytes -= st.size(m)
	if m.ttl > 0 {
		st.ttls--
	}
	seqs := st.bySubj[m.subj]
	if k, ok := slices.BinarySearch(seqs, seq); ok {
		seqs = append(seqs[:k], seqs[k+1:]...)
	}
	if len(seqs) == 0 {
		delete(st.bySubj, m.subj)
	} else {
		st.bySubj[m.subj] = seqs
	}
	if len(st.msgs) == 0 {
		st.first = st.last + 1
	} else {
		st.first = st.msgs[0].seq
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
	for seqs := st.bySubj[subj]; n > 0 && int64(len(seqs)) > n; seqs = st.bySubj[subj] {
		st.remove(seqs[0])
	}
}

// enforceTotals evicts the oldest messages beyond max msgs and bytes, and those aged out.
func (st *stream) enforceTotals() {
	for st.cfg.MaxMsgs > 0 && int64(len(st.msgs)) > st.cfg.MaxMsgs {
		st.remove(st.msgs[0].seq)
	}
	for st.cfg.MaxBytes > 0 && st.bytes > uint64(st.cfg.MaxBytes) && len(st.msgs) > 0 {
		st.remove(st.msgs[0].seq)
	}
	st.expire()
}
