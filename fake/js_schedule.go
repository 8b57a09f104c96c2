package fake

import (
	"slices"
	"strings"
	"time"

	"github.com/natskit/natskit/internal/schedule"
	"github.com/natskit/natskit/internal/subject"
)

// Message schedules, as nats-server v2.15 runs them on a stream with allow_msg_schedules: a
// message with a Nats-Schedule header is a schedule, the last on its subject (it is stored
// with a subject rollup). When it is due, the stream stores a copy of it (or of the last
// message on its Nats-Schedule-Source) on its Nats-Schedule-Target, without the schedule's
// headers and with Nats-Scheduler and Nats-Schedule-Next; a schedule that does not repeat is
// purged then. Times run on the fake's clock.

const (
	hdrSchedule         = "Nats-Schedule"
	hdrScheduleTimeZone = "Nats-Schedule-Time-Zone"
	hdrScheduleTTL      = "Nats-Schedule-TTL"
	hdrScheduleRollup   = "Nats-Schedule-Rollup"
	hdrScheduleTarget   = "Nats-Schedule-Target"
	hdrScheduleSource   = "Nats-Schedule-Source"
	hdrScheduler        = "Nats-Scheduler"
	hdrScheduleNext     = "Nats-Schedule-Next"
	scheduleNextPurge   = "purge"

	// scheduleMinDelay is the shortest wait nats-server's scheduler sets its timer to.
	scheduleMinDelay = 250 * time.Millisecond
)

// msgSchedules is a stream's schedules by subject.
type msgSchedules struct {
	bySubj   map[string]*schedEntry
	timer    *clockTimer
	deadline time.Time // when the timer fires; zero when not set
	running  bool
}

type schedEntry struct {
	seq      uint64
	at       time.Time
	inflight bool // fired, and its message could not be stored
}

// scheduleLocation is the schedule's time zone: nil without the header, an error when it is
// empty or names no zone.
func scheduleLocation(hdr []byte) (*time.Location, *apiError) {
	tz, ok := hdrGet(hdr, hdrScheduleTimeZone)
	if !ok {
		return nil, nil
	}
	if tz == "" {
		return nil, jsMessageSchedulesTimeZoneInvalidErr.err()
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, jsMessageSchedulesTimeZoneInvalidErr.err()
	}
	return loc, nil
}

// nextSchedule is when the schedule in hdr next fires after ts; zero without one.
func (st *stream) nextSchedule(hdr []byte, ts time.Time) (time.Time, *apiError) {
	if len(hdr) == 0 {
		return time.Time{}, nil
	}
	loc, e := scheduleLocation(hdr)
	if e != nil {
		return time.Time{}, e
	}
	pattern, _ := hdrGet(hdr, hdrSchedule)
	if pattern == "" {
		return time.Time{}, nil
	}
	next, _, ok := schedule.Next(pattern, loc, ts.UnixNano(), st.j.s.clock.Now())
	if !ok {
		return time.Time{}, jsMessageSchedulesPatternInvalidErr.err()
	}
	return next, nil
}

// scheduleTTL is the Nats-Schedule-TTL header, and whether it is a valid message TTL.
func scheduleTTL(hdr []byte) (string, bool) {
	v, _ := hdrGet(hdr, hdrScheduleTTL)
	if v == "" {
		return "", true
	}
	if _, err := parseTTL(v); err != nil {
		return "", false
	}
	return v, true
}

// checkSchedule applies nats-server's checks of the schedule headers of a message published
// on subj, in its order, and returns the header to store: a schedule gets a subject rollup.
// A message the stream's own scheduler produces is not checked.
func (st *stream) checkSchedule(subj string, hdr []byte, produced bool, now time.Time) ([]byte, *apiError) {
	if len(hdr) == 0 || produced {
		return hdr, nil
	}
	allowed := st.cfg.AllowMsgSchedules
	if _, ok := hdrGet(hdr, hdrSchedule); ok {
		// The message TTL is checked before the schedule.
		if v, ok := hdrGet(hdr, "Nats-TTL"); ok && v != "" && !st.cfg.AllowMsgTTL {
			if d, err := parseTTL(v); err == nil && d != 0 {
				return nil, jsMessageTTLDisabledErr.err()
			}
		}
	}
	next, e := st.nextSchedule(hdr, now)
	switch {
	case e != nil && !allowed:
		return nil, jsMessageSchedulesDisabledErr.err()
	case e != nil:
		return nil, e
	case !next.IsZero():
		if e := st.checkScheduleHeaders(subj, hdr); e != nil {
			return nil, e
		}
		switch v, _ := hdrGet(hdr, "Nats-Rollup"); {
		case v == "":
			hdr = appendHeaders(hdr, "Nats-Rollup", "sub")
		case strings.ToLower(v) != "sub":
			return nil, jsMessageSchedulesRollupInvalidErr.err()
		}
	}
	if next, _ := hdrGet(hdr, hdrScheduleNext); next != "" {
		// A client may only name Nats-Schedule-Next to purge a schedule.
		if next != scheduleNextPurge {
			return nil, jsMessageSchedulesSchedulerInvalidErr.err()
		}
		scheduler, _ := hdrGet(hdr, hdrScheduler)
		switch {
		case scheduler == "" || scheduler == subj || !subject.ValidLiteral(scheduler):
			return nil, jsMessageSchedulesSchedulerInvalidErr.err()
		case !allowed:
			return nil, jsMessageSchedulesDisabledErr.err()
		}
		if lm := st.lastMatching(scheduler); lm != nil {
			if v, _ := hdrGet(lm.hdr, hdrSchedule); v == "" {
				return nil, jsMessageSchedulesSchedulerInvalidErr.err()
			}
		}
	} else if v, _ := hdrGet(hdr, hdrScheduler); v != "" {
		return nil, jsMessageSchedulesSchedulerInvalidErr.err()
	}
	return hdr, nil
}

// checkScheduleHeaders checks a schedule's TTL, rollup, target and source.
func (st *stream) checkScheduleHeaders(subj string, hdr []byte) *apiError {
	if !st.cfg.AllowMsgSchedules {
		return jsMessageSchedulesDisabledErr.err()
	}
	ttl, ok := scheduleTTL(hdr)
	if !ok {
		return jsMessageSchedulesTTLInvalidErr.err()
	}
	if v, _ := hdrGet(hdr, hdrScheduleRollup); v != "" && v != "sub" {
		return jsMessageSchedulesRollupInvalidErr.err()
	}
	if ttl != "" && !st.cfg.AllowMsgTTL {
		return jsMessageTTLDisabledErr.err()
	}
	target, _ := hdrGet(hdr, hdrScheduleTarget)
	if target == "" || !subject.ValidLiteral(target) || target == subj {
		return jsMessageSchedulesTargetInvalidErr.err()
	}
	source, _ := hdrGet(hdr, hdrScheduleSource)
	if source != "" && (source == target || source == subj || !subject.ValidLiteral(source)) {
		return jsMessageSchedulesSourceInvalidErr.err()
	}
	if !st.ownsSubject(target) {
		return jsMessageSchedulesTargetInvalidErr.err()
	}
	if source != "" && !st.ownsSubject(source) {
		return jsMessageSchedulesSourceInvalidErr.err()
	}
	return nil
}

// ownsSubject reports whether one of the stream's subjects collides with subj.
func (st *stream) ownsSubject(subj string) bool {
	return slices.ContainsFunc(st.cfg.Subjects, func(s string) bool { return subjectsCollide(s, subj) })
}

// scheduleStored keeps the schedules up to date with a message just stored: a schedule is
// added or replaced, any other message on a schedule's subject ends it, and a produced
// message sets when its schedule fires next or purges it.
func (st *stream) scheduleStored(m *storedMsg) {
	if !st.cfg.AllowMsgSchedules {
		return
	}
	if st.sched == nil {
		st.sched = &msgSchedules{bySubj: make(map[string]*schedEntry)}
	}
	s := st.sched
	scheduler, _ := hdrGet(m.hdr, hdrScheduler)
	if next, e := st.nextSchedule(m.hdr, m.time()); e == nil && !next.IsZero() {
		s.bySubj[m.subj] = &schedEntry{seq: m.seq, at: next}
	} else if scheduler == "" {
		delete(s.bySubj, m.subj)
	}
	switch v, _ := hdrGet(m.hdr, hdrScheduleNext); {
	case v == scheduleNextPurge && scheduler != "":
		if st.cfg.AllowRollup && !st.cfg.DenyPurge {
			st.purge(scheduler, 0, 0)
		}
	case v != "" && scheduler != "":
		if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
			if e := s.bySubj[scheduler]; e != nil {
				e.at, e.inflight = at, false
			}
		}
	}
	st.armSchedules()
}

// armSchedules sets the timer for the next schedule due, no sooner than nats-server's
// scheduler would look, and never later than a timer already set.
func (st *stream) armSchedules() {
	s := st.sched
	if s == nil || s.running {
		return
	}
	var next time.Time
	for subj, e := range s.bySubj {
		if m := st.get(e.seq); m == nil || m.subj != subj {
			delete(s.bySubj, subj) // its schedule message is gone
			continue
		}
		if !e.inflight && (next.IsZero() || e.at.Before(next)) {
			next = e.at
		}
	}
	if next.IsZero() {
		s.timer.Stop()
		s.timer, s.deadline = nil, time.Time{}
		return
	}
	now := st.j.s.clock.Now()
	wait := max(next.Sub(now), scheduleMinDelay)
	deadline := now.Add(wait)
	if s.timer != nil && !s.deadline.IsZero() && deadline.After(s.deadline) {
		return
	}
	s.timer.Stop()
	s.deadline = deadline
	s.timer = st.j.s.clock.AfterFunc(wait, st.onSchedule)
}

func (st *stream) stopSchedules() {
	if st.sched != nil {
		st.sched.timer.Stop()
		st.sched.timer = nil
	}
}

// onSchedule stores the messages of the schedules that are due, in the order of their
// schedule messages.
func (st *stream) onSchedule() {
	j := st.j
	j.lock()
	defer j.unlock()
	s := st.sched
	if j.closed || j.streams[st.name()] != st || s == nil {
		return
	}
	s.running = true
	now := j.s.clock.Now()
	var due []string
	for subj, e := range s.bySubj {
		if !e.inflight && !e.at.After(now) {
			due = append(due, subj)
		}
	}
	slices.SortFunc(due, func(a, b string) int { return cmpUint(s.bySubj[a].seq, s.bySubj[b].seq) })
	type produced struct {
		e         *schedEntry
		target    string
		hdr, data []byte
	}
	var out []produced
	for _, subj := range due {
		e := s.bySubj[subj]
		target, hdr, data, ok := st.produce(subj, e)
		if !ok {
			delete(s.bySubj, subj)
			continue
		}
		e.inflight = true
		out = append(out, produced{e, target, hdr, data})
	}
	for _, p := range out {
		st.ingestMsg(p.target, p.hdr, p.data, true)
	}
	s.running, s.deadline = false, time.Time{}
	st.armSchedules()
}

// produce is the message a due schedule stores, or false when the schedule is gone or no
// longer valid.
func (st *stream) produce(subj string, e *schedEntry) (string, []byte, []byte, bool) {
	m := st.get(e.seq)
	if m == nil || m.subj != subj {
		return "", nil, nil, false
	}
	pattern, _ := hdrGet(m.hdr, hdrSchedule)
	if pattern == "" {
		return "", nil, nil, false
	}
	loc, ae := scheduleLocation(m.hdr)
	if ae != nil {
		return "", nil, nil, false
	}
	next, repeat, ok := schedule.Next(pattern, loc, e.at.UnixNano(), st.j.s.clock.Now())
	if !ok {
		return "", nil, nil, false
	}
	ttl, ok := scheduleTTL(m.hdr)
	if !ok {
		return "", nil, nil, false
	}
	target, _ := hdrGet(m.hdr, hdrScheduleTarget)
	if target == "" {
		return "", nil, nil, false
	}
	rollup, _ := hdrGet(m.hdr, hdrScheduleRollup)
	src := m
	if source, _ := hdrGet(m.hdr, hdrScheduleSource); source != "" {
		if lm := st.lastMatching(source); lm != nil {
			src = lm
		}
	}
	hdr := withoutHeaderPrefix(src.hdr, "Nats-Schedule")
	hdr = withoutHeaderPrefix(hdr, "Nats-Expected-")
	for _, k := range []string{"Nats-Msg-Id", "Nats-TTL", "Nats-Rollup"} {
		hdr = withoutHeaderPrefix(hdr, k+":")
	}
	nextText := scheduleNextPurge
	if repeat {
		nextText = next.Format(time.RFC3339Nano)
	}
	kv := []string{hdrScheduler, subj, hdrScheduleNext, nextText}
	if ttl != "" {
		kv = append(kv, "Nats-TTL", ttl)
	}
	if rollup != "" {
		kv = append(kv, "Nats-Rollup", rollup)
	}
	return target, appendHeaders(hdr, kv...), append([]byte(nil), src.data...), true
}
