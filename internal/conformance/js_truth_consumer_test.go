package conformance

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Scenarios on what a consumer does as nats-server v2.15.2 does it: the checks of a consumer
// create request and the deliver subject of a push durable, through the API and the legacy
// API's queue members. Helpers of the js_truth_* files start with "tc".

// tcCreated is what a consumer create answer says, in the fields these scenarios look at.
type tcCreated struct {
	Error  *jetstream.APIError `json:"error"`
	Name   string              `json:"name"`
	Config tcCreatedConfig     `json:"config"`
}

type tcCreatedConfig struct {
	Name      string `json:"name"`
	Durable   string `json:"durable_name"`
	Filter    string `json:"filter_subject"`
	AckPolicy string `json:"ack_policy"`
}

// tcCreate sends a raw consumer create request on subj ($JS.API. is added) and decodes the answer.
func tcCreate(t *testing.T, env *natstest.Env, subj, body string) tcCreated {
	t.Helper()
	m, err := env.Conn().Request("$JS.API."+subj, []byte(body), patience)
	if err != nil {
		t.Fatalf("request on %s: %v", subj, err)
	}
	var got tcCreated
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatalf("answer on %s %q: %v", subj, m.Data, err)
	}
	return got
}

// tcCreateErr sends a raw consumer create request that must fail with want.
func tcCreateErr(t *testing.T, env *natstest.Env, subj, body string, want jetstream.APIError) {
	t.Helper()
	got := tcCreate(t, env, subj, body)
	if got.Error == nil {
		t.Errorf("%s %s: created %q, want error %+v", subj, body, got.Name, want)
		return
	}
	if d := cmp.Diff(want, *got.Error); d != "" {
		t.Errorf("%s %s: API error (-want +got):\n%s", subj, body, d)
	}
}

// tcStream is stream S on subjects s.>.
func tcStream(t *testing.T, env *natstest.Env) jetstream.Stream {
	t.Helper()
	return spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
}

// TestJSConsumerCreateFilterInSubject: a filter in the create subject
// (CONSUMER.CREATE.<stream>.<name>.<filter>) must equal the config's filter_subject; nats-server
// answers 10131 when it does not, also when the config has no filter at all.
func TestJSConsumerCreateFilterInSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		want := jetstream.APIError{Code: 400, ErrorCode: 10131,
			Description: "Consumer create request did not match filtered subject from create subject"}
		tcCreateErr(t, env, "CONSUMER.CREATE.S.c.s.a", `{"stream_name":"S","config":{"name":"c","filter_subject":"s.b"}}`, want)
		tcCreateErr(t, env, "CONSUMER.CREATE.S.c.s.a", `{"stream_name":"S","config":{"name":"c"}}`, want)
		got := tcCreate(t, env, "CONSUMER.CREATE.S.c.s.a", `{"stream_name":"S","config":{"name":"c","filter_subject":"s.a"}}`)
		if got.Error != nil || got.Name != "c" || got.Config.Filter != "s.a" {
			t.Errorf("matching filter: %+v, want consumer c on s.a", got)
		}
	})
}

// TestJSConsumerCreateDurableNotSubject: on CONSUMER.CREATE.<stream>.<name>, a durable_name
// that is not <name> is refused with 10017, with or without a filter in the subject.
func TestJSConsumerCreateDurableNotSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		want := jetstream.APIError{Code: 400, ErrorCode: 10017,
			Description: "consumer name in subject does not match durable name in request"}
		tcCreateErr(t, env, "CONSUMER.CREATE.S.c", `{"stream_name":"S","config":{"durable_name":"other"}}`, want)
		tcCreateErr(t, env, "CONSUMER.CREATE.S.c.s.a", `{"stream_name":"S","config":{"durable_name":"other","filter_subject":"s.a"}}`, want)
	})
}

// TestJSConsumerCreateEphemeralWithDurable: the legacy ephemeral subject CONSUMER.CREATE.<stream>
// refuses a durable_name with 10020, and takes a name.
func TestJSConsumerCreateEphemeralWithDurable(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		tcCreateErr(t, env, "CONSUMER.CREATE.S", `{"stream_name":"S","config":{"durable_name":"d"}}`,
			jetstream.APIError{Code: 400, ErrorCode: 10020, Description: "consumer expected to be ephemeral but a durable name was set in request"})
		got := tcCreate(t, env, "CONSUMER.CREATE.S", `{"stream_name":"S","config":{"name":"eph","ack_policy":"explicit"}}`)
		if got.Error != nil || got.Name != "eph" || got.Config.Durable != "" {
			t.Errorf("named ephemeral: %+v, want consumer eph without durable name", got)
		}
	})
}

// TestJSConsumerDurableCreateNeedsDurable: CONSUMER.DURABLE.CREATE.<stream>.<name> needs a
// durable_name (10018, even when name is set) equal to <name> (10017).
func TestJSConsumerDurableCreateNeedsDurable(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		notSet := jetstream.APIError{Code: 400, ErrorCode: 10018, Description: "consumer expected to be durable but a durable name was not set"}
		tcCreateErr(t, env, "CONSUMER.DURABLE.CREATE.S.d", `{"stream_name":"S","config":{}}`, notSet)
		tcCreateErr(t, env, "CONSUMER.DURABLE.CREATE.S.d", `{"stream_name":"S","config":{"name":"d"}}`, notSet)
		tcCreateErr(t, env, "CONSUMER.DURABLE.CREATE.S.d", `{"stream_name":"S","config":{"durable_name":"x"}}`,
			jetstream.APIError{Code: 400, ErrorCode: 10017, Description: "consumer name in subject does not match durable name in request"})
		got := tcCreate(t, env, "CONSUMER.DURABLE.CREATE.S.d", `{"stream_name":"S","config":{"durable_name":"d","ack_policy":"explicit"}}`)
		if got.Error != nil || got.Name != "d" || got.Config.Durable != "d" {
			t.Errorf("durable create: %+v, want durable d", got)
		}
	})
}

// TestJSConsumerCreateNameFromSubject: on CONSUMER.CREATE.<stream>.<name>, a config name that
// differs from <name> is not an error: nats-server names the consumer after the subject, also
// when durable_name (equal to <name>) and name differ.
func TestJSConsumerCreateNameFromSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tcStream(t, env)
		got := tcCreate(t, env, "CONSUMER.CREATE.S.c3", `{"stream_name":"S","config":{"name":"other","ack_policy":"explicit"}}`)
		if d := cmp.Diff(tcCreated{Name: "c3", Config: tcCreatedConfig{Name: "c3", AckPolicy: "explicit"}}, got); d != "" {
			t.Errorf("name other on c3 (-want +got):\n%s", d)
		}
		got = tcCreate(t, env, "CONSUMER.CREATE.S.c2", `{"stream_name":"S","config":{"name":"other","durable_name":"c2","ack_policy":"explicit"}}`)
		if d := cmp.Diff(tcCreated{Name: "c2", Config: tcCreatedConfig{Name: "c2", Durable: "c2", AckPolicy: "explicit"}}, got); d != "" {
			t.Errorf("name other, durable c2 on c2 (-want +got):\n%s", d)
		}
		names := spNames(t, s.ConsumerNames(waitCtx(t)).Name(), s.ConsumerNames(waitCtx(t)).Err)
		if !slices.Equal(names, []string{"c2", "c3"}) {
			t.Errorf("consumers %v, want [c2 c3]", names)
		}
	})
}

// TestJSConsumerCreateStreamNameFirst: the stream name in the body is checked against the
// subject before the stream is looked up: a missing stream_name is 10056 even for a stream
// that does not exist; a stream that does not exist is 10059.
func TestJSConsumerCreateStreamNameFirst(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		mismatch := jetstream.APIError{Code: 400, ErrorCode: 10056, Description: "stream name in subject does not match request"}
		tcCreateErr(t, env, "CONSUMER.CREATE.S.c", `{"config":{"name":"c"}}`, mismatch)
		tcCreateErr(t, env, "CONSUMER.CREATE.NOPE.c", `{"config":{"name":"c"}}`, mismatch)
		tcCreateErr(t, env, "CONSUMER.CREATE.NOPE.c", `{"stream_name":"NOPE","config":{"name":"c"}}`,
			jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"})
	})
}

// TestJSConsumerCreateRawDefaults: a raw request that leaves out ack_policy gets ack policy none
// (the server's zero value), and one without a config at all makes an ephemeral consumer with
// the server's defaults.
func TestJSConsumerCreateRawDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		got := tcCreate(t, env, "CONSUMER.CREATE.S.c1", `{"stream_name":"S","config":{"name":"c1"}}`)
		if d := cmp.Diff(tcCreated{Name: "c1", Config: tcCreatedConfig{Name: "c1", AckPolicy: "none"}}, got); d != "" {
			t.Errorf("without ack_policy (-want +got):\n%s", d)
		}
		got = tcCreate(t, env, "CONSUMER.CREATE.S.c2", `{"stream_name":"S"}`)
		if d := cmp.Diff(tcCreated{Name: "c2", Config: tcCreatedConfig{Name: "c2", AckPolicy: "none"}}, got); d != "" {
			t.Errorf("without config (-want +got):\n%s", d)
		}
	})
}

// TestLegacyQueueSubscribeSpread: through the legacy API, a durable queue subscription's members
// share the messages as a core NATS queue group does: with 300 messages and three members, each
// member gets some and every message goes to exactly one.
func TestLegacyQueueSubscribeSpread(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		const members, n = 3, 300
		var subs []*nats.Subscription
		for range members {
			_, mjs := legacyJS(t, env)
			sub, err := mjs.QueueSubscribeSync("l.q", "workers", nats.Durable("qd"))
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, legacyUnsub(t, sub))
		}
		spreadOver(t, js, subs, n)
	})
}

// spreadOver publishes n messages on l.q and checks that the queue members' subscriptions
// shared them: every member got some, and each message went to exactly one.
func spreadOver(t *testing.T, js nats.JetStreamContext, subs []*nats.Subscription, n int) {
	t.Helper()
	for i := range n {
		legacyPublish(t, js, "l.q", fmt.Sprint(i))
	}
	kvEventually(t, "all messages to be delivered", func() bool {
		total := 0
		for _, sub := range subs {
			total += queued(t, sub)
		}
		return total >= n
	})
	var got [][]*nats.Msg
	for i, sub := range subs {
		msgs := takeQueued(t, sub)
		if len(msgs) == 0 {
			t.Errorf("member %d got none of %d messages", i, n)
		}
		got = append(got, msgs)
	}
	sameTotal(t, "workers", seq("", n), got...)
}

// TestJSPushDurableBoundKeepsSubject: a create request for an existing push durable that names
// another deliver subject is refused with 10013 while someone listens on the current one (the
// legacy API's members rely on it: a member that lost the race to create the consumer joins the
// existing deliver subject); once nobody listens, the request moves the consumer to the new one.
func TestJSPushDurableBoundKeepsSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		cfg := `{"stream_name":"S","config":{"durable_name":"pd","deliver_subject":"%s","deliver_group":"g","ack_policy":"explicit"}}`
		if got := tcCreate(t, env, "CONSUMER.CREATE.S.pd", fmt.Sprintf(cfg, "deliver.a")); got.Error != nil {
			t.Fatalf("create: %+v", got.Error)
		}
		nc := env.Connect()
		a := queueSync(t, nc, "deliver.a", "g")
		flush(t, nc)
		interest(t, env, "deliver.a", 1)
		tcCreateErr(t, env, "CONSUMER.CREATE.S.pd", fmt.Sprintf(cfg, "deliver.b"),
			jetstream.APIError{Code: 400, ErrorCode: 10013, Description: "consumer name already in use"})
		spPub(t, env, "s.x", "one")
		if got := nextData(t, a); got != "one" {
			t.Errorf("member on deliver.a got %q, want one", got)
		}
		if err := a.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		interest(t, env, "deliver.a", 0)
		b := queueSync(t, nc, "deliver.b", "g")
		flush(t, nc)
		if got := tcCreate(t, env, "CONSUMER.CREATE.S.pd", fmt.Sprintf(cfg, "deliver.b")); got.Error != nil {
			t.Fatalf("create once unbound: %+v", got.Error)
		}
		spPub(t, env, "s.x", "two")
		for {
			m := next(t, b)
			if string(m.Data) == "two" {
				break
			}
		}
	})
}

// TestLegacyQueueSubscribeConcurrent: members of a durable queue subscription that subscribe at
// the same moment (each may find no consumer and try to create it) still end up on one deliver
// subject: with 300 messages, every member gets some and each message goes to exactly one.
func TestLegacyQueueSubscribeConcurrent(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		const members, n = 3, 300
		subs := make([]*nats.Subscription, members)
		errs := make(chan error, members)
		start := make(chan struct{})
		for i := range members {
			_, mjs := legacyJS(t, env)
			go func() {
				<-start
				sub, err := mjs.QueueSubscribeSync("l.q", "workers", nats.Durable("qd"))
				subs[i] = sub
				errs <- err
			}()
		}
		close(start)
		for range members {
			if err := await(t, errs, "the members to subscribe"); err != nil {
				t.Fatal(err)
			}
		}
		for _, sub := range subs {
			legacyUnsub(t, sub)
		}
		spreadOver(t, js, subs, n)
	})
}

// TestJSPushNewSubjectRedelivers: when a push durable moves to a new deliver subject, the
// messages still waiting for their ack are redelivered there at once, not after the ack wait.
func TestJSPushNewSubjectRedelivers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tcStream(t, env)
		cfg := `{"stream_name":"S","config":{"durable_name":"pd","deliver_subject":"%s","ack_policy":"explicit","ack_wait":60000000000}}`
		if got := tcCreate(t, env, "CONSUMER.CREATE.S.pd", fmt.Sprintf(cfg, "deliver.a")); got.Error != nil {
			t.Fatalf("create: %+v", got.Error)
		}
		nc := env.Connect()
		a := subSync(t, nc, "deliver.a")
		flush(t, nc)
		spPub(t, env, "s.x", "one")
		spPub(t, env, "s.x", "two")
		if got := []string{nextData(t, a), nextData(t, a)}; !slices.Equal(got, []string{"one", "two"}) {
			t.Fatalf("first deliveries %v", got)
		}
		if err := a.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		interest(t, env, "deliver.a", 0)
		b := subSync(t, nc, "deliver.b")
		flush(t, nc)
		if got := tcCreate(t, env, "CONSUMER.CREATE.S.pd", fmt.Sprintf(cfg, "deliver.b")); got.Error != nil {
			t.Fatalf("move to deliver.b: %+v", got.Error)
		}
		var got []string
		for range 2 {
			m := next(t, b)
			md, err := m.Metadata()
			if err != nil {
				t.Fatalf("metadata of %q: %v", m.Data, err)
			}
			got = append(got, fmt.Sprintf("%s %d", m.Data, md.NumDelivered))
		}
		if want := []string{"one 2", "two 2"}; !slices.Equal(got, want) {
			t.Errorf("on deliver.b got %v, want %v", got, want)
		}
	})
}
