package conformance

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's acknowledgement scenarios: ack wait, back-off, nak delay and max deliver, with
// realistic durations in the fake's bubble and short ones on the embedded server.

// TestTimedAckWait: a message not acked is redelivered once the ack wait has passed, and not
// before; once acked it is not redelivered, however long the consumer waits.
func TestTimedAckWait(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		wait := tm.d(30*time.Second, 300*time.Millisecond)
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{AckWait: wait})
		start := time.Now()
		first, _ := timedTake(t, c, patience) // and not acked
		kvDiff(t, "first delivery", spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 1, Delivered: 1}, spDeliveryOf(t, first))
		re, _ := timedTake(t, c, tm.within(wait))
		tm.due(t, "the redelivery", time.Since(start), wait)
		kvDiff(t, "redelivery", spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 2, Delivered: 2}, spDeliveryOf(t, re))
		spDoubleAck(t, re)
		if msgs, took := timedFetch(t, c, 1, 2*wait); len(msgs) != 0 {
			t.Errorf("after the ack, a fetch of two ack waits got %v", spDeliveries(t, msgs))
		} else {
			tm.due(t, "the empty fetch ended", took, 2*wait)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 1}, AckFloor: [2]uint64{2, 1}})
	})
}

// TestTimedBackoff: with a back-off, the n-th redelivery comes back-off[n-1] after the delivery
// before it, not earlier; the last value repeats until max deliver.
func TestTimedBackoff(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		backoff := []time.Duration{
			tm.d(time.Minute, 200*time.Millisecond),
			tm.d(5*time.Minute, 400*time.Millisecond),
		}
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{BackOff: backoff, MaxDeliver: 4})
		if cfg := c.CachedInfo().Config; cfg.AckWait != backoff[0] {
			t.Errorf("ack wait %v, want the first back-off %v", cfg.AckWait, backoff[0])
		}
		sched := tm.schedule(t)
		timedTake(t, c, patience)
		for i, gap := range []time.Duration{backoff[0], backoff[1], backoff[1]} {
			m, _ := timedTake(t, c, tm.within(gap))
			sched.next(fmt.Sprint("delivery ", i+2), gap, false)
			if d := spDeliveryOf(t, m); d.Delivered != uint64(i+2) || d.Consumer != uint64(i+2) {
				t.Errorf("redelivery %d: %+v", i+1, d)
			}
		}
		// Four deliveries are max deliver: the last back-off passes twice with nothing.
		if msgs, _ := timedFetch(t, c, 1, 2*backoff[1]); len(msgs) != 0 {
			t.Errorf("a fifth delivery beyond max deliver: %v", spDeliveries(t, msgs))
		}
	})
}

// TestTimedNakDelay: a message nak'ed with a delay comes back once the delay has passed, not
// before, even with an ack wait far longer.
func TestTimedNakDelay(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		delay := tm.d(10*time.Minute, 300*time.Millisecond)
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{AckWait: tm.d(2*time.Hour, 30*time.Second)})
		m, _ := timedTake(t, c, patience)
		start := time.Now()
		if err := m.NakWithDelay(delay); err != nil {
			t.Fatal(err)
		}
		re, _ := timedTake(t, c, tm.within(delay))
		tm.due(t, "the redelivery after the nak", time.Since(start), delay)
		if d := spDeliveryOf(t, re); d.Delivered != 2 || d.Data != "m0" {
			t.Errorf("redelivery %+v, want m0 delivered twice", d)
		}
		spDoubleAck(t, re)
	})
}

// TestTimedMaxDeliver: a message delivered max deliver times and never acked is not delivered
// again when its ack wait passes; nats-server announces it with a max_deliver advisory instead
// (when a pull request waits for it), and the consumer's pending and ack floor stay put.
func TestTimedMaxDeliver(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		wait := tm.d(30*time.Second, 200*time.Millisecond)
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{MaxDeliver: 3, AckWait: wait})
		exceeded := env.Connect()
		adv := subSync(t, exceeded, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.d")
		flush(t, exceeded)
		sched := tm.schedule(t)
		timedTake(t, c, patience)
		for n := 2; n <= 3; n++ {
			m, _ := timedTake(t, c, tm.within(wait))
			sched.next(fmt.Sprint("delivery ", n), wait, false)
			if d := spDeliveryOf(t, m); d.Delivered != uint64(n) {
				t.Errorf("delivery %d: %+v", n, d)
			}
		}
		// Three ack waits pass with a pull request waiting: nothing is delivered.
		if msgs, _ := timedFetch(t, c, 1, 3*wait); len(msgs) != 0 {
			t.Errorf("a delivery beyond max deliver: %v", spDeliveries(t, msgs))
		}
		m := nextWithin(t, adv, patience) // sent while the fetch waited
		var got map[string]any
		if err := json.Unmarshal(m.Data, &got); err != nil {
			t.Fatalf("advisory %q: %v", m.Data, err)
		}
		delete(got, "id")
		delete(got, "timestamp")
		kvDiff(t, "advisory", map[string]any{"type": "io.nats.jetstream.advisory.v1.max_deliver", "stream": "S", "consumer": "d",
			"stream_seq": 1.0, "deliveries": 3.0}, got)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 1}, Redelivered: 1})
	})
}
