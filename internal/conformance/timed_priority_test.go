package conformance

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's priority group scenarios: the pinned client's time to live, which a request
// from the pinned client renews and whose end unpins it.

// pgUnpinned subscribes to the consumer's UNPINNED advisories.
func pgUnpinned(t *testing.T, env *natstest.Env) *nats.Subscription {
	t.Helper()
	nc := env.Connect()
	sub := subSync(t, nc, "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.P.C")
	flush(t, nc)
	return sub
}

// pgReason is an UNPINNED advisory's group and reason.
func pgReason(t *testing.T, m *nats.Msg) (string, string) {
	t.Helper()
	var adv struct {
		Group  string `json:"group"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(m.Data, &adv); err != nil {
		t.Fatalf("advisory %q: %v", m.Data, err)
	}
	return adv.Group, adv.Reason
}

// TestTimedPriorityPinExpires: a pinned client that stops asking loses its pin after the pinned
// TTL, announced with reason "timeout"; its next fetch, naming the old pin, ends with
// ErrPinIDMismatch, and the one after is pinned anew (TestConsumerPinned's fetch).
func TestTimedPriorityPinExpires(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl := tm.d(time.Minute, time.Second)
		s := pgStream(t, env, 30)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, ttl)
		unpinned := pgUnpinned(t, env)
		start := time.Now() // the pin is set while the fetch waits
		msgs, err := pgFetch(t, c, 10, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("first fetch: %d messages, %v", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		pgAckAll(t, msgs)

		group, reason := pgReason(t, nextWithin(t, unpinned, tm.within(ttl)))
		tm.due(t, "the pin's timeout", time.Since(start), ttl)
		if group != "A" || reason != "timeout" {
			t.Errorf("unpinned advisory: group %q reason %q, want A timeout", group, reason)
		}
		if g := pgGroups(t, c); len(g) != 1 || g[0].PinnedClientID != "" {
			t.Errorf("after the timeout: %+v, want no pin", g)
		}

		wait := tm.d(5*time.Second, 500*time.Millisecond)
		msgs, err = pgFetch(t, c, 10, jetstream.FetchMaxWait(wait), jetstream.FetchPriorityGroup("A"))
		if !errors.Is(err, jetstream.ErrPinIDMismatch) || len(msgs) != 0 {
			t.Errorf("fetch with the old pin: %d messages, %v; want %v", len(msgs), err, jetstream.ErrPinIDMismatch)
		}
		msgs, err = pgFetch(t, c, 10, jetstream.FetchMaxWait(wait), jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("fetch after the mismatch: %d messages, %v; want 10", len(msgs), err)
		}
		if again := pgPin(t, msgs); again == pin {
			t.Errorf("new pin %s is the old one", again)
		}
	})
}

// TestTimedPriorityPinRenewed: each request of the pinned client starts the pinned TTL again,
// so a client asking more often than the TTL keeps its pin; once it stops, the pin goes a TTL
// after its last request.
func TestTimedPriorityPinRenewed(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl := tm.d(time.Minute, time.Second)
		s := pgStream(t, env, 10)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, ttl)
		unpinned := pgUnpinned(t, env)
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("first fetch: %d messages, %v", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		var last time.Time
		for range 3 {
			tm.pass(ttl * 3 / 5)
			last = time.Now() // the request renews the pin after this
			msgs, err = pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
			if err != nil || len(msgs) != 1 || pgPin(t, msgs) != pin {
				t.Fatalf("fetch within the TTL: %d messages, %v; want one with pin %s", len(msgs), err, pin)
			}
		}
		if g := pgGroups(t, c); len(g) != 1 || g[0].PinnedClientID != pin {
			t.Errorf("after %v of renewals: %+v, want still pinned to %s", ttl*9/5, g, pin)
		}
		group, reason := pgReason(t, nextWithin(t, unpinned, tm.within(ttl)))
		tm.due(t, "the pin's timeout after the last request", time.Since(last), ttl)
		if group != "A" || reason != "timeout" {
			t.Errorf("unpinned advisory: group %q reason %q, want A timeout", group, reason)
		}
	})
}

// TestTimedPriorityPinnedConsumeHandover: with two clients consuming, the pinned one gets every
// message and the other none; once the pinned one stops, messages wait until the pin times out,
// then go to the other (TestConsumerPinned's consume).
func TestTimedPriorityPinnedConsumeHandover(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl := tm.d(time.Minute, time.Second)
		s := pgStream(t, env, 50)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, ttl)
		unpinned := pgUnpinned(t, env)
		// A short heartbeat: nats.go v1.55.0's Consume skips a refill while its previous pull
		// request is still being sent, and when the last message it waits for comes in that
		// moment (the fake answers a request before the client's publish returns) it asks again
		// only once two heartbeats have gone by without one (30 s by default).
		opts := []jetstream.PullConsumeOpt{jetstream.PullPriorityGroup("A"), jetstream.PullMaxMessages(20),
			jetstream.PullExpiry(2 * time.Second), jetstream.PullHeartbeat(900 * time.Millisecond)}
		first := make(chan jetstream.Msg, 100)
		cc1, err := c.Consume(func(m jetstream.Msg) { _ = m.Ack(); first <- m }, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer cc1.Stop()
		takeWithin(t, first, 50, tm.within(0))
		other, err := s.Consumer(waitCtx(t), "C")
		if err != nil {
			t.Fatal(err)
		}
		second := make(chan jetstream.Msg, 100)
		cc2, err := other.Consume(func(m jetstream.Msg) { _ = m.Ack(); second <- m }, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer cc2.Stop()
		spPubN(t, env, "p.b", "n", 10)
		takeWithin(t, first, 10, tm.within(0))
		if len(second) != 0 {
			t.Errorf("the second client got %d messages while the first held the pin", len(second))
		}

		cc1.Stop()
		<-cc1.Closed()
		spPubN(t, env, "p.c", "o", 10)
		got := takeWithin(t, second, 10, tm.within(ttl))
		if string(got[0].Data()) != "o0" {
			t.Errorf("the second client's first message %q, want o0", got[0].Data())
		}
		_, reason := pgReason(t, nextWithin(t, unpinned, patience))
		if reason != "timeout" {
			t.Errorf("unpinned advisory reason %q, want timeout", reason)
		}
		if len(first) != 0 {
			t.Errorf("the stopped client got %d more messages", len(first))
		}
	})
}

// TestTimedPriorityRedeliveryKeepsPin: a message the pinned client did not ack comes back to it
// after the ack wait, with the same pin.
func TestTimedPriorityRedeliveryKeepsPin(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ackWait := tm.d(30*time.Second, 300*time.Millisecond)
		s := pgStream(t, env, 1)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait,
			PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}, PinnedTTL: 10 * ackWait})
		start := time.Now()
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		msgs, err = pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"), jetstream.FetchMaxWait(tm.within(ackWait)))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch of the redelivery: %d messages, %v", len(msgs), err)
		}
		atLeast(t, "the redelivery", time.Since(start), ackWait)
		md, err := msgs[0].Metadata()
		if err != nil || md.NumDelivered != 2 || string(msgs[0].Data()) != "m0" || pgPin(t, msgs) != pin {
			t.Errorf("redelivery %q (%+v, %v), want m0 delivered twice with pin %s", msgs[0].Data(), md, err, pin)
		}
	})
}

// TestTimedPriorityDeleteWhilePinned: deleting a pinned consumer does not end its pin's time
// to live: nats-server still announces the timeout, once the TTL has passed.
func TestTimedPriorityDeleteWhilePinned(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl := tm.d(time.Minute, 500*time.Millisecond)
		s := pgStream(t, env, 1)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, ttl)
		unpinned := pgUnpinned(t, env)
		start := time.Now()
		if msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A")); err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		if err := s.DeleteConsumer(waitCtx(t), "C"); err != nil {
			t.Fatal(err)
		}
		group, reason := pgReason(t, nextWithin(t, unpinned, tm.within(ttl)))
		tm.due(t, "the deleted consumer's pin timeout", time.Since(start), ttl)
		if group != "A" || reason != "timeout" {
			t.Errorf("unpinned advisory: group %q reason %q, want A timeout", group, reason)
		}
		tm.pass(2 * ttl)
		if n := queued(t, unpinned); n != 0 {
			t.Errorf("%d more UNPINNED advisories, want none", n)
		}
	})
}
