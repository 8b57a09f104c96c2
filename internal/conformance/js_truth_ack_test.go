package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Scenarios on the ack bodies as nats-server v2.15.2 takes them: unknown and inexact bodies,
// naks with delays, progress reports, and +NXT, an ack and a pull request in one.

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

// tcNextMsgs takes n messages from sub and describes each with tcDescribe.
func tcNextMsgs(t *testing.T, sub *nats.Subscription, n int) []string {
	t.Helper()
	var out []string
	for range n {
		out = append(out, tcDescribe(t, next(t, sub)))
	}
	return out
}

// tcDescribe is a delivered message's payload and metadata ("stream/consumer/delivered"); a
// status message or a message without metadata fails the test.
func tcDescribe(t *testing.T, m *nats.Msg) string {
	t.Helper()
	if m.Header.Get("Status") != "" {
		t.Fatalf("status %s %s where a message was due", m.Header.Get("Status"), m.Header.Get("Description"))
	}
	md, err := m.Metadata()
	if err != nil {
		t.Fatalf("metadata of %q (reply %q): %v", m.Data, m.Reply, err)
	}
	return fmt.Sprintf("%s %d/%d/%d", m.Data, md.Sequence.Stream, md.Sequence.Consumer, md.NumDelivered)
}

// TestJSAckNext: +NXT acks the message and asks for the next one, delivered to the ack's reply
// subject as a pull request's would be; nothing else (no empty ack answer) arrives there: a
// +NXT on that message to the same inbox gets the message after it next.
func TestJSAckNext(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		nc := env.Connect()
		inbox := nc.NewInbox()
		sub := subSync(t, nc, inbox)
		reply := spTake(t, c, 1)[0].Reply()
		var got []string
		for range 2 {
			if err := nc.PublishRequest(reply, inbox, []byte("+NXT")); err != nil {
				t.Fatalf("+NXT on %s: %v", reply, err)
			}
			m := next(t, sub)
			got = append(got, tcDescribe(t, m))
			reply = m.Reply
		}
		if want := []string{"m1 2/2/1", "m2 3/3/1"}; !slices.Equal(got, want) {
			t.Errorf("after +NXT twice got %v, want %v", got, want)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{2, 2}, AckPending: 1})
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
