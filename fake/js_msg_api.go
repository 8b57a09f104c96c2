package fake

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

type msgGetRequest struct {
	Seq       uint64 `json:"seq,omitempty"`
	LastFor   string `json:"last_by_subj,omitempty"`
	NextFor   string `json:"next_by_subj,omitempty"`
	NoHeaders bool   `json:"no_hdr,omitempty"` // direct gets only
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
		if err := decodeRequest(body, &req); err != nil {
			j.status(reply, "408 Malformed Request")
			return true
		}
	}
	switch {
	case last != "":
		if req.Seq != 0 || req.LastFor != "" || req.NextFor != "" {
			j.status(reply, "408 Bad Request")
			return true
		}
		req.LastFor = last
	case req.Seq == 0 && req.LastFor == "" && req.NextFor == "":
		j.status(reply, "408 Empty Request")
		return true
	case (req.Seq > 0 && req.LastFor != "") || (req.LastFor != "" && req.NextFor != ""):
		j.status(reply, "408 Bad Request")
		return true
	}
	m := st.find(req)
	if m == nil {
		j.status(reply, "404 Message Not Found")
		return true
	}
	var h []byte
	if !req.NoHeaders {
		h = appendHeaders(m.hdr, "Nats-Stream", st.name(), "Nats-Subject", m.subj,
			"Nats-Sequence", strconv.FormatUint(m.seq, 10), "Nats-Time-Stamp", tsString(m.ts))
	}
	j.s.sendTo(reply, &message{subject: reply, hdr: h, data: m.data})
	return true
}
