package fake

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// What the fake does not do yet, it refuses: an API endpoint it does not serve, a config field
// or request field it would otherwise ignore. A refusal is an API error in nats-server's shape
// whose description names what is refused; nothing is accepted and then not honoured. What a
// single nats-server itself refuses (clustering, replicas) gets the server's own error.

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// errFieldNotSupported refuses a field: kind is what it belongs to ("stream config"), name its
// JSON name and goName its name in nats.go.
func errFieldNotSupported(kind, name, goName string) *apiError {
	if goName == "" {
		return fakeNotSupportedErrF.err(kind + " field " + name)
	}
	return fakeNotSupportedErrF.err(kind + " field " + name + " (" + goName + ")")
}

// Config keys nats-server reads that nats.go's types lack (the strict decoding accepts them, as
// the server does): read from the request body itself, and refused or honoured as the server
// does on a single server.
type streamServerOnly struct {
	Placement *struct {
		Preferred string `json:"preferred"`
	} `json:"placement"`
}

type consumerServerOnly struct {
	Config struct {
		Direct   bool `json:"direct"`
		Sourcing bool `json:"sourcing"`
	} `json:"config"`
}

// refuseServerOnlyStream refuses a preferred server in a stream's placement, as nats-server does.
func refuseServerOnlyStream(body []byte) *apiError {
	var x streamServerOnly
	if json.Unmarshal(body, &x) == nil && x.Placement != nil && x.Placement.Preferred != "" {
		return jsStreamInvalidConfigF.err("preferred server not permitted in placement")
	}
	return nil
}

// refuseServerOnlyConsumer refuses the consumer flags nats-server keeps for the consumers of
// mirrors and sources: direct on a pull consumer with the server's error, and otherwise with the
// fake's, which has neither.
func refuseServerOnlyConsumer(body []byte, push bool) *apiError {
	var x consumerServerOnly
	if json.Unmarshal(body, &x) != nil {
		return nil
	}
	switch {
	case x.Config.Direct && !push:
		return jsConsumerDirectRequiresPushErr.err()
	case x.Config.Direct:
		return errFieldNotSupported("consumer config", "direct", "")
	case x.Config.Sourcing:
		return errFieldNotSupported("consumer config", "sourcing", "")
	}
	return nil
}

// unsupportedStreamField is the first stream config field the fake accepts from clients but
// does not implement, or nil. It runs after every check nats-server makes, so that what the
// server refuses is refused with the server's error. Every field a single server takes is
// implemented now: it stays as the place for what a later server adds.
func unsupportedStreamField(*jetstream.StreamConfig) *apiError {
	return nil
}

// unsupportedConsumerField is the first consumer config field the fake accepts from clients
// but does not implement, or nil; it runs after nats-server's own checks. Every field a single
// server takes is implemented now: it stays as the place for what a later server adds.
func unsupportedConsumerField(*jetstream.ConsumerConfig) *apiError {
	return nil
}

// The endpoints below are every $JS.API subject nats-server serves beyond the fake's own.

// clusterOnly answers an endpoint only a cluster serves, as a single nats-server does.
func clusterOnly(typ string) func(j *jetStream, r *apiRequest) bool {
	return func(j *jetStream, r *apiRequest) bool {
		j.replyErr(r.reply, typ, jsClusterRequiredErr.err())
		return true
	}
}

// noAnswer is a subject nats-server takes but does not answer for a client: the client's
// request times out.
func noAnswer(*jetStream, *apiRequest) bool { return true }

// replyErrShaped answers an error with the fields the server's response type always carries.
func (j *jetStream) replyErrShaped(to, typ string, e *apiError) {
	j.api.errors++
	head := apiHead{Type: typePrefix + typ, Error: e}
	switch typ {
	case "consumer_pause_response":
		j.reply(to, struct {
			apiHead
			Paused     bool      `json:"paused"`
			PauseUntil time.Time `json:"pause_until"`
		}{apiHead: head})
	case "stream_restore_response":
		j.reply(to, struct {
			apiHead
			DeliverSubject string `json:"deliver_subject"`
		}{apiHead: head})
	default:
		j.reply(to, head)
	}
}

// streamSnapshot answers STREAM.SNAPSHOT in the order nats-server checks its request.
func (j *jetStream) streamSnapshot(r *apiRequest) bool {
	const typ = "stream_snapshot_response"
	if isEmptyRequest(r.body) {
		j.replyErr(r.reply, typ, jsBadRequestErr.err())
		return true
	}
	if _, ok := j.streams[r.arg(2)]; !ok {
		j.replyErr(r.reply, typ, jsStreamNotFoundErr.err())
		return true
	}
	var req struct {
		DeliverSubject string `json:"deliver_subject"`
		NoConsumers    bool   `json:"no_consumers,omitempty"`
		ChunkSize      int    `json:"chunk_size,omitempty"`
		WindowSize     int    `json:"window_size,omitempty"`
		CheckMsgs      bool   `json:"jsck,omitempty"`
	}
	if err := decodeRequest(r.body, &req); err != nil {
		j.replyErr(r.reply, typ, jsInvalidJSONErr.err(err))
		return true
	}
	if req.DeliverSubject == "" || !subject.ValidLiteral(req.DeliverSubject) {
		j.replyErr(r.reply, typ, jsSnapshotDeliverSubjectInvalidErr.err())
		return true
	}
	j.replyErr(r.reply, typ, fakeNotSupportedErrF.err("STREAM.SNAPSHOT"))
	return true
}

// streamRestore answers STREAM.RESTORE in the order nats-server checks its request.
func (j *jetStream) streamRestore(r *apiRequest) bool {
	const typ = "stream_restore_response"
	if isEmptyRequest(r.body) {
		j.replyErrShaped(r.reply, typ, jsBadRequestErr.err())
		return true
	}
	var req struct {
		Config jetstream.StreamConfig `json:"config"`
		State  json.RawMessage        `json:"state"`
	}
	if err := decodeRequest(r.body, &req); err != nil {
		j.replyErrShaped(r.reply, typ, jsInvalidJSONErr.err(err))
		return true
	}
	name := r.arg(2)
	if req.Config.Name == "" {
		req.Config.Name = name
	}
	if req.Config.Name != name {
		j.replyErrShaped(r.reply, typ, jsStreamMismatchErr.err())
		return true
	}
	if e := normaliseStreamConfig(&req.Config); e != nil {
		j.replyErrShaped(r.reply, typ, e)
		return true
	}
	if _, ok := j.streams[name]; ok {
		j.replyErrShaped(r.reply, typ, jsStreamNameExistRestoreFailedErr.err())
		return true
	}
	j.replyErrShaped(r.reply, typ, fakeNotSupportedErrF.err("STREAM.RESTORE"))
	return true
}

// lookupConsumer is the server's not found error for a stream's consumer, or nil.
func (j *jetStream) lookupConsumer(streamName, name string) *apiError {
	st, ok := j.streams[streamName]
	if !ok {
		return jsStreamNotFoundErr.err()
	}
	if _, ok := st.consumers[name]; !ok {
		return jsConsumerNotFoundErr.err()
	}
	return nil
}

// isEmptyRequest is nats-server's test for a request with nothing in it: no body, or an empty
// JSON object.
func isEmptyRequest(body []byte) bool {
	if len(body) == 0 {
		return true
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}
