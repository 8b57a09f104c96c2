package fake

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// A stream's subject transform maps the subject of each message it takes before it is stored;
// its republish sends each stored message again, to the transformed subject, with headers that
// say where it was stored. Both are nats-server's subject transforms (internal/subject).

// checkTransforms makes nats-server's checks of a stream's subject transform and republish,
// and fills in the republish's defaults as the server does.
func checkTransforms(cfg *jetstream.StreamConfig) *apiError {
	if tc := cfg.SubjectTransform; tc != nil {
		if tc.Source != "" && !subject.ValidPattern(tc.Source) {
			return jsStreamTransformInvalidSource.err(subject.ErrBadSubject.Error() + " " + tc.Source)
		}
		if err := subject.ValidateDestination(tc.Source, tc.Destination); err != nil {
			return jsStreamTransformInvalidDestination.err(err)
		}
	}
	rp := cfg.RePublish
	if rp == nil {
		return nil
	}
	if rp.Source == "" {
		rp.Source = ">"
	}
	// Republishing everything unchanged to the stream's own subjects would be a cycle, but not
	// when the stream transforms its one subject: then the transformed subjects are republished.
	if tc := cfg.SubjectTransform; rp.Source == ">" && rp.Destination == ">" && tc != nil &&
		len(cfg.Subjects) == 1 && tc.Source == cfg.Subjects[0] {
		rp.Source, rp.Destination = tc.Destination, tc.Destination
	}
	for _, s := range cfg.Subjects {
		if subjectsCollide(rp.Destination, s) {
			return jsStreamInvalidConfigF.err("stream configuration for republish destination forms a cycle")
		}
	}
	if _, err := subject.NewTransform(rp.Source, rp.Destination); err != nil {
		return jsStreamInvalidConfigF.err("stream configuration for republish with transform from '" +
			rp.Source + "' to '" + rp.Destination + "' not valid")
	}
	return nil
}

// defaultRePublishOnUpdate fills in an updated republish as nats-server does once the update
// passed its checks: an empty destination, which on create republishes nothing, becomes ">".
func defaultRePublishOnUpdate(cfg *jetstream.StreamConfig) {
	if rp := cfg.RePublish; rp != nil && rp.Destination == "" {
		rp.Destination = ">"
	}
}

// streamTransforms holds a stream's compiled transforms and the config they were compiled
// from, so a config update recompiles them.
type streamTransforms struct {
	inCfg, rpCfg jetstream.SubjectTransformConfig
	in, rp       *subject.Transform
	headersOnly  bool
	ready        bool
}

// transforms is the stream's input transform and republish transform (nil for none).
func (st *stream) transforms() (in, rp *subject.Transform) {
	tf := &st.tf
	var inCfg, rpCfg jetstream.SubjectTransformConfig
	if c := st.cfg.SubjectTransform; c != nil {
		inCfg = *c
	}
	if c := st.cfg.RePublish; c != nil {
		rpCfg = jetstream.SubjectTransformConfig{Source: c.Source, Destination: c.Destination}
		tf.headersOnly = c.HeadersOnly
	}
	if !tf.ready || inCfg != tf.inCfg {
		// The config was checked: the transforms compile.
		tf.inCfg = inCfg
		tf.in, _ = subject.NewTransform(inCfg.Source, inCfg.Destination)
	}
	if !tf.ready || rpCfg != tf.rpCfg {
		tf.rpCfg = rpCfg
		tf.rp, _ = subject.NewTransform(rpCfg.Source, rpCfg.Destination)
	}
	tf.ready = true
	return tf.in, tf.rp
}

// ingest stores a message the stream takes: under its transformed subject, and republished
// once stored if the stream republishes it.
func (st *stream) ingest(subj string, hdr, data []byte) (uint64, bool, *apiError) {
	return st.ingestMsg(subj, hdr, data, false)
}

// ingestMsg is ingest; an internal message (a marker the stream leaves itself) is not a
// counter's increment.
func (st *stream) ingestMsg(subj string, hdr, data []byte, internal bool) (uint64, bool, *apiError) {
	subj = st.inputSubject(subj)
	return st.republishing(subj, hdr, data, func() (uint64, bool, *apiError) { return st.storeMsg(subj, hdr, data, internal) })
}

// inputSubject is subj after the stream's subject transform; a subject the transform does not
// match is stored as it came.
func (st *stream) inputSubject(subj string) string {
	if in, _ := st.transforms(); in != nil {
		if ts, err := in.Match(subj); err == nil {
			return ts
		}
	}
	return subj
}

// republishing runs store for a message on subj (already transformed) and republishes what it
// stored, as the stream's republish config asks.
func (st *stream) republishing(subj string, hdr, data []byte, store func() (uint64, bool, *apiError)) (uint64, bool, *apiError) {
	_, rp := st.transforms()
	var target string
	var lastSeq uint64
	if rp != nil {
		if ts, err := rp.Match(subj); err == nil && subject.ValidLiteral(ts) {
			target = ts
			if lm := st.lastMatching(subj); lm != nil {
				lastSeq = lm.seq
			}
		}
	}
	seq, dup, e := store()
	if target != "" && e == nil && !dup {
		st.republish(target, subj, seq, lastSeq, hdr, data)
	}
	return seq, dup, e
}

// republish sends the stored message seq to target with the headers nats-server adds, in its
// order, after the message's own.
func (st *stream) republish(target, subj string, seq, lastSeq uint64, hdr, data []byte) {
	ts := st.j.s.clock.Now()
	if m := st.get(seq); m != nil {
		hdr, data, ts = m.hdr, m.data, m.time()
	}
	kv := []string{
		"Nats-Stream", st.name(),
		"Nats-Subject", subj,
		"Nats-Sequence", strconv.FormatUint(seq, 10),
		"Nats-Time-Stamp", ts.UTC().Format(time.RFC3339Nano),
		"Nats-Last-Sequence", strconv.FormatUint(lastSeq, 10),
	}
	var body []byte
	if st.tf.headersOnly {
		kv = append(kv, "Nats-Msg-Size", strconv.Itoa(len(data)))
	} else {
		body = append([]byte(nil), data...)
	}
	var h []byte
	if len(hdr) >= len("\r\n") {
		h = append(h, hdr[:len(hdr)-2]...)
	} else {
		h = append(h, "NATS/1.0\r\n"...)
	}
	for i := 0; i < len(kv); i += 2 {
		h = append(h, kv[i]+": "+kv[i+1]+"\r\n"...)
	}
	h = append(h, "\r\n"...)
	st.j.outbox = append(st.j.outbox, &message{subject: target, hdr: h, data: body})
}
