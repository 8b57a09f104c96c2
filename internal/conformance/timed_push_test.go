package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// The timed tier's push and ordered consumer scenarios: idle heartbeats on the deliver subject,
// and an ordered consumer that idles for a long time, loses its consumer or its heartbeats, and
// goes on where it was.

// TestTimedPushHeartbeats: an idle push consumer with an idle heartbeat sends status 100 "Idle
// Heartbeat" to its deliver subject every interval, none sooner than an interval after the last
// one or after a delivery, naming the last delivered sequences; a Consume on it idles through
// many intervals without reporting ErrNoHeartbeat.
func TestTimedPushHeartbeats(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		hb := tm.d(30*time.Second, 200*time.Millisecond)
		pushStream(t, env, "H", "h.>")
		rawConn := env.Connect()
		raw := subSync(t, rawConn, "deliver.raw")
		flush(t, rawConn)
		sched := tm.schedule(t)
		pushConsumer(t, env, "H", jetstream.ConsumerConfig{
			Durable: "raw", DeliverSubject: "deliver.raw", AckPolicy: jetstream.AckNonePolicy, IdleHeartbeat: hb,
		})
		heartbeat := func(lastSeq string) {
			t.Helper()
			spStatus(t, nextWithin(t, raw, tm.within(hb)), "100", "Idle Heartbeat",
				map[string]string{"Nats-Last-Consumer": lastSeq, "Nats-Last-Stream": lastSeq})
		}
		for n := 1; n <= 3; n++ {
			heartbeat("0")
			sched.next(fmt.Sprint("heartbeat ", n), hb, false)
		}
		// The delivery puts the next heartbeat off: a schedule of its own, from before the
		// publish.
		sched = tm.schedule(t)
		pushPublish(t, env, "h.x", "data")
		if m := nextWithin(t, raw, patience); string(m.Data) != "data" || m.Header.Get("Status") != "" {
			t.Fatalf("delivery %q %v, want data", m.Data, m.Header)
		}
		sched.next("the delivery", 0, false)
		heartbeat("1")
		sched.next("heartbeat 4", hb, false)

		c := pushConsumer(t, env, "H", jetstream.ConsumerConfig{
			Durable: "consumed", DeliverSubject: "deliver.consumed", AckPolicy: jetstream.AckNonePolicy,
			DeliverPolicy: jetstream.DeliverNewPolicy, IdleHeartbeat: hb,
		})
		errs := make(chan error, 16)
		_, ch := pushConsume(t, c, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
		// Nothing to wait for: the consumer idles through many heartbeat intervals.
		tm.pass(tm.d(20*hb, 8*hb))
		pushPublish(t, env, "h.y", "after")
		kvDiff(t, "after idling", []string{"after"}, pushData(pushTake(t, ch, 1)))
		select {
		case err := <-errs:
			t.Errorf("Consume reported %v while idle", err)
		default:
		}
	})
}

// TestTimedOrderedIdleThenDeleted: an ordered consumer idles for a long time (its pull requests
// expire and are renewed many times), then its consumer is deleted: it makes the next one, and
// what is published afterwards arrives in order, nothing lost or repeated.
func TestTimedOrderedIdleThenDeleted(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		orderedSetup(t, env, "ord.a=0", "ord.a=1")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{NamePrefix: "idle"})
		_, ch := orderedConsume(t, c,
			jetstream.PullExpiry(tm.d(30*time.Second, time.Second)),
			jetstream.PullHeartbeat(tm.d(10*time.Second, 500*time.Millisecond)))
		kvDiff(t, "before", []string{"ord.a=0", "ord.a=1"}, orderedPairs(pushTake(t, ch, 2)))
		// Nothing to wait for: the consumer idles through many expiries.
		tm.pass(tm.d(time.Hour, 2500*time.Millisecond))
		if name := c.CachedInfo().Name; name != "idle_1" {
			t.Errorf("after idling the consumer is %q, want idle_1 still", name)
		}
		if err := env.JetStream().DeleteConsumer(waitCtx(t), "ORD", "idle_1"); err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "the ordered consumer to make idle_2", func() bool { return c.CachedInfo().Name == "idle_2" })
		for i := 2; i < 5; i++ {
			pushPublish(t, env, "ord.a", fmt.Sprint(i))
		}
		after := pushTake(t, ch, 3)
		kvDiff(t, "after", []string{"ord.a=2", "ord.a=3", "ord.a=4"}, orderedPairs(after))
		kvDiff(t, "sequences after", []string{"3/1", "4/2", "5/3"}, orderedSeqs(t, after))
	})
}

// TestTimedOrderedMissingHeartbeats: an ordered consumer whose pull request is lost hears no
// heartbeat; after two intervals it resets, making the next consumer from where it was, and
// goes on in order.
func TestTimedOrderedMissingHeartbeats(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		env := tm.env(t, timedProxy(tm)...)
		hb := tm.d(10*time.Second, 500*time.Millisecond)
		orderedSetup(t, env, "ord.a=0", "ord.a=1")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{NamePrefix: "lost"})
		env.Inject(fake.Drop("$JS.API.CONSUMER.MSG.NEXT.ORD.lost_1", 1))
		start := time.Now()
		_, ch := orderedConsume(t, c, jetstream.PullExpiry(tm.d(30*time.Second, time.Second)), jetstream.PullHeartbeat(hb))
		first := takeWithin(t, ch, 2, tm.within(2*hb))
		tm.due(t, "the messages after the lost pull request", time.Since(start), 2*hb)
		kvDiff(t, "first", []string{"ord.a=0", "ord.a=1"}, orderedPairs(first))
		if name := c.CachedInfo().Name; name != "lost_2" {
			t.Errorf("after the missing heartbeats the consumer is %q, want lost_2", name)
		}
		pushPublish(t, env, "ord.a", "2")
		kvDiff(t, "then", []string{"ord.a=2"}, orderedPairs(pushTake(t, ch, 1)))
	})
}
