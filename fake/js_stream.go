package fake

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/subject"
)

// A stream holds its messages in memory, whatever storage type its config names.
type stream struct {
	j       *jetStream
	cfg     jetstream.StreamConfig
	created time.Time

	msgs     seqIndex[*storedMsg] // by sequence
	first    uint64               // sequence of the first message, last+1 when empty
	last     uint64
	lastTime time.Time
	bytes    uint64
	bySubj   map[string]*seqIndex[struct{}] // sequences per subject

	cidx *consumerIndex // the consumers by filter, built again once cgen moves on
	cgen uint64

	dedupe    map[string]dedupeEntry
	dedupeQ   []dedupeItem // the ids in the order they came, from dedupeAt on
	dedupeAt  int
	lastMsgID string

	consumers map[string]*consumer
	subs      []*subscription
	ageTimer  *clockTimer
	ttlTimer  *clockTimer
	ackPrefix []byte  // the start of a stored message's ack, {"stream":NAME,"seq":
	ttls      int     // messages held with a TTL
	ttlq      ttlHeap // when those expire
	tf        streamTransforms

	mirrorLink   *streamLink   // its mirror, or nil
	sourceLinks  []*streamLink // its sources
	linksStarted bool
	sched        *msgSchedules           // nil until a schedule stream stores a message
	atomic       map[string]*atomicBatch // staged atomic batches by id
	fast         map[string]*fastBatch   // open fast batches by id
}

type storedMsg struct {
	subj      string
	hdr, data []byte
	seq       uint64
	ns        int64         // when it was stored, in Unix nanoseconds: time() is its time
	ttl       time.Duration // per-message TTL; 0 for none, -1 for never
}

// time is when m was stored, in UTC. A stored message keeps the instant as a count (8 bytes, not
// a time.Time's 24): a stream of a million holds 16 MB less.
func (m *storedMsg) time() time.Time { return time.Unix(0, m.ns).UTC() }

type dedupeEntry struct {
	seq uint64
	ts  time.Time
}

type dedupeItem struct {
	id string
	dedupeEntry
}

func (st *stream) name() string { return st.cfg.Name }

// size is what the message counts for in the stream's bytes, as the server's stores count it.
func (st *stream) size(m *storedMsg) uint64 {
	if st.cfg.Storage == jetstream.MemoryStorage {
		return uint64(len(m.subj) + len(m.hdr) + len(m.data) + 16)
	}
	if len(m.hdr) == 0 {
		return uint64(22 + len(m.subj) + len(m.data) + 8)
	}
	return uint64(22 + len(m.subj) + 4 + len(m.hdr) + len(m.data) + 8)
}

// subscribe (re)places the stream's internal subscriptions on its subjects.
func (st *stream) subscribe() {
	for _, sub := range st.subs {
		st.j.s.unsubscribeInternal(sub)
	}
	st.subs = st.subs[:0]
	for _, subj := range st.cfg.Subjects {
		st.subs = append(st.subs, st.j.s.subscribeInternal(subj, st.handlePublish))
	}
}

func (st *stream) unsubscribe() {
	for _, sub := range st.subs {
		st.j.s.unsubscribeInternal(sub)
	}
	st.subs = nil
}

// info is the stream's StreamInfo; with filter it includes the message count per subject.
func (st *stream) info(deleted bool, filter string) jetstream.StreamInfo {
	cfg := st.cfg
	cfg.Metadata = withDynamicMetadata(cfg.Metadata)
	mirror, sources := st.linkInfos()
	return jetstream.StreamInfo{
		Mirror:    mirror,
		Sources:   sources,
		Config:    cfg,
		Created:   st.created,
		State:     st.state(deleted, filter),
		Cluster:   &jetstream.ClusterInfo{Leader: st.j.s.opts.name},
		TimeStamp: st.j.s.clock.Now().UTC(),
	}
}

func (st *stream) state(deleted bool, filter string) jetstream.StreamState {
	s := jetstream.StreamState{
		Msgs:        uint64(st.msgs.len()),
		Bytes:       st.bytes,
		FirstSeq:    st.first,
		LastSeq:     st.last,
		Consumers:   len(st.consumers),
		NumSubjects: uint64(len(st.bySubj)),
	}
	if _, m, ok := st.msgs.first(); ok {
		s.FirstTime = m.time()
		s.FirstSeq = m.seq
	}
	if st.last > 0 {
		s.LastTime = st.lastTime
	}
	if st.msgs.len() > 0 {
		s.NumDeleted = int(st.last-s.FirstSeq+1) - st.msgs.len()
	}
	if deleted && s.NumDeleted > 0 {
		next := s.FirstSeq
		for _, m := range st.msgs.from(0) {
			for ; next < m.seq; next++ {
				s.Deleted = append(s.Deleted, next)
			}
			next = m.seq + 1
		}
		for ; next <= st.last; next++ { // deleted at the tail: the last sequence stays
			s.Deleted = append(s.Deleted, next)
		}
	}
	if filter != "" {
		s.Subjects = make(map[string]uint64)
		for subj, seqs := range st.bySubj {
			if subject.Matches(filter, subj) {
				s.Subjects[subj] = uint64(seqs.len())
			}
		}
	}
	return s
}

// purge removes the messages matching filter (all if empty) below seq (if set), keeping the
// newest keep of them (if set). It reports how many went.
func (st *stream) purge(filter string, seq, keep uint64) uint64 {
	var victims []uint64
	if filter == "" && seq == 0 && keep == 0 {
		n := uint64(st.msgs.len())
		st.msgs = seqIndex[*storedMsg]{}
		st.bySubj = make(map[string]*seqIndex[struct{}])
		st.bytes = 0
		st.ttls = 0
		st.ttlq = nil
		st.first = st.last + 1
		st.purgeConsumers("")
		return n
	}
	var selected []*storedMsg
	for _, m := range st.msgs.from(0) {
		if filter != "" && !subject.Matches(filter, m.subj) {
			continue
		}
		selected = append(selected, m)
	}
	if keep > 0 {
		if filter == "" {
			if uint64(len(selected)) <= keep {
				return 0
			}
			selected = selected[:uint64(len(selected))-keep]
		} else {
			// keep applies per subject, as nats-server does for a filter
			per := make(map[string]int)
			for i := len(selected) - 1; i >= 0; i-- {
				m := selected[i]
				if uint64(per[m.subj]) < keep {
					per[m.subj]++
					selected[i] = nil
				}
			}
		}
	}
	for _, m := range selected {
		if m == nil || (seq > 0 && m.seq >= seq) {
			continue
		}
		victims = append(victims, m.seq)
	}
	for _, v := range victims {
		st.remove(v)
	}
	if st.msgs.len() == 0 {
		st.first = st.last + 1
	}
	st.purgeConsumers(filter)
	return uint64(len(victims))
}

// purgeConsumers moves the consumers past a purge, choosing for each where it restarts as
// nats-server does.
func (st *stream) purgeConsumers(filter string) {
	stateFirst := st.first
	fseq := stateFirst
	if filter != "" {
		if m := st.nextMatching(filter, 0); m != nil {
			fseq = m.seq
		} else {
			fseq = 0
		}
	}
	for _, c := range st.consumers {
		start := fseq
		doPurge := filter == "" || c.filterWithin(filter)
		wider := false
		if !doPurge && (len(c.filters) == 0 || c.matchesPattern(filter)) {
			doPurge, wider, start = true, true, stateFirst
		} else if doPurge && filter != "" && !c.filterSubsetOf(filter) {
			wider, start = true, stateFirst
		}
		if doPurge {
			c.purge(start, st.last, wider)
		}
	}
}
