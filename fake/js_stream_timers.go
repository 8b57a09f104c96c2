package fake

import (
	"bytes"
	"strconv"
	"time"
)

func (st *stream) stopTimers() {
	st.ageTimer.Stop()
	st.ttlTimer.Stop()
	for _, c := range st.consumers {
		c.stopTimers()
	}
}

// expire removes messages older than max age, and those whose TTL has passed.
func (st *stream) expire() {
	now := st.j.s.clock.Now()
	if st.cfg.MaxAge > 0 {
		var old []*storedMsg
		for _, m := range st.msgs {
			if now.Sub(m.ts) < st.cfg.MaxAge {
				break
			}
			if m.ttl >= 0 { // Nats-TTL: never outlives MaxAge, as on nats-server
				old = append(old, m)
			}
		}
		for _, m := range old {
			st.expireMsg(m)
		}
	}
	if st.ttls == 0 {
		return
	}
	var expired []*storedMsg
	for _, m := range st.msgs {
		if m.ttl > 0 && now.Sub(m.ts) >= m.ttl {
			expired = append(expired, m)
		}
	}
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
	marker := st.cfg.SubjectDeleteMarkerTTL > 0 && len(st.bySubj[m.subj]) == 1 && !isDeleteMarker(m.hdr)
	st.remove(m.seq)
	if marker {
		st.deleteMarker(m.subj, "MaxAge")
	}
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
	st.store(subj, hdr, nil)
}

// scheduleAge sets the timer for the next message to age out.
func (st *stream) scheduleAge() {
	st.ageTimer.Stop()
	st.ageTimer = nil
	if st.cfg.MaxAge <= 0 {
		return
	}
	i := 0
	for i < len(st.msgs) && st.msgs[i].ttl < 0 {
		i++
	}
	if i == len(st.msgs) {
		return
	}
	due := st.msgs[i].ts.Add(st.cfg.MaxAge).Sub(st.j.s.clock.Now())
	st.ageTimer = st.j.s.clock.AfterFunc(max(due, 0), st.onTimer)
}

func (st *stream) scheduleTTL() {
	st.ttlTimer.Stop()
	st.ttlTimer = nil
	if st.ttls == 0 {
		return
	}
	now := st.j.s.clock.Now()
	var next time.Time
	for _, m := range st.msgs {
		if m.ttl > 0 {
			if at := m.ts.Add(m.ttl); next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	if next.IsZero() {
		return
	}
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
