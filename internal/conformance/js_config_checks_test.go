package conformance

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The stream and consumer config checks nats-server makes on a single server, each answered with
// its code, err_code and words, on both backends. Raw requests, so that fields nats.go's types
// lack (placement.preferred, a consumer's direct) reach the server as a client could send them.

// cfgInvalid is nats-server's invalid stream config error with its description.
func cfgInvalid(desc string) jetstream.APIError {
	return jetstream.APIError{Code: 500, ErrorCode: 10052, Description: desc}
}

// cfgPolicy is nats-server's invalid consumer deliver policy error with its description.
func cfgPolicy(desc string) jetstream.APIError {
	return jetstream.APIError{Code: 400, ErrorCode: 10094, Description: desc}
}

// TestJSStreamConfigLimits: a max age or duplicates window under 100ms, a negative subject
// delete marker TTL, rollups with purges denied, and discard new per subject without a per
// subject limit are refused, each with the server's words.
func TestJSStreamConfigLimits(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const typ = "stream_create_response"
		for _, c := range []struct{ body, want string }{
			{`{"name":"A","max_age":50000000}`, "max age needs to be >= 100ms"},
			{`{"name":"A","duplicate_window":50000000}`, "duplicates window needs to be >= 100ms"},
			{`{"name":"A","subject_delete_marker_ttl":-1000000000,"allow_msg_ttl":true}`, "subject delete marker TTL must not be negative"},
			{`{"name":"A","deny_purge":true,"allow_rollup_hdrs":true}`, "roll-ups require the purge permission"},
			{`{"name":"A","discard_new_per_subject":true,"discard":"new"}`, "discard new per subject requires max msgs per subject > 0"},
			{`{"name":"A","discard_new_per_subject":true,"max_msgs_per_subject":1}`, "discard new per subject requires discard new policy to be set"},
		} {
			covErr(t, covRequest(t, env, "$JS.API.STREAM.CREATE.A", c.body), typ, cfgInvalid(c.want))
		}
	})
}

// TestJSStreamPlacementPreferred: a preferred server in a stream's placement is refused; a
// cluster or tags alone are taken on a single server.
func TestJSStreamPlacementPreferred(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		covErr(t, covRequest(t, env, "$JS.API.STREAM.CREATE.A", `{"name":"A","placement":{"preferred":"n1"}}`),
			"stream_create_response", cfgInvalid("preferred server not permitted in placement"))
		if a := covRequest(t, env, "$JS.API.STREAM.CREATE.B", `{"name":"B","placement":{"tags":["t"]}}`); a.Error != nil {
			t.Errorf("placement with tags: %+v, want the stream", a.Error)
		}
	})
}

// TestJSStreamUpdatePlacementPreferred: an update is checked as a create is.
func TestJSStreamUpdatePlacementPreferred(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "A"})
		covErr(t, covRequest(t, env, "$JS.API.STREAM.UPDATE.A", `{"name":"A","placement":{"preferred":"n1"}}`),
			"stream_update_response", cfgInvalid("preferred server not permitted in placement"))
		covErr(t, covRequest(t, env, "$JS.API.STREAM.UPDATE.A", `{"name":"A","max_age":1000}`),
			"stream_update_response", cfgInvalid("max age needs to be >= 100ms"))
	})
}

// TestJSConsumerStartPolicyOrder: every deliver policy's checks of the optional start sequence
// and time, in the server's order and words (its "optional start start sequence" included).
func TestJSConsumerStartPolicyOrder(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		const typ = "consumer_create_response"
		const when = `"2020-01-01T00:00:00Z"`
		for _, c := range []struct{ cfg, want string }{
			{`"deliver_policy":"by_start_sequence","opt_start_seq":1,"opt_start_time":` + when,
				"consumer delivery policy is deliver by start sequence, but optional start time is also set"},
			{`"deliver_policy":"by_start_time","opt_start_time":` + when + `,"opt_start_seq":1`,
				"consumer delivery policy is deliver by start time, but optional start start sequence is also set"},
			{`"deliver_policy":"last_per_subject","opt_start_seq":1`,
				"consumer delivery policy is deliver last per subject, but optional start sequence is also set"},
			{`"deliver_policy":"last_per_subject","opt_start_time":` + when + `,"filter_subject":"s.a"`,
				"consumer delivery policy is deliver last per subject, but optional start time is also set"},
			{`"deliver_policy":"last_per_subject"`,
				"consumer delivery policy is deliver last per subject, but optional filter subject is not set"},
			{`"deliver_policy":"new","opt_start_seq":2`,
				"consumer delivery policy is deliver new, but optional start sequence is also set"},
			{`"deliver_policy":"last","opt_start_time":` + when,
				"consumer delivery policy is deliver last, but optional start time is also set"},
		} {
			body := `{"stream_name":"S","config":{"name":"C",` + c.cfg + `}}`
			covErr(t, covRequest(t, env, "$JS.API.CONSUMER.CREATE.S.C", body), typ, cfgPolicy(c.want))
		}
	})
}

// TestJSConsumerDirectPull: the flag nats-server keeps for a mirror's consumer is refused on a
// pull consumer with its own error.
func TestJSConsumerDirectPull(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"name":"C","direct":true}}`),
			"consumer_create_response", jetstream.APIError{Code: 400, ErrorCode: 10090, Description: "consumer direct requires a push based consumer"})
	})
}

// TestJSConsumerSourcingFlag: the flag nats-server keeps for a source's consumer; the server
// takes it, the fake (which has no sources) refuses it naming the field.
func TestJSConsumerSourcingFlag(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		a := covRequest(t, env, "$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"name":"C","sourcing":true}}`)
		if covFake(env) {
			covNotSupported(t, a.Error, "sourcing")
			return
		}
		if a.Error != nil {
			t.Errorf("sourcing consumer: %+v, want it created", a.Error)
		}
	})
}

// TestJSNotEmptyRequest: stream delete, consumer info and consumer delete take no body; one
// with keys is refused before the stream is looked up, and an empty object is no body.
func TestJSNotEmptyRequest(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C"})
		notEmpty := jetstream.APIError{Code: 400, ErrorCode: 10038, Description: "expected an empty request payload"}
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.INFO.S.C", `{"x":1}`), "consumer_info_response", notEmpty)
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.DELETE.S.C", `x`), "consumer_delete_response", notEmpty)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.DELETE.MISSING", `[]`), "stream_delete_response", notEmpty)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.DELETE.S", `{"a":null}`), "stream_delete_response", notEmpty)
		if a := covRequest(t, env, "$JS.API.CONSUMER.INFO.S.C", ` { } `); a.Error != nil {
			t.Errorf("consumer info with an empty object: %+v, want the info", a.Error)
		}
		if a := covRequest(t, env, "$JS.API.CONSUMER.DELETE.S.C", `{}`); a.Error != nil {
			t.Errorf("consumer delete with {}: %+v, want it deleted", a.Error)
		}
		if a := covRequest(t, env, "$JS.API.STREAM.DELETE.S", ``); a.Error != nil {
			t.Errorf("stream delete: %+v, want it deleted", a.Error)
		}
	})
}

// TestJSAccountAPICounts: the account's API figures count each answered request once, after
// answering it (an account info request does not count itself), errors among them; pull
// requests and direct gets are not API requests.
func TestJSAccountAPICounts(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx := waitCtx(t)
		before, err := js.AccountInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowDirect: true}) // 1
		spPub(t, env, "s.a", "one")
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C"}) // 2
		spTake(t, c, 1)                                               // a pull request
		if _, err := s.GetLastMsgForSubject(ctx, "s.a"); err != nil { // a direct get
			t.Fatal(err)
		}
		if _, err := js.Stream(ctx, "MISSING"); err == nil { // 3, an error
			t.Fatal("stream MISSING found")
		}
		after, err := js.AccountInfo(ctx) // 4 (the first account info), not itself
		if err != nil {
			t.Fatal(err)
		}
		if got, want := after.API.Total-before.API.Total, uint64(4); got != want {
			t.Errorf("API total grew by %d, want %d", got, want)
		}
		if got, want := after.API.Errors-before.API.Errors, uint64(1); got != want {
			t.Errorf("API errors grew by %d, want %d", got, want)
		}
	})
}
