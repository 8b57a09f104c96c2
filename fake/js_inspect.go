package fake

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// AckState is where a delivered message stands with a consumer.
type AckState int

const (
	// AckPending: delivered, waiting for an acknowledgement.
	AckPending AckState = iota
	// Acked: acknowledged (Ack, DoubleAck, or an ack-all of a later message).
	Acked
	// AckedByPolicy: the consumer's ack policy is none; delivery is acknowledgement.
	AckedByPolicy
	// Naked: negatively acknowledged, waiting for redelivery.
	Naked
	// InProgress: the client said it is still working on it (InProgress); its ack wait restarted.
	InProgress
	// Termed: terminated (Term or TermWithReason); it is never redelivered.
	Termed
	// AckExpired: its ack wait passed without an acknowledgement; it waits for redelivery.
	AckExpired
)

func (a AckState) String() string {
	switch a {
	case AckPending:
		return "pending"
	case Acked:
		return "acked"
	case AckedByPolicy:
		return "acked by policy"
	case Naked:
		return "nak'd"
	case InProgress:
		return "in progress"
	case Termed:
		return "termed"
	case AckExpired:
		return "ack wait expired"
	}
	return "unknown"
}

// MessageState is the story of one stream message with one consumer.
type MessageState struct {
	Stream        uint64 // stream sequence
	Subject       string
	Consumer      uint64 // consumer sequence of its latest delivery
	Deliveries    int    // how many times it was delivered
	LastDelivered time.Time
	Ack           AckState
	TermReason    string
	// MaxDeliveriesReached is set once the consumer gave up on it after max deliver attempts.
	MaxDeliveriesReached bool
}

// Redelivered reports whether it was delivered more than once.
func (m MessageState) Redelivered() bool { return m.Deliveries > 1 }

// StoredMessage is one message held by a stream.
type StoredMessage struct {
	Sequence uint64
	Subject  string
	Header   nats.Header // nil without headers
	Data     []byte
	Time     time.Time
}

// StreamState is a stream as the server holds it.
type StreamState struct {
	Config    jetstream.StreamConfig
	Created   time.Time
	FirstSeq  uint64
	LastSeq   uint64
	Bytes     uint64
	Messages  []StoredMessage // in sequence order
	Consumers []string        // names, sorted
}

// ConsumerState is a consumer as the server holds it: its figures as consumer info reports them,
// and what happened to each message it delivered.
type ConsumerState struct {
	Stream         string
	Name           string
	Config         jetstream.ConsumerConfig
	Delivered      jetstream.SequenceInfo
	AckFloor       jetstream.SequenceInfo
	NumPending     uint64 // not yet delivered
	NumAckPending  int    // delivered, not yet acknowledged
	NumRedelivered int
	NumWaiting     int // pull requests waiting
	// Messages is every message the consumer delivered and still remembers, by stream sequence:
	// those awaiting an ack and the latest 1000 it has finished with.
	Messages []MessageState
}

// Message is the state of the message with stream sequence seq, if the consumer delivered it.
func (c ConsumerState) Message(seq uint64) (MessageState, bool) {
	for _, m := range c.Messages {
		if m.Stream == seq {
			return m, true
		}
	}
	return MessageState{}, false
}

// errNoJetStream is returned by the JetStream accessors of a server made WithoutJetStream.
var errNoJetStream = errors.New("fake: JetStream is off (WithoutJetStream)")

func (s *Server) jsLocked(f func(j *jetStream) error) error {
	j := s.js
	if j == nil {
		return errNoJetStream
	}
	j.lock()
	defer j.unlock()
	if j.closed {
		return ErrServerClosed
	}
	return f(j)
}

// Streams lists the names of the streams, sorted.
func (s *Server) Streams() []string {
	var names []string
	s.jsLocked(func(j *jetStream) error {
		for n := range j.streams {
			names = append(names, n)
		}
		return nil
	})
	slices.Sort(names)
	return names
}

// Stream returns the stream named name with its messages.
func (s *Server) Stream(name string) (StreamState, bool) {
	var out StreamState
	var ok bool
	s.jsLocked(func(j *jetStream) error {
		st, found := j.streams[name]
		if !found {
			return nil
		}
		ok = true
		out = StreamState{Config: st.cfg, Created: st.created, FirstSeq: st.state(false, "").FirstSeq,
			LastSeq: st.last, Bytes: st.bytes}
		out.Config.Metadata = maps(st.cfg.Metadata)
		for _, m := range st.msgs.from(0) {
			out.Messages = append(out.Messages, m.export())
		}
		for n := range st.consumers {
			out.Consumers = append(out.Consumers, n)
		}
		slices.Sort(out.Consumers)
		return nil
	})
	return out, ok
}

func (m *storedMsg) export() StoredMessage {
	sm := StoredMessage{Sequence: m.seq, Subject: m.subj, Data: append([]byte(nil), m.data...), Time: m.time()}
	if len(m.hdr) > 0 {
		sm.Header = decodeHeader(m.hdr)
	}
	return sm
}

// decodeHeader parses a header block into nats.Header, keeping names as sent.
func decodeHeader(hdr []byte) nats.Header {
	h := nats.Header{}
	lines := strings.Split(string(hdr), "\r\n")
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			h[k] = append(h[k], strings.TrimSpace(v))
		}
	}
	return h
}

// Consumers lists the consumers of stream, by name.
func (s *Server) Consumers(stream string) []ConsumerState {
	var out []ConsumerState
	s.jsLocked(func(j *jetStream) error {
		if st, ok := j.streams[stream]; ok {
			for _, c := range st.consumers {
				out = append(out, c.export())
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b ConsumerState) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Consumer returns the consumer name of stream.
func (s *Server) Consumer(stream, name string) (ConsumerState, bool) {
	var out ConsumerState
	var ok bool
	s.jsLocked(func(j *jetStream) error {
		if st, found := j.streams[stream]; found {
			if c, found := st.consumers[name]; found {
				out, ok = c.export(), true
			}
		}
		return nil
	})
	return out, ok
}

func (c *consumer) export() ConsumerState {
	info := c.info()
	cs := ConsumerState{
		Stream: c.st.name(), Name: c.name, Config: c.cfg,
		Delivered: info.Delivered, AckFloor: info.AckFloor, NumPending: info.NumPending,
		NumAckPending: info.NumAckPending, NumRedelivered: info.NumRedelivered, NumWaiting: info.NumWaiting,
	}
	cs.Config.Metadata = maps(c.cfg.Metadata)
	for _, h := range c.history {
		cs.Messages = append(cs.Messages, *h)
	}
	slices.SortFunc(cs.Messages, func(a, b MessageState) int { return cmpUint(a.Stream, b.Stream) })
	return cs
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// KeyValue returns the current value of every key of bucket, leaving out deleted and purged
// keys: what kv.Keys and kv.Get would show.
func (s *Server) KeyValue(bucket string) (map[string][]byte, bool) {
	var out map[string][]byte
	s.jsLocked(func(j *jetStream) error {
		st, ok := j.streams["KV_"+bucket]
		if !ok {
			return nil
		}
		out = make(map[string][]byte)
		prefix := "$KV." + bucket + "."
		for subj, seqs := range st.bySubj {
			last, _, _ := seqs.last()
			m := st.get(last)
			if m == nil || !strings.HasPrefix(subj, prefix) {
				continue
			}
			if op, _ := hdrGet(m.hdr, "KV-Operation"); op == "DEL" || op == "PURGE" {
				continue
			}
			if _, marker := hdrGet(m.hdr, "Nats-Marker-Reason"); marker {
				continue
			}
			out[strings.TrimPrefix(subj, prefix)] = append([]byte(nil), m.data...)
		}
		return nil
	})
	return out, out != nil
}

// CreateStream creates a stream as a client's CreateStream would, without a client: for seeding
// a test's starting state. Creating a stream that exists with the same config does nothing.
func (s *Server) CreateStream(cfg jetstream.StreamConfig) error {
	return s.jsLocked(func(j *jetStream) error {
		if e := j.createStream(cfg); e != nil {
			return &jetstream.APIError{Code: e.Code, ErrorCode: jetstream.ErrorCode(e.ErrCode), Description: e.Description}
		}
		j.streams[cfg.Name].startLinks()
		return nil
	})
}

// CreateKeyValue creates a Key-Value bucket with the stream the client would create for cfg.
func (s *Server) CreateKeyValue(cfg jetstream.KeyValueConfig) error {
	if cfg.Bucket == "" || strings.ContainsAny(cfg.Bucket, ".*> ") {
		return fmt.Errorf("fake: invalid bucket name %q", cfg.Bucket)
	}
	history := int64(1)
	if cfg.History > 0 {
		history = int64(cfg.History)
	}
	replicas := max(cfg.Replicas, 1)
	maxBytes, maxMsgSize := cfg.MaxBytes, cfg.MaxValueSize
	if maxBytes == 0 {
		maxBytes = -1
	}
	if maxMsgSize == 0 {
		maxMsgSize = -1
	}
	dup := 2 * time.Minute
	if cfg.TTL > 0 && cfg.TTL < dup {
		dup = cfg.TTL
	}
	var compression jetstream.StoreCompression
	if cfg.Compression {
		compression = jetstream.S2Compression
	}
	return s.CreateStream(jetstream.StreamConfig{
		Name: "KV_" + cfg.Bucket, Description: cfg.Description, Subjects: []string{"$KV." + cfg.Bucket + ".>"},
		MaxMsgsPerSubject: history, MaxBytes: maxBytes, MaxAge: cfg.TTL, MaxMsgSize: maxMsgSize,
		Storage: cfg.Storage, Replicas: replicas, AllowRollup: true, DenyDelete: true, Duplicates: dup,
		MaxMsgs: -1, MaxConsumers: -1, AllowDirect: true, Compression: compression, Discard: jetstream.DiscardNew,
		AllowMsgTTL: cfg.LimitMarkerTTL != 0, SubjectDeleteMarkerTTL: cfg.LimitMarkerTTL, Metadata: cfg.Metadata,
	})
}

// PutKeyValue sets key in bucket to value, as kv.Put would, and returns the revision.
func (s *Server) PutKeyValue(bucket, key string, value []byte) (uint64, error) {
	ack, err := s.StoreMsg(&nats.Msg{Subject: "$KV." + bucket + "." + key, Data: value})
	return ack.Sequence, err
}

// StoreMsg stores m in the stream whose subjects take m.Subject, applying the same header checks
// (Nats-Msg-Id, Nats-Expected-*, Nats-Rollup) and limits as a client's publish, and returns the
// PubAck the client would get. Core subscribers on the subject do not see it.
func (s *Server) StoreMsg(m *nats.Msg) (jetstream.PubAck, error) {
	var ack jetstream.PubAck
	var hdr []byte
	if len(m.Header) > 0 {
		var err error
		if hdr, err = encodeHeader(m.Header); err != nil {
			return ack, err
		}
	}
	err := s.jsLocked(func(j *jetStream) error {
		var st *stream
		for _, x := range j.streams {
			for _, p := range x.cfg.Subjects {
				if matchSub(p, m.Subject) {
					st = x
				}
			}
		}
		if st == nil {
			return fmt.Errorf("fake: no stream takes subject %q", m.Subject)
		}
		seq, dup, e := st.ingest(m.Subject, hdr, m.Data)
		if e != nil {
			return &jetstream.APIError{Code: e.Code, ErrorCode: jetstream.ErrorCode(e.ErrCode), Description: e.Description}
		}
		ack = jetstream.PubAck{Stream: st.name(), Sequence: seq, Duplicate: dup}
		if !dup && st.cfg.AllowMsgCounter {
			ack.Value = st.counterAck(seq)
		}
		return nil
	})
	return ack, err
}
