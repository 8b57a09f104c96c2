package conformance

import (
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The helpers of the strict-decoding and error-table scenarios all start with "st", so that
// they cannot collide with the helpers of other files of the package.

// stAnswer is a JetStream API answer: its error, if any, and the rest as raw JSON.
type stAnswer struct {
	Error  *jetstream.APIError `json:"error"`
	Offset *int                `json:"offset"`
	raw    []byte
}

// stReq sends body on a $JS.API subject and returns the answer.
func stReq(t *testing.T, env *natstest.Env, subj, body string) stAnswer {
	t.Helper()
	r, err := env.Conn().Request(subj, []byte(body), patience)
	if err != nil {
		t.Fatalf("%s %q: %v", subj, body, err)
	}
	a := stAnswer{raw: r.Data}
	if err := json.Unmarshal(r.Data, &a); err != nil {
		t.Fatalf("%s %q: answer %q: %v", subj, body, r.Data, err)
	}
	return a
}

// stWant sends body on a $JS.API subject and wants the answer's error to be want (nil: none).
func stWant(t *testing.T, env *natstest.Env, subj, body string, want *jetstream.APIError) stAnswer {
	t.Helper()
	a := stReq(t, env, subj, body)
	switch {
	case want == nil && a.Error != nil:
		t.Errorf("%s %q: error %+v, want none", subj, body, *a.Error)
	case want != nil && (a.Error == nil || *a.Error != *want):
		t.Errorf("%s %q: answer %s, want error %+v", subj, body, a.raw, *want)
	}
	return a
}

// stInvalidJSON is nats-server's 10025 with the decoder's complaint.
func stInvalidJSON(desc string) *jetstream.APIError {
	return &jetstream.APIError{Code: 400, ErrorCode: 10025, Description: "invalid JSON: " + desc}
}

var stBadRequest = &jetstream.APIError{Code: 400, ErrorCode: 10003, Description: "bad request"}

// stStream makes stream S on s.> holding one message (with a header) on s.a.
func stStream(t *testing.T, env *natstest.Env) {
	t.Helper()
	spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	m := nats.NewMsg("s.a")
	m.Header.Set("H", "v")
	m.Data = []byte("one")
	if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
		t.Fatal(err)
	}
}

// TestJSStrictStreamCreate: nats-server decodes STREAM.CREATE strictly: a key its stream
// configuration does not know, at any depth, is refused with 10025 "json: unknown field";
// nats.go's template_owner, which the server dropped, is one. Keys match names without regard
// to case; pedantic (the server's, not nats.go's) is known, and so is "" for persist_mode. Type errors name the server's
// types.
func TestJSStrictStreamCreate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const subj = "$JS.API.STREAM.CREATE.T"
		stWant(t, env, subj, `{"name":"T","foo":1}`, stInvalidJSON(`json: unknown field "foo"`))
		stWant(t, env, subj, `{"name":"T","placement":{"cluster":"","bogus":1}}`, stInvalidJSON(`json: unknown field "bogus"`))
		stWant(t, env, subj, `{"name":"T","template_owner":"x"}`, stInvalidJSON(`json: unknown field "template_owner"`))
		stWant(t, env, subj, `{"name":"T","consumer_limits":{"max_ack":1}}`, stInvalidJSON(`json: unknown field "max_ack"`))
		stWant(t, env, subj, `{"name":"T","max_msgs":"x"}`,
			stInvalidJSON("json: cannot unmarshal string into Go struct field StreamConfigRequest.StreamConfig.max_msgs of type int64"))
		stWant(t, env, subj, `{"name":"T","foo":1,"max_msgs":"x"}`, stInvalidJSON(`json: unknown field "foo"`))
		stWant(t, env, subj, `{"name":"T","max_msgs":"x","foo":1}`,
			stInvalidJSON("json: cannot unmarshal string into Go struct field StreamConfigRequest.StreamConfig.max_msgs of type int64"))
		stWant(t, env, subj, `{"name":"T","retention":"forever"}`, stInvalidJSON(`can not unmarshal "\"forever\""`))
		a := stWant(t, env, subj, `{"NAME":"T","Subjects":["t.>"],"pedantic":false,"persist_mode":""}`, nil)
		var info struct {
			Config struct {
				Name     string   `json:"name"`
				Subjects []string `json:"subjects"`
			} `json:"config"`
		}
		if err := json.Unmarshal(a.raw, &info); err != nil || info.Config.Name != "T" || len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "t.>" {
			t.Errorf("stream made from upper-case keys: %s", a.raw)
		}
	})
}

// TestJSStrictStreamUpdate: STREAM.UPDATE refuses an unknown key as STREAM.CREATE does, and
// leaves the stream as it was.
func TestJSStrictStreamUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		stWant(t, env, "$JS.API.STREAM.UPDATE.S", `{"name":"S","subjects":["s.>","u.>"],"max_msg":5}`,
			stInvalidJSON(`json: unknown field "max_msg"`))
		info, err := s.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Config.Subjects) != 1 || info.Config.MaxMsgs != -1 {
			t.Errorf("after a refused update: subjects %v, max msgs %d", info.Config.Subjects, info.Config.MaxMsgs)
		}
	})
}

// TestJSStrictConsumerCreate: CONSUMER.CREATE refuses an unknown key in the request or in its
// config, an action other than create, update or "", and a priority policy of "" (nats.go's
// spelling of none), in the server's words; the server's own keys (pedantic; direct in the
// config) and values ("none") are known.
func TestJSStrictConsumerCreate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		const subj = "$JS.API.CONSUMER.CREATE.S.C"
		stWant(t, env, subj, `{"stream_name":"S","config":{"durable_name":"C","bogus":1}}`, stInvalidJSON(`json: unknown field "bogus"`))
		stWant(t, env, subj, `{"stream_name":"S","cfg":{}}`, stInvalidJSON(`json: unknown field "cfg"`))
		stWant(t, env, subj, `{"stream_name":"S","config":{"durable_name":"C"},"action":"replace"}`,
			stInvalidJSON(`unknown consumer action: "replace"`))
		stWant(t, env, subj, `{"stream_name":"S","config":{"durable_name":"C","deliver_policy":"first"}}`,
			stInvalidJSON(`can not unmarshal "\"first\""`))
		stWant(t, env, subj, `{"stream_name":"S","config":{"durable_name":"C","priority_policy":""}}`,
			stInvalidJSON(`unknown priority policy: ""`))
		stWant(t, env, subj, `{"stream_name":"S","config":{"durable_name":"C","ack_policy":"explicit","direct":false,"priority_policy":"none"},"pedantic":false,"action":"create"}`, nil)
	})
}

// TestJSStrictPullRequest: nats-server decodes a pull request (CONSUMER.MSG.NEXT) without
// strictness: an unknown key is ignored and the message is delivered.
func TestJSStrictPullRequest(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		s, err := env.JetStream().Stream(waitCtx(t), "S")
		if err != nil {
			t.Fatal(err)
		}
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckNonePolicy})
		nc := env.Conn()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":1,"no_wait":true,"bogus":1}`)); err != nil {
			t.Fatal(err)
		}
		m := next(t, sub)
		if string(m.Data) != "one" || m.Header.Get("Status") != "" {
			t.Errorf("pull request with an unknown key: got %q (status %q), want the message", m.Data, m.Header.Get("Status"))
		}
	})
}

// TestJSStrictMsgGet: STREAM.MSG.GET checks its body before the stream: empty ("", {}) is a
// bad request, an unknown key invalid JSON, a batch (for DIRECT.GET only) a bad request, even
// for a stream that does not exist. It knows the server's keys: no_hdr leaves the headers out,
// start_time finds the first message stored then or later. Several JSON values in a body are
// decoded one over the other; trailing bytes that are not JSON are a syntax error.
func TestJSStrictMsgGet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		const subj = "$JS.API.STREAM.MSG.GET.S"
		stWant(t, env, subj, "", stBadRequest)
		stWant(t, env, subj, " { } ", stBadRequest)
		stWant(t, env, subj, "null", stBadRequest)
		stWant(t, env, "$JS.API.STREAM.MSG.GET.NONE", "", stBadRequest)
		stWant(t, env, "$JS.API.STREAM.MSG.GET.NONE", `{"seq":1,"x":1}`, stInvalidJSON(`json: unknown field "x"`))
		stWant(t, env, subj, `{"seq":1,"batch":2}`, stBadRequest)
		stWant(t, env, subj, `{"seq":1} x`, stInvalidJSON("invalid character 'x' looking for beginning of value at offset 11"))
		stWant(t, env, subj, `{"seq":"1"}`,
			stInvalidJSON("json: cannot unmarshal string into Go struct field JSApiMsgGetRequest.seq of type uint64"))
		stWant(t, env, "$JS.API.STREAM.MSG.GET.NONE", `{"seq":1}`,
			&jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"})
		stWant(t, env, subj, `{"seq":5} {"seq":1}`, nil)

		var got struct {
			Message struct {
				Seq  uint64 `json:"seq"`
				Hdrs []byte `json:"hdrs"`
			} `json:"message"`
		}
		a := stWant(t, env, subj, `{"seq":1,"no_hdr":true}`, nil)
		if err := json.Unmarshal(a.raw, &got); err != nil || got.Message.Seq != 1 || got.Message.Hdrs != nil {
			t.Errorf("get with no_hdr: %s", a.raw)
		}
		a = stWant(t, env, subj, `{"start_time":"2000-01-01T00:00:00Z"}`, nil)
		if err := json.Unmarshal(a.raw, &got); err != nil || got.Message.Seq != 1 || got.Message.Hdrs == nil {
			t.Errorf("get by start time: %s", a.raw)
		}
		stWant(t, env, subj, `{"start_time":"2200-01-01T00:00:00Z"}`,
			&jetstream.APIError{Code: 404, ErrorCode: 10037, Description: "no message found"})
		stWant(t, env, subj, `{"seq":1,"start_time":"2000-01-01T00:00:00Z"}`, stBadRequest)
	})
}

// TestJSStrictMsgDelete: STREAM.MSG.DELETE checks its body before the stream (empty is a bad
// request, an unknown key invalid JSON); sequence 0 in a file stream is the file store's "no
// message found" (500/10057); a sealed stream answers 10109, not 10057.
func TestJSStrictMsgDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		stWant(t, env, "$JS.API.STREAM.MSG.DELETE.NONE", "", stBadRequest)
		stWant(t, env, "$JS.API.STREAM.MSG.DELETE.S", "{}", stBadRequest)
		stWant(t, env, "$JS.API.STREAM.MSG.DELETE.S", `{"seq":1,"erase":true}`, stInvalidJSON(`json: unknown field "erase"`))
		stWant(t, env, "$JS.API.STREAM.MSG.DELETE.S", `{"seq":0}`,
			&jetstream.APIError{Code: 500, ErrorCode: 10057, Description: "no message found"})
		if _, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Sealed: true}); err != nil {
			t.Fatal(err)
		}
		stWant(t, env, "$JS.API.STREAM.MSG.DELETE.S", `{"seq":1}`,
			&jetstream.APIError{Code: 400, ErrorCode: 10109, Description: "invalid operation on sealed stream"})
	})
}

// TestJSStrictPurgeAndInfo: STREAM.PURGE and STREAM.INFO refuse unknown keys; an empty or null
// body is no request at all.
func TestJSStrictPurgeAndInfo(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		stWant(t, env, "$JS.API.STREAM.PURGE.S", `{"subject":"s.a"}`, stInvalidJSON(`json: unknown field "subject"`))
		stWant(t, env, "$JS.API.STREAM.INFO.S", `{"deleted_details":true,"subjects":true}`, stInvalidJSON(`json: unknown field "subjects"`))
		stWant(t, env, "$JS.API.STREAM.INFO.S", `{"offset":"1"}`,
			stInvalidJSON("json: cannot unmarshal string into Go struct field JSApiStreamInfoRequest.ApiPagedRequest.offset of type int"))
		stWant(t, env, "$JS.API.STREAM.INFO.S", "null", nil)
		stWant(t, env, "$JS.API.STREAM.INFO.S", "", nil)
		stWant(t, env, "$JS.API.STREAM.PURGE.S", "null", nil)
	})
}

// TestJSStrictNames: NAMES and LIST requests take subject (streams only) and offset: a
// consumer list refuses subject. They decode only a body that opens a JSON object or array and
// ignore any other; a negative offset counts as 0.
func TestJSStrictNames(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		s, err := env.JetStream().Stream(waitCtx(t), "S")
		if err != nil {
			t.Fatal(err)
		}
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C"})
		stWant(t, env, "$JS.API.STREAM.NAMES", `{"subject":"s.a","x":1}`, stInvalidJSON(`json: unknown field "x"`))
		stWant(t, env, "$JS.API.STREAM.LIST", `{"subject":"s.a","x":1}`, stInvalidJSON(`json: unknown field "x"`))
		stWant(t, env, "$JS.API.CONSUMER.NAMES.S", `{"subject":"s.a"}`, stInvalidJSON(`json: unknown field "subject"`))
		stWant(t, env, "$JS.API.CONSUMER.LIST.S", `{"subject":"s.a"}`, stInvalidJSON(`json: unknown field "subject"`))
		stWant(t, env, "$JS.API.STREAM.LIST", `[]`,
			stInvalidJSON("json: cannot unmarshal array into Go value of type server.JSApiStreamListRequest"))
		for _, subj := range []string{"$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST", "$JS.API.CONSUMER.NAMES.S", "$JS.API.CONSUMER.LIST.S"} {
			stWant(t, env, subj, "not json", nil)
			a := stWant(t, env, subj, `{"offset":-5}`, nil)
			if a.Offset == nil || *a.Offset != 0 {
				t.Errorf("%s with offset -5: %s", subj, a.raw)
			}
		}
	})
}

// TestJSStrictSyntax: a syntax error anywhere in a body, trailing bytes included, is invalid
// JSON with the decoder's offset, on every API that takes JSON. The server decodes a body value
// by value, so an error in the first value is reported before trailing bytes are read.
func TestJSStrictSyntax(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		for _, subj := range []string{
			"$JS.API.STREAM.CREATE.T", "$JS.API.STREAM.UPDATE.S", "$JS.API.STREAM.INFO.S",
			"$JS.API.STREAM.PURGE.S", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.MSG.GET.S",
			"$JS.API.STREAM.MSG.DELETE.S", "$JS.API.CONSUMER.CREATE.S.X", "$JS.API.CONSUMER.LIST.S",
		} {
			stWant(t, env, subj, `{}]`, stInvalidJSON("invalid character ']' looking for beginning of value at offset 3"))
			stWant(t, env, subj, `{} {`, stInvalidJSON("unexpected EOF"))
			stWant(t, env, subj, `{"a"}`, stInvalidJSON("invalid character '}' after object key at offset 5"))
			stWant(t, env, subj, "{}\n\x00", stInvalidJSON("invalid character '\\x00' looking for beginning of value at offset 4"))
		}
	})
}

// TestJSConsumerCreateSubjectMismatch: a consumer name in the subject that differs from the
// config's durable name is 10017; a filter in the subject that differs from the config's is
// 10131 (nats-server's words for both).
func TestJSConsumerCreateSubjectMismatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		stWant(t, env, "$JS.API.CONSUMER.CREATE.S.A", `{"stream_name":"S","config":{"durable_name":"B"}}`,
			&jetstream.APIError{Code: 400, ErrorCode: 10017, Description: "consumer name in subject does not match durable name in request"})
		stWant(t, env, "$JS.API.CONSUMER.CREATE.S.A.s.a", `{"stream_name":"S","config":{"name":"A","filter_subject":"s.b"}}`,
			&jetstream.APIError{Code: 400, ErrorCode: 10131, Description: "Consumer create request did not match filtered subject from create subject"})
	})
}

// TestJSConsumerStartPolicyErrors: a start position that contradicts the deliver policy is
// 400/10094 with the server's words, not an invalid stream configuration.
func TestJSConsumerStartPolicyErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		for cfg, desc := range map[*jetstream.ConsumerConfig]string{
			{Durable: "A", DeliverPolicy: jetstream.DeliverByStartSequencePolicy}:     "consumer delivery policy is deliver by start sequence, but optional start sequence is not set",
			{Durable: "B", DeliverPolicy: jetstream.DeliverByStartTimePolicy}:         "consumer delivery policy is deliver by start time, but optional start time is not set",
			{Durable: "C", DeliverPolicy: jetstream.DeliverNewPolicy, OptStartSeq: 3}: "consumer delivery policy is deliver new, but optional start sequence is also set",
		} {
			_, err := s.CreateConsumer(waitCtx(t), *cfg)
			spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10094, Description: desc})
		}
	})
}

// TestJSStreamUpdateRetentionWorkQueue: a stream's retention cannot change to or from work
// queue: 500/10052 in the server's words.
func TestJSStreamUpdateRetentionWorkQueue(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Retention: jetstream.WorkQueuePolicy})
		_, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "stream configuration update can not change retention policy to/from workqueue"})
	})
}

// TestJSStreamMaxAgeNegative: a negative max age is refused in the server's words.
func TestJSStreamMaxAgeNegative(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stWant(t, env, "$JS.API.STREAM.CREATE.T", `{"name":"T","max_age":-1}`,
			&jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "max age can not be negative"})
	})
}

// TestJSStrictConsumerDefaults: nats-server's consumer create request holds its config as a
// value: a request without one, or with null, makes a consumer from the zero config, and a
// config without ack_policy acks none (the server's zero AckPolicy), not explicit. Without
// stream_name, or with another stream's, it is 10056, even for a stream that does not exist.
func TestJSStrictConsumerDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		stStream(t, env)
		for subj, body := range map[string]string{
			"$JS.API.CONSUMER.CREATE.S":   `{"stream_name":"S"}`,
			"$JS.API.CONSUMER.CREATE.S.E": `{"stream_name":"S","config":null}`,
			"$JS.API.CONSUMER.CREATE.S.D": `{"stream_name":"S","config":{"durable_name":"D"}}`,
		} {
			a := stWant(t, env, subj, body, nil)
			var info struct {
				Config struct {
					AckPolicy string `json:"ack_policy"`
				} `json:"config"`
			}
			if err := json.Unmarshal(a.raw, &info); err != nil || info.Config.AckPolicy != "none" {
				t.Errorf("%s %s: ack policy %q, want none (%s)", subj, body, info.Config.AckPolicy, a.raw)
			}
		}
		// stream_name is required: nats-server checks it before anything else in the config.
		mismatch := &jetstream.APIError{Code: 400, ErrorCode: 10056, Description: "stream name in subject does not match request"}
		stWant(t, env, "$JS.API.CONSUMER.CREATE.S", "", mismatch)
		stWant(t, env, "$JS.API.CONSUMER.CREATE.S.F", `{"config":{"name":"F"}}`, mismatch)
		stWant(t, env, "$JS.API.CONSUMER.CREATE.NONE.F", `{"config":{"name":"F"}}`, mismatch)
	})
}

// TestJSConsumerInvalidFilter: a consumer filter that is not a valid subject is 500/10052
// "invalid subject", as nats-server words it.
func TestJSConsumerInvalidFilter(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		want := jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "invalid subject"}
		// nats.go puts a single filter in the subject, where s..a is refused before any server
		// sees it: the raw request carries it in the body only.
		stWant(t, env, "$JS.API.CONSUMER.CREATE.S.A", `{"stream_name":"S","config":{"name":"A","filter_subject":"s..a"}}`, &want)
		_, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "B", FilterSubjects: []string{"s.a", "s..b"}})
		spAPIErr(t, err, want)
	})
}
