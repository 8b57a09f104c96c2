package fake

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/subject"
)

// A stream holds its messages in memory, whatever storage type its config names.
type stream struct {
	j       *jetStream
	cfg     jetstream.StreamConfig
	created time.Time

	msgs     []*storedMsg // ascending by sequence
	first    uint64       // sequence of the first message, last+1 when empty
	last     uint64
	lastTime time.Time
	bytes    uint64
	bySubj   map[string][]uint64 // sequences per subject, ascending

	dedupe    map[string]dedupeEntry
	lastMsgID string

	consumers map[string]*consumer
	subs      []*subscription
	ageTimer  *clockTimer
	ttlTimer  *clockTimer
	ttls      int // messages held with a TTL
}

type storedMsg struct {
	subj      string
	hdr, data []byte
	seq       uint64
	ts        time.Time
	ttl       time.Duration // per-message TTL; 0 for none, -1 for never
}

type dedupeEntry struct {
	seq uint64
	ts  time.Time
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

// ---- configuration ----

const defaultDuplicates = 2 * time.Minute

// normalise fills in defaults as nats-server does and checks what it checks.
func normaliseStreamConfig(cfg *jetstream.StreamConfig) *apiError {
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, ".*> \t\r\n/\\") {
		return errInvalidConfig("stream name is required and can not contain '.', '*', '>'")
	}
	if cfg.MaxMsgs == 0 {
		cfg.MaxMsgs = -1
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = -1
	}
	if cfg.MaxMsgsPerSubject == 0 {
		cfg.MaxMsgsPerSubject = -1
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 {
		cfg.MaxConsumers = -1
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > 1 {
		return jsErr(500, 10074, "replicas > 1 not supported in non-clustered mode")
	}
	if cfg.MaxAge < 0 {
		return errInvalidConfig("max age needs to be >= 0")
	}
	if cfg.Duplicates < 0 {
		return errInvalidConfig("duplicates window can not be negative")
	}
	if cfg.Duplicates == 0 && cfg.Mirror == nil {
		if cfg.MaxAge != 0 && cfg.MaxAge < defaultDuplicates {
			cfg.Duplicates = cfg.MaxAge
		} else {
			cfg.Duplicates = defaultDuplicates
		}
	}
	if cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge {
		return errInvalidConfig("duplicates window can not be larger then max age")
	}
	if cfg.DiscardNewPerSubject && (cfg.Discard != jetstream.DiscardNew || cfg.MaxMsgsPerSubject <= 0) {
		return errInvalidConfig("discard new per subject requires discard new policy to be set")
	}
	if cfg.Mirror != nil || len(cfg.Sources) > 0 {
		return errInvalidConfig("mirrors and sources are not supported by the fake")
	}
	if len(cfg.Subjects) == 0 {
		cfg.Subjects = []string{cfg.Name}
	}
	for _, s := range cfg.Subjects {
		if !subject.ValidPattern(s) {
			return errInvalidConfig("invalid subject")
		}
		if s == ">" && !cfg.NoAck {
			return errInvalidConfig("capturing all subjects requires no-ack to be true")
		}
	}
	for i, a := range cfg.Subjects {
		for _, b := range cfg.Subjects[i+1:] {
			if subjectsCollide(a, b) {
				return errInvalidConfig("duplicate subjects detected")
			}
		}
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		if !cfg.AllowMsgTTL {
			return errInvalidConfig("subject marker requires message TTLs to be enabled")
		}
		if cfg.SubjectDeleteMarkerTTL < time.Second {
			return errInvalidConfig("subject delete marker TTL must be at least 1 second")
		}
	}
	if cfg.AllowMsgCounter || cfg.AllowAtomicPublish || cfg.AllowMsgSchedules || cfg.AllowBatchPublish {
		return errInvalidConfig("counters, atomic and batched publishing and schedules are not supported by the fake")
	}
	setStreamMetadata(cfg)
	return nil
}

// setStreamMetadata records the API level the stream requires, as nats-server does.
func setStreamMetadata(cfg *jetstream.StreamConfig) {
	if cfg.Metadata == nil {
		cfg.Metadata = make(map[string]string)
	}
	delete(cfg.Metadata, "_nats.ver")
	delete(cfg.Metadata, "_nats.level")
	level := 0
	if cfg.AllowMsgTTL || cfg.SubjectDeleteMarkerTTL > 0 {
		level = 1
	}
	cfg.Metadata["_nats.req.level"] = strconv.Itoa(level)
}

// withDynamicMetadata is cfg as the server reports it: with its version and API level.
func withDynamicMetadata(md map[string]string) map[string]string {
	out := make(map[string]string, len(md)+2)
	for k, v := range md {
		out[k] = v
	}
	out["_nats.ver"] = Version
	out["_nats.level"] = strconv.Itoa(jsAPILevel)
	return out
}

// subjectsCollide reports whether some subject matches both patterns.
func subjectsCollide(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == ">" || bt[i] == ">" {
			return true
		}
		if at[i] != "*" && bt[i] != "*" && at[i] != bt[i] {
			return false
		}
	}
	return len(at) == len(bt)
}

// ---- stream API ----

type streamInfoResp struct {
	apiHead
	jetstream.StreamInfo
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func (j *jetStream) streamCreate(reply, name string, body []byte) {
	const typ = "stream_create_response"
	var cfg jetstream.StreamConfig
	if err := decodeRequest(body, &cfg); err != nil {
		j.replyErr(reply, typ, errInvalidJSON(err))
		return
	}
	if cfg.Name != name {
		j.replyErr(reply, typ, errStreamMismatch)
		return
	}
	if e := j.createStream(cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	j.reply(reply, streamInfoResp{apiHead: apiHead{Type: typePrefix + typ}, StreamInfo: j.streams[name].info(false, "")})
}

// createStream makes a stream, or does nothing if an identical one exists.
func (j *jetStream) createStream(cfg jetstream.StreamConfig) *apiError {
	if e := normaliseStreamConfig(&cfg); e != nil {
		return e
	}
	if st, ok := j.streams[cfg.Name]; ok {
		if !reflect.DeepEqual(comparableConfig(cfg), comparableConfig(st.cfg)) {
			return errStreamNameExist
		}
		return nil
	}
	if e := j.checkOverlap(&cfg, ""); e != nil {
		return e
	}
	st := &stream{
		j:         j,
		cfg:       cfg,
		created:   j.s.clock.Now().UTC(),
		bySubj:    make(map[string][]uint64),
		dedupe:    make(map[string]dedupeEntry),
		consumers: make(map[string]*consumer),
	}
	if cfg.FirstSeq > 0 {
		st.first, st.last = cfg.FirstSeq, cfg.FirstSeq-1
	}
	j.streams[cfg.Name] = st
	st.subscribe()
	return nil
}

// comparableConfig is cfg with what does not make two configs differ for an idempotent create.
func comparableConfig(cfg jetstream.StreamConfig) jetstream.StreamConfig {
	cfg.Metadata = maps(cfg.Metadata)
	delete(cfg.Metadata, "_nats.ver")
	delete(cfg.Metadata, "_nats.level")
	if len(cfg.Metadata) == 0 {
		cfg.Metadata = nil
	}
	return cfg
}

func maps(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (j *jetStream) checkOverlap(cfg *jetstream.StreamConfig, self string) *apiError {
	for name, other := range j.streams {
		if name == self {
			continue
		}
		for _, a := range cfg.Subjects {
			for _, b := range other.cfg.Subjects {
				if subjectsCollide(a, b) {
					return errSubjectOverlap
				}
			}
		}
	}
	return nil
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

func (st *stream) stopTimers() {
	st.ageTimer.Stop()
	st.ttlTimer.Stop()
	for _, c := range st.consumers {
		c.stopTimers()
	}
}

func (j *jetStream) streamUpdate(reply, name string, body []byte) {
	const typ = "stream_update_response"
	var cfg jetstream.StreamConfig
	if err := decodeRequest(body, &cfg); err != nil {
		j.replyErr(reply, typ, errInvalidJSON(err))
		return
	}
	if cfg.Name != name {
		j.replyErr(reply, typ, errStreamMismatch)
		return
	}
	st, ok := j.streams[name]
	if !ok {
		j.replyErr(reply, typ, errStreamNotFound)
		return
	}
	if e := normaliseStreamConfig(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	switch {
	case cfg.Storage != st.cfg.Storage:
		j.replyErr(reply, typ, errInvalidConfig("stream configuration update can not change storage type"))
		return
	case cfg.Retention != st.cfg.Retention:
		j.replyErr(reply, typ, errInvalidConfig("stream configuration update can not change retention policy"))
		return
	case st.cfg.Sealed && !cfg.Sealed:
		j.replyErr(reply, typ, errInvalidConfig("stream configuration update can not unseal a sealed stream"))
		return
	case st.cfg.DenyDelete && !cfg.DenyDelete:
		j.replyErr(reply, typ, errInvalidConfig("stream configuration update can not cancel deny message deletes"))
		return
	case st.cfg.DenyPurge && !cfg.DenyPurge:
		j.replyErr(reply, typ, errInvalidConfig("stream configuration update can not cancel deny purge"))
		return
	}
	if e := j.checkOverlap(&cfg, name); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	subjectsChanged := !slices.Equal(cfg.Subjects, st.cfg.Subjects)
	st.cfg = cfg
	if subjectsChanged {
		st.subscribe()
	}
	st.enforceLimits()
	st.scheduleAge()
	for _, c := range st.consumers {
		c.kick()
	}
	j.reply(reply, streamInfoResp{apiHead: apiHead{Type: typePrefix + typ}, StreamInfo: st.info(false, "")})
}

type streamInfoRequest struct {
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
	Offset         int    `json:"offset,omitempty"`
}

const maxSubjectsPerInfo = 100_000

func (j *jetStream) streamInfo(reply, name string, body []byte) {
	const typ = "stream_info_response"
	var req streamInfoRequest
	st, ok := j.streamRequest(reply, typ, name, body, &req)
	if !ok {
		return
	}
	r := streamInfoResp{apiHead: apiHead{Type: typePrefix + typ}, StreamInfo: st.info(req.DeletedDetails, req.SubjectsFilter)}
	if req.SubjectsFilter != "" {
		subjects := r.State.Subjects
		r.Total = len(subjects)
		r.Offset = req.Offset
		r.Limit = maxSubjectsPerInfo
		if req.Offset > 0 {
			keys := make([]string, 0, len(subjects))
			for k := range subjects {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			paged := make(map[string]uint64)
			for _, k := range keys[min(req.Offset, len(keys)):] {
				paged[k] = subjects[k]
			}
			r.State.Subjects = paged
		}
	}
	j.reply(reply, r)
}

// info is the stream's StreamInfo; with filter it includes the message count per subject.
func (st *stream) info(deleted bool, filter string) jetstream.StreamInfo {
	cfg := st.cfg
	cfg.Metadata = withDynamicMetadata(cfg.Metadata)
	return jetstream.StreamInfo{
		Config:    cfg,
		Created:   st.created,
		State:     st.state(deleted, filter),
		Cluster:   &jetstream.ClusterInfo{Leader: st.j.s.opts.name},
		TimeStamp: st.j.s.clock.Now().UTC(),
	}
}

func (st *stream) state(deleted bool, filter string) jetstream.StreamState {
	s := jetstream.StreamState{
		Msgs:        uint64(len(st.msgs)),
		Bytes:       st.bytes,
		FirstSeq:    st.first,
		LastSeq:     st.last,
		Consumers:   len(st.consumers),
		NumSubjects: uint64(len(st.bySubj)),
	}
	if len(st.msgs) > 0 {
		s.FirstTime = st.msgs[0].ts
		s.FirstSeq = st.msgs[0].seq
	}
	if st.last > 0 {
		s.LastTime = st.lastTime
	}
	if len(st.msgs) > 0 {
		s.NumDeleted = int(st.last-s.FirstSeq+1) - len(st.msgs)
	}
	if deleted && s.NumDeleted > 0 {
		next := s.FirstSeq
		for _, m := range st.msgs {
			for ; next < m.seq; next++ {
				s.Deleted = append(s.Deleted, next)
			}
			next = m.seq + 1
		}
	}
	if filter != "" {
		s.Subjects = make(map[string]uint64)
		for subj, seqs := range st.bySubj {
			if subject.Matches(filter, subj) {
				s.Subjects[subj] = uint64(len(seqs))
			}
		}
	}
	return s
}

func (j *jetStream) streamDelete(reply, name string) {
	const typ = "stream_delete_response"
	st, ok := j.streamRequest(reply, typ, name, nil, nil)
	if !ok {
		return
	}
	j.deleteStream(st)
	j.reply(reply, struct {
		apiHead
		Success bool `json:"success"`
	}{apiHead{Type: typePrefix + typ}, true})
}

func (j *jetStream) deleteStream(st *stream) {
	for _, c := range st.consumers {
		c.delete()
	}
	st.unsubscribe()
	st.stopTimers()
	delete(j.streams, st.name())
}

type purgeRequest struct {
	Filter string `json:"filter,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Keep   uint64 `json:"keep,omitempty"`
}

func (j *jetStream) streamPurge(reply, name string, body []byte) {
	const typ = "stream_purge_response"
	var req purgeRequest
	st, ok := j.streamRequest(reply, typ, name, body, &req)
	if !ok {
		return
	}
	if st.cfg.Sealed || st.cfg.DenyPurge {
		j.replyErr(reply, typ, jsErr(500, 10110, "stream purge not permitted"))
		return
	}
	if req.Seq > 0 && req.Keep > 0 {
		j.replyErr(reply, typ, errBadRequest)
		return
	}
	n := st.purge(req.Filter, req.Seq, req.Keep)
	j.reply(reply, struct {
		apiHead
		Success bool   `json:"success"`
		Purged  uint64 `json:"purged"`
	}{apiHead{Type: typePrefix + typ}, true, n})
}

// purge removes the messages matching filter (all if empty) below seq (if set), keeping the
// newest keep of them (if set). It reports how many went.
func (st *stream) purge(filter string, seq, keep uint64) uint64 {
	var victims []uint64
	if filter == "" && seq == 0 && keep == 0 {
		n := uint64(len(st.msgs))
		st.msgs = nil
		st.bySubj = make(map[string][]uint64)
		st.bytes = 0
		st.ttls = 0
		st.first = st.last + 1
		st.purgeConsumers("")
		return n
	}
	var selected []*storedMsg
	for _, m := range st.msgs {
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
	if len(st.msgs) == 0 {
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
		fseq = 0
		for _, m := range st.msgs {
			if subject.Matches(filter, m.subj) {
				fseq = m.seq
				break
			}
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

type namesResp struct {
	apiHead
	Total     int      `json:"total"`
	Offset    int      `json:"offset"`
	Limit     int      `json:"limit"`
	Streams   []string `json:"streams"`
	Consumers []string `json:"consumers,omitempty"`
}

func (j *jetStream) streamNames(reply string, body []byte, list bool) {
	typ, limit := "stream_names_response", 1024
	if list {
		typ, limit = "stream_list_response", 256
	}
	var req pagedRequest
	if len(body) > 0 {
		if err := decodeRequest(body, &req); err != nil {
			j.replyErr(reply, typ, errInvalidJSON(err))
			return
		}
	}
	var names []string
	for name, st := range j.streams {
		if req.Subject != "" {
			hit := false
			for _, s := range st.cfg.Subjects {
				if subjectsCollide(s, req.Subject) {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	total := len(names)
	off := min(req.Offset, len(names))
	names = names[off:]
	if len(names) > limit {
		names = names[:limit]
	}
	if !list {
		if names == nil {
			names = []string{}
		}
		j.reply(reply, namesResp{apiHead: apiHead{Type: typePrefix + typ}, Total: total, Offset: req.Offset, Limit: limit, Streams: names})
		return
	}
	infos := make([]jetstream.StreamInfo, 0, len(names))
	for _, n := range names {
		infos = append(infos, j.streams[n].info(false, ""))
	}
	j.reply(reply, struct {
		apiHead
		Total   int                    `json:"total"`
		Offset  int                    `json:"offset"`
		Limit   int                    `json:"limit"`
		Streams []jetstream.StreamInfo `json:"streams"`
		Missing []string               `json:"missing,omitempty"`
	}{apiHead{Type: typePrefix + typ}, total, req.Offset, limit, infos, nil})
}

// ---- reading messages ----

type msgGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

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

type storedMsgJSON struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

func (j *jetStream) msgGet(reply, name string, body []byte) {
	const typ = "stream_msg_get_response"
	var req msgGetRequest
	st, ok := j.streamRequest(reply, typ, name, body, &req)
	if !ok {
		return
	}
	if (req.Seq > 0 && req.LastFor != "") || (req.Seq == 0 && req.LastFor == "" && req.NextFor == "") || (req.LastFor != "" && req.NextFor != "") {
		j.replyErr(reply, typ, errBadRequest)
		return
	}
	m := st.find(req)
	if m == nil {
		j.replyErr(reply, typ, errNoMessageFound)
		return
	}
	j.reply(reply, struct {
		apiHead
		Message storedMsgJSON `json:"message"`
	}{apiHead{Type: typePrefix + typ}, storedMsgJSON{Subject: m.subj, Sequence: m.seq, Header: m.hdr, Data: m.data, Time: m.ts}})
}

type msgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

func (j *jetStream) msgDelete(reply, name string, body []byte) {
	const typ = "stream_msg_delete_response"
	var req msgDeleteRequest
	st, ok := j.streamRequest(reply, typ, name, body, &req)
	if !ok {
		return
	}
	if st.cfg.Sealed || st.cfg.DenyDelete {
		j.replyErr(reply, typ, jsErr(500, 10057, "message delete not permitted"))
		return
	}
	if st.get(req.Seq) == nil {
		e := jsErr(400, 10043, "sequence "+strconv.FormatUint(req.Seq, 10)+" not found")
		if req.Seq > st.last && st.cfg.Storage == jetstream.FileStorage {
			e = jsErr(500, 10057, "stream store EOF")
		}
		j.replyErr(reply, typ, e)
		return
	}
	st.remove(req.Seq)
	if len(st.msgs) == 0 {
		st.first = st.last + 1
	}
	j.reply(reply, struct {
		apiHead
		Success bool `json:"success"`
	}{apiHead{Type: typePrefix + typ}, true})
}

// directGet answers DIRECT.GET with the stored message itself. Without the stream, or with
// direct gets off, nobody answers.
func (j *jetStream) directGet(reply, name, last string, body, hdr []byte) bool {
	st, ok := j.streams[name]
	if !ok || !st.cfg.AllowDirect {
		return false
	}
	if reply == "" {
		return true
	}
	var req msgGetRequest
	if last != "" {
		if len(body) > 0 {
			j.status(reply, "408 Bad Request")
			return true
		}
		req.LastFor = last
	} else {
		if len(body) == 0 {
			j.status(reply, "408 Empty Request")
			return true
		}
		if err := decodeRequest(body, &req); err != nil {
			j.status(reply, "408 Bad Request")
			return true
		}
		if (req.Seq > 0 && req.LastFor != "") || (req.Seq == 0 && req.LastFor == "" && req.NextFor == "") || (req.LastFor != "" && req.NextFor != "") {
			j.status(reply, "408 Bad Request")
			return true
		}
	}
	m := st.find(req)
	if m == nil {
		j.status(reply, "404 Message Not Found")
		return true
	}
	h := appendHeaders(m.hdr, "Nats-Stream", st.name(), "Nats-Subject", m.subj,
		"Nats-Sequence", strconv.FormatUint(m.seq, 10), "Nats-Time-Stamp", tsString(m.ts))
	j.s.sendTo(reply, &message{subject: reply, hdr: h, data: m.data})
	return true
}

// ---- storing ----

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
		return 0, false, jsErr(400, 10109, "invalid operation on sealed stream")
	}
	if st.cfg.MaxMsgSize >= 0 && len(hdr)+len(data) > int(st.cfg.MaxMsgSize) {
		return 0, false, errMsgTooBig
	}
	var rollup string
	var ttl time.Duration
	if len(hdr) > 0 {
		if v, ok := hdrGet(hdr, "Nats-Expected-Stream"); ok && v != st.name() {
			return 0, false, errStreamNotMatch
		}
		if id, ok := hdrGet(hdr, "Nats-Msg-Id"); ok && id != "" {
			st.pruneDedupe(now)
			if d, ok := st.dedupe[id]; ok {
				return d.seq, true, nil
			}
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Msg-Id"); ok && v != st.lastMsgID {
			return 0, false, jsErr(400, 10070, "wrong last msg ID: "+st.lastMsgID)
		}
		if v, ok := hdrGet(hdr, "Nats-Expected-Last-Sequence"); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n != st.last {
				return 0, false, errWrongLastSeq(st.last)
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
				return 0, false, errWrongLastSeq(have)
			}
		}
		if v, ok := hdrGet(hdr, "Nats-Rollup"); ok {
			if !st.cfg.AllowRollup || st.cfg.DenyPurge {
				return 0, false, jsErr(500, 10111, "rollup not permitted")
			}
			switch v {
			case "sub", "all":
				rollup = v
			default:
				return 0, false, jsErr(500, 10111, "rollup value invalid: "+strconv.Quote(v))
			}
		}
		if v, ok := hdrGet(hdr, "Nats-TTL"); ok {
			if !st.cfg.AllowMsgTTL {
				return 0, false, errTTLDisabled
			}
			d, err := parseTTL(v)
			if err != nil {
				return 0, false, errTTLInvalid
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
			return 0, false, errStoreFailed("maximum messages exceeded")
		case st.cfg.MaxBytes > 0 && st.bytes+size > uint64(st.cfg.MaxBytes):
			return 0, false, errStoreFailed("maximum bytes exceeded")
		case st.cfg.DiscardNewPerSubject && st.cfg.MaxMsgsPerSubject > 0 && int64(len(st.bySubj[subj])) >= st.cfg.MaxMsgsPerSubject:
			return 0, false, errStoreFailed("maximum messages per subject exceeded")
		}
	}
	if st.cfg.MaxBytes > 0 && size > uint64(st.cfg.MaxBytes) {
		return 0, false, errStoreFailed("message size exceeds maximum allowed")
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

// expire removes messages older than max age, and those whose TTL has passed.
func (st *stream) expire() {
	now := st.j.s.clock.Now()
	if st.cfg.MaxAge > 0 {
		for len(st.msgs) > 0 && now.Sub(st.msgs[0].ts) >= st.cfg.MaxAge {
			m := st.msgs[0]
			st.remove(m.seq)
			st.deleteMarker(m, "MaxAge")
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
		st.remove(m.seq)
		st.deleteMarker(m, "MaxAge")
	}
}

// deleteMarker leaves a marker when the last message on a subject ages out, if the stream asks
// for subject delete markers.
func (st *stream) deleteMarker(m *storedMsg, reason string) {
	if st.cfg.SubjectDeleteMarkerTTL <= 0 || len(st.bySubj[m.subj]) > 0 {
		return
	}
	hdr := appendHeaders(nil, "Nats-Marker-Reason", reason, "Nats-TTL", st.cfg.SubjectDeleteMarkerTTL.String())
	st.store(m.subj, hdr, nil)
}

// scheduleAge sets the timer for the next message to age out.
func (st *stream) scheduleAge() {
	st.ageTimer.Stop()
	st.ageTimer = nil
	if st.cfg.MaxAge <= 0 || len(st.msgs) == 0 {
		return
	}
	due := st.msgs[0].ts.Add(st.cfg.MaxAge).Sub(st.j.s.clock.Now())
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

// streamRequest decodes a request's body (if any) into req and finds the stream it names. When
// either fails it answers the request with the server's error, and reports false.
func (j *jetStream) streamRequest(reply, typ, name string, body []byte, req any) (*stream, bool) {
	if req != nil && len(body) > 0 {
		if err := decodeRequest(body, req); err != nil {
			j.replyErr(reply, typ, errInvalidJSON(err))
			return nil, false
		}
	}
	st, ok := j.streams[name]
	if !ok {
		j.replyErr(reply, typ, errStreamNotFound)
	}
	return st, ok
}
