package fake

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Atomic batch publish (a stream with allow_atomic): a publish carrying Nats-Batch-Id and
// Nats-Batch-Sequence is staged, not stored, and acknowledged with an empty message; the one
// that also carries Nats-Batch-Commit ("1", or "eob" for an end-of-batch marker that is not
// stored) checks every staged message against the stream as one unit and stores all of them
// or none. The commit's ack names the batch and its size. A batch nobody commits is dropped
// after the batch timeout on the server's clock, with a BATCH_ABANDONED advisory. The checks,
// their order and the limits are nats-server's (processJetStreamAtomicBatchMsg and
// checkMsgHeadersPreClusteredProposal) on a single server.

const (
	batchTimeout            = 10 * time.Second
	atomicInflightPerStream = 50
	atomicInflightTotal     = 1000
	atomicMaxSize           = 1000
	batchIDMaxLen           = 64
)

// atomicBatch is a batch staged on a stream until its commit.
type atomicBatch struct {
	msgs  []stagedMsg
	timer *clockTimer
}

// stagedMsg is a message as it came, or as the checks made it for storing.
type stagedMsg struct {
	subj      string // as published; the transformed subject once checked
	hdr, data []byte
	rollup    string
	ttl       time.Duration
}

// batchDiff is what the messages of one batch checked so far change, for the checks of the
// next: the ids, the counters' totals, the subjects written and the per-subject expectations.
type batchDiff struct {
	msgIDs   map[string]bool
	counters map[string]*batchCounter
	inflight map[string]*inflightSubject
	expected map[string]uint64
	ops      uint64
	bytes    uint64
}

type inflightSubject struct{ ops, bytes uint64 }

type batchAbandonedAdvisory struct {
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	Time    time.Time `json:"timestamp"`
	Stream  string    `json:"stream"`
	BatchID string    `json:"batch"`
	Reason  string    `json:"reason"`
}

// adviseBatchAbandoned announces that the stream dropped a batch, for reason "timeout",
// "incomplete", "large" or "unsupported".
func (st *stream) adviseBatchAbandoned(id, reason string) {
	j := st.j
	j.advise("$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED."+st.name(), batchAbandonedAdvisory{
		Type: "io.nats.jetstream.advisory.v1.stream_batch_abandoned", ID: nuid.Next(), Time: j.now(),
		Stream: st.name(), BatchID: id, Reason: reason,
	})
}

// batchReply sends a publish's answer: after anything the publish queued (a republish), or
// straight away.
func (st *stream) batchReply(to string, queued int, data []byte) {
	if to == "" || st.cfg.NoAck {
		return
	}
	j := st.j
	if len(j.outbox) > queued {
		j.outbox = append(j.outbox, &message{subject: to, data: data, direct: true})
		return
	}
	j.s.sendTo(to, &message{subject: to, data: data})
}

// batchErr sends e as a publish's error ack.
func (st *stream) batchErr(to string, queued int, e *apiError) {
	b, _ := json.Marshal(pubAck{Stream: st.name(), Error: e})
	st.batchReply(to, queued, b)
}

// batchAck is the ack of a committed batch: the last message's sequence, the batch and its size.
func (st *stream) batchAck(seq uint64, id string, count uint64) []byte {
	return st.storedAck(seq, fmt.Sprintf(`,"batch":%q,"count":%d}`, id, count))
}

// atomicCount is how many atomic batches are open on the server.
func (j *jetStream) atomicCount() int {
	n := 0
	for _, st := range j.streams {
		n += len(st.atomic)
	}
	return n
}

// dropAtomic forgets a staged batch.
func (st *stream) dropAtomic(id string) {
	if b, ok := st.atomic[id]; ok {
		if b.timer != nil {
			b.timer.Stop()
		}
		delete(st.atomic, id)
	}
}

// dropBatches forgets the batches the stream's config no longer allows (all, when it goes).
func (st *stream) dropBatches(keepAtomic, keepFast bool) {
	if !keepAtomic {
		for id := range st.atomic {
			st.dropAtomic(id)
		}
	}
	if !keepFast {
		for id := range st.fast {
			st.dropFast(id)
		}
	}
}

// handleAtomic takes a message of an atomic batch. j.mu is held.
func (st *stream) handleAtomic(id string, m *message) {
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
	case !st.cfg.AllowAtomicPublish:
		fail(jsAtomicPublishDisabledErr.err())
		return
	case len(id) > batchIDMaxLen:
		fail(jsAtomicPublishInvalidBatchIDErr.err())
		return
	}
	seqText := hdrValue(hdr, "Nats-Batch-Sequence")
	bseq, err := strconv.ParseUint(seqText, 10, 64)
	if seqText == "" || err != nil {
		fail(jsAtomicPublishMissingSeqErr.err())
		return
	}
	var commit, eob, badCommit bool
	if c, ok := hdrGet(hdr, "Nats-Batch-Commit"); ok {
		c = hdrValue(hdr, "Nats-Batch-Commit")
		eob = c == "eob"
		badCommit = !eob && c != "1"
		commit = true
	}
	size := bseq
	if eob {
		size-- // the end-of-batch marker is not a message of the batch
	}
	b, ok := st.atomic[id]
	if ok && !b.timer.Stop() {
		// its timeout came while this message waited: the batch went first
		delete(st.atomic, id)
		st.adviseBatchAbandoned(id, "timeout")
		b, ok = nil, false
	}
	if !ok {
		if bseq != 1 {
			if size > atomicMaxSize {
				fail(jsAtomicPublishTooLargeBatchErrF.err(atomicMaxSize))
				return
			}
			fail(jsAtomicPublishIncompleteBatchErr.err())
			return
		}
		if len(st.atomic)+1 > atomicInflightPerStream || st.j.atomicCount()+1 > atomicInflightTotal {
			fail(jsAtomicPublishTooManyInflight.err())
			return
		}
		b = &atomicBatch{}
		if st.atomic == nil {
			st.atomic = make(map[string]*atomicBatch)
		}
		st.atomic[id] = b
	}
	if badCommit {
		st.dropAtomic(id)
		fail(jsAtomicPublishInvalidBatchCommitErr.err())
		return
	}
	if v, ok := hdrGet(hdr, "Nats-Required-Api-Level"); ok && v != "" {
		if n, err := strconv.Atoi(hdrValue(hdr, "Nats-Required-Api-Level")); err != nil || n > jsAPILevel {
			st.dropAtomic(id)
			st.adviseBatchAbandoned(id, "unsupported")
			fail(jsRequiredApiLevelErr.err())
			return
		}
		hdr = withoutHeader(hdr, "Nats-Required-Api-Level")
	}
	if uint64(len(b.msgs))+1 != bseq || (bseq == 1 && eob) {
		st.dropAtomic(id)
		st.adviseBatchAbandoned(id, "incomplete")
		fail(jsAtomicPublishIncompleteBatchErr.err())
		return
	}
	if size > atomicMaxSize {
		st.dropAtomic(id)
		st.adviseBatchAbandoned(id, "large")
		fail(jsAtomicPublishTooLargeBatchErrF.err(atomicMaxSize))
		return
	}
	if !eob {
		b.msgs = append(b.msgs, stagedMsg{subj: m.subject, hdr: append([]byte(nil), hdr...), data: append([]byte(nil), m.data...)})
	}
	if !commit {
		b.timer = st.j.s.clock.AfterFunc(batchTimeout, func() { st.atomicTimedOut(id, b) })
		st.batchReply(m.reply, queued, nil)
		return
	}
	delete(st.atomic, id)
	st.commitAtomic(id, b.msgs, eob, m.reply, queued)
}

// atomicTimedOut drops a batch nobody committed in time.
func (st *stream) atomicTimedOut(id string, b *atomicBatch) {
	j := st.j
	j.lock()
	defer j.unlock()
	if j.closed || j.streams[st.name()] != st || st.atomic[id] != b {
		return
	}
	delete(st.atomic, id)
	st.adviseBatchAbandoned(id, "timeout")
}

// commitAtomic checks the batch's messages in order and, if all pass, stores them.
// A batch ended by an end-of-batch marker stores its last message with Nats-Batch-Commit: 1.
func (st *stream) commitAtomic(id string, msgs []stagedMsg, eob bool, reply string, queued int) {
	now := st.j.s.clock.Now().UTC()
	diff := &batchDiff{}
	checked := make([]stagedMsg, 0, len(msgs))
	for i, sm := range msgs {
		if hdrValue(sm.hdr, "Nats-Expected-Last-Msg-Id") != "" {
			st.batchErr(reply, queued, jsAtomicPublishUnsupportedHeaderBatchErr.err("Nats-Expected-Last-Msg-Id"))
			return
		}
		c, _, e := st.checkStaged(diff, sm, st.last+uint64(i), now)
		if e != nil {
			st.batchErr(reply, queued, e)
			return
		}
		checked = append(checked, c)
	}
	if last := len(checked) - 1; eob && last >= 0 {
		checked[last].hdr = appendHeaders(checked[last].hdr, "Nats-Batch-Commit", "1")
	}
	var seq uint64
	for _, c := range checked {
		c := c
		s, _, e := st.republishing(c.subj, c.hdr, c.data, func() (uint64, bool, *apiError) {
			return st.put(c.subj, c.hdr, c.data, now, c.rollup, c.ttl, nil)
		})
		if e != nil {
			st.batchErr(reply, queued, e)
			return
		}
		seq = s
	}
	st.batchReply(reply, queued, st.batchAck(seq, id, uint64(len(checked))))
}

// parseExpectedSeq reads an expected sequence as nats-server does: what is not a number
// expects a sequence no stream has.
func parseExpectedSeq(v string) uint64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return math.MaxUint64
	}
	return uint64(n)
}

// checkStaged checks one message of a batch against the stream and what the batch's earlier
// messages change (diff, which it extends), as nats-server's checkMsgHeadersPreClusteredProposal
// does; clseq is the stream's last sequence with those earlier messages stored. It returns the
// message as it is to be stored, or the error; dup is set, with the duplicate's sequence, when
// the error is a duplicate id.
func (st *stream) checkStaged(diff *batchDiff, sm stagedMsg, clseq uint64, now time.Time) (c stagedMsg, dup uint64, e *apiError) {
	subj := st.inputSubject(sm.subj)
	hdr, data := sm.hdr, sm.data
	c = stagedMsg{subj: subj}
	var incr *big.Int
	if len(hdr) > 0 {
		if incr, e = st.checkIncr(hdr, data); e != nil {
			return c, 0, e
		}
		if v := hdrValue(hdr, "Nats-Expected-Stream"); v != "" && v != st.name() {
			return c, 0, jsStreamNotMatchErr.err()
		}
		if _, ok := hdrGet(hdr, "Nats-TTL"); ok {
			if !st.cfg.AllowMsgTTL {
				return c, 0, jsMessageTTLDisabledErr.err()
			}
			d, err := parseTTL(hdrValue(hdr, "Nats-TTL"))
			if err != nil {
				return c, 0, jsMessageTTLInvalidErr.err()
			}
			c.ttl = d
		}
		if id := hdrValue(hdr, "Nats-Msg-Id"); id != "" {
			if diff.msgIDs[id] {
				return c, 0, jsAtomicPublishContainsDuplicateMessageErr.err()
			}
			st.pruneDedupe(now)
			if d, ok := st.dedupe[id]; ok && now.Sub(d.ts) < st.cfg.Duplicates {
				return c, d.seq, jsAtomicPublishContainsDuplicateMessageErr.err()
			}
			if diff.msgIDs == nil {
				diff.msgIDs = make(map[string]bool)
			}
			diff.msgIDs[id] = true
		}
		if hdrValue(hdr, "Nats-Stream-Source") != "" {
			return c, 0, jsMessageSourceHdrNotAllowedErr.err()
		}
	}
	if st.cfg.AllowMsgCounter {
		if incr == nil {
			return c, 0, jsMessageIncrMissingErr.err()
		}
		if hdr, data, e = st.batchIncr(diff, subj, incr, hdr); e != nil {
			return c, 0, e
		}
	}
	if len(hdr) > 0 {
		if v := hdrValue(hdr, "Nats-Expected-Last-Sequence"); v != "" {
			if parseExpectedSeq(v) != clseq {
				return c, 0, jsStreamWrongLastSequenceErrF.err(clseq)
			}
			if len(diff.inflight) > 0 {
				return c, 0, jsStreamWrongLastSequenceConstantErr.err()
			}
		}
		if v := hdrValue(hdr, "Nats-Expected-Last-Subject-Sequence"); v != "" {
			on := subj
			if s := hdrValue(hdr, "Nats-Expected-Last-Subject-Sequence-Subject"); s != "" {
				on = s
			}
			if _, ok := diff.inflight[on]; ok {
				return c, 0, jsStreamWrongLastSequenceConstantErr.err()
			}
			want := parseExpectedSeq(v)
			have, ok := diff.expected[on]
			if !ok {
				if lm := st.lastMatching(on); lm != nil {
					have = lm.seq
				}
			}
			if want != have {
				return c, 0, jsStreamWrongLastSequenceErrF.err(have)
			}
			if diff.expected == nil {
				diff.expected = make(map[string]uint64)
			}
			diff.expected[on] = have
		} else if hdrValue(hdr, "Nats-Expected-Last-Subject-Sequence-Subject") != "" {
			return c, 0, jsStreamExpectedLastSeqPerSubjectInvalid.err()
		}
		if hdrValue(hdr, "Nats-Schedule") != "" {
			return c, 0, jsMessageSchedulesDisabledErr.err()
		}
		if hdrValue(hdr, "Nats-Schedule-Next") != "" || hdrValue(hdr, "Nats-Scheduler") != "" {
			return c, 0, jsMessageSchedulesSchedulerInvalidErr.err()
		}
		if v := hdrValue(hdr, "Nats-Rollup"); v != "" {
			if !st.cfg.AllowRollup || st.cfg.DenyPurge {
				return c, 0, jsStreamRollupFailedF.err("rollup not permitted")
			}
			switch v {
			case "sub":
				if _, ok := diff.inflight[subj]; ok {
					return c, 0, jsStreamRollupFailedF.err("batch rollup sub invalid")
				}
			case "all":
				if len(diff.inflight) > 0 {
					return c, 0, jsStreamRollupFailedF.err("batch rollup all invalid")
				}
			default:
				return c, 0, jsStreamRollupFailedF.err("rollup value invalid: " + strconv.Quote(v))
			}
			c.rollup = v
		}
		hdr, c.ttl = st.markerTTLFloor(hdr, c.ttl)
	}
	c.hdr, c.data = hdr, data
	size := st.size(&storedMsg{subj: subj, hdr: hdr, data: data})
	if diff.inflight == nil {
		diff.inflight = make(map[string]*inflightSubject)
	}
	in := diff.inflight[subj]
	if in == nil {
		in = &inflightSubject{}
		diff.inflight[subj] = in
	}
	in.ops++
	in.bytes += size
	diff.ops++
	diff.bytes += size
	if st.cfg.Discard == jetstream.DiscardNew {
		switch {
		case st.cfg.MaxMsgs > 0 && uint64(st.msgs.len())+diff.ops > uint64(st.cfg.MaxMsgs):
			return c, 0, jsStreamStoreFailedF.err("maximum messages exceeded")
		case st.cfg.MaxBytes > 0 && st.bytes+diff.bytes > uint64(st.cfg.MaxBytes):
			return c, 0, jsStreamStoreFailedF.err("maximum bytes exceeded")
		case st.cfg.DiscardNewPerSubject && st.cfg.MaxMsgsPerSubject > 0 && c.rollup == "" &&
			uint64(st.subjectCount(subj))+in.ops > uint64(st.cfg.MaxMsgsPerSubject):
			return c, 0, jsStreamStoreFailedF.err("maximum messages per subject exceeded")
		}
	}
	return c, 0, nil
}

// batchIncr is applyIncr for a message of a batch: the total goes on from the batch's
// earlier increments on the subject, and so do the sources' totals.
func (st *stream) batchIncr(diff *batchDiff, subj string, incr *big.Int, hdr []byte) ([]byte, []byte, *apiError) {
	var data []byte
	if prev, ok := diff.counters[subj]; ok {
		total := new(big.Int).Add(prev.total, incr)
		data = fmt.Appendf(nil, "{%q:%q}", "val", total.String())
		if prev.sources != "" {
			hdr = setHeader(hdr, "Nats-Counter-Sources", prev.sources)
		}
		prev.total = total
	} else {
		var e *apiError
		if hdr, data, e = st.applyIncr(subj, incr, hdr); e != nil {
			return nil, nil, e
		}
		var v counterValue
		_ = json.Unmarshal(data, &v)
		total, _ := new(big.Int).SetString(v.Value, 10)
		if diff.counters == nil {
			diff.counters = make(map[string]*batchCounter)
		}
		diff.counters[subj] = &batchCounter{total: total, sources: hdrValue(hdr, "Nats-Counter-Sources")}
	}
	limit := int(st.j.s.opts.maxPayload)
	if st.cfg.MaxMsgSize >= 0 && int(st.cfg.MaxMsgSize) < limit {
		limit = int(st.cfg.MaxMsgSize)
	}
	if len(hdr) > limit || len(data) > limit-len(hdr) {
		return nil, nil, jsStreamMessageExceedsMaximumErr.err()
	}
	return hdr, data, nil
}

type batchCounter struct {
	total   *big.Int
	sources string
}
