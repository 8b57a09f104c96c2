package conformance

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A request whose Nats-Required-Api-Level header asks for more than the server's JetStream API
// level (or is not a number) is refused with 412 / 10185 on every endpoint, before the endpoint
// looks at what it names. Helpers of this file start with "al".

// alAnswer sends body to subj with the level header (none when level is "") and returns the
// answer's type and error, as "type code err_code description".
func alAnswer(t *testing.T, env *natstest.Env, subj, level, body string) string {
	t.Helper()
	m := &nats.Msg{Subject: subj, Data: []byte(body), Header: nats.Header{}}
	if level != "" {
		m.Header.Set("Nats-Required-Api-Level", level)
	}
	r, err := env.Conn().RequestMsg(m, patience)
	if err != nil {
		t.Fatalf("%s level %q: %v", subj, level, err)
	}
	var resp struct {
		Type  string              `json:"type"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &resp); err != nil {
		t.Fatalf("%s level %q: answer %q: %v", subj, level, r.Data, err)
	}
	if resp.Error == nil {
		return resp.Type + " ok"
	}
	return resp.Type + " " + itoa(resp.Error.Code) + " " + itoa(int(resp.Error.ErrorCode)) + " " + resp.Error.Description
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// alSetup makes stream S (subjects s.>) with durable pull consumer C and one message.
func alSetup(t *testing.T, env *natstest.Env) {
	t.Helper()
	js := env.JetStream()
	st, err := js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "C"}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(waitCtx(t), "s.a", []byte("one")); err != nil {
		t.Fatal(err)
	}
}

const alRefused = " 412 10185 JetStream minimum api level required"

// TestJSAPIRequiredLevelEveryEndpoint: every endpoint refuses a level above the server's, and
// before it looks for the stream or consumer it names (X does not exist).
func TestJSAPIRequiredLevelEveryEndpoint(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		alSetup(t, env)
		p := "io.nats.jetstream.api.v1."
		cases := []struct{ subj, body, typ string }{
			{"$JS.API.INFO", "", "account_info_response"},
			{"$JS.API.STREAM.CREATE.X", `{"name":"X"}`, "stream_create_response"},
			{"$JS.API.STREAM.UPDATE.X", `{"name":"X"}`, "stream_update_response"},
			{"$JS.API.STREAM.INFO.X", "", "stream_info_response"},
			{"$JS.API.STREAM.DELETE.X", "", "stream_delete_response"},
			{"$JS.API.STREAM.PURGE.X", "", "stream_purge_response"},
			{"$JS.API.STREAM.NAMES", "", "stream_names_response"},
			{"$JS.API.STREAM.LIST", "", "stream_list_response"},
			{"$JS.API.STREAM.MSG.GET.X", `{"seq":1}`, "stream_msg_get_response"},
			{"$JS.API.STREAM.MSG.DELETE.X", `{"seq":1}`, "stream_msg_delete_response"},
			{"$JS.API.CONSUMER.CREATE.X", `{"stream_name":"X","config":{}}`, "consumer_create_response"},
			{"$JS.API.CONSUMER.CREATE.X.c", `{"stream_name":"X","config":{"name":"c"}}`, "consumer_create_response"},
			{"$JS.API.CONSUMER.DURABLE.CREATE.X.c", `{"stream_name":"X","config":{"durable_name":"c"}}`, "consumer_create_response"},
			{"$JS.API.CONSUMER.INFO.S.X", "", "consumer_info_response"},
			{"$JS.API.CONSUMER.DELETE.S.X", "", "consumer_delete_response"},
			{"$JS.API.CONSUMER.NAMES.X", "", "consumer_names_response"},
			{"$JS.API.CONSUMER.LIST.X", "", "consumer_list_response"},
			{"$JS.API.CONSUMER.UNPIN.S.X", `{"group":"g"}`, "consumer_unpin_response"},
			{"$JS.API.CONSUMER.PAUSE.S.X", "", "consumer_pause_response"},
			{"$JS.API.STREAM.SNAPSHOT.X", `{"deliver_subject":"d"}`, "stream_snapshot_response"},
			{"$JS.API.STREAM.RESTORE.X", `{"config":{"name":"X"}}`, "stream_restore_response"},
		}
		for _, level := range []string{"1000", "x", "-"} {
			for _, c := range cases {
				if d := cmp.Diff(p+c.typ+alRefused, alAnswer(t, env, c.subj, level, c.body)); d != "" {
					t.Errorf("%s level %q (-want +got):\n%s", c.subj, level, d)
				}
			}
		}
		if _, err := env.JetStream().Stream(waitCtx(t), "X"); err == nil {
			t.Error("stream X was created by a refused request")
		}
		// a level the server has is served
		for _, c := range cases[:4] {
			if got := alAnswer(t, env, c.subj, "1", c.body); got == p+c.typ+alRefused {
				t.Errorf("%s level 1: %s, want it served", c.subj, got)
			}
		}
	})
}

// TestJSAPIRequiredLevelOrder: the checks some endpoints make before the level: CONSUMER.INFO's
// empty body, PAUSE's JSON. A consumer's reset needs the consumer first (without it nobody
// answers), then refuses the level.
func TestJSAPIRequiredLevelOrder(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		alSetup(t, env)
		p := "io.nats.jetstream.api.v1."
		for _, c := range []struct{ subj, body, want string }{
			{"$JS.API.CONSUMER.INFO.S.C", `{"x":1}`, p + "consumer_info_response 400 10038 expected an empty request payload"},
			{"$JS.API.CONSUMER.INFO.S.C", "", p + "consumer_info_response" + alRefused},
			{"$JS.API.CONSUMER.PAUSE.S.C", `{"pause_until":1}`, p + "consumer_pause_response 400 10025 invalid JSON: Time.UnmarshalJSON: input is not a JSON string"},
			{"$JS.API.CONSUMER.PAUSE.S.C", `{}`, p + "consumer_pause_response" + alRefused},
			{"$JS.API.CONSUMER.RESET.S.C", `{"seq":1}`, p + "consumer_reset_response" + alRefused},
		} {
			if d := cmp.Diff(c.want, alAnswer(t, env, c.subj, "1000", c.body)); d != "" {
				t.Errorf("%s %s (-want +got):\n%s", c.subj, c.body, d)
			}
		}
		m := &nats.Msg{Subject: "$JS.API.CONSUMER.RESET.S.X", Header: nats.Header{"Nats-Required-Api-Level": {"1000"}}}
		if r, err := env.Conn().RequestMsg(m, 250*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
			t.Errorf("reset of a missing consumer: %v %v, want no answer", r, err)
		}
	})
}

// TestJSAPIRequiredLevelPull: a pull request above the level gets the status "412 Required Api
// Level" and nothing is delivered; the message stays for the next request.
func TestJSAPIRequiredLevelPull(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		alSetup(t, env)
		m := &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.C", Data: []byte(`{"batch":1}`),
			Header: nats.Header{"Nats-Required-Api-Level": {"1000"}}}
		r, err := env.Conn().RequestMsg(m, patience)
		if err != nil {
			t.Fatal(err)
		}
		if s, d := r.Header.Get("Status"), r.Header.Get("Description"); s != "412" || d != "Required Api Level" {
			t.Errorf("status %q %q, want 412 Required Api Level", s, d)
		}
		m.Header.Set("Nats-Required-Api-Level", "0")
		r, err = env.Conn().RequestMsg(m, patience)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Data) != "one" {
			t.Errorf("next: %q %v, want one", r.Data, r.Header)
		}
	})
}
