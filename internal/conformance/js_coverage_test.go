package conformance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Every $JS.API subject nats-server serves gets an answer from the fake: the server's own,
// the server's error for what a single server cannot do, or, for what the fake does not do
// yet, its "not supported" error (501, err_code 19001, a description naming what). Where the
// server answers nothing the fake answers nothing either. Scenarios where the server succeeds
// and the fake refuses say so by branching on the backend: the fake's refusal is then the
// assertion, and the server's success shows what the refusal stands for.

// Helpers of this file start with "cov".

const (
	covNotSupportedCode    = 501
	covNotSupportedErrCode = 19001
	covSilence             = 300 * time.Millisecond // how long a request waits for no answer
)

func covFake(env *natstest.Env) bool { return env.Backend() == natstest.Fake }

// covSetup is stream S (subjects s.>, direct gets on) with one message and pull consumer C.
func covSetup(t *testing.T, env *natstest.Env) jetstream.Stream {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowDirect: true})
	spPub(t, env, "s.a", "one")
	spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	return s
}

// covAPI is an API answer: its type and error, and the rest of it raw.
type covAPI struct {
	Type  string              `json:"type"`
	Error *jetstream.APIError `json:"error"`
	raw   []byte
}

// covRequest sends body to subj and decodes the JSON answer, which must come within patience.
func covRequest(t *testing.T, env *natstest.Env, subj, body string) covAPI {
	t.Helper()
	m, err := env.Conn().Request(subj, []byte(body), patience)
	if err != nil {
		t.Fatalf("%s %s: %v", subj, body, err)
	}
	var a covAPI
	if err := json.Unmarshal(m.Data, &a); err != nil {
		t.Fatalf("%s: answer %q: %v", subj, m.Data, err)
	}
	a.raw = m.Data
	return a
}

// covErr checks an answer is the error want, of response type typ.
func covErr(t *testing.T, a covAPI, typ string, want jetstream.APIError) {
	t.Helper()
	if a.Type != "io.nats.jetstream.api.v1."+typ {
		t.Errorf("type %q, want %s", a.Type, typ)
	}
	if a.Error == nil {
		t.Errorf("answer %s, want error %+v", a.raw, want)
		return
	}
	if *a.Error != want {
		t.Errorf("error %+v, want %+v", *a.Error, want)
	}
}

// covNotSupported checks err, or a, is the fake's refusal naming what.
func covNotSupported(t *testing.T, err error, what string) {
	t.Helper()
	var e *jetstream.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want the fake's not supported API error naming %s", err, err, what)
	}
	if e.Code != covNotSupportedCode || e.ErrorCode != covNotSupportedErrCode || !strings.Contains(e.Description, what) ||
		!strings.Contains(e.Description, "not supported by the fake") {
		t.Errorf("error %+v, want %d %d naming %s", *e, covNotSupportedCode, covNotSupportedErrCode, what)
	}
}

// covSilent checks nobody answers subj, though someone takes it: a timeout, not no responders.
func covSilent(t *testing.T, env *natstest.Env, subj, body string) {
	t.Helper()
	m, err := env.Conn().Request(subj, []byte(body), covSilence)
	if !errors.Is(err, nats.ErrTimeout) {
		t.Errorf("%s: answer %v, error %v; want no answer (a timeout)", subj, m, err)
	}
}

var (
	covClusterRequired = jetstream.APIError{Code: 503, ErrorCode: 10010, Description: "JetStream clustering support required"}
	covStreamNotFound  = jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"}
	covConsumerMissing = jetstream.APIError{Code: 404, ErrorCode: 10014, Description: "consumer not found"}
	covBadRequest      = jetstream.APIError{Code: 400, ErrorCode: 10003, Description: "bad request"}
)

// nats-server's API dispatch answers nothing for a $JS.API subject it does not know, nor one
// with a token too few or too many: the request times out rather than finding no responders.
func TestJSAPIUnknownSubjectNoAnswer(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		for _, subj := range []string{"$JS.API.FOO", "$JS.API.STREAM.FOO.S", "$JS.API.STREAM.INFO", "$JS.API.STREAM.INFO.S.x", "$JS.API.CONSUMER.INFO.S"} {
			covSilent(t, env, subj, "")
		}
	})
}

// The meta leader step-down, server removal and evacuation, meta rescue and the ACCOUNT
// subjects are the system account's: nats-server takes them from a client and answers nothing.
func TestJSAPISystemSubjectsNoAnswer(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		for _, subj := range []string{"$JS.API.META.LEADER.STEPDOWN", "$JS.API.SERVER.REMOVE", "$JS.API.SERVER.EVACUATE",
			"$JS.API.META.RESCUE", "$JS.API.ACCOUNT.PURGE.$G", "$JS.API.ACCOUNT.STREAM.MOVE.S.x", "$JS.API.ACCOUNT.STREAM.CANCEL_MOVE.S.x"} {
			covSilent(t, env, subj, "{}")
		}
	})
}

// Leader step-down of a stream or consumer needs a cluster: a single nats-server answers
// 503/10010, whether the stream exists or not.
func TestJSAPILeaderStepDownClusteringRequired(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.LEADER.STEPDOWN.S", ""), "stream_leader_stepdown_response", covClusterRequired)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.LEADER.STEPDOWN.X", ""), "stream_leader_stepdown_response", covClusterRequired)
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.LEADER.STEPDOWN.S.C", ""), "consumer_leader_stepdown_response", covClusterRequired)
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.LEADER.STEPDOWN.X.Y", "x"), "consumer_leader_stepdown_response", covClusterRequired)
	})
}

// Peer removal, evacuation and cancelling a move need a cluster too: 503/10010.
func TestJSAPIPeerRemoveClusteringRequired(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		for subj, typ := range map[string]string{
			"$JS.API.STREAM.PEER.REMOVE.S":       "stream_remove_peer_response",
			"$JS.API.STREAM.PEER.EVACUATE.S":     "stream_evacuate_peer_response",
			"$JS.API.STREAM.CANCEL_MOVE.S":       "stream_cancel_move_response",
			"$JS.API.CONSUMER.PEER.REMOVE.S.C":   "consumer_remove_peer_response",
			"$JS.API.CONSUMER.PEER.EVACUATE.S.C": "consumer_evacuate_peer_response",
		} {
			covErr(t, covRequest(t, env, subj, `{"peer":"p"}`), typ, covClusterRequired)
		}
	})
}

// Unpinning: the request is checked first (invalid JSON, a group is required, its name's
// form), then the stream and the consumer, then the group, which a consumer without priority
// groups does not have.
func TestJSAPIUnpin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := covSetup(t, env)
		const typ = "consumer_unpin_response"
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.X.Y", ""), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10025, Description: "invalid JSON: unexpected end of JSON input"})
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.X.Y", "{}"), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10025, Description: "invalid JSON: consumer group not specified"})
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.X.Y", `{"group":"a.b"}`), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10162, Description: "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"})
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.X.Y", `{"group":"g"}`), typ, covStreamNotFound)
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.S.Y", `{"group":"g"}`), typ, covConsumerMissing)
		err := s.UnpinConsumer(waitCtx(t), "C", "g")
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10160, Description: "Provided priority group does not exist for this consumer"})
	})
}

// CONSUMER.RESET is served by each consumer's own subscription: without the consumer, or
// the stream, nobody answers and the request times out.
func TestJSAPIResetMissing(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		covSilent(t, env, "$JS.API.CONSUMER.RESET.S.Y", "")
		covSilent(t, env, "$JS.API.CONSUMER.RESET.X.Y", "{}")
	})
}

// A snapshot request: an empty one is a bad request, then the stream must exist, then the
// request is read and its deliver subject checked.
func TestJSAPISnapshotChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		const typ = "stream_snapshot_response"
		covErr(t, covRequest(t, env, "$JS.API.STREAM.SNAPSHOT.X", ""), typ, covBadRequest)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.SNAPSHOT.X", `{"deliver_subject":"snap"}`), typ, covStreamNotFound)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.SNAPSHOT.S", `{}`), typ, covBadRequest)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.SNAPSHOT.S", `{"no_consumers":true}`), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10015, Description: "deliver subject not valid"})
		covErr(t, covRequest(t, env, "$JS.API.STREAM.SNAPSHOT.S", `{"deliver_subject":"snap.*"}`), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10015, Description: "deliver subject not valid"})
	})
}

// A valid snapshot request: nats-server answers with the stream's config and state and sends
// the snapshot to the deliver subject; the fake says it does not support snapshots yet.
func TestJSAPISnapshotExisting(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		sub := subSync(t, env.Conn(), "snap")
		flush(t, env.Conn())
		a := covRequest(t, env, "$JS.API.STREAM.SNAPSHOT.S", `{"deliver_subject":"snap"}`)
		if covFake(env) {
			covNotSupported(t, a.Error, "STREAM.SNAPSHOT")
			return
		}
		if a.Error != nil || !strings.Contains(string(a.raw), `"name":"S"`) {
			t.Fatalf("snapshot: %s, want the stream's config", a.raw)
		}
		// Take the snapshot to its end, acknowledging each chunk, so the server finishes.
		for {
			m := next(t, sub)
			if m.Reply != "" {
				if err := m.Respond(nil); err != nil {
					t.Fatal(err)
				}
			}
			if len(m.Data) == 0 {
				return
			}
		}
	})
}

// A restore request is read and checked as a stream config; a stream that exists is not
// restored over.
func TestJSAPIRestoreChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		const typ = "stream_restore_response"
		covErr(t, covRequest(t, env, "$JS.API.STREAM.RESTORE.R", ""), typ, covBadRequest)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.RESTORE.R", `{"config":{"name":"Q"}}`), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10056, Description: "stream name in subject does not match request"})
		a := covRequest(t, env, "$JS.API.STREAM.RESTORE.S", `{"config":{"name":"S","subjects":["s.>"]}}`)
		covErr(t, a, typ, jetstream.APIError{Code: 400, ErrorCode: 10130, Description: "stream name already in use, cannot restore"})
		if !strings.Contains(string(a.raw), `"deliver_subject":""`) {
			t.Errorf("restore error %s carries no deliver_subject", a.raw)
		}
	})
}

// Missing consumers and streams get no responders on MSG.NEXT and DIRECT.GET, on both.
func TestJSAPINoRespondersWhereTheServerHasNone(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covSetup(t, env)
		for _, subj := range []string{"$JS.API.CONSUMER.MSG.NEXT.S.Y", "$JS.API.CONSUMER.MSG.NEXT.X.Y", "$JS.API.DIRECT.GET.X"} {
			_, err := env.Conn().Request(subj, []byte(`{"seq":1}`), patience)
			if !errors.Is(err, nats.ErrNoResponders) {
				t.Errorf("%s: %v, want no responders", subj, err)
			}
		}
	})
}

// Restoring a stream that is not there: nats-server answers with the subject to send the
// snapshot to (an empty one ends it, and fails the restore); the fake says it does not
// support restores yet.
func TestJSAPIRestoreNew(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		a := covRequest(t, env, "$JS.API.STREAM.RESTORE.R", `{"config":{"name":"R","subjects":["r.>"]},"state":{}}`)
		if covFake(env) {
			covNotSupported(t, a.Error, "STREAM.RESTORE")
			return
		}
		var resp struct {
			DeliverSubject string `json:"deliver_subject"`
		}
		if err := json.Unmarshal(a.raw, &resp); err != nil || a.Error != nil || resp.DeliverSubject == "" {
			t.Fatalf("restore: %s, want a deliver subject", a.raw)
		}
		end, err := env.Conn().Request(resp.DeliverSubject, nil, patience)
		if err != nil {
			t.Fatalf("ending the restore: %v", err)
		}
		if !strings.Contains(string(end.Data), `"err_code":10062`) {
			t.Errorf("ending the restore: %s, want restore failed", end.Data)
		}
	})
}
