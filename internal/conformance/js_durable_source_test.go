package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Durable sourcing: a mirror or source that names a consumer on its origin takes its messages
// from that push consumer, which must ack by flow control; the source resets it to its ack floor
// and acks what it stores, so that another source naming it later goes on from there.

// Helpers of this file start with "ds".

// dsOrigin is stream UP (subject up.>) with consumer C, a push consumer on deliver subject
// "deliver" that acks by flow control (or by ack, when fc is false).
func dsOrigin(t *testing.T, env *natstest.Env, fc bool) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	up := spStream(t, env, jetstream.StreamConfig{Name: "UP", Subjects: []string{"up.>"}})
	cfg := jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "deliver", AckPolicy: jetstream.AckFlowControlPolicy, IdleHeartbeat: time.Second}
	if !fc {
		cfg = jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "deliver", AckPolicy: jetstream.AckExplicitPolicy}
	}
	c, err := up.CreateOrUpdateConsumer(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("consumer C: %v", err)
	}
	return up, c
}

// dsSourced is a stream named name whose source is UP through consumer C.
func dsSourced(t *testing.T, env *natstest.Env, name string) jetstream.Stream {
	t.Helper()
	return spStream(t, env, jetstream.StreamConfig{Name: name, Sources: []*jetstream.StreamSource{{
		Name: "UP", Consumer: &jetstream.StreamConsumerSource{Name: "C", DeliverSubject: "deliver"},
	}}})
}

// dsAckedUpTo waits until consumer C's ack floor reaches stream sequence seq.
func dsAckedUpTo(t *testing.T, c jetstream.Consumer, seq uint64) {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatalf("consumer info: %v", err)
		}
		if info.AckFloor.Stream >= seq && info.Delivered.Stream >= seq {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %v: consumer C acked up to %d (delivered %d), want %d", patience, info.AckFloor.Stream, info.Delivered.Stream, seq)
		case <-tick.C:
		}
	}
}

// TestJSDurableSource: a source through a consumer that acks by flow control stores what is
// published to its origin, and the consumer ends up acked past it.
func TestJSDurableSource(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := dsOrigin(t, env, true)
		down := dsSourced(t, env, "DOWN")
		spPub(t, env, "up.a", "hello")
		spPub(t, env, "up.b", "world")
		miUntilLast(t, down, 2)
		if got := soSubjects(t, down, 2); len(got) != 2 || got[0] != "up.a" || got[1] != "up.b" {
			t.Errorf("DOWN holds %v, want up.a and up.b", got)
		}
		dsAckedUpTo(t, c, 2)
		info := spInfo(t, down)
		if len(info.Sources) != 1 || info.Sources[0].Error != nil || info.Sources[0].Name != "UP" {
			t.Errorf("DOWN's source info %+v, want UP without error", info.Sources)
		}
	})
}

// TestJSDurableSourceGoesOnFromAckFloor: what the consumer has acked for one source is not taken
// again by the next source that names it: that one begins after the ack floor.
func TestJSDurableSourceGoesOnFromAckFloor(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := dsOrigin(t, env, true)
		spPub(t, env, "up.a", "1")
		spPub(t, env, "up.a", "2")
		first := dsSourced(t, env, "FIRST")
		miUntilLast(t, first, 2)
		dsAckedUpTo(t, c, 2)
		if err := env.JetStream().DeleteStream(waitCtx(t), "FIRST"); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "up.b", "3")
		second := dsSourced(t, env, "SECOND")
		miUntilLast(t, second, 1)
		if got := soGet(t, second, 1); string(got.Data) != "3" {
			t.Errorf("SECOND's first message %q, want 3: what FIRST stored is acked", got.Data)
		}
		dsAckedUpTo(t, c, 3)
		if n := spInfo(t, second).State.Msgs; n != 1 {
			t.Errorf("SECOND holds %d messages, want 1", n)
		}
	})
}

// TestJSDurableMirror: a mirror through a consumer that acks by flow control keeps the origin's
// sequences.
func TestJSDurableMirror(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := dsOrigin(t, env, true)
		spPub(t, env, "up.a", "1")
		spPub(t, env, "up.b", "2")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{
			Name: "UP", Consumer: &jetstream.StreamConsumerSource{Name: "C", DeliverSubject: "deliver"},
		}})
		miUntilLast(t, m, 2)
		msgs := miMsgs(t, m, 1, 2)
		if len(msgs) != 2 || msgs[1].Subject != "up.a" || msgs[2].Subject != "up.b" {
			t.Errorf("mirror holds %v, want up.a at 1 and up.b at 2", msgs)
		}
		dsAckedUpTo(t, c, 2)
	})
}

// TestJSDurableSourceNeedsAckFlowControl: a source through a consumer that acks otherwise
// stores nothing and reports the server's error.
func TestJSDurableSourceNeedsAckFlowControl(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		dsOrigin(t, env, false)
		spPub(t, env, "up.a", "1")
		down := dsSourced(t, env, "DOWN")
		info := miInfoUntil(t, down, "the source reports its error", func(i *jetstream.StreamInfo) bool {
			return len(i.Sources) == 1 && i.Sources[0].Error != nil
		})
		e := info.Sources[0].Error
		if e.Code != 400 || e.ErrorCode != 10217 || e.Description != "stream source consumer requires flow control ack policy" {
			t.Errorf("source error %d %d %q, want 400 10217 stream source consumer requires flow control ack policy", e.Code, e.ErrorCode, e.Description)
		}
		if n := info.State.Msgs; n != 0 {
			t.Errorf("DOWN holds %d messages, want none", n)
		}
	})
}

// TestJSAckFlowControlTakesNoAcks: a client reading a consumer that acks by flow control gets
// its messages, but its acks have no responder: only flow-control answers ack.
func TestJSAckFlowControlTakesNoAcks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := dsOrigin(t, env, true)
		sub := subSync(t, env.Conn(), "deliver")
		spPub(t, env, "up.a", "1")
		var m *nats.Msg
		for m == nil || len(m.Data) == 0 { // heartbeats and flow-control requests aside
			m = next(t, sub)
		}
		if string(m.Data) != "1" {
			t.Fatalf("delivered %q, want 1", m.Data)
		}
		if _, err := env.Conn().Request(m.Reply, nil, patience); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("ack: %v, want no responders", err)
		}
		if info := spCInfo(t, c); info.NumAckPending != 1 || info.AckFloor.Stream != 0 {
			t.Errorf("after the ack: %d pending, ack floor %d; want 1 and 0", info.NumAckPending, info.AckFloor.Stream)
		}
	})
}
