package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// The timed tier's pull scenarios: request expiry, idle heartbeats and missing heartbeats, as
// the client sees them.

// TestTimedPullExpiry: a pull request that is not filled ends when it expires, not before: Fetch
// returns what there was (nothing, without an error), Next times out with nats.ErrTimeout, and on
// the wire the request is answered by 408 Request Timeout naming what was left of the batch.
func TestTimedPullExpiry(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		expiry := tm.d(10*time.Second, 300*time.Millisecond)
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
		msgs, took := timedFetch(t, c, 5, expiry)
		kvDiff(t, "a fetch of 5 with 2 stored", []uint64{1, 2}, spStreamSeqs(t, msgs))
		tm.due(t, "the fetch of 5 ended", took, expiry)

		msgs, took = timedFetch(t, c, 1, expiry)
		if len(msgs) != 0 {
			t.Errorf("a fetch with nothing stored got %v", spDeliveries(t, msgs))
		}
		tm.due(t, "the empty fetch ended", took, expiry)

		start := time.Now()
		_, err := c.Next(jetstream.FetchMaxWait(expiry))
		wantIs(t, err, nats.ErrTimeout, "nats: timeout")
		tm.due(t, "Next timed out", time.Since(start), expiry)

		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		start = time.Now()
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox,
			Data: fmt.Appendf(nil, `{"batch":3,"expires":%d}`, expiry)})
		spStatus(t, nextWithin(t, sub, tm.within(expiry)), "408", "Request Timeout",
			map[string]string{"Nats-Pending-Messages": "3", "Nats-Pending-Bytes": "0"})
		tm.due(t, "the 408", time.Since(start), expiry)
	})
}

// TestTimedPullHeartbeats: a pull request with an idle heartbeat gets 100 Idle Heartbeat
// statuses every interval while it waits; Fetch and Consume with heartbeats on an empty stream
// wait through many intervals (and, for Consume, many expiries) without ErrNoHeartbeat, and a
// message published after all that is delivered.
func TestTimedPullHeartbeats(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		hb := tm.d(5*time.Second, 200*time.Millisecond)
		_, c := spPullSetup(t, env, 0, jetstream.ConsumerConfig{})

		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		start := time.Now()
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox,
			Data: fmt.Appendf(nil, `{"batch":1,"expires":%d,"idle_heartbeat":%d}`, 10*hb, hb)})
		for n := 1; n <= 3; n++ {
			spStatus(t, nextWithin(t, sub, tm.within(hb)), "100", "Idle Heartbeat",
				map[string]string{"Nats-Last-Consumer": "0", "Nats-Last-Stream": "0"})
			tm.due(t, fmt.Sprint("heartbeat ", n), time.Since(start), time.Duration(n)*hb)
		}

		expiry := 6 * hb
		msgs, took := timedFetch(t, c, 1, expiry, jetstream.FetchHeartbeat(hb))
		if len(msgs) != 0 {
			t.Errorf("a fetch with nothing stored got %v", spDeliveries(t, msgs))
		}
		tm.due(t, "the fetch with heartbeats ended", took, expiry)

		errs := make(chan error, 16)
		got := make(chan jetstream.Msg, 16)
		cc, err := c.Consume(func(m jetstream.Msg) { got <- m },
			jetstream.PullExpiry(tm.d(30*time.Second, 1200*time.Millisecond)),
			jetstream.PullHeartbeat(tm.d(10*time.Second, 500*time.Millisecond)),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				select {
				case errs <- err:
				default:
				}
			}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cc.Stop)
		// Nothing to wait for: the consumer idles through several expiries and many heartbeats.
		tm.pass(tm.d(5*time.Minute, 2500*time.Millisecond))
		pushPublish(t, env, "S", "late")
		if m := awaitWithin(t, got, patience, "the message published after idling"); string(m.Data()) != "late" {
			t.Errorf("after idling got %q, want late", m.Data())
		}
		select {
		case err := <-errs:
			t.Errorf("Consume reported %v while idle", err)
		default:
		}
	})
}

// TestTimedPullMissingHeartbeats: when the heartbeats of a pull request stop coming (here the
// request itself is lost on its way to the server), the client gives up after two heartbeat
// intervals: Fetch ends with ErrNoHeartbeat, Consume reports it and pulls again, and then gets
// the messages.
func TestTimedPullMissingHeartbeats(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		env := tm.env(t, timedProxy(tm)...)
		hb := tm.d(5*time.Second, 200*time.Millisecond)
		_, c := spPullSetup(t, env, 0, jetstream.ConsumerConfig{})

		env.Inject(fake.Drop("$JS.API.CONSUMER.MSG.NEXT.S.d", 1))
		start := time.Now()
		b, err := c.Fetch(1, jetstream.FetchMaxWait(10*hb), jetstream.FetchHeartbeat(hb))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			t.Errorf("a lost pull request delivered %q", m.Data())
		}
		wantIs(t, b.Error(), jetstream.ErrNoHeartbeat, "nats: no heartbeat received")
		tm.due(t, "ErrNoHeartbeat from Fetch", time.Since(start), 2*hb)

		env.Inject(fake.Drop("$JS.API.CONSUMER.MSG.NEXT.S.d", 1))
		errs := make(chan error, 16)
		got := make(chan jetstream.Msg, 16)
		start = time.Now()
		cc, err := c.Consume(func(m jetstream.Msg) { got <- m },
			jetstream.PullExpiry(tm.d(30*time.Second, 1200*time.Millisecond)),
			jetstream.PullHeartbeat(tm.d(10*time.Second, 500*time.Millisecond)),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				select {
				case errs <- err:
				default:
				}
			}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cc.Stop)
		consumeHB := tm.d(10*time.Second, 500*time.Millisecond)
		err = awaitWithin(t, errs, tm.within(2*consumeHB), "Consume to report the missing heartbeats")
		wantIs(t, err, jetstream.ErrNoHeartbeat, "nats: no heartbeat received")
		tm.due(t, "ErrNoHeartbeat from Consume", time.Since(start), 2*consumeHB)
		pushPublish(t, env, "S", "after")
		if m := awaitWithin(t, got, patience, "the message after the pull again"); string(m.Data()) != "after" {
			t.Errorf("got %q, want after", m.Data())
		}
	})
}

// timedProxy is the options that let Inject act on the backend: on the embedded server natstest's
// proxy, which the fake does not need (its faults act in the server) and which a bubble cannot
// hold (it listens on TCP).
func timedProxy(tm timing) []natstest.Option {
	if tm.virtual {
		return nil
	}
	return []natstest.Option{natstest.WithProxy()}
}
