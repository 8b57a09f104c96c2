package fake

import "slices"

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
		for m := st.firstMsg(); m != nil && now.Sub(m.ts) >= st.cfg.MaxAge; m = st.firstMsg() {
			st.remove(m.seq)
			st.deleteMarker(m, "MaxAge")
		}
	}
	if st.ttls == 0 {
		st.ttlq = nil
		return
	}
	var expired []*storedMsg
	for len(st.ttlq) > 0 && !now.Before(st.ttlq[0].at) {
		if m := st.get(st.ttlq.pop().seq); m != nil && m.ttl > 0 {
			expired = append(expired, m)
		}
	}
	slices.SortFunc(expired, func(a, b *storedMsg) int { return cmpUint(a.seq, b.seq) })
	for _, m := range expired {
		st.remove(m.seq)
		st.deleteMarker(m, "MaxAge")
	}
}

// deleteMarker leaves a marker when the last message on a subject ages out, if the stream asks
// for subject delete markers.
func (st *stream) deleteMarker(m *storedMsg, reason string) {
	if st.cfg.SubjectDeleteMarkerTTL <= 0 || st.subjectCount(m.subj) > 0 {
		return
	}
	hdr := appendHeaders(nil, "Nats-Marker-Reason", reason, "Nats-TTL", st.cfg.SubjectDeleteMarkerTTL.String())
	st.store(m.subj, hdr, nil)
}

// scheduleAge sets the timer for the next message to age out.
func (st *stream) scheduleAge() {
	st.ageTimer.Stop()
	st.ageTimer = nil
	first := st.firstMsg()
	if st.cfg.MaxAge <= 0 || first == nil {
		return
	}
	due := first.ts.Add(st.cfg.MaxAge).Sub(st.j.s.clock.Now())
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
	next := st.ttlq[0].at
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
