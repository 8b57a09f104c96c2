package conformance

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Scenarios on nats-server v2.15.2's advisories: the stream and consumer action advisories, and
// the time stamps of every advisory, which are the server's clock.

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

// tcNextAction waits for the next advisory of next and checks its subject and body against want.
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

// TestJSStreamDeleteAdvisories: deleting a stream announces it on STREAM.DELETED, and its
// consumers on CONSUMER.DELETED. nats-server sends all of them on the stream's own queue, which it
// stops with the stream, so on the server each may or may not come (the fake always sends them):
// any that comes is the stream's, or names one of its consumers, once.
func TestJSStreamDeleteAdvisories(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tcStream(t, env)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "a"})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "b"})
		nc := env.Connect()
		consumers := subSync(t, nc, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.>")
		streams := subSync(t, nc, "$JS.EVENT.ADVISORY.STREAM.DELETED.>")
		flush(t, nc)
		if err := env.JetStream().DeleteStream(waitCtx(t), "S"); err != nil {
			t.Fatal(err)
		}
		var got []*nats.Msg
		if covFake(env) {
			got = append(got, next(t, streams)) // the fake's always comes
		}
		flush(t, nc)
		got = append(got, takeQueued(t, streams)...)
		if covFake(env) && len(got) != 1 || len(got) > 1 {
			t.Errorf("%d stream advisories, want one (on nats-server, at most one)", len(got))
		}
		for _, m := range got {
			var body map[string]any
			if err := json.Unmarshal(m.Data, &body); err != nil {
				t.Fatalf("advisory %q: %v", m.Data, err)
			}
			delete(body, "id")
			delete(body, "timestamp")
			if d := cmp.Diff(tcStreamAction("S", "delete", "$JS.EVENT.ADVISORY.STREAM.DELETED.S"), tcAction{m.Subject, body}); d != "" {
				t.Errorf("stream advisory (-want +got):\n%s", d)
			}
		}
		seen := map[string]bool{}
		for _, m := range takeQueued(t, consumers) {
			var body map[string]any
			if err := json.Unmarshal(m.Data, &body); err != nil {
				t.Fatalf("advisory %q: %v", m.Data, err)
			}
			delete(body, "id")
			delete(body, "timestamp")
			name, _ := body["consumer"].(string)
			want := tcConsumerAction("S", name, "delete", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S."+name)
			if d := cmp.Diff(want, tcAction{m.Subject, body}); d != "" || (name != "a" && name != "b") || seen[name] {
				t.Errorf("consumer advisory %s %q, want one delete of a or b (-want +got):\n%s", m.Subject, m.Data, d)
			}
			seen[name] = true
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
