package fake

import (
	"encoding/json"
	"strconv"
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
	{"INFO", leveled("account_info_response", func(j *jetStream, r *apiRequest) bool { j.accountInfo(r.reply); return true })},

	{"STREAM.CREATE.*", leveled("stream_create_response", func(j *jetStream, r *apiRequest) bool { j.streamCreate(r.reply, r.arg(2), r.body); return true })},
	{"STREAM.UPDATE.*", leveled("stream_update_response", func(j *jetStream, r *apiRequest) bool { j.streamUpdate(r.reply, r.arg(2), r.body); return true })},
	{"STREAM.INFO.*", leveled("stream_info_response", func(j *jetStream, r *apiRequest) bool { j.streamInfo(r.reply, r.arg(2), r.body); return true })},
	{"STREAM.DELETE.*", leveled("stream_delete_response", emptyOnly("stream_delete_response", func(j *jetStream, r *apiRequest) { j.streamDelete(r.reply, r.arg(2)) }))},
	{"STREAM.PURGE.*", leveled("stream_purge_response", func(j *jetStream, r *apiRequest) bool { j.streamPurge(r.reply, r.arg(2), r.body); return true })},
	{"STREAM.NAMES", leveled("stream_names_response", func(j *jetStream, r *apiRequest) bool { j.streamNames(r.reply, r.body, false); return true })},
	{"STREAM.LIST", leveled("stream_list_response", func(j *jetStream, r *apiRequest) bool { j.streamNames(r.reply, r.body, true); return true })},
	{"STREAM.MSG.GET.*", leveled("stream_msg_get_response", func(j *jetStream, r *apiRequest) bool { j.msgGet(r.reply, r.arg(3), r.body); return true })},
	{"STREAM.MSG.DELETE.*", leveled("stream_msg_delete_response", func(j *jetStream, r *apiRequest) bool { j.msgDelete(r.reply, r.arg(3), r.body); return true })},
	{"DIRECT.GET.*", func(j *jetStream, r *apiRequest) bool {
		return j.directGet(r.reply, r.arg(2), "", r.body, r.hdr)
	}},
	{"DIRECT.GET.*.>", func(j *jetStream, r *apiRequest) bool {
		return j.directGet(r.reply, r.arg(2), r.rest(3), r.body, r.hdr)
	}},

	{"CONSUMER.CREATE.*", leveled("consumer_create_response", func(j *jetStream, r *apiRequest) bool {
		j.consumerCreate(r.reply, createEphemeral, r.arg(2), "", "", r.body)
		return true
	})},
	{"CONSUMER.CREATE.*.>", leveled("consumer_create_response", func(j *jetStream, r *apiRequest) bool {
		j.consumerCreate(r.reply, createNamed, r.arg(2), r.arg(3), r.rest(4), r.body)
		return true
	})},
	{"CONSUMER.DURABLE.CREATE.*.*", leveled("consumer_create_response", func(j *jetStream, r *apiRequest) bool {
		j.consumerCreate(r.reply, createDurable, r.arg(3), r.arg(4), "", r.body)
		return true
	})},
	// nats-server checks that CONSUMER.INFO's body is empty before it checks the API level.
	{"CONSUMER.INFO.*.*", emptyOnly("consumer_info_response", func(j *jetStream, r *apiRequest) {
		if levelRefused(r.hdr) {
			j.replyErr(r.reply, "consumer_info_response", jsRequiredApiLevelErr.err())
			return
		}
		j.consumerInfo(r.reply, r.arg(2), r.arg(3))
	})},
	{"CONSUMER.DELETE.*.*", leveled("consumer_delete_response", emptyOnly("consumer_delete_response", func(j *jetStream, r *apiRequest) { j.consumerDelete(r.reply, r.arg(2), r.arg(3)) }))},
	{"CONSUMER.NAMES.*", leveled("consumer_names_response", func(j *jetStream, r *apiRequest) bool { j.consumerNames(r.reply, r.arg(2), r.body, false); return true })},
	{"CONSUMER.LIST.*", leveled("consumer_list_response", func(j *jetStream, r *apiRequest) bool { j.consumerNames(r.reply, r.arg(2), r.body, true); return true })},
	{"CONSUMER.MSG.NEXT.*.*", func(j *jetStream, r *apiRequest) bool {
		return j.pullRequest(r.reply, r.arg(3), r.arg(4), r.body, r.hdr)
	}},
	{"CONSUMER.UNPIN.*.*", leveled("consumer_unpin_response", (*jetStream).consumerUnpin)},

	// Served by nats-server, not by the fake yet: the server's errors for what it checks first
	// (not found, invalid JSON), then the fake's "not supported" error (js_unsupported.go).
	{"STREAM.SNAPSHOT.*", leveled("stream_snapshot_response", (*jetStream).streamSnapshot)},
	{"STREAM.RESTORE.*", leveled("stream_restore_response", (*jetStream).streamRestore)},
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

// leveled serves an endpoint that refuses, before anything else, a request whose
// Nats-Required-Api-Level header asks for more than the fake's API level, with nats-server's
// error.
func leveled(typ string, serve func(j *jetStream, r *apiRequest) bool) func(j *jetStream, r *apiRequest) bool {
	return func(j *jetStream, r *apiRequest) bool {
		if levelRefused(r.hdr) {
			j.replyErrShaped(r.reply, typ, jsRequiredApiLevelErr.err())
			return true
		}
		return serve(j, r)
	}
}

// levelRefused reports whether a request's Nats-Required-Api-Level header asks for more than
// the fake's API level, or is not a number: nats-server refuses both.
func levelRefused(hdr []byte) bool {
	v, ok := hdrGet(hdr, "Nats-Required-Api-Level")
	if !ok || v == "" {
		return false
	}
	n, err := strconv.Atoi(v)
	return err != nil || n > jsAPILevel
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
