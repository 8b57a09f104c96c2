package fake

import (
	"encoding/json"
	"strings"

	"github.com/natskit/natskit/internal/subject"
)

const typePrefix = "io.nats.jetstream.api.v1."

type apiHead struct {
	Type  string    `json:"type"`
	Error *apiError `json:"error,omitempty"`
}

// reply answers an API request with v as JSON.
func (j *jetStream) reply(to string, v any) {
	j.api.total++ // as nats-server counts: each answer, after it is made
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(apiHead{Error: jsStreamGeneralErrorF.err(err)})
	}
	if to != "" {
		j.s.sendTo(to, &message{subject: to, data: b})
	}
	j.audit(b)
}

func (j *jetStream) replyErr(to, typ string, e *apiError) {
	j.api.errors++
	j.reply(to, apiHead{Type: typePrefix + typ, Error: e})
}

// status sends a status-only message (404, 408, 409, 100) to an inbox.
func (j *jetStream) status(to, line string, hdrs ...string) bool {
	var b strings.Builder
	b.WriteString("NATS/1.0 ")
	b.WriteString(line)
	b.WriteString("\r\n")
	for i := 0; i+1 < len(hdrs); i += 2 {
		b.WriteString(hdrs[i])
		b.WriteString(": ")
		b.WriteString(hdrs[i+1])
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return j.s.sendTo(to, &message{subject: to, hdr: []byte(b.String())})
}

// advise queues an advisory to be published once the lock is released.
func (j *jetStream) advise(subj string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	j.outbox = append(j.outbox, &message{subject: subj, data: b})
}

// apiRequest is one request on $JS.API.>, as an endpoint sees it.
type apiRequest struct {
	reply string
	tok   []string // the subject's tokens after "$JS.API."
	body  []byte   // a copy: handlers may keep it
	hdr   []byte
}

// arg is the subject's i-th token after "$JS.API.", or "".
func (r *apiRequest) arg(i int) string {
	if i < len(r.tok) {
		return r.tok[i]
	}
	return ""
}

// rest is the subject from its i-th token on, or "".
func (r *apiRequest) rest(i int) string {
	if i < len(r.tok) {
		return strings.Join(r.tok[i:], ".")
	}
	return ""
}

// An apiEndpoint is one subject pattern under $JS.API. (a "*" is one token, a final ">" one or
// more) and what serves it. serve reports false where nats-server sends no answer at all.
type apiEndpoint struct {
	pattern string
	serve   func(j *jetStream, r *apiRequest) bool
}

// apiEndpoints is every subject the fake's JetStream API answers, in the order they are tried.
var apiEndpoints = []apiEndpoint{
	{"INFO", func(j *jetStream, r *apiRequest) bool { j.accountInfo(r.reply); return true }},

	{"STREAM.CREATE.*", func(j *jetStream, r *apiRequest) bool {
		if !j.refusePedantic(r, "stream_create_response") {
			j.streamCreate(r.reply, r.arg(2), r.body)
		}
		return true
	}},
	{"STREAM.UPDATE.*", func(j *jetStream, r *apiRequest) bool {
		if !j.refusePedantic(r, "stream_update_response") {
			j.streamUpdate(r.reply, r.arg(2), r.body)
		}
		return true
	}},
	{"STREAM.INFO.*", func(j *jetStream, r *apiRequest) bool { j.streamInfo(r.reply, r.arg(2), r.body); return true }},
	{"STREAM.DELETE.*", emptyOnly("stream_delete_response", func(j *jetStream, r *apiRequest) { j.streamDelete(r.reply, r.arg(2)) })},
	{"STREAM.PURGE.*", func(j *jetStream, r *apiRequest) bool { j.streamPurge(r.reply, r.arg(2), r.body); return true }},
	{"STREAM.NAMES", func(j *jetStream, r *apiRequest) bool { j.streamNames(r.reply, r.body, false); return true }},
	{"STREAM.LIST", func(j *jetStream, r *apiRequest) bool { j.streamNames(r.reply, r.body, true); return true }},
	{"STREAM.MSG.GET.*", func(j *jetStream, r *apiRequest) bool { j.msgGet(r.reply, r.arg(3), r.body); return true }},
	{"STREAM.MSG.DELETE.*", func(j *jetStream, r *apiRequest) bool { j.msgDelete(r.reply, r.arg(3), r.body); return true }},
	{"DIRECT.GET.*", func(j *jetStream, r *apiRequest) bool {
		return j.directGet(r.reply, r.arg(2), "", r.body, r.hdr)
	}},
	{"DIRECT.GET.*.>", func(j *jetStream, r *apiRequest) bool {
		return j.directGet(r.reply, r.arg(2), r.rest(3), r.body, r.hdr)
	}},

	{"CONSUMER.CREATE.*", func(j *jetStream, r *apiRequest) bool {
		if !j.refusePedantic(r, "consumer_create_response") {
			j.consumerCreate(r.reply, createEphemeral, r.arg(2), "", "", r.body)
		}
		return true
	}},
	{"CONSUMER.CREATE.*.>", func(j *jetStream, r *apiRequest) bool {
		if !j.refusePedantic(r, "consumer_create_response") {
			j.consumerCreate(r.reply, createNamed, r.arg(2), r.arg(3), r.rest(4), r.body)
		}
		return true
	}},
	{"CONSUMER.DURABLE.CREATE.*.*", func(j *jetStream, r *apiRequest) bool {
		if !j.refusePedantic(r, "consumer_create_response") {
			j.consumerCreate(r.reply, createDurable, r.arg(3), r.arg(4), "", r.body)
		}
		return true
	}},
	{"CONSUMER.INFO.*.*", emptyOnly("consumer_info_response", func(j *jetStream, r *apiRequest) { j.consumerInfo(r.reply, r.arg(2), r.arg(3)) })},
	{"CONSUMER.DELETE.*.*", emptyOnly("consumer_delete_response", func(j *jetStream, r *apiRequest) { j.consumerDelete(r.reply, r.arg(2), r.arg(3)) })},
	{"CONSUMER.NAMES.*", func(j *jetStream, r *apiRequest) bool { j.consumerNames(r.reply, r.arg(2), r.body, false); return true }},
	{"CONSUMER.LIST.*", func(j *jetStream, r *apiRequest) bool { j.consumerNames(r.reply, r.arg(2), r.body, true); return true }},
	{"CONSUMER.MSG.NEXT.*.*", func(j *jetStream, r *apiRequest) bool { return j.pullRequest(r.reply, r.arg(3), r.arg(4), r.body) }},
	{"CONSUMER.UNPIN.*.*", (*jetStream).consumerUnpin},

	// Served by nats-server, not by the fake yet: the server's errors for what it checks first
	// (not found, invalid JSON), then the fake's "not supported" error (js_unsupported.go).
	{"STREAM.SNAPSHOT.*", (*jetStream).streamSnapshot},
	{"STREAM.RESTORE.*", (*jetStream).streamRestore},
	{"CONSUMER.PAUSE.*.*", (*jetStream).consumerPause},
	{"CONSUMER.RESET.*.*", (*jetStream).consumerReset},

	// What only a cluster does: a single nats-server's answer.
	{"STREAM.PEER.REMOVE.*", clusterOnly("stream_remove_peer_response")},
	{"STREAM.PEER.EVACUATE.*", clusterOnly("stream_evacuate_peer_response")},
	{"STREAM.CANCEL_MOVE.*", clusterOnly("stream_cancel_move_response")},
	{"STREAM.LEADER.STEPDOWN.*", clusterOnly("stream_leader_stepdown_response")},
	{"CONSUMER.LEADER.STEPDOWN.*.*", clusterOnly("consumer_leader_stepdown_response")},
	{"CONSUMER.PEER.REMOVE.*.*", clusterOnly("consumer_remove_peer_response")},
	{"CONSUMER.PEER.EVACUATE.*.*", clusterOnly("consumer_evacuate_peer_response")},

	// nats-server takes these from clients without answering (they are the system account's),
	// and any other subject under $JS.API: the client's request times out.
	{"META.LEADER.STEPDOWN", noAnswer},
	{"SERVER.REMOVE", noAnswer},
	{"SERVER.EVACUATE", noAnswer},
	{"META.RESCUE", noAnswer},
	{"ACCOUNT.>", noAnswer},
	{">", noAnswer},
}

// emptyOnly serves an endpoint that takes no request body, as nats-server does: anything but an
// empty body or an empty JSON object is refused before anything else is looked at.
func emptyOnly(typ string, serve func(j *jetStream, r *apiRequest)) func(j *jetStream, r *apiRequest) bool {
	return func(j *jetStream, r *apiRequest) bool {
		if !emptyRequest(r.body) {
			j.replyErr(r.reply, typ, jsNotEmptyRequestErr.err())
			return true
		}
		serve(j, r)
		return true
	}
}

// handleAPI serves one request on $JS.API.> through apiEndpoints. It reports false where
// nats-server has no responder (the client then sees no responders): a missing consumer's
// MSG.NEXT, a missing stream's DIRECT.GET.
func (j *jetStream) handleAPI(m *message) bool {
	subj := strings.TrimPrefix(m.subject, "$JS.API.")
	r := &apiRequest{reply: m.reply, tok: strings.Split(subj, "."), body: append([]byte(nil), m.data...), hdr: m.hdr}

	j.lock()
	defer j.unlock()
	if j.closed {
		return false
	}
	j.call = &apiCall{subject: m.subject, body: r.body, from: m.from}
	defer func() { j.call = nil }()
	for i := range apiEndpoints {
		if subject.Matches(apiEndpoints[i].pattern, subj) {
			return apiEndpoints[i].serve(j, r)
		}
	}
	return false
}

// decodeRequest reads an API request body as nats-server's strict mode does (see decodeStrict),
// so a malformed request, or one with a key the server does not know, gets the same invalid
// JSON error.
func decodeRequest(body []byte, v any) error { return decodeStrict(body, v) }
