package fake

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/natskit/natskit/internal/subject"
)

// A consumer follows a stream, delivering to pull requests or to a deliver subject, and keeps the
// state nats-server keeps: sequences, pending acks, redelivery counts, ack floors.
type consumer struct {
	st      *stream
	name    string
	cfg     jetstream.ConsumerConfig
	created time.Time
	filters []string // empty for every subject
	covers  bool     // the filters take in every subject of the stream

	dseq      uint64 // last consumer sequence issued
	sseq      uint64 // next stream sequence to look at
	lps       []uint64
	lpsResume uint64

	pending map[uint64]*pendingAck // by stream sequence
	rdc     map[uint64]uint64      // redeliveries so far, by stream sequence
	rdq     []uint64               // due for redelivery, in order

	// the consumer store's view, which consumer info reports
	delivered, ackFloor seqPair
	// the running floors, which decide whether an ack or nak still counts
	adflr, asflr uint64

	history map[uint64]*MessageState // what happened to each message, for inspection

	waiting []*pullRequest

	ackTimer      *clockTimer
	ackDue        time.Time // when ackTimer fires
	inactiveTimer *clockTimer
	lastActive    time.Time // on the server clock, for the inactive threshold
	lastDelivery  time.Time // reported as delivered.last_active
	lastAck       time.Time // reported as ack_floor.last_active
	hb            *realTimer
	lastSent      time.Time // real time of the last push delivery or heartbeat
	pbytes, fcsz  int       // push flow control: bytes sent and not yet cleared, and covered by fcid
	fcid          string    // the flow-control request waiting for the client's answer
	gone          bool
}

type seqPair struct{ c, s uint64 }

type pendingAck struct {
	dseq     uint64 // consumer sequence of the first delivery
	deadline time.Time
}

func (c *consumer) isPush() bool { return c.cfg.DeliverSubject != "" }

func (c *consumer) ackNone() bool { return c.cfg.AckPolicy == jetstream.AckNonePolicy }

func (c *consumer) matches(subj string) bool {
	if len(c.filters) == 0 {
		return true
	}
	for _, f := range c.filters {
		if subject.Matches(f, subj) {
			return true
		}
	}
	return false
}

// ---- create ----

type createConsumerRequest struct {
	Stream string                    `json:"stream_name"`
	Config *jetstream.ConsumerConfig `json:"config"`
	Action string                    `json:"action"`
}

type consumerInfoResp struct {
	apiHead
	jetstream.ConsumerInfo
}

func (j *jetStream) consumerCreate(reply, streamName, name, filter string, body []byte, filterInSubject bool) {
	const typ = "consumer_create_response"
	var req createConsumerRequest
	if err := decodeRequest(body, &req); err != nil {
		j.replyErr(reply, typ, errInvalidJSON(err))
		return
	}
	st, ok := j.streams[streamName]
	if !ok {
		j.replyErr(reply, typ, errStreamNotFound)
		return
	}
	if req.Config == nil {
		j.replyErr(reply, typ, errConsumerCfgMissing)
		return
	}
	if req.Stream != "" && req.Stream != streamName {
		j.replyErr(reply, typ, errStreamMismatch)
		return
	}
	cfg := *req.Config
	if name != "" {
		switch {
		case cfg.Name == "" && cfg.Durable == "":
			cfg.Name = name
		case cfg.Name == "":
			cfg.Name = cfg.Durable
		}
		if cfg.Durable != "" && cfg.Durable != name || cfg.Name != name {
			j.replyErr(reply, typ, jsErr(400, 10132+0, "consumer name in subject does not match durable name in request"))
			return
		}
	}
	if cfg.Durable != "" && cfg.Name != "" && cfg.Durable != cfg.Name {
		j.replyErr(reply, typ, errDurableNameMismatch)
		return
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if filterInSubject {
		if len(cfg.FilterSubjects) > 0 {
			j.replyErr(reply, typ, errMultipleFiltersAPI)
			return
		}
		if cfg.FilterSubject != filter {
			j.replyErr(reply, typ, jsErr(400, 10134+0, "consumer filter subject in subject does not match filter subject in request"))
			return
		}
	}
	if e := st.normaliseConsumer(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if cfg.Name == "" {
		cfg.Name = generateConsumerName()
	}
	if c, ok := st.consumers[cfg.Name]; ok {
		if req.Action == "create" && !sameConsumerConfig(c.cfg, cfg) {
			j.replyErr(reply, typ, errConsumerExists)
			return
		}
		if e := c.update(cfg); e != nil {
			j.replyErr(reply, typ, e)
			return
		}
		j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
		return
	}
	if req.Action == "update" {
		j.replyErr(reply, typ, errConsumerNotExist)
		return
	}
	if st.cfg.MaxConsumers > 0 && len(st.consumers) >= st.cfg.MaxConsumers {
		j.replyErr(reply, typ, jsErr(400, 10026, "maximum consumers limit reached"))
		return
	}
	if e := st.checkWorkQueue(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	c := st.newConsumer(cfg)
	j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
	if c.isPush() {
		j.watchPushInterest()
		c.deliverPush()
	}
}

func generateConsumerName() string {
	n := nuid.Next()
	return n[len(n)-8:]
}

func sameConsumerConfig(a, b jetstream.ConsumerConfig) bool {
	a.Metadata, b.Metadata = stripDynamic(a.Metadata), stripDynamic(b.Metadata)
	return reflect.DeepEqual(a, b)
}

func stripDynamic(md map[string]string) map[string]string {
	out := maps(md)
	delete(out, "_nats.ver")
	delete(out, "_nats.level")
	if len(out) == 0 {
		return nil
	}
	return out
}

// normaliseConsumer fills in the defaults nats-server fills in and checks what it checks.
func (st *stream) normaliseConsumer(cfg *jetstream.ConsumerConfig) *apiError {
	if strings.ContainsAny(cfg.Name, ".*>\\/ \t") || strings.ContainsAny(cfg.Durable, ".*>\\/ \t") {
		return errInvalidConfig("consumer name can not contain '.', '*', '>', '\\', '/'")
	}
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return errDuplicateFilters
	}
	filters := cfg.FilterSubjects
	if cfg.FilterSubject != "" {
		filters = []string{cfg.FilterSubject}
	}
	for i, f := range filters {
		if f == "" {
			return errEmptyFilter
		}
		if !subject.ValidPattern(f) {
			return errInvalidConfig("consumer filter subject is not a valid subject")
		}
		for _, g := range filters[i+1:] {
			if patternSubset(f, g) || patternSubset(g, f) {
				return errOverlappingFilters
			}
		}
	}
	if cfg.DeliverSubject != "" {
		if hasWildcard(cfg.DeliverSubject) {
			return errDeliverWildcards
		}
		if cfg.MaxWaiting != 0 {
			return errPushMaxWaiting
		}
	} else {
		if cfg.IdleHeartbeat > 0 {
			return errHBRequiresPush
		}
		if cfg.FlowControl {
			return errFCRequiresPush
		}
	}
	if cfg.IdleHeartbeat > 0 && cfg.IdleHeartbeat < 100*time.Millisecond {
		return errSmallHeartbeat
	}
	if cfg.MaxAckPending > 0 && cfg.AckPolicy == jetstream.AckNonePolicy {
		return errMaxPendingAckNone
	}
	if cfg.MaxDeliver == 0 || cfg.MaxDeliver < -1 {
		cfg.MaxDeliver = -1
	}
	if len(cfg.BackOff) > 0 && cfg.MaxDeliver != -1 && cfg.MaxDeliver < len(cfg.BackOff) {
		return errMaxDeliverBackoff
	}
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = 512
	}
	if cfg.AckWait == 0 && (cfg.AckPolicy == jetstream.AckExplicitPolicy || cfg.AckPolicy == jetstream.AckAllPolicy) {
		cfg.AckWait = 30 * time.Second
	}
	if len(cfg.BackOff) > 0 {
		cfg.AckWait = cfg.BackOff[0]
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = st.cfg.ConsumerLimits.MaxAckPending
	}
	if cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = st.cfg.ConsumerLimits.InactiveThreshold
	}
	if cfg.MaxAckPending == 0 && cfg.AckPolicy != jetstream.AckNonePolicy {
		cfg.MaxAckPending = 1000
	}
	if cfg.Durable == "" && cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = 5 * time.Second
	}
	switch cfg.DeliverPolicy {
	case jetstream.DeliverLastPerSubjectPolicy:
		if len(filters) == 0 {
			return jsErr(400, 10094, "consumer delivery policy is deliver last per subject, but optional filter subject is not set")
		}
	case jetstream.DeliverByStartSequencePolicy:
		if cfg.OptStartSeq == 0 {
			return errInvalidConfig("consumer delivery policy is deliver by start sequence, but optional start sequence is not set")
		}
	case jetstream.DeliverByStartTimePolicy:
		if cfg.OptStartTime == nil {
			return errInvalidConfig("consumer delivery policy is deliver by start time, but optional start time is not set")
		}
	default:
		if cfg.OptStartSeq != 0 {
			return errInvalidConfig("consumer delivery policy is deliver " + deliverName(cfg.DeliverPolicy) + ", but optional start sequence is also set")
		}
		if cfg.OptStartTime != nil {
			return errInvalidConfig("consumer delivery policy is deliver " + deliverName(cfg.DeliverPolicy) + ", but optional start time is also set")
		}
	}
	if cfg.Metadata == nil {
		cfg.Metadata = make(map[string]string)
	}
	delete(cfg.Metadata, "_nats.ver")
	delete(cfg.Metadata, "_nats.level")
	cfg.Metadata["_nats.req.level"] = "0"
	return nil
}

func deliverName(p jetstream.DeliverPolicy) string {
	b, _ := json.Marshal(p)
	return strings.Trim(string(b), `"`)
}

// checkWorkQueue applies a work queue's rules to a new consumer.
func (st *stream) checkWorkQueue(cfg *jetstream.ConsumerConfig) *apiError {
	if st.cfg.Retention != jetstream.WorkQueuePolicy {
		return nil
	}
	if cfg.AckPolicy != jetstream.AckExplicitPolicy {
		return errWQExplicitAck
	}
	if cfg.DeliverPolicy != jetstream.DeliverAllPolicy {
		return jsErr(400, 10101, "consumer must be deliver all on workqueue stream")
	}
	filters := consumerFilters(*cfg)
	for _, other := range st.consumers {
		if len(filters) == 0 || len(other.filters) == 0 {
			if len(filters) == 0 && len(other.filters) == 0 {
				return errWQMultiUnfiltered
			}
			return errWQNotUnique
		}
		for _, a := range filters {
			for _, b := range other.filters {
				if subjectsCollide(a, b) {
					return errWQNotUnique
				}
			}
		}
	}
	return nil
}

func consumerFilters(cfg jetstream.ConsumerConfig) []string {
	if cfg.FilterSubject != "" {
		return []string{cfg.FilterSubject}
	}
	var out []string
	for _, f := range cfg.FilterSubjects {
		if f != ">" {
			out = append(out, f)
		}
	}
	if len(out) == 0 && len(cfg.FilterSubjects) > 0 {
		return nil
	}
	return out
}

// newConsumer makes a consumer and sets its starting point as nats-server does.
func (st *stream) newConsumer(cfg jetstream.ConsumerConfig) *consumer {
	c := &consumer{
		st:      st,
		name:    cfg.Name,
		cfg:     cfg,
		created: st.j.s.clock.Now().UTC(),
		pending: make(map[uint64]*pendingAck),
		rdc:     make(map[uint64]uint64),
		history: make(map[uint64]*MessageState),
	}
	c.setFilters()
	c.selectStart()
	c.asflr = c.sseq - 1
	c.delivered = seqPair{0, c.sseq - 1}
	c.ackFloor = seqPair{0, c.sseq - 1}
	c.lastActive = st.j.s.clock.Now()
	st.consumers[c.name] = c
	c.scheduleInactive()
	return c
}

func (c *consumer) setFilters() {
	c.filters = consumerFilters(c.cfg)
	c.covers = len(c.filters) == 0
	if !c.covers {
		c.covers = true
		for _, s := range c.st.cfg.Subjects {
			in := false
			for _, f := range c.filters {
				if patternSubset(s, f) {
					in = true
					break
				}
			}
			if !in {
				c.covers = false
				break
			}
		}
	}
}

// patternSubset reports whether every subject matching sub also matches super.
func patternSubset(sub, super string) bool {
	a, b := strings.Split(sub, "."), strings.Split(super, ".")
	for i := range a {
		if i >= len(b) {
			return false
		}
		switch {
		case b[i] == ">":
			return true
		case a[i] == ">":
			return false
		case b[i] == "*":
			continue
		case a[i] == "*" || a[i] != b[i]:
			return false
		}
	}
	return len(a) == len(b)
}

func (c *consumer) selectStart() {
	st := c.st
	first, last := st.first, st.last
	if len(st.msgs) > 0 {
		first = st.msgs[0].seq
	}
	cfg := c.cfg
	if cfg.OptStartSeq == 0 {
		switch cfg.DeliverPolicy {
		case jetstream.DeliverAllPolicy:
			c.sseq = first
		case jetstream.DeliverLastPolicy:
			if len(c.filters) == 0 {
				c.sseq = last
			} else {
				for _, f := range c.filters {
					if m := st.lastMatching(f); m != nil && m.seq > c.sseq {
						c.sseq = m.seq
					}
				}
			}
		case jetstream.DeliverLastPerSubjectPolicy:
			if st.cfg.MaxMsgsPerSubject == 1 {
				c.sseq = first
			} else {
				c.lpsResume = last
				c.lps = st.lastPerSubject(c)
				if len(c.lps) == 0 {
					c.sseq = last
				} else {
					c.sseq = c.lps[0]
				}
			}
		case jetstream.DeliverByStartTimePolicy:
			c.sseq = last + 1
			if cfg.OptStartTime != nil {
				for _, m := range st.msgs {
					if !m.ts.Before(*cfg.OptStartTime) {
						c.sseq = m.seq
						break
					}
				}
			}
		default:
			c.sseq = last + 1
		}
	} else {
		c.sseq = cfg.OptStartSeq
	}
	stateFirst := first
	if len(st.msgs) == 0 && st.last == 0 {
		stateFirst = st.first
	}
	switch {
	case stateFirst == 0 && cfg.OptStartSeq == 0:
		c.sseq = 1
	case c.sseq > last && cfg.OptStartSeq == 0:
		c.sseq = last + 1
	case c.sseq < stateFirst:
		c.sseq = stateFirst
	}
	if c.sseq == 0 {
		c.sseq = 1
	}
}

// lastPerSubject is the sequence of the newest message of each subject the consumer takes, in
// stream order.
func (st *stream) lastPerSubject(c *consumer) []uint64 {
	var seqs []uint64
	for subj, list := range st.bySubj {
		if c.matches(subj) {
			seqs = append(seqs, list[len(list)-1])
		}
	}
	slices.Sort(seqs)
	return seqs
}

// update applies an updated config to an existing consumer.
func (c *consumer) update(cfg jetstream.ConsumerConfig) *apiError {
	old := c.cfg
	fail := func(desc string) *apiError { return jsErr(500, 10012, desc) }
	sameTime := (old.OptStartTime == nil) == (cfg.OptStartTime == nil) &&
		(old.OptStartTime == nil || old.OptStartTime.Equal(*cfg.OptStartTime))
	switch {
	case cfg.DeliverPolicy != old.DeliverPolicy:
		return fail("deliver policy can not be updated")
	case cfg.MemoryStorage != old.MemoryStorage:
		return fail("storage type can not be updated")
	case cfg.OptStartSeq != old.OptStartSeq:
		return fail("start sequence can not be updated")
	case !sameTime:
		return fail("start time can not be updated")
	case cfg.AckPolicy != old.AckPolicy:
		return fail("ack policy can not be updated")
	case cfg.ReplayPolicy != old.ReplayPolicy:
		return fail("replay policy can not be updated")
	case cfg.IdleHeartbeat != old.IdleHeartbeat:
		return fail("heart beats can not be updated")
	case cfg.FlowControl != old.FlowControl:
		return fail("flow control can not be updated")
	case old.DeliverSubject == "" && cfg.DeliverSubject != "":
		return fail("can not update pull consumer to push based")
	case old.DeliverSubject != "" && cfg.DeliverSubject == "":
		return fail("can not update push consumer to pull based")
	case cfg.MaxWaiting != old.MaxWaiting:
		return fail("max waiting can not be updated")
	}
	c.cfg = cfg
	c.setFilters()
	c.kick()
	if c.isPush() {
		c.startHeartbeats()
	}
	return nil
}

// ---- info ----

func (c *consumer) info() jetstream.ConsumerInfo {
	c.dropDeadRequests()
	cfg := c.cfg
	cfg.Metadata = withDynamicMetadata(cfg.Metadata)
	info := jetstream.ConsumerInfo{
		Stream:         c.st.name(),
		Name:           c.name,
		Created:        c.created,
		Config:         cfg,
		Delivered:      jetstream.SequenceInfo{Consumer: c.delivered.c, Stream: c.delivered.s},
		AckFloor:       jetstream.SequenceInfo{Consumer: c.ackFloor.c, Stream: c.ackFloor.s},
		NumAckPending:  len(c.pending),
		NumRedelivered: len(c.rdc),
		NumWaiting:     c.numWaiting(),
		NumPending:     c.numPending(),
		TimeStamp:      c.st.j.s.clock.Now().UTC(),
	}
	if c.delivered == (seqPair{}) {
		info.Delivered = jetstream.SequenceInfo{Consumer: c.dseq, Stream: c.sseq - 1}
	}
	if c.cfg.MaxDeliver == 1 {
		info.NumRedelivered = 0
	}
	if !c.lastDelivery.IsZero() {
		t := c.lastDelivery
		info.Delivered.Last = &t
	}
	if !c.lastAck.IsZero() {
		t := c.lastAck
		info.AckFloor.Last = &t
	}
	if c.isPush() {
		info.PushBound = c.st.j.s.hasInterest(c.cfg.DeliverSubject)
	}
	return info
}

// numPending is how many messages the consumer has yet to deliver for the first time.
func (c *consumer) numPending() uint64 {
	st := c.st
	n := uint64(len(c.lps))
	from := c.sseq
	if len(c.lps) > 0 {
		from = c.lpsResume + 1
	}
	if c.covers {
		return n + uint64(len(st.msgs)-st.index(from))
	}
	literal := true
	for _, f := range c.filters {
		if hasWildcard(f) {
			literal = false
			break
		}
	}
	if literal {
		for _, f := range c.filters {
			seqs := st.bySubj[f]
			k, _ := slices.BinarySearch(seqs, from)
			n += uint64(len(seqs) - k)
		}
		return n
	}
	for i := st.index(from); i < len(st.msgs); i++ {
		if c.matches(st.msgs[i].subj) {
			n++
		}
	}
	return n
}

func (j *jetStream) consumerInfo(reply, streamName, name string) {
	const typ = "consumer_info_response"
	c, ok := j.consumerRequest(reply, typ, streamName, name)
	if !ok {
		return
	}
	j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
}

func (j *jetStream) consumerDelete(reply, streamName, name string) {
	const typ = "consumer_delete_response"
	c, ok := j.consumerRequest(reply, typ, streamName, name)
	if !ok {
		return
	}
	c.delete()
	j.reply(reply, struct {
		apiHead
		Success bool `json:"success"`
	}{apiHead{Type: typePrefix + typ}, true})
}

// delete removes the consumer, ending its waiting pull requests with 409 Consumer Deleted.
func (c *consumer) delete() {
	if c.gone {
		return
	}
	c.gone = true
	for _, w := range c.waiting {
		w.stop()
		c.st.j.status(w.reply, "409 Consumer Deleted")
	}
	c.waiting = nil
	c.stopTimers()
	delete(c.st.consumers, c.name)
	c.st.j.retentionChanged(c.st)
}

func (c *consumer) stopTimers() {
	c.ackTimer.Stop()
	c.inactiveTimer.Stop()
	c.hb.stop()
	for _, w := range c.waiting {
		w.stop()
	}
}

func (j *jetStream) consumerNames(reply, streamName string, body []byte, list bool) {
	typ, limit := "consumer_names_response", 1024
	if list {
		typ, limit = "consumer_list_response", 256
	}
	var req pagedRequest
	st, ok := j.streamRequest(reply, typ, streamName, body, &req)
	if !ok {
		return
	}
	names := make([]string, 0, len(st.consumers))
	for n := range st.consumers {
		names = append(names, n)
	}
	sort.Strings(names)
	total := len(names)
	names = names[min(req.Offset, len(names)):]
	if len(names) > limit {
		names = names[:limit]
	}
	if !list {
		j.reply(reply, struct {
			apiHead
			Total     int      `json:"total"`
			Offset    int      `json:"offset"`
			Limit     int      `json:"limit"`
			Consumers []string `json:"consumers"`
		}{apiHead{Type: typePrefix + typ}, total, req.Offset, limit, names})
		return
	}
	infos := make([]jetstream.ConsumerInfo, 0, len(names))
	for _, n := range names {
		infos = append(infos, st.consumers[n].info())
	}
	j.reply(reply, struct {
		apiHead
		Total     int                      `json:"total"`
		Offset    int                      `json:"offset"`
		Limit     int                      `json:"limit"`
		Consumers []jetstream.ConsumerInfo `json:"consumers"`
	}{apiHead{Type: typePrefix + typ}, total, req.Offset, limit, infos})
}

// ---- choosing and sending messages ----

// next is the next message to deliver and its delivery count: redeliveries first, then the
// last-per-subject list, then new messages. It returns nil when there is none.
func (c *consumer) next() (*storedMsg, uint64) {
	st := c.st
	for len(c.rdq) > 0 {
		seq := c.rdq[0]
		c.rdq = c.rdq[1:]
		p, ok := c.pending[seq]
		if !ok {
			continue
		}
		c.rdc[seq]++
		dc := c.rdc[seq] + 1
		if c.cfg.MaxDeliver > 0 && dc > uint64(c.cfg.MaxDeliver) {
			c.notifyMaxDeliveries(seq, dc-1)
			delete(c.pending, seq)
			c.moveAckFloor(p.dseq, seq)
			continue
		}
		m := st.get(seq)
		if m == nil {
			c.rdc[seq]--
			c.ack(seq, p.dseq)
			continue
		}
		return m, dc
	}
	if !c.ackNone() && c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending {
		return nil, 0
	}
	for len(c.lps) > 0 {
		seq := c.lps[0]
		if len(c.lps) == 1 {
			c.lps = nil
			c.sseq = c.lpsResume + 1
		} else {
			c.lps = c.lps[1:]
			c.sseq = seq + 1
		}
		if m := st.get(seq); m != nil {
			return m, 1
		}
	}
	m := c.nextNew()
	if m == nil {
		return nil, 0
	}
	c.sseq = m.seq + 1
	return m, 1
}

// nextNew is the first message at or after sseq that the consumer takes.
func (c *consumer) nextNew() *storedMsg {
	st := c.st
	if c.covers {
		if i := st.index(c.sseq); i < len(st.msgs) {
			return st.msgs[i]
		}
		return nil
	}
	literal := true
	for _, f := range c.filters {
		if hasWildcard(f) {
			literal = false
			break
		}
	}
	if literal {
		var best uint64
		for _, f := range c.filters {
			seqs := st.bySubj[f]
			if k, _ := slices.BinarySearch(seqs, c.sseq); k < len(seqs) && (best == 0 || seqs[k] < best) {
				best = seqs[k]
			}
		}
		if best == 0 {
			return nil
		}
		return st.get(best)
	}
	for i := st.index(c.sseq); i < len(st.msgs); i++ {
		if c.matches(st.msgs[i].subj) {
			return st.msgs[i]
		}
	}
	return nil
}

// available reports whether the consumer has anything left to deliver, whether or not max ack
// pending lets it deliver now.
func (c *consumer) available() bool {
	for _, seq := range c.rdq {
		if _, ok := c.pending[seq]; ok {
			return true
		}
	}
	return len(c.lps) > 0 || c.nextNew() != nil
}

// hasNext reports whether next would return a message, without taking it.
func (c *consumer) hasNext() bool {
	for _, seq := range c.rdq {
		if _, ok := c.pending[seq]; ok {
			return true
		}
	}
	if !c.ackNone() && c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending {
		return false
	}
	return len(c.lps) > 0 || c.nextNew() != nil
}

// send delivers m to target with its ack subject, and records it as delivered.
func (c *consumer) send(target string, m *storedMsg, dc uint64) int {
	c.dseq++
	dseq := c.dseq
	now := c.st.j.s.clock.Now()
	if !c.ackNone() {
		if _, ok := c.pending[m.seq]; !ok {
			c.pending[m.seq] = &pendingAck{dseq: dseq}
		}
		c.pending[m.seq].deadline = now.Add(c.ackWaitFor(c.rdc[m.seq]))
		if dseq > c.delivered.c {
			c.delivered.c = dseq
		}
		if m.seq > c.delivered.s {
			c.delivered.s = m.seq
		}
		if c.ackTimer == nil || c.pending[m.seq].deadline.Before(c.ackDue) {
			c.scheduleAck()
		}
	} else {
		if dseq > c.delivered.c {
			c.delivered.c, c.ackFloor.c = dseq, dseq
		}
		if m.seq > c.delivered.s {
			c.delivered.s, c.ackFloor.s = m.seq, m.seq
		}
		c.adflr, c.asflr = c.delivered.c, c.delivered.s
	}
	h := c.history[m.seq]
	if h == nil {
		h = &MessageState{Stream: m.seq, Subject: m.subj}
		c.history[m.seq] = h
	}
	h.Deliveries = int(dc)
	h.Consumer = dseq
	h.LastDelivered = now
	if c.ackNone() {
		h.Ack = AckedByPolicy
	} else {
		h.Ack = AckPending
	}

	pending := c.numPending()
	ack := "$JS.ACK." + c.st.name() + "." + c.name + "." + strconv.FormatUint(dc, 10) + "." +
		strconv.FormatUint(m.seq, 10) + "." + strconv.FormatUint(dseq, 10) + "." +
		strconv.FormatInt(m.ts.UnixNano(), 10) + "." + strconv.FormatUint(pending, 10)
	hdr, data := m.hdr, m.data
	if c.cfg.HeadersOnly {
		hdr = appendHeaders(m.hdr, "Nats-Msg-Size", strconv.Itoa(len(m.data)))
		data = nil
	}
	c.st.j.s.sendTo(target, &message{subject: m.subj, reply: ack, hdr: hdr, data: data})
	c.lastActive = now
	c.lastDelivery = now.UTC()
	return len(m.subj) + len(ack) + len(hdr) + len(data)
}

// ackWaitFor is how long a delivery waits for its ack, after rdc redeliveries.
func (c *consumer) ackWaitFor(rdc uint64) time.Duration {
	if l := len(c.cfg.BackOff); l > 0 {
		return c.cfg.BackOff[min(int(rdc), l-1)]
	}
	return c.cfg.AckWait
}

// ---- acks ----

// handleAck takes an ack, nak, term or progress report for a delivered message.
func (j *jetStream) handleAck(m *message) bool {
	tok := strings.Split(m.subject, ".")
	if len(tok) != 9 {
		return true
	}
	streamName, name := tok[2], tok[3]
	dc, _ := strconv.ParseUint(tok[4], 10, 64)
	sseq, _ := strconv.ParseUint(tok[5], 10, 64)
	dseq, _ := strconv.ParseUint(tok[6], 10, 64)
	body := string(m.data)
	reply := m.reply

	j.lock()
	defer j.unlock()
	if j.closed {
		return false
	}
	st, ok := j.streams[streamName]
	if !ok {
		return reply == ""
	}
	c, ok := st.consumers[name]
	if !ok {
		return reply == ""
	}
	c.lastActive = j.s.clock.Now()
	c.lastAck = c.lastActive.UTC()
	switch {
	case body == "" || body == "+ACK" || body == "+OK" || strings.HasPrefix(body, "+NXT"):
		c.processAck(sseq, dseq)
	case strings.HasPrefix(body, "-NAK"):
		c.processNak(sseq, dseq, dc, strings.TrimSpace(body[4:]))
	case body == "+WPI":
		c.processProgress(sseq)
	case strings.HasPrefix(body, "+TERM"):
		c.processTerm(sseq, dseq, dc, strings.TrimSpace(body[5:]))
	default:
		c.processAck(sseq, dseq)
	}
	if reply != "" {
		j.s.sendTo(reply, &message{subject: reply})
	}
	c.kick()
	return true
}

func (c *consumer) processAck(sseq, dseq uint64) {
	if sseq >= c.sseq && len(c.lps) == 0 {
		return
	}
	switch c.cfg.AckPolicy {
	case jetstream.AckExplicitPolicy:
		if p, ok := c.pending[sseq]; ok {
			c.ack(sseq, p.dseq)
		}
		delete(c.rdc, sseq)
		c.removeFromRdq(sseq)
	case jetstream.AckAllPolicy:
		if dseq <= c.adflr || sseq <= c.asflr {
			return
		}
		var acked []uint64
		for seq := range c.pending {
			if seq <= sseq {
				acked = append(acked, seq)
			}
		}
		slices.Sort(acked)
		c.adflr, c.asflr = dseq, sseq
		c.ackFloor = seqPair{dseq, sseq}
		for _, seq := range acked {
			delete(c.pending, seq)
			delete(c.rdc, seq)
			c.removeFromRdq(seq)
			c.markAcked(seq, Acked)
		}
		c.st.j.retentionAcked(c.st, c, acked)
	}
}

// ack removes an explicitly acked message from pending and moves the floors as the server does.
func (c *consumer) ack(sseq, odseq uint64) {
	delete(c.pending, sseq)
	c.moveAckFloor(odseq, sseq)
	// the store's floor
	if len(c.pending) == 0 {
		c.ackFloor = c.delivered
	} else if odseq == c.ackFloor.c+1 {
		c.ackFloor = seqPair{odseq, sseq}
		if c.delivered.c > odseq {
			for ss := sseq + 1; ss <= c.delivered.s; ss++ {
				if p, ok := c.pending[ss]; ok {
					if p.dseq > 0 {
						c.ackFloor = seqPair{p.dseq - 1, ss - 1}
					}
					break
				}
			}
		}
	}
	c.markAcked(sseq, Acked)
	c.st.j.retentionAcked(c.st, c, []uint64{sseq})
}

func (c *consumer) markAcked(sseq uint64, state AckState) {
	if h := c.history[sseq]; h != nil && h.Ack != Termed {
		h.Ack = state
	}
}

// moveAckFloor moves the running floors, as nats-server's consumer does.
func (c *consumer) moveAckFloor(dseq, sseq uint64) {
	if len(c.pending) == 0 {
		c.adflr = c.dseq
		c.asflr = c.sseq - 1
		return
	}
	if dseq == c.adflr+1 {
		c.adflr, c.asflr = dseq, sseq
		for ss := sseq + 1; ss < c.sseq; ss++ {
			if p, ok := c.pending[ss]; ok {
				if p.dseq > 0 {
					c.adflr, c.asflr = p.dseq-1, ss-1
				}
				break
			}
		}
	}
}

func (c *consumer) removeFromRdq(seq uint64) {
	if i := slices.Index(c.rdq, seq); i >= 0 {
		c.rdq = append(c.rdq[:i], c.rdq[i+1:]...)
	}
}

type nakDelay struct {
	Delay time.Duration `json:"delay"`
}

func (c *consumer) processNak(sseq, dseq, dc uint64, arg string) {
	if dseq <= c.adflr || dseq > c.dseq {
		return
	}
	p, ok := c.pending[sseq]
	if !ok {
		return
	}
	c.st.j.advise("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED."+c.st.name()+"."+c.name, deliveryAdvisory{
		Type: "io.nats.jetstream.advisory.v1.nak", ID: nuid.Next(), Time: time.Now().UTC(),
		Stream: c.st.name(), Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq, Deliveries: dc,
	})
	if h := c.history[sseq]; h != nil {
		h.Ack = Naked
	}
	if arg != "" {
		var d time.Duration
		var err error
		if arg[0] == '{' {
			var nd nakDelay
			if err = json.Unmarshal([]byte(arg), &nd); err == nil {
				d = nd.Delay
			}
		} else {
			d, err = time.ParseDuration(arg)
		}
		if err == nil && d > 0 {
			c.removeFromRdq(sseq)
			p.deadline = c.st.j.s.clock.Now().Add(d)
			c.scheduleAck()
			return
		}
	}
	if !slices.Contains(c.rdq, sseq) {
		c.rdq = append(c.rdq, sseq)
	}
}

func (c *consumer) processProgress(sseq uint64) {
	p, ok := c.pending[sseq]
	if !ok {
		return
	}
	p.deadline = c.st.j.s.clock.Now().Add(c.ackWaitFor(c.rdc[sseq]))
	c.removeFromRdq(sseq)
	if h := c.history[sseq]; h != nil {
		h.Ack = InProgress
	}
	c.scheduleAck()
}

func (c *consumer) processTerm(sseq, dseq, dc uint64, reason string) {
	c.processAck(sseq, dseq)
	if h := c.history[sseq]; h != nil {
		h.Ack = Termed
		h.TermReason = reason
	}
	c.st.j.advise("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED."+c.st.name()+"."+c.name, deliveryAdvisory{
		Type: "io.nats.jetstream.advisory.v1.terminated", ID: nuid.Next(), Time: time.Now().UTC(),
		Stream: c.st.name(), Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq, Deliveries: dc, Reason: reason,
	})
}

type deliveryAdvisory struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	Time        time.Time `json:"timestamp"`
	Stream      string    `json:"stream"`
	Consumer    string    `json:"consumer"`
	ConsumerSeq uint64    `json:"consumer_seq,omitempty"`
	StreamSeq   uint64    `json:"stream_seq"`
	Deliveries  uint64    `json:"deliveries"`
	Reason      string    `json:"reason,omitempty"`
}

func (c *consumer) notifyMaxDeliveries(sseq, dc uint64) {
	if h := c.history[sseq]; h != nil {
		h.MaxDeliveriesReached = true
	}
	c.st.j.advise("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+c.st.name()+"."+c.name, struct {
		Type       string    `json:"type"`
		ID         string    `json:"id"`
		Time       time.Time `json:"timestamp"`
		Stream     string    `json:"stream"`
		Consumer   string    `json:"consumer"`
		StreamSeq  uint64    `json:"stream_seq"`
		Deliveries uint64    `json:"deliveries"`
	}{"io.nats.jetstream.advisory.v1.max_deliver", nuid.Next(), time.Now().UTC(), c.st.name(), c.name, sseq, dc})
}

// ---- timers ----

// scheduleAck sets the ack timer for the earliest deadline among pending messages.
func (c *consumer) scheduleAck() {
	var next time.Time
	for seq, p := range c.pending {
		if slices.Contains(c.rdq, seq) {
			continue
		}
		if next.IsZero() || p.deadline.Before(next) {
			next = p.deadline
		}
	}
	c.ackTimer.Stop()
	c.ackTimer = nil
	if next.IsZero() {
		return
	}
	c.ackDue = next
	clk := c.st.j.s.clock
	c.ackTimer = clk.AfterFunc(max(next.Sub(clk.Now()), 0), c.checkPending)
}

// checkPending queues for redelivery every message whose ack deadline has passed, or gives up
// on it once it has been delivered max deliver times.
func (c *consumer) checkPending() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.gone {
		return
	}
	now := j.s.clock.Now()
	var expired []uint64
	for seq, p := range c.pending {
		if slices.Contains(c.rdq, seq) || p.deadline.After(now) {
			continue
		}
		expired = append(expired, seq)
	}
	slices.Sort(expired)
	for _, seq := range expired {
		dc := c.rdc[seq] + 1
		if c.cfg.MaxDeliver > 0 && dc >= uint64(c.cfg.MaxDeliver) {
			p := c.pending[seq]
			c.notifyMaxDeliveries(seq, dc)
			delete(c.pending, seq)
			c.moveAckFloor(p.dseq, seq)
			c.rdc[seq] = dc
			continue
		}
		c.rdq = append(c.rdq, seq)
		if h := c.history[seq]; h != nil && h.Ack != Naked {
			h.Ack = AckExpired
		}
	}
	c.scheduleAck()
	c.kick()
}

// scheduleInactive arms the inactive threshold: an ephemeral consumer (or a durable with a
// threshold) with nobody pulling and no push interest is deleted once it passes.
func (c *consumer) scheduleInactive() {
	c.inactiveTimer.Stop()
	c.inactiveTimer = nil
	if c.cfg.InactiveThreshold <= 0 {
		return
	}
	c.inactiveTimer = c.st.j.s.clock.AfterFunc(c.cfg.InactiveThreshold, c.checkInactive)
}

func (c *consumer) checkInactive() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.gone {
		return
	}
	active := len(c.waiting) > 0 || (c.isPush() && j.s.hasInterest(c.cfg.DeliverSubject))
	idle := j.s.clock.Now().Sub(c.lastActive)
	if active || idle < c.cfg.InactiveThreshold {
		wait := c.cfg.InactiveThreshold - idle
		if active || wait <= 0 {
			wait = c.cfg.InactiveThreshold
		}
		c.inactiveTimer = j.s.clock.AfterFunc(wait, c.checkInactive)
		return
	}
	c.delete()
}

// ---- stream events ----

// stored tells the consumer about a new message.
func (c *consumer) stored(*storedMsg) { c.kick() }

// removed tells the consumer a message is gone.
func (c *consumer) removed(m *storedMsg) {
	if i := slices.Index(c.lps, m.seq); i >= 0 {
		c.lps = append(c.lps[:i], c.lps[i+1:]...)
		if len(c.lps) == 0 {
			c.sseq = max(c.sseq, c.lpsResume+1)
		}
	}
}

// purge moves the consumer past purged messages, as nats-server's consumer does: start is the
// first sequence it may still deliver (0 when nothing it takes is left), last the stream's last.
func (c *consumer) purge(start, last uint64, wider bool) {
	if start == 0 && !wider {
		start = last + 1
	}
	var lps []uint64
	for _, seq := range c.lps {
		if c.st.get(seq) != nil {
			lps = append(lps, seq)
		}
	}
	c.lps = lps
	if len(c.lps) == 0 && c.lpsResume > 0 && c.sseq <= c.lpsResume {
		c.sseq = c.lpsResume + 1
	}
	if c.sseq < start {
		c.sseq = start
	}
	if c.asflr < start {
		c.asflr = start - 1
		for seq, p := range c.pending {
			if seq <= c.asflr || (wider && c.st.get(seq) == nil) {
				if p.dseq > c.adflr {
					c.adflr = p.dseq
					if c.adflr > c.dseq {
						c.dseq = c.adflr
					}
				}
				delete(c.pending, seq)
				delete(c.rdc, seq)
			}
		}
	}
	if len(c.pending) == 0 {
		c.adflr, c.asflr = c.dseq, c.sseq-1
	}
	rdq := c.rdq[:0]
	for _, seq := range c.rdq {
		if seq >= c.sseq {
			rdq = append(rdq, seq)
		}
	}
	c.rdq = rdq
	c.delivered = seqPair{c.dseq, c.sseq - 1}
	c.ackFloor = seqPair{c.adflr, c.asflr}
	c.scheduleAck()
}

// filterSubsetOf reports whether every subject the consumer takes matches subj.
func (c *consumer) filterSubsetOf(subj string) bool {
	if len(c.filters) == 0 {
		return false
	}
	for _, f := range c.filters {
		if !patternSubset(f, subj) {
			return false
		}
	}
	return true
}

// filterWithin reports whether one of the consumer's filters lies within subj.
func (c *consumer) filterWithin(subj string) bool {
	for _, f := range c.filters {
		if patternSubset(f, subj) {
			return true
		}
	}
	return false
}

// kick delivers what can be delivered now: to waiting pull requests, or to the push subject.
func (c *consumer) kick() {
	if c.gone {
		return
	}
	if c.isPush() {
		c.deliverPush()
		return
	}
	c.servePull()
}

// ---- retention ----

// retentionStored drops a message an interest stream has no consumer for.
func (j *jetStream) retentionStored(st *stream, m *storedMsg) {
	if st.cfg.Retention != jetstream.InterestPolicy {
		return
	}
	for _, c := range st.consumers {
		if c.matches(m.subj) {
			return
		}
	}
	st.remove(m.seq)
}

// retentionAcked removes acked messages from work queue and interest streams.
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
	for _, m := range st.msgs {
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
		if _, ok := c.pending[m.seq]; ok || m.seq >= c.sseq || slices.Contains(c.lps, m.seq) {
			return false
		}
	}
	return true
}

// matchesPattern reports whether some subject matching pattern is one the consumer takes.
func (c *consumer) matchesPattern(pattern string) bool {
	if len(c.filters) == 0 {
		return true
	}
	for _, f := range c.filters {
		if subjectsCollide(f, pattern) {
			return true
		}
	}
	return false
}

// consumerRequest finds the consumer a request names, or answers it with the server's error and
// reports false.
func (j *jetStream) consumerRequest(reply, typ, streamName, name string) (*consumer, bool) {
	st, ok := j.streamRequest(reply, typ, streamName, nil, nil)
	if !ok {
		return nil, false
	}
	c, ok := st.consumers[name]
	if !ok {
		j.replyErr(reply, typ, errConsumerNotFound)
	}
	return c, ok
}
