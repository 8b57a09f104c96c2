package conformance

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Config and request fields nats-server honours and the fake does not implement yet are
// refused by the fake with its "not supported" error naming the field, never accepted and
// ignored. Each scenario shows briefly what the server does with the field, and that the fake
// refuses it. What a single nats-server refuses itself gets the same error on both.

// Helpers of this file start with "ref".

// refStream tries to create a stream and returns the error.
func refStream(t *testing.T, env *natstest.Env, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	t.Helper()
	return env.JetStream().CreateStream(waitCtx(t), cfg)
}

// refConsumer tries to create a consumer on a fresh stream R (subjects r.>) and returns it.
func refConsumer(t *testing.T, env *natstest.Env, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	t.Helper()
	s, err := env.JetStream().Stream(waitCtx(t), "R")
	if err != nil {
		s = spStream(t, env, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.>"}})
	}
	return s.CreateConsumer(waitCtx(t), cfg)
}

// What a single nats-server refuses in a stream config itself, the fake refuses alike:
// replicas, mirror direct without a mirror, the old template owner, asynchronous persistence
// of a memory stream.
func TestJSRefusedStreamFieldsServerErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range []struct {
			set  func(*jetstream.StreamConfig)
			want jetstream.APIError
		}{
			{func(c *jetstream.StreamConfig) { c.Replicas = 3 },
				jetstream.APIError{Code: 500, ErrorCode: 10074, Description: "replicas > 1 not supported in non-clustered mode"}},
			{func(c *jetstream.StreamConfig) { c.MirrorDirect = true },
				jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "stream has no mirror but does have mirror direct"}},
			{func(c *jetstream.StreamConfig) { c.Template = "T" },
				jetstream.APIError{Code: 400, ErrorCode: 10025, Description: `invalid JSON: json: unknown field "template_owner"`}},
			{func(c *jetstream.StreamConfig) {
				c.Storage, c.PersistMode = jetstream.MemoryStorage, jetstream.AsyncPersistMode
			},
				jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "async persist mode is only supported on file storage"}},
		} {
			cfg := jetstream.StreamConfig{Name: "E", Subjects: []string{"e.>"}}
			c.set(&cfg)
			_, err := refStream(t, env, cfg)
			spAPIErr(t, err, c.want)
		}
	})
}

// Consumer replicas on a single server: the server's own error on both.
func TestJSRefusedConsumerReplicas(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "R", Replicas: 3})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10074, Description: "replicas > 1 not supported in non-clustered mode"})
	})
}

// The JSON message get: a batch is nats-server's bad request, on both; a start time is
// honoured, on both.
func TestJSMsgGetFields(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "G", Subjects: []string{"g.>"}})
		spPub(t, env, "g.a", "1")
		const typ = "stream_msg_get_response"
		covErr(t, covRequest(t, env, "$JS.API.STREAM.MSG.GET.G", `{"seq":1,"batch":2}`), typ, covBadRequest)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.MSG.GET.X", `{"seq":1,"max_bytes":2}`), typ, covBadRequest)
		a := covRequest(t, env, "$JS.API.STREAM.MSG.GET.G", `{"start_time":"2000-01-01T00:00:00Z"}`)
		if a.Error != nil || !strings.Contains(string(a.raw), `"subject":"g.a"`) {
			t.Errorf("get by start time: %s, want g.a", a.raw)
		}
	})
}
