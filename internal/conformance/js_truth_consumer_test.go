package conformance

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Scenarios on what a consumer does as nats-server v2.15.2 does it: the checks of a consumer
// create request, the ack bodies, the action advisories and their time stamps, and the spread
// of a legacy deliver group. Helpers start with "tc".

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

// TestJSAckUnknownBody: an ack body nats-server does not know ("foo") changes nothing: it is
// answered (with an empty message) when it has a reply subject, the message stays pending and
// is redelivered once its ack wait has passed.
func TestJSAckUnknownBody(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 500 * time.Millisecond
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{AckWait: wait})
		m := spTake(t, c, 1)[0]
		r, err := env.Conn().Request(m.Reply(), []byte("foo"), patience)
		if err != nil {
			t.Fatalf("ack foo: %v", err)
		}
		if len(r.Data) != 0 || r.Header != nil {
			t.Errorf("answer to foo: data %q header %v, want an empty message", r.Data, r.Header)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{1, 1}, AckPending: 1})
		env.FastForward(wait)
		re := spTake(t, c, 1)[0]
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 2, Delivered: 2}, spDeliveryOf(t, re)); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
	})
}

// tcNext sends body on the ack subject of m with a new inbox as reply subject and returns the
// inbox's subscription.
func tcNext(t *testing.T, env *natstest.Env, m jetstream.Msg, body string) *nats.Subscription {
	t.Helper()
	nc := env.Connect()
	inbox := nc.NewInbox()
	sub := subSync(t, nc, inbox)
	if err := nc.PublishRequest(m.Reply(), inbox, []byte(body)); err != nil {
		t.Fatalf("%s on %s: %v", body, m.Reply(), err)
	}
	flush(t, nc)
	return sub
}

// tcNextMsgs takes n messages from sub and reports their payloads and delivery metadata
// ("stream/consumer/delivered").
func tcNextMsgs(t *testing.T, sub *nats.Subscription, n int) []string {
	t.Helper()
	var out []string
	for range n {
		m := next(t, sub)
		if m.Header.Get("Status") != "" {
			t.Fatalf("status %s %s where a message was due", m.Header.Get("Status"), m.Header.Get("Description"))
		}
		md, err := m.Metadata()
		if err != nil {
			t.Fatalf("metadata of %q (reply %q): %v", m.Data, m.Reply, err)
		}
		out = append(out, fmt.Sprintf("%s %d/%d/%d", m.Data, md.Sequence.Stream, md.Sequence.Consumer, md.NumDelivered))
	}
	return out
}

// TestJSAckNext: +NXT acks the message and asks for the next one, delivered to the ack's reply
// subject as a pull request's would be; nothing else (no empty ack answer) arrives there.
func TestJSAckNext(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		sub := tcNext(t, env, spTake(t, c, 1)[0], "+NXT")
		if got, want := tcNextMsgs(t, sub, 1), []string{"m1 2/2/1"}; !slices.Equal(got, want) {
			t.Errorf("after +NXT got %v, want %v", got, want)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckFloor: [2]uint64{1, 1}, AckPending: 1, NumPending: 1})
		_, err := sub.NextMsg(100 * time.Millisecond)
		if err == nil {
			t.Errorf("a second message after +NXT")
		}
	})
}

// TestJSAckNextBatch: +NXT with a pull request's JSON ({"batch":2}) delivers two messages to
// the ack's reply subject.
func TestJSAckNextBatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 4, jetstream.ConsumerConfig{})
		sub := tcNext(t, env, spTake(t, c, 1)[0], `+NXT {"batch":2}`)
		if got, want := tcNextMsgs(t, sub, 2), []string{"m1 2/2/1", "m2 3/3/1"}; !slices.Equal(got, want) {
			t.Errorf("after +NXT batch 2 got %v, want %v", got, want)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{1, 1}, AckPending: 2, NumPending: 1})
	})
}

// TestJSAckNextNoWait: +NXT with {"batch":5,"no_wait":true} on a consumer with fewer messages
// delivers what there is and then ends the request with 404 No Messages, as a no-wait pull
// request.
func TestJSAckNextNoWait(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		sub := tcNext(t, env, spTake(t, c, 1)[0], `+NXT {"batch":5,"no_wait":true}`)
		if got, want := tcNextMsgs(t, sub, 2), []string{"m1 2/2/1", "m2 3/3/1"}; !slices.Equal(got, want) {
			t.Errorf("after +NXT no wait got %v, want %v", got, want)
		}
		spStatus(t, next(t, sub), "404", "No Messages", nil)
	})
}

// tcAdvisory subscribes to the advisories on subj and returns a function that waits for the next
// one and returns it decoded, without its id, and its time stamp.
func tcAdvisory(t *testing.T, env *natstest.Env, subj string) func() (string, map[string]any, time.Time) {
	t.Helper()
	nc := env.Connect()
	sub := subSync(t, nc, subj)
	flush(t, nc)
	return func() (string, map[string]any, time.Time) {
		t.Helper()
		m := next(t, sub)
		var adv map[string]any
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			t.Fatalf("advisory %q: %v", m.Data, err)
		}
		ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(adv["timestamp"]))
		if err != nil {
			t.Errorf("advisory time stamp %v: %v", adv["timestamp"], err)
		}
		if id, _ := adv["id"].(string); id == "" {
			t.Errorf("advisory without an id: %q", m.Data)
		}
		delete(adv, "id")
		delete(adv, "timestamp")
		return m.Subject, adv, ts
	}
}

// tcServerTime is the server's own time, as its consumer info reports it.
func tcServerTime(t *testing.T, c jetstream.Consumer) time.Time {
	t.Helper()
	return spCInfo(t, c).TimeStamp
}

// tcJumpClock moves the fake's clock a day ahead, so that a time stamp on the wall clock shows
// as one; a real server's clock is the wall clock, and stays where it is.
func tcJumpClock(env *natstest.Env) {
	if s := env.Server(); s != nil {
		s.FastForward(24 * time.Hour)
	}
}

// tcWithin checks that an advisory's time stamp lies between two readings of the server's clock.
func tcWithin(t *testing.T, what string, ts, before, after time.Time) {
	t.Helper()
	if ts.Before(before) || ts.After(after) {
		t.Errorf("%s advisory at %v, want within the server's clock [%v, %v]", what, ts, before, after)
	}
}

// TestJSNakAdvisoryServerClock: the nak advisory's time stamp is the server's time: between
// two consumer infos' time stamps taken around the nak.
func TestJSNakAdvisoryServerClock(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		naked := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.S.d")
		tcJumpClock(env)
		before := tcServerTime(t, c)
		if err := spTake(t, c, 1)[0].Nak(); err != nil {
			t.Fatal(err)
		}
		_, _, ts := naked()
		tcWithin(t, "nak", ts, before, tcServerTime(t, c))
	})
}

// TestJSTermAdvisoryServerClock: the terminated advisory's time stamp is the server's time.
func TestJSTermAdvisoryServerClock(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		terminated := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.d")
		tcJumpClock(env)
		before := tcServerTime(t, c)
		if err := spTake(t, c, 1)[0].TermWithReason("bad"); err != nil {
			t.Fatal(err)
		}
		_, _, ts := terminated()
		tcWithin(t, "terminated", ts, before, tcServerTime(t, c))
	})
}

// TestJSMaxDeliverAdvisoryServerClock: the max deliveries advisory's time stamp is the server's
// time. With max_deliver 1, a nacked message is given up on when a pull request next waits.
func TestJSMaxDeliverAdvisoryServerClock(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{MaxDeliver: 1})
		exceeded := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.d")
		tcJumpClock(env)
		before := tcServerTime(t, c)
		// a nak with a reply subject is answered once the server has taken it
		if _, err := env.Conn().Request(spTake(t, c, 1)[0].Reply(), []byte("-NAK"), patience); err != nil {
			t.Fatal(err)
		}
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("delivered beyond max_deliver: %v", spDeliveries(t, got))
		}
		_, adv, ts := exceeded()
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.max_deliver", "stream": "S", "consumer": "d",
			"stream_seq": 1.0, "deliveries": 1.0}
		if d := cmp.Diff(want, adv); d != "" {
			t.Errorf("advisory (-want +got):\n%s", d)
		}
		tcWithin(t, "max deliveries", ts, before, tcServerTime(t, c))
	})
}

// tcAction is an action advisory as these scenarios compare it: its subject and body without
// id and time stamp.
type tcAction struct {
	Subject string
	Body    map[string]any
}

func tcStreamAction(stream, action, subj string) tcAction {
	return tcAction{subj, map[string]any{"type": "io.nats.jetstream.advisory.v1.stream_action", "stream": stream, "action": action}}
}

func tcConsumerAction(stream, consumer, action, subj string) tcAction {
	return tcAction{subj, map[string]any{"type": "io.nats.jetstream.advisory.v1.consumer_action", "stream": stream,
		"consumer": consumer, "action": action}}
}

// tcNextAction waits for the next advisory of next and checks it is want and on the server's clock.
func tcNextAction(t *testing.T, next func() (string, map[string]any, time.Time), want tcAction) {
	t.Helper()
	subj, body, _ := next()
	if d := cmp.Diff(want, tcAction{subj, body}); d != "" {
		t.Errorf("advisory (-want +got):\n%s", d)
	}
}

// TestJSStreamActionAdvisories: creating, updating and deleting a stream is announced on
// $JS.EVENT.ADVISORY.STREAM.CREATED/UPDATED/DELETED.<stream>; creating it again with the same
// configuration is not; every update is, even one that changes nothing.
func TestJSStreamActionAdvisories(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		next := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.STREAM.>")
		js := env.JetStream()
		cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}
		tcStream(t, env)
		tcNextAction(t, next, tcStreamAction("S", "create", "$JS.EVENT.ADVISORY.STREAM.CREATED.S"))
		tcStream(t, env)
		for range 2 {
			cfg.MaxMsgs = 5
			if _, err := js.UpdateStream(waitCtx(t), cfg); err != nil {
				t.Fatal(err)
			}
			tcNextAction(t, next, tcStreamAction("S", "modify", "$JS.EVENT.ADVISORY.STREAM.UPDATED.S"))
		}
		if err := js.DeleteStream(waitCtx(t), "S"); err != nil {
			t.Fatal(err)
		}
		tcNextAction(t, next, tcStreamAction("S", "delete", "$JS.EVENT.ADVISORY.STREAM.DELETED.S"))
	})
}

// TestJSConsumerActionAdvisories: creating and deleting a consumer is announced on
// $JS.EVENT.ADVISORY.CONSUMER.CREATED/DELETED.<stream>.<consumer>, an ephemeral one's too;
// creating it again with the same configuration, or updating it, is not.
func TestJSConsumerActionAdvisories(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tcStream(t, env)
		next := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.>")
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		tcNextAction(t, next, tcConsumerAction("S", "d", "create", "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.d"))
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		if _, err := s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", MaxDeliver: 5}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConsumer(waitCtx(t), "d"); err != nil {
			t.Fatal(err)
		}
		tcNextAction(t, next, tcConsumerAction("S", "d", "delete", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.d"))
		eph := spCInfo(t, spConsumer(t, s, jetstream.ConsumerConfig{})).Name
		tcNextAction(t, next, tcConsumerAction("S", eph, "create", "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S."+eph))
	})
}

// TestJSStreamDeleteAdvisories: deleting a stream announces the deletion of each of its
// consumers and of the stream (in an order the server does not fix).
func TestJSStreamDeleteAdvisories(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tcStream(t, env)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "a"})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "b"})
		next := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.*.DELETED.>")
		if err := env.JetStream().DeleteStream(waitCtx(t), "S"); err != nil {
			t.Fatal(err)
		}
		var got []tcAction
		for range 3 {
			subj, body, _ := next()
			got = append(got, tcAction{subj, body})
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Subject < got[j].Subject })
		want := []tcAction{
			tcConsumerAction("S", "a", "delete", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.a"),
			tcConsumerAction("S", "b", "delete", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.b"),
			tcStreamAction("S", "delete", "$JS.EVENT.ADVISORY.STREAM.DELETED.S"),
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("advisories (-want +got):\n%s", d)
		}
	})
}

// TestJSActionAdvisoryServerClock: the action advisories' time stamps are the server's time.
func TestJSActionAdvisoryServerClock(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tcStream(t, env)
		ref := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "ref"})
		next := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.*.S.d")
		tcJumpClock(env)
		before := tcServerTime(t, ref)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		_, _, created := next()
		if err := s.DeleteConsumer(waitCtx(t), "d"); err != nil {
			t.Fatal(err)
		}
		_, _, deleted := next()
		after := tcServerTime(t, ref)
		tcWithin(t, "consumer created", created, before, after)
		tcWithin(t, "consumer deleted", deleted, before, after)
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
	})
}

// tcAckRequest sends body on m's ack subject with a reply subject and waits for the answer,
// which nats-server sends once it has taken the body: an empty message.
func tcAckRequest(t *testing.T, env *natstest.Env, m jetstream.Msg, body string) {
	t.Helper()
	r, err := env.Conn().Request(m.Reply(), []byte(body), patience)
	if err != nil {
		t.Fatalf("%q on %s: %v", body, m.Reply(), err)
	}
	if len(r.Data) != 0 || r.Header != nil {
		t.Errorf("answer to %q: data %q header %v, want an empty message", body, r.Data, r.Header)
	}
}

// TestJSAckBodiesExact: +ACK, +OK and +WPI count only as the exact body; with anything after
// them nats-server takes the body as unknown and ignores it. An empty body is an ack.
func TestJSAckBodiesExact(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 4, jetstream.ConsumerConfig{})
		msgs := spNoWait(t, c, 4)
		tcAckRequest(t, env, msgs[0], "+ACK ")
		tcAckRequest(t, env, msgs[1], "+OKAY")
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{4, 4}, AckPending: 4})
		tcAckRequest(t, env, msgs[0], "")
		tcAckRequest(t, env, msgs[1], "+OK")
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{4, 4}, AckFloor: [2]uint64{2, 2}, AckPending: 2})
	})
}

// TestJSNakPlainDelay: -NAK followed by a Go duration ("-NAK 500ms", not JSON) delays the
// redelivery by it.
func TestJSNakPlainDelay(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const delay = 500 * time.Millisecond
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		tcAckRequest(t, env, spTake(t, c, 1)[0], "-NAK "+delay.String())
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("redelivered before the delay: %v", spDeliveries(t, got))
		}
		env.FastForward(delay)
		re := spTake(t, c, 1)[0]
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 2, Delivered: 2}, spDeliveryOf(t, re)); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
	})
}

// TestJSNakBadDelay: a nak whose delay does not parse (bad JSON, a word) is a plain nak: the
// message is redelivered at once.
func TestJSNakBadDelay(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{})
		msgs := spNoWait(t, c, 2)
		tcAckRequest(t, env, msgs[0], `-NAK {"delay":`)
		tcAckRequest(t, env, msgs[1], "-NAK soon")
		got := spDeliveries(t, spTake(t, c, 2))
		want := []spDelivery{
			{Subject: "S", Data: "m0", Stream: 1, Consumer: 3, Delivered: 2},
			{Subject: "S", Data: "m1", Stream: 2, Consumer: 4, Delivered: 2},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("redeliveries (-want +got):\n%s", d)
		}
	})
}

// TestJSInProgressAnswered: +WPI with a reply subject is answered with an empty message; the
// message stays pending and is not redelivered within a fresh ack wait.
func TestJSInProgressAnswered(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 500 * time.Millisecond
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{AckWait: wait})
		m := spTake(t, c, 1)[0]
		env.FastForward(wait * 3 / 5)
		tcAckRequest(t, env, m, "+WPI")
		env.FastForward(wait * 3 / 5)
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("redelivered though in progress: %v", spDeliveries(t, got))
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{1, 1}, AckPending: 1})
	})
}

// TestJSAckNextNumber: +NXT followed by a number asks for that many messages, as a pull
// request's plain-number body does.
func TestJSAckNextNumber(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 4, jetstream.ConsumerConfig{})
		sub := tcNext(t, env, spTake(t, c, 1)[0], "+NXT 3")
		if got, want := tcNextMsgs(t, sub, 3), []string{"m1 2/2/1", "m2 3/3/1", "m3 4/4/1"}; !slices.Equal(got, want) {
			t.Errorf("after +NXT 3 got %v, want %v", got, want)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{4, 4}, AckFloor: [2]uint64{1, 1}, AckPending: 3})
	})
}

// TestJSAckNextPush: +NXT on a push consumer's message acks it, and its reply subject gets
// 409 Consumer is push based.
func TestJSAckNextPush(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "P", "p.>")
		pc := pushConsumer(t, env, "P", jetstream.ConsumerConfig{Durable: "pd", DeliverSubject: "deliver.p", AckPolicy: jetstream.AckExplicitPolicy})
		nc := env.Connect()
		deliveries := subSync(t, nc, "deliver.p")
		flush(t, nc)
		pushPublish(t, env, "p.x", "one")
		m := next(t, deliveries)
		inbox := nc.NewInbox()
		replies := subSync(t, nc, inbox)
		if err := nc.PublishRequest(m.Reply, inbox, []byte("+NXT")); err != nil {
			t.Fatal(err)
		}
		spStatus(t, next(t, replies), "409", "Consumer is push based", nil)
		info, err := pc.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := spCountsOf(info); got.AckFloor != [2]uint64{1, 1} || got.AckPending != 0 {
			t.Errorf("after +NXT: ack floor %v, %d pending, want [1 1], 0", got.AckFloor, got.AckPending)
		}
	})
}

// TestJSInactiveDeleteAdvisory: an ephemeral consumer removed once its inactive threshold has
// passed is announced as deleted, as one deleted through the API is.
func TestJSInactiveDeleteAdvisory(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const threshold = 500 * time.Millisecond
		s := tcStream(t, env)
		next := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.>")
		name := spCInfo(t, spConsumer(t, s, jetstream.ConsumerConfig{InactiveThreshold: threshold})).Name
		env.FastForward(threshold)
		tcNextAction(t, next, tcConsumerAction("S", name, "delete", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S."+name))
	})
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
