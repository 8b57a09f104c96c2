package fake

import (
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// retentionStored drops a message an interest stream has no consumer for: neither one of its
// own (taken says whether one takes it) nor a mirror's or source's.
func (j *jetStream) retentionStored(st *stream, m *storedMsg, taken bool) {
	if st.cfg.Retention != jetstream.InterestPolicy || taken {
		return
	}
	if j.linkInterest(st, m.subj) {
		return
	}
	st.remove(m.seq)
}

// linkInterest reports whether a connected mirror or source takes origin messages on subj,
// through a consumer of its own on st.
func (j *jetStream) linkInterest(st *stream, subj string) bool {
	if j.linked == 0 {
		return false
	}
	for _, other := range j.streams {
		for _, l := range other.allLinks() {
			if l.origin == st && l.connected && l.durable == nil && !l.muted {
				if _, ok := l.takes(subj); ok {
					return true
				}
			}
		}
	}
	return false
}

// retentionAcked removes acked messages from work queue and interest streams: acked by
// consumer by, or taken by a mirror or source (by is nil), whose consumer acks none.
func (j *jetStream) retentionAcked(st *stream, by *consumer, seqs []uint64) {
	switch st.cfg.Retention {
	case jetstream.WorkQueuePolicy:
		for _, seq := range seqs {
			st.remove(seq)
		}
	case jetstream.InterestPolicy:
		for _, seq := range seqs {
			if m := st.get(seq); m != nil && st.allAcked(m) {
				st.remove(seq)
			}
		}
	}
}

// retentionChanged re-checks an interest stream after its consumers changed.
func (j *jetStream) retentionChanged(st *stream) {
	if st.cfg.Retention != jetstream.InterestPolicy {
		return
	}
	var gone []uint64
	for _, m := range st.msgs.from(0) {
		if st.allAcked(m) {
			gone = append(gone, m.seq)
		}
	}
	for _, seq := range gone {
		st.remove(seq)
	}
}

// allAcked reports whether every consumer interested in m has acknowledged it.
func (st *stream) allAcked(m *storedMsg) bool {
	for _, c := range st.consumers {
		if !c.matches(m.subj) {
			continue
		}
		if _, ok := c.pending[m.seq]; ok || m.seq >= c.sseq || inSorted(c.lps, m.seq) {
			return false
		}
	}
	return true
}

func inSorted(seqs []uint64, seq uint64) bool {
	_, ok := slices.BinarySearch(seqs, seq)
	return ok
}

// retentionSwitched applies a stream's change of retention from limits to interest, as
// nats-server does: without consumers every message goes (the sequences go on from the last);
// otherwise each consumer acks again what it acknowledged under limits (up to what it was
// delivered, pending acks aside), which removes a message once no consumer still needs it.
// Messages no consumer's filter matches stay. From interest to limits nothing moves.
func (j *jetStream) retentionSwitched(st *stream, from jetstream.RetentionPolicy) {
	if from != jetstream.LimitsPolicy || st.cfg.Retention != jetstream.InterestPolicy {
		return
	}
	if len(st.consumers) == 0 {
		if st.msgs.len() > 0 {
			st.purge("", 0, 0)
		}
		return
	}
	var gone []uint64
	for _, m := range st.msgs.from(0) {
		acked := false
		for _, c := range st.consumers {
			if _, pending := c.pending[m.seq]; c.matches(m.subj) && m.seq < c.sseq && !pending {
				acked = true
				break
			}
		}
		if acked && st.allAcked(m) {
			gone = append(gone, m.seq)
		}
	}
	for _, seq := range gone {
		st.remove(seq)
	}
}
