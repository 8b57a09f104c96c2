package fake

import (
	"bytes"
	"slices"
	"strconv"
	"time"
)

func (st *stream) stopTimers() {
	st.ageTimer.Stop()
	st.ttlTimer.Stop()
	st.stopSchedules()
	st.dropBatches(false, false)
	for _, c := range st.consumers {
		c.stopTimers()
	}
}

// expire removes messages older than max age, and those whose TTL has passed.
func (st *stream) expire() {
	now := st.j.s.clock.Now()
	if st.cfg.MaxAge > 0 {
		// The oldest first; Nats-TTL: never outlives MaxAge, as on nats-server.
		var old []*storedMsg
		for _, m := range st.msgs.from(st.first) {
			if now.Sub(m.time()) < st.cfg.MaxAge {
				break
			}
			if m.ttl >= 0 {
				old = append(old, m)
			}
		}
		for _, m := range old {
			st.expireMsg(m)
		}
	}
	if st.ttls == 0 {
		st.ttlq = nil
		return
	}
	var expired []*storedMsg
	for len(st.ttlq) > 0 && st.ttlq[0].at <= now.UnixNano() {
		if m := st.get(st.ttlq.pop().seq); m != nil && m.ttl > 0 {
			expired = append(expired, m)
		}
	}
	slices.SortFunc(expired, func(a, b *storedMsg) int { return cmpUint(a.seq, b.seq) })
	for _, m := range expired {
		st.expireMsg(m)
	}
}

// expireMsg removes a message that aged out or passed its TTL. If it was the last on its
// subject and the stream asks for subject delete markers, a marker takes its place, as
// nats-server's stores do: no marker for a marker (a subject delete marker or a KV purge).
func (st *stream) expireMsg(m *storedMsg) {
	if st.get(m.seq) != m {
		return // gone already, while a marker was stored
	}
	if st.cfg.SubjectDeleteMarkerTTL > 0 && st.subjectCount(m.subj) == 1 && !isDeleteMarker(m.hdr) {
		// As the server does, the marker is stored first and its subject rollup removes the
		// message (so a republished marker's Nats-Last-Sequence is the message's).
		st.deleteMarker(m.subj, "MaxAge")
		if st.get(m.seq) != m {
			return
		}
	}
	st.remove(m.seq)
}

// isDeleteMarker reports whether a stored header marks a subject's deletion (nats-server's
// isSubjectDeleteMarker).
func isDeleteMarker(hdr []byte) bool {
	if v, ok := hdrGet(hdr, "Nats-Marker-Reason"); ok && v != "" {
		return true
	}
	v, _ := hdrGet(hdr, "KV-Operation")
	return v == "PURGE"
}

// deleteMarker stores the marker nats-server leaves when the last message on a subject goes:
// the reason, the stream's marker TTL in whole seconds, and a subject rollup.
func (st *stream) deleteMarker(subj, reason string) {
	ttl := st.cfg.SubjectDeleteMarkerTTL.Truncate(time.Second).String()
	hdr := appendHeaders(nil, "Nats-Marker-Reason", reason, "Nats-TTL", ttl, "Nats-Rollup", "sub")
	st.ingestMsg(subj, hdr, nil, true)
}

// scheduleAge sets the timer for the next message to age out.
func (st *stream) scheduleAge() {
	st.ageTimer.Stop()
	st.ageTimer = nil
	if st.cfg.MaxAge <= 0 {
		return
	}
	var first *storedMsg
	for _, m := range st.msgs.from(st.first) {
		if m.ttl >= 0 {
			first = m
			break
		}
	}
	if first == nil {
		return
	}
	due := first.time().Add(st.cfg.MaxAge).Sub(st.j.s.clock.Now())
	st.ageTimer = st.j.s.clock.AfterFunc(max(due, 0), st.onTimer)
}

func (st *stream) scheduleTTL() {
	st.ttlTimer.Stop()
	st.ttlTimer = nil
	if st.ttls == 0 {
		st.ttlq = nil
		return
	}
	if len(st.ttlq) > 2*st.ttls+64 {
		st.ttlq.keep(func(it ttlItem) bool { return st.get(it.seq) != nil })
	}
	for len(st.ttlq) > 0 && st.get(st.ttlq[0].seq) == nil {
		st.ttlq.pop()
	}
	if len(st.ttlq) == 0 {
		return
	}
	now := st.j.s.clock.Now()
	next := time.Unix(0, st.ttlq[0].at)
	st.ttlTimer = st.j.s.clock.AfterFunc(max(next.Sub(now), 0), st.onTimer)
}

func (st *stream) onTimer() {
	j := st.j
	j.lock()
	defer j.unlock()
	if j.closed || j.streams[st.name()] != st {
		return
	}
	st.expire()
	st.scheduleAge()
	st.scheduleTTL()
}

// markerTTLFloor raises a message TTL below the stream's marker TTL to it, rewriting Nats-TTL
// in whole seconds, as nats-server does so that no marker is missed. Streams that keep one
// message per subject are exempt.
func (st *stream) markerTTLFloor(hdr []byte, ttl time.Duration) ([]byte, time.Duration) {
	floor := st.cfg.SubjectDeleteMarkerTTL.Truncate(time.Second)
	if ttl <= 0 || ttl >= floor || st.cfg.MaxMsgsPerSubject == 1 {
		return hdr, ttl
	}
	return appendHeaders(withoutHeader(hdr, "Nats-TTL"), "Nats-TTL", strconv.FormatInt(int64(floor/time.Second), 10)), floor
}

// withoutHeader is a header block without the lines of key.
func withoutHeader(hdr []byte, key string) []byte {
	var out []byte
	for i, line := range bytes.SplitAfter(hdr, []byte("\r\n")) {
		if i > 0 && len(line) > len(key) && string(line[:len(key)]) == key && line[len(key)] == ':' {
			continue
		}
		out = append(out, line...)
	}
	return out
}
