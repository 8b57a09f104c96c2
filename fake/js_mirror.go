package fake

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// A stream's mirror or one of its sources is a link to an origin stream in the same server: it
// takes the origin's messages, those its filters select, in order, under its transforms'
// subjects. nats-server does it with a consumer on the origin whose deliveries the stream stores
// as they come; the fake takes each message as the origin stores it. A mirror keeps the origin's
// sequences and times; a source stores each message anew with a Nats-Stream-Source header. A
// link to an origin that does not exist (yet) retries on the clock, with the server's backoff.

// The server's timing of a link: its consumer's heartbeat, the least time between two attempts
// to set it up, the backoff added per failed attempt and its cap, and the jitter it adds (the
// fake adds the middle of the server's random 100-200ms).
const (
	linkHeartbeat     = time.Second
	linkRetryMin      = 2 * time.Second
	linkRetryBackoff  = 5 * time.Second
	linkRetryMaximum  = 2 * time.Minute
	linkRetryJitter   = 150 * time.Millisecond
	linkStaleInterval = 10 * time.Second
)

// linkedMsg is how a message a link brings in is stored: a mirror's with the origin's sequence
// and time.
type linkedMsg struct {
	mirror bool
	seq    uint64
	ts     time.Time
}

// streamLink is a stream's mirror or one of its sources.
type streamLink struct {
	st     *stream
	src    jetstream.StreamSource
	mirror bool
	iname  string

	filters []string             // origin subjects taken; none for all
	trs     []*subject.Transform // the transform of each filter, nil for none

	sseq      uint64 // the last origin sequence looked at
	stored    uint64 // the last origin sequence stored (a source's info reports it)
	ident     string // the origin's identity when last connected
	origin    *stream
	durable   *consumer // the origin's consumer a durable link takes its messages from
	muted     bool      // a durable link whose consumer delivers elsewhere: it hears nothing
	connected bool
	since     time.Time // when it connected: its heartbeats count from there
	last      time.Time // the last message it brought in
	err       *apiError
	fails     int
	lreq      time.Time // the last attempt to connect
	retry     *clockTimer
	busy      bool
}

// newLink makes the link of src for st.
func newLink(st *stream, src jetstream.StreamSource, mirror bool) *streamLink {
	l := &streamLink{st: st, src: src, mirror: mirror, iname: sourceIName(&src)}
	if len(src.SubjectTransforms) == 0 {
		if src.FilterSubject != "" {
			l.filters = []string{src.FilterSubject}
			l.trs = []*subject.Transform{nil}
		}
		return l
	}
	for _, tc := range src.SubjectTransforms {
		l.filters = append(l.filters, tc.Source)
		var tr *subject.Transform
		if tc.Destination != "" {
			tr, _ = subject.NewTransform(tc.Source, tc.Destination) // checked with the config
		}
		l.trs = append(l.trs, tr)
	}
	return l
}

// links is every link of the stream: its mirror, or its sources.
func (st *stream) allLinks() []*streamLink {
	if st.mirrorLink != nil {
		return []*streamLink{st.mirrorLink}
	}
	return st.sourceLinks
}

// startLinks sets up the links of a new stream, once.
func (st *stream) startLinks() {
	if st.linksStarted {
		return
	}
	st.linksStarted = true
	for _, l := range st.allLinks() {
		l.connect()
	}
}

// makeLinks makes the links of a new stream, which start once it is answered for.
func (st *stream) makeLinks() {
	if m := st.cfg.Mirror; m != nil {
		st.mirrorLink = newLink(st, *m, true)
		st.j.linked++
	}
	for _, src := range st.cfg.Sources {
		st.sourceLinks = append(st.sourceLinks, newLink(st, *src, false))
		st.j.linked++
	}
}

// stopLinks ends the stream's links, for good.
func (st *stream) stopLinks() {
	for _, l := range st.allLinks() {
		l.stop()
	}
	st.mirrorLink, st.sourceLinks = nil, nil
}

func (l *streamLink) stop() {
	l.release()
	l.retry.Stop()
	l.retry = nil
	l.connected, l.origin = false, nil
	l.st.j.linked--
}

// schedule tries to connect again once delay has passed on the clock.
func (l *streamLink) schedule(delay time.Duration) {
	l.retry.Stop()
	l.retry = l.st.j.s.clock.AfterFunc(delay, func() {
		j := l.st.j
		j.lock()
		defer j.unlock()
		if j.closed || j.streams[l.st.name()] != l.st || !l.current() {
			return
		}
		l.retry = nil
		l.connect()
	})
}

// current reports whether l is still one of its stream's links.
func (l *streamLink) current() bool {
	for _, o := range l.st.allLinks() {
		if o == l {
			return true
		}
	}
	return false
}

// retryDelay is how long the server waits before it tries again after a failed attempt.
func (l *streamLink) retryDelay(now time.Time) time.Duration {
	d := max(linkRetryMin-now.Sub(l.lreq), 0)
	d += min(linkRetryBackoff*time.Duration(l.fails*2), linkRetryMaximum)
	return d + linkRetryJitter
}

// connect sets the link up on its origin, or fails with the server's error and retries. An
// external origin (another account or domain) is never reached: the fake has none.
func (l *streamLink) connect() {
	if l.src.External != nil {
		return
	}
	now := l.st.j.s.clock.Now()
	l.lreq = now
	origin := l.st.j.streams[l.src.Name]
	if origin == nil {
		l.err = jsStreamNotFoundErr.err()
		l.fails++
		l.schedule(l.retryDelay(now))
		return
	}
	ident := streamIdentity(origin)
	if l.ident != "" && l.ident != ident { // the origin was made anew: take it from its start
		l.sseq = 0
	}
	if l.src.Consumer != nil && !l.connectDurable(origin, now) {
		return
	}
	l.ident, l.origin = ident, origin
	l.err, l.fails = nil, 0
	l.connected, l.since = true, now
	if l.sseq == 0 && l.durable == nil {
		l.sseq = l.startAfter(origin)
	}
	l.catchUp()
}

// startAfter is the origin sequence a link's first delivery follows: from its start sequence
// or time if it has one; a mirror that holds messages already goes on after its last.
func (l *streamLink) startAfter(origin *stream) uint64 {
	if l.mirror && l.st.last > 0 {
		return l.st.last
	}
	switch {
	case l.src.OptStartSeq > 0:
		return l.src.OptStartSeq - 1
	case l.src.OptStartTime != nil:
		for _, m := range origin.msgs.from(0) {
			if !m.time().Before(*l.src.OptStartTime) {
				return m.seq - 1
			}
		}
		return origin.last
	}
	return 0
}

// originGone is called when a link's origin stream is deleted: the link hears nothing more
// until the server finds it stale and tries again.
func (l *streamLink) originGone() {
	l.connected, l.origin = false, nil
	l.release()
	l.schedule(linkStaleInterval)
}

// takes reports whether the link takes an origin message on subj, and the subject it stores
// it under.
func (l *streamLink) takes(subj string) (string, bool) {
	if len(l.filters) == 0 {
		return subj, true
	}
	for i, f := range l.filters {
		if f == "" || subject.Matches(f, subj) {
			if tr := l.trs[i]; tr != nil {
				if out, err := tr.Match(subj); err == nil {
					return out, true
				}
			}
			return subj, true
		}
	}
	return "", false
}

// catchUp brings in what the origin holds after the last message the link looked at. A
// message the stream refuses (a limit with discard new) stops the link there until the next.
func (l *streamLink) catchUp() {
	if !l.connected || l.busy || l.origin == nil {
		return
	}
	if l.durable != nil {
		l.catchUpDurable()
		return
	}
	if l.muted {
		return
	}
	l.busy = true
	defer func() { l.busy = false }()
	st, origin := l.st, l.origin
	var taken []uint64
	defer func() { st.j.retentionAcked(origin, nil, taken) }()
	for _, m := range origin.msgs.from(l.sseq + 1) {
		subj, ok := l.takes(m.subj)
		if !ok {
			l.sseq = m.seq
			continue
		}
		if e := l.store(subj, m); e != nil {
			return
		}
		taken = append(taken, m.seq)
		l.sseq, l.stored = m.seq, m.seq
		l.last = st.j.s.clock.Now()
	}
	if origin.last > l.sseq {
		l.sseq = origin.last // a mirror skips what the origin no longer holds
	}
}

// store stores origin message m in the link's stream under subj: a mirror's with the origin's
// sequence and time, a source's anew with its Nats-Stream-Source header.
func (l *streamLink) store(subj string, m *storedMsg) *apiError {
	var e *apiError
	if l.mirror {
		_, _, e = l.st.ingestLinked(subj, m.hdr, m.data, &linkedMsg{mirror: true, seq: m.seq, ts: m.time()})
	} else {
		_, _, e = l.st.ingestLinked(subj, l.sourceHeader(m), m.data, &linkedMsg{})
	}
	return e
}

// feedLinks brings the message st just stored to the streams that mirror or source it.
func (j *jetStream) feedLinks(st *stream) {
	if j.linked == 0 {
		return
	}
	for _, other := range j.streams {
		for _, l := range other.allLinks() {
			if l.origin == st {
				l.catchUp()
			}
		}
	}
}

// originDeleted tells the links that take from st that it is gone.
func (j *jetStream) originDeleted(st *stream) {
	if j.linked == 0 {
		return
	}
	for _, other := range j.streams {
		for _, l := range other.allLinks() {
			if l.origin == st {
				l.originGone()
			}
		}
	}
}

// info is the link's StreamSourceInfo as the server reports it.
func (l *streamLink) info() *jetstream.StreamSourceInfo {
	si := &jetstream.StreamSourceInfo{Name: l.src.Name, FilterSubject: l.src.FilterSubject, Active: -1}
	if l.err != nil {
		si.Error = &jetstream.APIError{Code: l.err.Code, ErrorCode: jetstream.ErrorCode(l.err.ErrCode), Description: l.err.Description}
	}
	for i, f := range l.filters {
		if len(l.src.SubjectTransforms) == 0 {
			break
		}
		tc := jetstream.SubjectTransformConfig{Source: f}
		if l.trs[i] != nil {
			tc.Destination = l.src.SubjectTransforms[i].Destination
		}
		si.SubjectTransforms = append(si.SubjectTransforms, tc)
	}
	if ext := l.src.External; ext != nil {
		si.External = &jetstream.ExternalStream{APIPrefix: ext.APIPrefix, DeliverPrefix: ext.DeliverPrefix}
	}
	if !l.mirror {
		si.Seq = l.stored
	}
	now := l.st.j.s.clock.Now()
	heard := l.last
	if l.connected {
		if n := now.Sub(l.since) / linkHeartbeat; n > 0 {
			if hb := l.since.Add(n * linkHeartbeat); hb.After(heard) {
				heard = hb
			}
		}
	}
	if !heard.IsZero() {
		si.Active = now.Sub(heard)
	}
	return si
}

// linkInfos is the stream's mirror and sources info, as the server reports them.
func (st *stream) linkInfos() (*jetstream.StreamSourceInfo, []*jetstream.StreamSourceInfo) {
	if st.mirrorLink != nil {
		return st.mirrorLink.info(), nil
	}
	var out []*jetstream.StreamSourceInfo
	for _, l := range st.sourceLinks {
		out = append(out, l.info())
	}
	return nil, out
}

// streamIdentity is nats-server's identity of a stream: a hash of its creation time.
func streamIdentity(st *stream) string {
	return serverHash(st.created.UTC().Format(time.RFC3339Nano))
}

// serverHash is nats-server's getHash: 8 characters of a base-62 digest.
func serverHash(name string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := sha256.Sum256([]byte(name))
	out := make([]byte, 8)
	for i := range out {
		out[i] = digits[int(b[i]%62)]
	}
	return string(out)
}

// checkMirrorConfig makes nats-server's checks of a mirror that need no other stream, in its
// order.
func checkMirrorConfig(cfg *jetstream.StreamConfig) *apiError {
	m := cfg.Mirror
	if m == nil {
		return nil
	}
	switch {
	case cfg.FirstSeq > 0:
		return jsMirrorWithFirstSeqErr.err()
	case len(cfg.Subjects) > 0:
		return jsMirrorWithSubjectsErr.err()
	case len(cfg.Sources) > 0:
		return jsMirrorWithSourcesErr.err()
	case cfg.AllowMsgCounter:
		return jsMirrorWithCountersErr.err()
	case cfg.AllowAtomicPublish:
		return jsMirrorWithAtomicPublishErr.err()
	case cfg.AllowBatchPublish:
		return jsMirrorWithBatchPublishErr.err()
	case cfg.AllowMsgSchedules:
		return jsMirrorWithMsgSchedulesErr.err()
	}
	if c := m.Consumer; c != nil {
		if !validAssetName(c.Name) || !subject.ValidLiteral(c.DeliverSubject) || m.OptStartSeq != 0 ||
			m.OptStartTime != nil || m.FilterSubject != "" {
			return jsMirrorDurableConsumerCfgInvalid.err()
		}
	}
	if m.FilterSubject != "" && len(m.SubjectTransforms) != 0 {
		return jsMirrorMultipleFiltersNotAllowed.err()
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		return jsStreamInvalidConfigF.err("subject delete markers forbidden on mirrors")
	}
	for i, tr := range m.SubjectTransforms {
		if tr.Source != "" && !subject.ValidPattern(tr.Source) {
			return jsMirrorInvalidSubjectFilter.err(subject.ErrBadSubject.Error() + " " + tr.Source)
		}
		if err := subject.ValidateDestination(tr.Source, tr.Destination); err != nil {
			return jsMirrorInvalidTransformDestination.err(err)
		}
		for k, o := range m.SubjectTransforms {
			if k != i && subjectsCollide(tr.Source, o.Source) {
				return jsMirrorOverlappingSubjectFilters.err()
			}
		}
	}
	if m.External == nil && !validAssetName(m.Name) {
		return jsMirrorInvalidStreamName.err()
	}
	if m.External != nil {
		return checkExternal(m.External)
	}
	return nil
}

// validAssetName is nats-server's isValidAssetName for stream and consumer names.
func validAssetName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch c {
		case '.', '*', '>', ' ', '\t', '\r', '\n', '/', '\\', 0:
			return false
		}
	}
	return true
}

// checkLinkStreams makes the checks of a mirror and sources that look at the other streams:
// message sizes, the mirror's direct gets, and cycles. self is the stream's name.
func (j *jetStream) checkLinkStreams(cfg *jetstream.StreamConfig) *apiError {
	if m := cfg.Mirror; m != nil && m.External == nil {
		if o, ok := j.streams[m.Name]; ok {
			if cfg.MaxMsgSize > 0 && o.cfg.MaxMsgSize > 0 && cfg.MaxMsgSize < o.cfg.MaxMsgSize {
				return jsMirrorMaxMessageSizeTooBigErr.err()
			}
			cfg.MirrorDirect = o.cfg.AllowDirect
		}
	}
	for _, src := range cfg.Sources {
		if src.External != nil {
			continue
		}
		if o, ok := j.streams[src.Name]; ok && cfg.MaxMsgSize > 0 && o.cfg.MaxMsgSize > 0 && cfg.MaxMsgSize < o.cfg.MaxMsgSize {
			return jsSourceMaxMessageSizeTooBigErr.err()
		}
	}
	return j.checkCycle(cfg)
}

// checkCycle is nats-server's cycle check across mirrors and sources.
func (j *jetStream) checkCycle(start *jetstream.StreamConfig) *apiError {
	toVisit := []*jetstream.StreamConfig{start}
	visited := map[string]bool{}
	overlaps := func(subjects []string, filter string) bool {
		if filter == "" {
			return true
		}
		for _, s := range subjects {
			if subjectsCollide(s, filter) {
				return true
			}
		}
		return false
	}
	cycle := jsStreamInvalidConfigF.err("detected cycle")
	for len(toVisit) > 0 {
		cfg := toVisit[0]
		toVisit = toVisit[1:]
		visited[cfg.Name] = true
		for _, src := range cfg.Sources {
			if src.External != nil {
				continue
			}
			if visited[src.Name] {
				if overlaps(cfg.Subjects, src.FilterSubject) {
					return cycle
				}
			} else if o, ok := j.streams[src.Name]; ok {
				c := o.cfg
				toVisit = append(toVisit, &c)
			}
		}
		if m := cfg.Mirror; m != nil && m.External == nil {
			if visited[m.Name] {
				return cycle
			}
			if o, ok := j.streams[m.Name]; ok {
				c := o.cfg
				toVisit = append(toVisit, &c)
			}
		}
	}
	return nil
}

// checkLinkFilters makes the checks nats-server makes of the filters when it adds the stream,
// after the config's: their errors are stream create errors.
func checkLinkFilters(cfg *jetstream.StreamConfig) *apiError {
	bad := func(filter, of string) *apiError {
		return jsStreamCreateErrF.err(errors.New("subject filter '" + filter + "' for the " + of))
	}
	if m := cfg.Mirror; m != nil && len(m.SubjectTransforms) == 0 && m.FilterSubject != "" && !subject.ValidPattern(m.FilterSubject) {
		return bad(m.FilterSubject, "mirror invalid subject")
	}
	for _, src := range cfg.Sources {
		if len(src.SubjectTransforms) == 0 && src.FilterSubject != "" && !subject.ValidPattern(src.FilterSubject) {
			return bad(src.FilterSubject, "source: invalid subject")
		}
	}
	return nil
}

// checkMirrorUpdate is nats-server's rule for a mirror on update: it can go (the stream is
// promoted to a stream of its own) but not change.
func checkMirrorUpdate(cfg, old *jetstream.StreamConfig) *apiError {
	if cfg.Mirror != nil && !reflect.DeepEqual(cfg.Mirror, old.Mirror) {
		return jsStreamMirrorNotUpdatableErr.err()
	}
	return nil
}

// updateLinks moves the stream's links to its updated config: a mirror removed promotes the
// stream; sources kept go on, new ones start and removed ones stop.
func (st *stream) updateLinks() {
	if st.cfg.Mirror == nil && st.mirrorLink != nil {
		st.mirrorLink.stop()
		st.mirrorLink = nil
	}
	keep := make(map[string]*streamLink, len(st.sourceLinks))
	for _, l := range st.sourceLinks {
		keep[l.iname] = l
	}
	var links []*streamLink
	for _, src := range st.cfg.Sources {
		iname := sourceIName(src)
		if l, ok := keep[iname]; ok {
			delete(keep, iname)
			l.src = *src
			links = append(links, l)
			continue
		}
		l := newLink(st, *src, false)
		st.j.linked++
		links = append(links, l)
		defer l.connect()
	}
	for _, l := range keep {
		l.stop()
	}
	st.sourceLinks = links
}

// mirrorFor is a stream that mirrors name with mirror direct gets on, for a direct get of a
// stream that does not answer itself.
func (j *jetStream) mirrorFor(name string) *stream {
	for _, st := range j.streams {
		if st.cfg.MirrorDirect && st.cfg.Mirror != nil && st.cfg.Mirror.Name == name && st.mirrorLink != nil {
			return st
		}
	}
	return nil
}
