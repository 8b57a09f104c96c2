package fake

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/subject"
)

type msgGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`

	// direct gets only
	Batch     int        `json:"batch,omitempty"`
	MaxBytes  int        `json:"max_bytes,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	MultiLast []string   `json:"multi_last,omitempty"`
	UpToSeq   uint64     `json:"up_to_seq,omitempty"`
	UpToTime  *time.Time `json:"up_to_time,omitempty"`
	NoHeaders bool       `json:"no_hdr,omitempty"`
}

type storedMsgJSON struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

// msgGet answers STREAM.MSG.GET, checking the request in nats-server's order: the body, then
// the stream.
func (j *jetStream) msgGet(reply, name string, body []byte) {
	const typ = "stream_msg_get_response"
	if emptyRequest(body) {
		j.replyErr(reply, typ, jsBadRequestErr.err())
		return
	}
	var req msgGetRequest
	if err := decodeRequest(body, &req); err != nil {
		j.replyErr(reply, typ, jsInvalidJSONErr.err(err))
		return
	}
	if req.Batch > 0 || req.MaxBytes > 0 || // batched gets are for DIRECT.GET only
		(req.Seq > 0 && req.LastFor != "") ||
		(req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && req.StartTime == nil) ||
		(req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") ||
		(req.LastFor != "" && req.NextFor != "") {
		j.replyErr(reply, typ, jsBadRequestErr.err())
		return
	}
	st, ok := j.streams[name]
	if !ok {
		j.replyErr(reply, typ, jsStreamNotFoundErr.err())
		return
	}
	if req.StartTime != nil {
		req.Seq = st.seqFromTime(*req.StartTime)
	}
	m := st.find(req)
	if m == nil {
		j.replyErr(reply, typ, jsNoMessageFoundErr.err())
		return
	}
	sm := storedMsgJSON{Subject: m.subj, Sequence: m.seq, Header: m.hdr, Data: m.data, Time: m.time()}
	if req.NoHeaders {
		sm.Header = nil
	}
	j.reply(reply, struct {
		apiHead
		Message storedMsgJSON `json:"message"`
	}{apiHead{Type: typePrefix + typ}, sm})
}

type msgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// msgDelete answers STREAM.MSG.DELETE, checking the request in nats-server's order.
func (j *jetStream) msgDelete(reply, name string, body []byte) {
	const typ = "stream_msg_delete_response"
	if emptyRequest(body) {
		j.replyErr(reply, typ, jsBadRequestErr.err())
		return
	}
	var req msgDeleteRequest
	if err := decodeRequest(body, &req); err != nil {
		j.replyErr(reply, typ, jsInvalidJSONErr.err(err))
		return
	}
	st, ok := j.streams[name]
	if !ok {
		j.replyErr(reply, typ, jsStreamNotFoundErr.err())
		return
	}
	if st.cfg.Sealed {
		j.replyErr(reply, typ, jsStreamSealedErr.err())
		return
	}
	if st.cfg.DenyDelete {
		j.replyErr(reply, typ, jsStreamMsgDeleteFailedF.err("message delete not permitted"))
		return
	}
	if st.get(req.Seq) == nil {
		e := jsSequenceNotFoundErrF.err(req.Seq)
		if st.cfg.Storage == jetstream.FileStorage { // nats-server's file store has its own errors
			switch {
			case req.Seq == 0:
				e = jsStreamMsgDeleteFailedF.err("no message found")
			case req.Seq > st.last:
				e = jsStreamMsgDeleteFailedF.err("stream store EOF")
			}
		}
		j.replyErr(reply, typ, e)
		return
	}
	st.remove(req.Seq)
	if st.msgs.len() == 0 {
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
		if st = j.mirrorFor(name); st == nil {
			return false
		}
	}
	if reply == "" {
		return true
	}
	// nats-server's processDirectGetRequest and processDirectGetLastBySubjectRequest: a level
	// above the server's is refused first; a body that does not decode is malformed; one that
	// asks for nothing is empty.
	if v, ok := hdrGet(hdr, "Nats-Required-Api-Level"); ok && v != "" {
		if n, err := strconv.Atoi(v); err != nil || n > jsAPILevel {
			j.status(reply, "412 Required Api Level")
			return true
		}
	}
	var req msgGetRequest
	if last == "" && len(body) == 0 {
		j.status(reply, "408 Empty Request")
		return true
	}
	if len(body) > 0 {
		// nats-server decodes a direct get as plain JSON: unknown keys are ignored, keys match
		// in any case.
		if err := json.Unmarshal(body, &req); err != nil {
			j.status(reply, "408 Malformed Request")
			return true
		}
	}
	switch {
	case last != "":
		if req.Seq != 0 || req.LastFor != "" || req.NextFor != "" || req.Batch != 0 || len(req.MultiLast) > 0 ||
			req.StartTime != nil || req.UpToSeq != 0 || req.UpToTime != nil {
			j.status(reply, "408 Bad Request")
			return true
		}
		req.LastFor = last
	case req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && len(req.MultiLast) == 0 && req.StartTime == nil:
		j.status(reply, "408 Empty Request")
		return true
	case (req.Seq > 0 && req.LastFor != "") || (req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") || (req.LastFor != "" && req.NextFor != "") ||
		(req.LastFor != "" && req.Batch > 0) || (req.LastFor != "" && len(req.MultiLast) > 0) ||
		(req.NextFor != "" && len(req.MultiLast) > 0) || (req.UpToSeq > 0 && req.UpToTime != nil):
		j.status(reply, "408 Bad Request")
		return true
	}
	if len(req.MultiLast) > 0 {
		j.directGetMulti(st, reply, req)
	} else {
		j.directGetBatch(st, reply, req)
	}
	return true
}

// directMaxBytes is what a direct get sends at most without max_bytes: nats-server's default
// max pending.
const directMaxBytes = 64 << 20

// directGetBatch sends one message, or with batch up to that many and an EOB, as nats-server's
// getDirectRequest does.
func (j *jetStream) directGetBatch(st *stream, reply string, req msgGetRequest) {
	seq := req.Seq
	if req.StartTime != nil {
		seq = st.seqFromTime(*req.StartTime)
	}
	// A batch of any size but 0 is a batch: a negative one sends nothing but the EOB.
	batch, isBatch := req.Batch, req.Batch != 0
	if batch == 0 {
		batch = 1
	}
	var np, lseq uint64
	if isBatch {
		np = st.numPending(seq, req.NextFor)
	}
	mb := req.MaxBytes
	if mb == 0 {
		mb = directMaxBytes
	}
	sent := 0
	for i := 0; i < batch; i++ {
		var m *storedMsg
		switch {
		case seq > 0 && req.NextFor == "":
			if i == 0 && !isBatch {
				m = st.get(seq)
			} else {
				m = st.find(msgGetRequest{Seq: seq, NextFor: ">"})
			}
		case req.NextFor != "":
			m = st.find(msgGetRequest{Seq: seq, NextFor: req.NextFor})
		default:
			m = st.lastMatching(req.LastFor)
		}
		if m == nil {
			if batch > 1 && i > 0 {
				break
			}
			j.status(reply, "404 Message Not Found")
			return
		}
		seq = m.seq + 1
		var h []byte
		if !req.NoHeaders {
			kv := []string{"Nats-Stream", st.name(), "Nats-Subject", m.subj,
				"Nats-Sequence", strconv.FormatUint(m.seq, 10), "Nats-Time-Stamp", tsString(m.time())}
			if isBatch {
				np = max(np, 1) - 1
				kv = append(kv, "Nats-Num-Pending", strconv.FormatUint(np, 10), "Nats-Last-Sequence", strconv.FormatUint(lseq, 10))
			}
			h = appendHeaders(m.hdr, kv...)
		}
		lseq = m.seq
		j.s.sendTo(reply, &message{subject: reply, hdr: h, data: m.data})
		if sent += len(m.subj) + len(m.hdr) + len(m.data); sent >= mb {
			break
		}
	}
	if isBatch {
		j.status(reply, "204 EOB", "Nats-Num-Pending", strconv.FormatUint(np, 10), "Nats-Last-Sequence", strconv.FormatUint(lseq, 10))
	}
}

// directGetMulti sends the last message of each subject matching multi_last, up to a sequence
// or a time, oldest first, and an EOB, as nats-server's getDirectMulti does.
func (j *jetStream) directGetMulti(st *stream, reply string, req msgGetRequest) {
	const maxResults = 1024
	mb := req.MaxBytes
	if mb == 0 {
		mb = directMaxBytes
	}
	upTo := req.UpToSeq
	if req.UpToTime != nil {
		upTo = st.seqFromTime(*req.UpToTime)
		if upTo <= st.first {
			j.status(reply, "404 No Results")
			return
		}
		upTo--
	}
	if upTo == 0 {
		upTo = st.last
	} else if st.cfg.Storage == jetstream.FileStorage && (upTo < st.first || upTo > st.last) {
		// nats-server's file store finds no block for a sequence outside the stream.
		j.status(reply, "404 No Results")
		return
	}
	lastBySubj := make(map[string]*storedMsg)
	for m := st.find(msgGetRequest{NextFor: ">"}); m != nil && m.seq <= upTo; m = st.find(msgGetRequest{Seq: m.seq + 1, NextFor: ">"}) {
		for _, f := range req.MultiLast {
			if subject.Matches(f, m.subj) {
				lastBySubj[m.subj] = m
				break
			}
		}
	}
	if len(lastBySubj) > maxResults {
		j.status(reply, "413 Too Many Results")
		return
	}
	if len(lastBySubj) == 0 {
		j.status(reply, "404 No Results")
		return
	}
	msgs := make([]*storedMsg, 0, len(lastBySubj))
	for _, m := range lastBySubj {
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b *storedMsg) int { return cmp.Compare(a.seq, b.seq) })
	np := uint64(len(msgs))
	var lseq uint64
	sentBytes, sent := 0, 0
	for _, m := range msgs {
		np--
		if m.seq < req.Seq {
			continue
		}
		h := appendHeaders(m.hdr, "Nats-Stream", st.name(), "Nats-Subject", m.subj,
			"Nats-Sequence", strconv.FormatUint(m.seq, 10), "Nats-Time-Stamp", tsString(m.time()),
			"Nats-Num-Pending", strconv.FormatUint(np, 10), "Nats-Last-Sequence", strconv.FormatUint(lseq, 10))
		lseq = m.seq
		j.s.sendTo(reply, &message{subject: reply, hdr: h, data: m.data})
		if sentBytes += len(m.subj) + len(m.hdr) + len(m.data); sentBytes >= mb {
			break
		}
		if sent++; req.Batch > 0 && sent >= req.Batch {
			break
		}
	}
	j.status(reply, "204 EOB", "Nats-Num-Pending", strconv.FormatUint(np, 10), "Nats-Last-Sequence", strconv.FormatUint(lseq, 10),
		"Nats-UpTo-Sequence", strconv.FormatUint(upTo, 10))
}

// numPending counts the messages from seq on that match filter (all for none).
func (st *stream) numPending(seq uint64, filter string) uint64 {
	if filter == "" {
		filter = ">"
	}
	var n uint64
	for m := st.find(msgGetRequest{Seq: seq, NextFor: filter}); m != nil; m = st.find(msgGetRequest{Seq: m.seq + 1, NextFor: filter}) {
		n++
	}
	return n
}

// seqFromTime is the first sequence stored at or after t, or the next sequence if none is.
func (st *stream) seqFromTime(t time.Time) uint64 {
	for m := st.find(msgGetRequest{NextFor: ">"}); m != nil; m = st.find(msgGetRequest{Seq: m.seq + 1, NextFor: ">"}) {
		if !m.time().Before(t) {
			return m.seq
		}
	}
	return st.last + 1
}
