package conformance

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A stream or consumer create (or stream update) request with "pedantic": true is refused
// where the server would otherwise adjust the config: limits below -1, a duplicate window
// longer than max age, markers or schedules without the TTLs and rollups they need, a mirror
// whose direct gets differ from its origin's, an empty republish source; negative consumer
// limits, an ack wait other than the first back-off, limits the stream sets for its consumers.
// Without pedantic the same configs are adjusted and accepted.

// Helpers of this file start with "pd".

// pdAnswer is a create or update answer in the fields these scenarios look at.
type pdAnswer struct {
	Error  *jetstream.APIError `json:"error"`
	Config json.RawMessage     `json:"config"`
}

// pdRequest sends body to subj ($JS.API. is added) and decodes the answer.
func pdRequest(t *testing.T, env *natstest.Env, subj, body string) pdAnswer {
	t.Helper()
	m, err := env.Conn().Request("$JS.API."+subj, []byte(body), patience)
	if err != nil {
		t.Fatalf("request on %s: %v", subj, err)
	}
	var got pdAnswer
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatalf("answer on %s %q: %v", subj, m.Data, err)
	}
	return got
}

// pdWant checks that body on subj is refused with want when pedantic, and accepted without.
// body is a JSON object without its closing brace, so that the pedantic flag can be added.
func pdWant(t *testing.T, env *natstest.Env, subj, body string, want jetstream.APIError, cleanup func()) {
	t.Helper()
	got := pdRequest(t, env, subj, body+`,"pedantic":true}`)
	if got.Error == nil {
		t.Errorf("%s %s pedantic: accepted, want %+v", subj, body, want)
	} else if d := cmp.Diff(want, *got.Error); d != "" {
		t.Errorf("%s %s pedantic: API error (-want +got):\n%s", subj, body, d)
	}
	if cleanup != nil {
		cleanup()
	}
	if got := pdRequest(t, env, subj, body+`}`); got.Error != nil {
		t.Errorf("%s %s: %+v, want it adjusted and accepted", subj, body, got.Error)
	}
	if cleanup != nil {
		cleanup()
	}
}

func pdPedantic(what string) jetstream.APIError {
	return jetstream.APIError{Code: 400, ErrorCode: 10157, Description: "pedantic mode: " + what}
}

func pdInvalid(what string) jetstream.APIError {
	return jetstream.APIError{Code: 500, ErrorCode: 10052, Description: what}
}

// pdDeleteStream deletes stream name if it is there.
func pdDeleteStream(t *testing.T, env *natstest.Env, name string) func() {
	return func() { _ = env.JetStream().DeleteStream(waitCtx(t), name) }
}

// TestJSPedanticStreamCreate: each stream config the server adjusts is refused in pedantic
// mode with the server's words.
func TestJSPedanticStreamCreate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range []struct {
			cfg  string
			want jetstream.APIError
		}{
			{`"max_msgs":-2`, pdPedantic("max_msgs must be set to -1")},
			{`"max_msgs_per_subject":-2`, pdPedantic("max_msgs_per_subject must be set to -1")},
			{`"max_bytes":-5`, pdPedantic("max_bytes must be set to -1")},
			{`"max_msg_size":-2`, pdPedantic("max_msg_size must be set to -1")},
			{`"max_consumers":-2`, pdPedantic("max_consumers must be set to -1")},
			{`"max_age":60000000000`, pdPedantic("duplicate window cannot be bigger than max age")},
			{`"subject_delete_marker_ttl":1000000000,"allow_rollup_hdrs":true`,
				pdInvalid("subject delete marker cannot be set if message TTLs are disabled")},
			{`"subject_delete_marker_ttl":1000000000,"allow_msg_ttl":true`,
				pdInvalid("subject delete marker cannot be set if roll-ups are disabled")},
			{`"allow_msg_schedules":true`, pdInvalid("message scheduling cannot be set if roll-ups are disabled")},
			{`"republish":{"dest":"out.>"}`, pdPedantic("republish source can not be empty")},
		} {
			pdWant(t, env, "STREAM.CREATE.P", `{"name":"P","subjects":["p.>"],`+c.cfg, c.want, pdDeleteStream(t, env, "P"))
		}
	})
}

// TestJSPedanticStreamFine: a config the server need not adjust is accepted in pedantic mode,
// and an update in pedantic mode is checked as a create is, before the stream is looked up.
func TestJSPedanticStreamFine(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		body := `{"name":"P","subjects":["p.>"],"max_msgs":-1,"max_age":300000000000,"pedantic":true}`
		if got := pdRequest(t, env, "STREAM.CREATE.P", body); got.Error != nil {
			t.Fatalf("pedantic create of a config needing nothing: %+v", got.Error)
		}
		got := pdRequest(t, env, "STREAM.UPDATE.Q", `{"name":"P","subjects":["p.>"],"max_msgs":-3,"pedantic":true}`)
		want := pdPedantic("max_msgs must be set to -1")
		if got.Error == nil || cmp.Diff(want, *got.Error) != "" {
			t.Errorf("pedantic update naming another stream: %+v, want %+v", got.Error, want)
		}
		got = pdRequest(t, env, "STREAM.UPDATE.P", `{"name":"P","subjects":["p.>"],"max_msgs":-3,"pedantic":true}`)
		if got.Error == nil || cmp.Diff(want, *got.Error) != "" {
			t.Errorf("pedantic update: %+v, want %+v", got.Error, want)
		}
		got = pdRequest(t, env, "STREAM.CREATE.Q", `{"name":"P","subjects":["q.>"],"max_msgs":-3,"pedantic":true}`)
		mismatch := jetstream.APIError{Code: 400, ErrorCode: 10056, Description: "stream name in subject does not match request"}
		if got.Error == nil || cmp.Diff(mismatch, *got.Error) != "" {
			t.Errorf("pedantic create naming another stream: %+v, want %+v", got.Error, mismatch)
		}
	})
}

// TestJSPedanticMirrorDirect: a mirror whose direct gets differ from its origin's is refused in
// pedantic mode; without it the mirror takes the origin's setting.
func TestJSPedanticMirrorDirect(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}, AllowDirect: true})
		pdWant(t, env, "STREAM.CREATE.M", `{"name":"M","mirror":{"name":"O"}`,
			pdPedantic("origin stream has direct get set, mirror has it disabled"), pdDeleteStream(t, env, "M"))
	})
}

// TestJSPedanticConsumerCreate: each consumer config the server adjusts is refused in pedantic
// mode with the server's words.
func TestJSPedanticConsumerCreate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		spStream(t, env, jetstream.StreamConfig{Name: "L", Subjects: []string{"l.>"},
			ConsumerLimits: jetstream.StreamConsumerLimits{MaxAckPending: 10, InactiveThreshold: 1e10}})
		for _, c := range []struct {
			stream, cfg string
			want        jetstream.APIError
		}{
			{"P", `"max_deliver":-2`, pdPedantic("max_deliver must be set to -1")},
			{"P", `"max_waiting":-1`, pdPedantic("max_waiting must not be negative")},
			{"P", `"max_ack_pending":-2,"ack_policy":"explicit"`, pdPedantic("max_ack_pending must be set to -1")},
			{"P", `"max_batch":-1`, pdPedantic("max_batch must not be negative")},
			{"P", `"max_expires":-1`, pdPedantic("max_expires must not be negative")},
			{"P", `"max_bytes":-1`, pdPedantic("max_bytes must not be negative")},
			{"P", `"inactive_threshold":-1`, pdPedantic("inactive_threshold must not be negative")},
			{"P", `"priority_timeout":-1`, pdPedantic("priority_timeout must not be negative")},
			{"P", `"ack_policy":"explicit","backoff":[1000000000,2000000000]`, pdPedantic("first backoff value has to equal batch AckWait")},
			{"L", `"ack_policy":"explicit","inactive_threshold":10000000000`,
				pdPedantic("max_ack_pending must be set if it's configured in stream limits")},
			{"L", `"ack_policy":"explicit","max_ack_pending":5`,
				pdPedantic("inactive_threshold must be set if it's configured in stream limits")},
		} {
			body := `{"stream_name":"` + c.stream + `","config":{"name":"C",` + c.cfg + `}`
			del := func() { _ = env.JetStream().DeleteConsumer(waitCtx(t), c.stream, "C") }
			pdWant(t, env, "CONSUMER.CREATE."+c.stream+".C", body, c.want, del)
		}
		body := `{"stream_name":"P","config":{"name":"C","ack_policy":"explicit","ack_wait":1000000000,"backoff":[1000000000,2000000000]},"pedantic":true}`
		if got := pdRequest(t, env, "CONSUMER.CREATE.P.C", body); got.Error != nil {
			t.Errorf("pedantic create with the ack wait its back-off starts with: %+v", got.Error)
		}
	})
}
