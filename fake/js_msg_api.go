package fake

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

type msgGetRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	LastFor   string     `json:"last_by_subj,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	Batch     int        `json:"batch,omitempty"`
	MaxBytes  int        `json:"max_bytes,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	NoHeaders bool       `json:"no_hdr,omitempty"`
	// nats-server reads these for batched direct gets only; STREAM.MSG.GET ignores them.
	MultiLastFor []string   `json:"multi_last,omitempty"`
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`
	UpToTime     *time.Time `json:"up_to_time,omitempty"`
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
	sm := storedMsgJSON{Subject: m.subj, Sequence: m.seq, Header: m.hdr, Data: m.data, Time: m.ts}
	if req.NoHeaders {
		sm.Header = nil
	}
	j.reply(reply, struct {
		apiHead
		Message storedMsgJSON `json:"message"`
	}{apiHead{Type: typePrefix + typ}, sm})
}

// seqFromTime is the sequence of the first message stored at or after t, or the next sequence
// when there is none (nats-server's GetSeqFromTime).
func (st *stream) seqFromTime(t time.Time) uint64 {
	i := sort.Search(len(st.msgs), func(i int) bool { return !st.msgs[i].ts.Before(t) })
	if i == len(st.msgs) {
		return st.last + 1
	}
	return st.msgs[i].seq
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
		if err := json.Unmarshal(body, &req); err != nil { // not strict, as nats-server's
			j.status(reply, "408 Malformed Request")
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
