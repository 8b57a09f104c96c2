package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// legacyJS is a legacy nats.JetStreamContext on a new connection of env.
func legacyJS(t *testing.T, env *natstest.Env) (*nats.Conn, nats.JetStreamContext) {
	t.Helper()
	nc := env.Connect()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// legacyStream adds stream name on subjects.
func legacyStream(t *testing.T, js nats.JetStreamContext, name string, subjects ...string) *nats.StreamInfo {
	t.Helper()
	info, err := js.AddStream(&nats.StreamConfig{Name: name, Subjects: subjects})
	if err != nil {
		t.Fatalf("add stream %s: %v", name, err)
	}
	return info
}

// legacyPublish publishes through JetStream and returns the ack.
func legacyPublish(t *testing.T, js nats.JetStreamContext, subj, data string, opts ...nats.PubOpt) *nats.PubAck {
	t.Helper()
	ack, err := js.Publish(subj, []byte(data), opts...)
	if err != nil {
		t.Fatalf("publish %s: %v", subj, err)
	}
	return ack
}

// legacyUnsub drops sub at the end of the test, deleting the consumer the library made for it.
func legacyUnsub(t *testing.T, sub *nats.Subscription) *nats.Subscription {
	t.Helper()
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return sub
}

// legacySeqs is "stream/consumer/delivered" of each message's metadata.
func legacySeqs(t *testing.T, msgs []*nats.Msg) []string {
	t.Helper()
	out := make([]string, len(msgs))
	for i, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			t.Fatalf("metadata of %q (reply %q): %v", m.Subject, m.Reply, err)
		}
		out[i] = fmt.Sprintf("%d/%d/%d", md.Sequence.Stream, md.Sequence.Consumer, md.NumDelivered)
	}
	return out
}

// legacyTake takes n messages from sub, each within patience.
func legacyTake(t *testing.T, sub *nats.Subscription, n int) []*nats.Msg {
	t.Helper()
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		msgs[i] = next(t, sub)
	}
	return msgs
}

// legacyConsumers is the number of consumers on stream.
func legacyConsumers(t *testing.T, js nats.JetStreamContext, stream string) int {
	t.Helper()
	info, err := js.StreamInfo(stream)
	if err != nil {
		t.Fatalf("stream info %s: %v", stream, err)
	}
	return info.State.Consumers
}

// TestLegacyAddStreamPublish: AddStream echoes the config with the server's defaults; Publish
// returns the stream and sequence; a repeated Nats-Msg-Id within the duplicate window is acked
// as a duplicate of the first and not stored again.
func TestLegacyAddStreamPublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		info := legacyStream(t, js, "L", "l.>")
		type cfg struct {
			Name       string
			Subjects   []string
			Retention  nats.RetentionPolicy
			Storage    nats.StorageType
			Discard    nats.DiscardPolicy
			Replicas   int
			MaxMsgs    int64
			MaxBytes   int64
			MaxAge     time.Duration
			Duplicates time.Duration
		}
		c := info.Config
		kvDiff(t, "config", cfg{
			Name: "L", Subjects: []string{"l.>"}, Retention: nats.LimitsPolicy, Storage: nats.FileStorage, Discard: nats.DiscardOld,
			Replicas: 1, MaxMsgs: -1, MaxBytes: -1, Duplicates: 2 * time.Minute,
		}, cfg{c.Name, c.Subjects, c.Retention, c.Storage, c.Discard, c.Replicas, c.MaxMsgs, c.MaxBytes, c.MaxAge, c.Duplicates})
		var acks []nats.PubAck
		acks = append(acks, *legacyPublish(t, js, "l.a", "1"))
		acks = append(acks, *legacyPublish(t, js, "l.b", "2", nats.MsgId("id-1")))
		acks = append(acks, *legacyPublish(t, js, "l.b", "2 again", nats.MsgId("id-1")))
		acks = append(acks, *legacyPublish(t, js, "l.c", "3"))
		kvDiff(t, "acks", []nats.PubAck{
			{Stream: "L", Sequence: 1}, {Stream: "L", Sequence: 2}, {Stream: "L", Sequence: 2, Duplicate: true}, {Stream: "L", Sequence: 3},
		}, acks)
		si, err := js.StreamInfo("L")
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs != 3 || si.State.FirstSeq != 1 || si.State.LastSeq != 3 {
			t.Errorf("state msgs %d first %d last %d, want 3 1 3", si.State.Msgs, si.State.FirstSeq, si.State.LastSeq)
		}
	})
}

// TestLegacyPublishNoStream: a JetStream publish on a subject no stream captures gets no
// responders, which the legacy API reports as ErrNoStreamResponse.
func TestLegacyPublishNoStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		_, err := js.Publish("elsewhere", []byte("x"))
		wantIs(t, err, nats.ErrNoStreamResponse, "nats: no response from stream")
	})
}

// TestLegacyNotFound: StreamInfo and ConsumerInfo of missing ones are ErrStreamNotFound and
// ErrConsumerNotFound; subscribing to a subject no stream captures is ErrNoMatchingStream.
func TestLegacyNotFound(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		_, err := js.StreamInfo("MISSING")
		wantIs(t, err, nats.ErrStreamNotFound, "nats: stream not found")
		legacyStream(t, js, "L", "l.>")
		_, err = js.ConsumerInfo("L", "missing")
		wantIs(t, err, nats.ErrConsumerNotFound, "nats: consumer not found")
		_, err = js.SubscribeSync("nomatch")
		wantIs(t, err, nats.ErrNoMatchingStream, "nats: no stream matches subject")
	})
}

// TestLegacySubscribeEphemeral: js.Subscribe with a callback makes an ephemeral push consumer
// (named by the server) that delivers stored then new messages and is acked after the callback;
// Unsubscribe deletes the consumer.
func TestLegacySubscribeEphemeral(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		legacyPublish(t, js, "l.a", "stored")
		ch := make(chan *nats.Msg, 16)
		sub, err := js.Subscribe("l.>", func(m *nats.Msg) { ch <- m })
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, sub)
		legacyPublish(t, js, "l.b", "new")
		var got []*nats.Msg
		for range 2 {
			got = append(got, await(t, ch, "a message"))
		}
		kvDiff(t, "messages", []string{"stored", "new"}, datas(got))
		kvDiff(t, "sequences", []string{"1/1/1", "2/2/1"}, legacySeqs(t, got))
		info, err := sub.ConsumerInfo()
		if err != nil {
			t.Fatal(err)
		}
		nonEmpty(t, "ephemeral consumer name", info.Name)
		if info.Config.Durable != "" || info.Config.DeliverSubject == "" || info.Config.AckPolicy != nats.AckExplicitPolicy || !info.PushBound {
			t.Errorf("durable %q deliver %q ack %v push bound %v, want no durable, a deliver subject, explicit acks, bound",
				info.Config.Durable, info.Config.DeliverSubject, info.Config.AckPolicy, info.PushBound)
		}
		kvEventually(t, "both messages to be acked", func() bool {
			info, err := sub.ConsumerInfo()
			return err == nil && info.AckFloor.Consumer == 2 && info.NumAckPending == 0
		})
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "the ephemeral consumer to be deleted", func() bool { return legacyConsumers(t, js, "L") == 0 })
		_, err = js.ConsumerInfo("L", info.Name)
		wantIs(t, err, nats.ErrConsumerNotFound, "nats: consumer not found")
	})
}

// TestLegacySubscribeSyncDurable: a durable SubscribeSync delivers messages that NextMsg takes
// and Ack acknowledges; Unsubscribe deletes the durable the library created.
func TestLegacySubscribeSyncDurable(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		for i := range 3 {
			legacyPublish(t, js, "l.x", fmt.Sprint(i))
		}
		sub, err := js.SubscribeSync("l.x", nats.Durable("sync"))
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, sub)
		msgs := legacyTake(t, sub, 3)
		kvDiff(t, "messages", []string{"0", "1", "2"}, datas(msgs))
		for _, m := range msgs[:2] {
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		info, err := js.ConsumerInfo("L", "sync")
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Consumer != 2 || info.NumAckPending != 1 || info.Delivered.Consumer != 3 {
			t.Errorf("ack floor %d ack pending %d delivered %d, want 2 1 3", info.AckFloor.Consumer, info.NumAckPending, info.Delivered.Consumer)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "the durable to be deleted", func() bool { return legacyConsumers(t, js, "L") == 0 })
	})
}

// TestLegacyBindKeepsDurable: a subscription bound to a durable made beforehand with
// AddConsumer does not delete it on Unsubscribe; a later subscription goes on where it stopped.
func TestLegacyBindKeepsDurable(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		if _, err := js.AddConsumer("L", &nats.ConsumerConfig{Durable: "kept", DeliverSubject: "deliver.kept", AckPolicy: nats.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		legacyPublish(t, js, "l.a", "1")
		sub, err := js.SubscribeSync("", nats.Bind("L", "kept"))
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, sub)
		m := next(t, sub)
		if err := m.AckSync(); err != nil {
			t.Fatal(err)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "push_bound cleared", func() bool {
			info, err := js.ConsumerInfo("L", "kept")
			return err == nil && !info.PushBound
		})
		legacyPublish(t, js, "l.a", "2")
		again, err := js.SubscribeSync("", nats.Bind("L", "kept"))
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, again)
		got := legacyTake(t, again, 1)
		kvDiff(t, "after rebinding", []string{"2"}, datas(got))
		kvDiff(t, "sequences", []string{"2/2/1"}, legacySeqs(t, got))
	})
}

// TestLegacyPullSubscribeFetch: a durable pull subscription's Fetch returns up to the batch
// at once, then what is left when fewer are stored; acks move the ack floor.
func TestLegacyPullSubscribeFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		for i := range 5 {
			legacyPublish(t, js, "l.p", fmt.Sprint(i))
		}
		sub, err := js.PullSubscribe("l.p", "puller")
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, sub)
		first, err := sub.Fetch(3, nats.MaxWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "first fetch", []string{"0", "1", "2"}, datas(first))
		rest, err := sub.Fetch(10, nats.MaxWait(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "second fetch", []string{"3", "4"}, datas(rest))
		kvDiff(t, "second fetch sequences", []string{"4/4/1", "5/5/1"}, legacySeqs(t, rest))
		for _, m := range append(first, rest...) {
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		info, err := sub.ConsumerInfo()
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != "puller" || info.Config.DeliverSubject != "" || info.AckFloor.Stream != 5 || info.NumAckPending != 0 || info.NumPending != 0 {
			t.Errorf("name %q deliver %q ack floor %d ack pending %d pending %d, want puller, pull, 5 0 0",
				info.Name, info.Config.DeliverSubject, info.AckFloor.Stream, info.NumAckPending, info.NumPending)
		}
	})
}

// TestLegacyFetchTimeout: Fetch with nothing stored waits its MaxWait and times out with
// ErrTimeout.
func TestLegacyFetchTimeout(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		sub, err := js.PullSubscribe("l.empty", "idle")
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, sub)
		_, err = sub.Fetch(1, nats.MaxWait(200*time.Millisecond))
		wantIs(t, err, nats.ErrTimeout, "nats: timeout")
		legacyPublish(t, js, "l.empty", "now")
		msgs, err := sub.Fetch(1, nats.MaxWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "after timeout", []string{"now"}, datas(msgs))
	})
}

// TestLegacyQueueSubscribeDurable: members of a durable queue subscription share one consumer
// with that deliver group; each message goes to exactly one member.
func TestLegacyQueueSubscribeDurable(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		var subs []*nats.Subscription
		for range 2 {
			_, mjs := legacyJS(t, env)
			sub, err := mjs.QueueSubscribeSync("l.q", "workers", nats.Durable("qd"))
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, legacyUnsub(t, sub))
		}
		const n = 20
		for i := range n {
			legacyPublish(t, js, "l.q", fmt.Sprint(i))
		}
		kvEventually(t, "all messages to be delivered", func() bool {
			return queued(t, subs[0])+queued(t, subs[1]) >= n
		})
		sameTotal(t, "workers", seq("", n), takeQueued(t, subs[0]), takeQueued(t, subs[1]))
		info, err := js.ConsumerInfo("L", "qd")
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.DeliverGroup != "workers" || legacyConsumers(t, js, "L") != 1 {
			t.Errorf("deliver group %q, consumers %d, want workers, 1", info.Config.DeliverGroup, legacyConsumers(t, js, "L"))
		}
	})
}

// TestLegacyOrderedConsumer: js.Subscribe with OrderedConsumer makes an ack-none, flow
// controlled, heartbeating, memory-stored push consumer that delivers in order.
func TestLegacyOrderedConsumer(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		for i := range 5 {
			legacyPublish(t, js, fmt.Sprint("l.", i%2), fmt.Sprint(i))
		}
		ch := make(chan *nats.Msg, 64)
		sub, err := js.Subscribe("l.>", func(m *nats.Msg) { ch <- m }, nats.OrderedConsumer())
		if err != nil {
			t.Fatal(err)
		}
		legacyUnsub(t, sub)
		legacyPublish(t, js, "l.live", "5")
		var got []*nats.Msg
		for range 6 {
			got = append(got, await(t, ch, "a message"))
		}
		kvDiff(t, "messages", seq("", 6), datas(got))
		kvDiff(t, "sequences", []string{"1/1/1", "2/2/1", "3/3/1", "4/4/1", "5/5/1", "6/6/1"}, legacySeqs(t, got))
		info, err := sub.ConsumerInfo()
		if err != nil {
			t.Fatal(err)
		}
		type cfg struct {
			Ack         nats.AckPolicy
			MaxDeliver  int
			AckWait     time.Duration
			FlowControl bool
			Heartbeat   time.Duration
			Memory      bool
			Replicas    int
			Durable     string
		}
		c := info.Config
		kvDiff(t, "ordered consumer config", cfg{
			Ack: nats.AckNonePolicy, MaxDeliver: 1, AckWait: 22 * time.Hour, FlowControl: true, Heartbeat: 5 * time.Second,
			Memory: true, Replicas: 1,
		}, cfg{c.AckPolicy, c.MaxDeliver, c.AckWait, c.FlowControl, c.Heartbeat, c.MemoryStorage, c.Replicas, c.Durable})
	})
}

// TestLegacyPublishAsync: asynchronous publishes are all acked, in order of sequence.
func TestLegacyPublishAsync(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		var futures []nats.PubAckFuture
		for i := range 20 {
			f, err := js.PublishAsync("l.async", []byte(fmt.Sprint(i)))
			if err != nil {
				t.Fatal(err)
			}
			futures = append(futures, f)
		}
		await(t, js.PublishAsyncComplete(), "the async publishes to complete")
		for i, f := range futures {
			select {
			case ack := <-f.Ok():
				if ack.Stream != "L" || ack.Sequence != uint64(i+1) {
					t.Errorf("publish %d: ack %+v, want L/%d", i, ack, i+1)
				}
			case err := <-f.Err():
				t.Errorf("publish %d: %v", i, err)
			}
		}
	})
}

// TestLegacyManyConsumers: many pull consumers on one stream each fetch every message
// independently, and deleting one leaves the others.
func TestLegacyManyConsumers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		legacyStream(t, js, "L", "l.>")
		const consumers, n = 10, 4
		for i := range n {
			legacyPublish(t, js, "l.m", fmt.Sprint(i))
		}
		var subs []*nats.Subscription
		for i := range consumers {
			sub, err := js.PullSubscribe("l.m", fmt.Sprint("many", i))
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, legacyUnsub(t, sub))
		}
		if got := legacyConsumers(t, js, "L"); got != consumers {
			t.Errorf("consumers = %d, want %d", got, consumers)
		}
		for i, sub := range subs {
			msgs, err := sub.Fetch(n, nats.MaxWait(patience))
			if err != nil {
				t.Fatalf("consumer %d: %v", i, err)
			}
			kvDiff(t, fmt.Sprint("consumer ", i), seq("", n), datas(msgs))
			for _, m := range msgs {
				if err := m.Ack(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := js.DeleteConsumer("L", "many0"); err != nil {
			t.Fatal(err)
		}
		if got := legacyConsumers(t, js, "L"); got != consumers-1 {
			t.Errorf("consumers after delete = %d, want %d", got, consumers-1)
		}
		err := js.DeleteConsumer("L", "many0")
		if !errors.Is(err, nats.ErrConsumerNotFound) {
			t.Errorf("second delete: %v, want ErrConsumerNotFound", err)
		}
	})
}

// TestLegacyDeliverPolicies: the deliver policy options of js.Subscribe pick where an ephemeral
// push consumer starts; the last message published, "live", comes after the subscription.
func TestLegacyDeliverPolicies(t *testing.T) {
	rows := []struct {
		name string
		opt  nats.SubOpt
		want []string
	}{
		{"all", nats.DeliverAll(), []string{"a1", "b2", "a3", "b4", "live"}},
		{"last", nats.DeliverLast(), []string{"b4", "live"}},
		{"new", nats.DeliverNew(), []string{"live"}},
		{"start-sequence", nats.StartSequence(3), []string{"a3", "b4", "live"}},
		{"last-per-subject", nats.DeliverLastPerSubject(), []string{"a3", "b4", "live"}},
	}
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, js := legacyJS(t, env)
		for i, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				stream := fmt.Sprint("DP", i)
				pre := fmt.Sprint("dp", i)
				legacyStream(t, js, stream, pre+".>")
				for _, p := range []string{"a1", "b2", "a3", "b4"} {
					legacyPublish(t, js, pre+"."+p[:1], p)
				}
				sub, err := js.SubscribeSync(pre+".>", row.opt)
				if err != nil {
					t.Fatal(err)
				}
				legacyUnsub(t, sub)
				legacyPublish(t, js, pre+".c", "live")
				var got []string
				for {
					m := next(t, sub)
					got = append(got, string(m.Data))
					if string(m.Data) == "live" {
						break
					}
				}
				kvDiff(t, "delivered", row.want, got)
			})
		}
	})
}
