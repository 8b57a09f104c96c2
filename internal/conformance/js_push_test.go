package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// pushDelivery is what a scenario compares of a message a consumer delivered: the stored
// subject and payload, and the metadata of its ack subject.
type pushDelivery struct {
	Subject, Data string
	Stream, Cons  uint64 // stream and consumer sequences
	Delivered     uint64 // delivery count
	Pending       uint64 // messages left for the consumer after this one
}

func pushOf(t *testing.T, m jetstream.Msg) pushDelivery {
	t.Helper()
	md, err := m.Metadata()
	if err != nil {
		t.Fatalf("metadata of %q (reply %q): %v", m.Subject(), m.Reply(), err)
	}
	return pushDelivery{
		Subject: m.Subject(), Data: string(m.Data()), Stream: md.Sequence.Stream, Cons: md.Sequence.Consumer,
		Delivered: md.NumDelivered, Pending: md.NumPending,
	}
}

// pushStream creates a stream on the environment's JetStream.
func pushStream(t *testing.T, env *natstest.Env, name string, subjects ...string) jetstream.Stream {
	t.Helper()
	s, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: name, Subjects: subjects})
	if err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	return s
}

// pushPublish publishes data on subj through JetStream, checking the ack.
func pushPublish(t *testing.T, env *natstest.Env, subj, data string) *jetstream.PubAck {
	t.Helper()
	ack, err := env.JetStream().Publish(waitCtx(t), subj, []byte(data))
	if err != nil {
		t.Fatalf("publish %s: %v", subj, err)
	}
	return ack
}

// pushConsumer creates (or updates) a push consumer.
func pushConsumer(t *testing.T, env *natstest.Env, stream string, cfg jetstream.ConsumerConfig) jetstream.PushConsumer {
	t.Helper()
	c, err := env.JetStream().CreateOrUpdatePushConsumer(waitCtx(t), stream, cfg)
	if err != nil {
		t.Fatalf("create push consumer on %s: %v", stream, err)
	}
	return c
}

// pushConsume starts consuming, sending each message to the returned channel; it is stopped at
// the end of the test.
func pushConsume(t *testing.T, c jetstream.PushConsumer, opts ...jetstream.PushConsumeOpt) (jetstream.ConsumeContext, <-chan jetstream.Msg) {
	t.Helper()
	ch := make(chan jetstream.Msg, 1024)
	cc, err := c.Consume(func(m jetstream.Msg) { ch <- m }, opts...)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	t.Cleanup(cc.Stop)
	return cc, ch
}

// pushTake takes n messages from ch, each within patience.
func pushTake(t *testing.T, ch <-chan jetstream.Msg, n int) []jetstream.Msg {
	t.Helper()
	out := make([]jetstream.Msg, 0, n)
	for range n {
		select {
		case m := <-ch:
			out = append(out, m)
		case <-time.After(patience):
			t.Fatalf("got %d of %d messages within %v", len(out), n, patience)
		}
	}
	return out
}

// pushDeliveries is pushOf of each message.
func pushDeliveries(t *testing.T, msgs []jetstream.Msg) []pushDelivery {
	t.Helper()
	out := make([]pushDelivery, len(msgs))
	for i, m := range msgs {
		out[i] = pushOf(t, m)
	}
	return out
}

// pushNoMore fails if ch holds a message. Callers first make a later message arrive.
func pushNoMore(t *testing.T, ch <-chan jetstream.Msg) {
	t.Helper()
	select {
	case m := <-ch:
		t.Errorf("unexpected message %+v", pushOf(t, m))
	default:
	}
}

// pushInfo is the consumer's info from the server.
func pushInfo(t *testing.T, env *natstest.Env, stream, name string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := env.JetStream().PushConsumer(waitCtx(t), stream, name)
	if err != nil {
		t.Fatalf("push consumer %s: %v", name, err)
	}
	info, err := c.Info(waitCtx(t))
	if err != nil {
		t.Fatalf("info of %s: %v", name, err)
	}
	return info
}

// pushWantState waits, up to patience, until the consumer's info shows want: the real server
// brings its figures up to date a moment after it acknowledges a publish or an ack.
func pushWantState(t *testing.T, env *natstest.Env, stream, name, what string, want pushState) {
	t.Helper()
	ctx := waitCtx(t)
	for {
		got := pushStateOf(pushInfo(t, env, stream, name))
		if got == want || ctx.Err() != nil {
			kvDiff(t, what, want, got)
			return
		}
	}
}

// pushState is the delivery state of a consumer's info.
type pushState struct {
	Delivered, AckFloor     jetstream.SequenceInfo
	AckPending, Redelivered int
	Pending                 uint64
	PushBound               bool
}

func pushStateOf(i *jetstream.ConsumerInfo) pushState {
	d, a := i.Delivered, i.AckFloor
	d.Last, a.Last = nil, nil
	return pushState{Delivered: d, AckFloor: a, AckPending: i.NumAckPending, Redelivered: i.NumRedelivered, Pending: i.NumPending, PushBound: i.PushBound}
}

// TestPushDeliversOnlyWithSubscriber: a push consumer delivers nothing while nobody subscribes
// to its deliver subject (CreatePushConsumer comes before Consume subscribes); once Consume
// subscribes, every stored message arrives, in order, none lost.
func TestPushDeliversOnlyWithSubscriber(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "P", "p.>")
		c := pushConsumer(t, env, "P", jetstream.ConsumerConfig{Durable: "d", DeliverSubject: "deliver.p", AckPolicy: jetstream.AckNonePolicy})
		for i := range 5 {
			pushPublish(t, env, fmt.Sprint("p.", i), fmt.Sprint("m", i))
		}
		pushWantState(t, env, "P", "d", "state before Consume", pushState{Pending: 5})
		_, ch := pushConsume(t, c)
		var want []pushDelivery
		for i := range 5 {
			want = append(want, pushDelivery{Subject: fmt.Sprint("p.", i), Data: fmt.Sprint("m", i), Stream: uint64(i + 1), Cons: uint64(i + 1), Delivered: 1, Pending: uint64(4 - i)})
		}
		kvDiff(t, "deliveries", want, pushDeliveries(t, pushTake(t, ch, 5)))
		pushPublish(t, env, "p.live", "live")
		kvDiff(t, "live", []pushDelivery{{Subject: "p.live", Data: "live", Stream: 6, Cons: 6, Delivered: 1}}, pushDeliveries(t, pushTake(t, ch, 1)))
	})
}

// TestPushDeliverGroup: a push consumer with a deliver group delivers each message to one member
// of the queue group; together the members get every message exactly once.
func TestPushDeliverGroup(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "G", "g.>")
		cfg := jetstream.ConsumerConfig{Durable: "workers", DeliverSubject: "deliver.g", DeliverGroup: "wq", AckPolicy: jetstream.AckExplicitPolicy}
		pushConsumer(t, env, "G", cfg)
		var chans []<-chan jetstream.Msg
		for range 2 {
			js, err := jetstream.New(env.Connect())
			if err != nil {
				t.Fatal(err)
			}
			c, err := js.PushConsumer(waitCtx(t), "G", "workers")
			if err != nil {
				t.Fatal(err)
			}
			_, ch := pushConsume(t, c)
			chans = append(chans, ch)
		}
		interest(t, env, "deliver.g", 2)
		const n = 20
		for i := range n {
			pushPublish(t, env, "g.x", fmt.Sprint(i))
		}
		var got []string
		deadline := time.After(patience)
		for len(got) < n {
			select {
			case m := <-chans[0]:
				got = append(got, string(m.Data()))
				_ = m.Ack()
			case m := <-chans[1]:
				got = append(got, string(m.Data()))
				_ = m.Ack()
			case <-deadline:
				t.Fatalf("got %d of %d messages", len(got), n)
			}
		}
		pushSameTotal(t, "wq", seq("", n), got)
		info := pushInfo(t, env, "G", "workers")
		if info.Config.DeliverGroup != "wq" || !info.PushBound {
			t.Errorf("deliver group %q push bound %v, want wq true", info.Config.DeliverGroup, info.PushBound)
		}
	})
}

// pushSameTotal is sameTotal for payloads already taken from their messages.
func pushSameTotal(t *testing.T, group string, want, got []string) {
	t.Helper()
	msgs := make([]*nats.Msg, len(got))
	for i, g := range got {
		msgs[i] = &nats.Msg{Data: []byte(g)}
	}
	sameTotal(t, group, want, msgs)
}

// TestPushIdleHeartbeat: while idle, a push consumer with an idle heartbeat sends status 100
// "Idle Heartbeat" messages without reply subject to the deliver subject, naming the last
// consumer and stream sequences delivered; a Consume on it reports no ErrNoHeartbeat.
func TestPushIdleHeartbeat(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "H", "h.>")
		pushPublish(t, env, "h.other", "not for us")
		c := pushConsumer(t, env, "H", jetstream.ConsumerConfig{
			Durable: "hb", DeliverSubject: "deliver.hb", FilterSubject: "h.x", AckPolicy: jetstream.AckNonePolicy,
			IdleHeartbeat: 200 * time.Millisecond,
		})
		rawConn := env.Connect()
		raw := subSync(t, rawConn, "deliver.hb")
		flush(t, rawConn)
		errs := make(chan error, 16)
		_, ch := pushConsume(t, c, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
		pushPublish(t, env, "h.x", "1")
		pushPublish(t, env, "h.x", "2")
		kvDiff(t, "deliveries", []string{"1", "2"}, pushData(pushTake(t, ch, 2)))
		// The raw subscription was there before anything was published: skip the heartbeats
		// sent before the two messages.
		for data, seen := 0, 0; data < 2; seen++ {
			if seen == 100 {
				t.Fatalf("the two messages did not reach the raw subscription among %d messages", seen)
			}
			if m := next(t, raw); m.Header.Get("Status") == "" {
				data++
			}
		}
		hb := next(t, raw)
		type heartbeat struct {
			Status, Description, Reply, LastConsumer, LastStream, Data string
		}
		kvDiff(t, "heartbeat", heartbeat{Status: "100", Description: "Idle Heartbeat", LastConsumer: "2", LastStream: "3"}, heartbeat{
			hb.Header.Get("Status"), hb.Header.Get("Description"), hb.Reply,
			hb.Header.Get("Nats-Last-Consumer"), hb.Header.Get("Nats-Last-Stream"), string(hb.Data),
		})
		// Idle for a second (five heartbeat intervals): the client's watchdog, at two intervals,
		// must stay quiet.
		select {
		case err := <-errs:
			t.Fatalf("while idle: %v", err)
		case <-time.After(time.Second):
		}
		pushPublish(t, env, "h.x", "marker")
		kvDiff(t, "after idling", []string{"marker"}, pushData(pushTake(t, ch, 1)))
		select {
		case err := <-errs:
			t.Errorf("while idle: %v", err)
		default:
		}
	})
}

// pushData is the payloads of msgs.
func pushData(msgs []jetstream.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Data())
	}
	return out
}

// TestPushAcks: explicit acks on a push consumer's messages move its ack floor; once all are
// acked nothing is pending.
func TestPushAcks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "A", "a.>")
		c := pushConsumer(t, env, "A", jetstream.ConsumerConfig{Durable: "acker", DeliverSubject: "deliver.a", AckPolicy: jetstream.AckExplicitPolicy})
		for i := range 3 {
			pushPublish(t, env, "a.x", fmt.Sprint(i))
		}
		_, ch := pushConsume(t, c)
		msgs := pushTake(t, ch, 3)
		pushWantState(t, env, "A", "acker", "unacked", pushState{
			Delivered: jetstream.SequenceInfo{Consumer: 3, Stream: 3}, AckPending: 3, PushBound: true,
		})
		if err := msgs[0].DoubleAck(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		if err := msgs[2].DoubleAck(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		pushWantState(t, env, "A", "acker", "two acked, one gap", pushState{
			Delivered: jetstream.SequenceInfo{Consumer: 3, Stream: 3}, AckFloor: jetstream.SequenceInfo{Consumer: 1, Stream: 1},
			AckPending: 1, PushBound: true,
		})
		if err := msgs[1].DoubleAck(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		pushWantState(t, env, "A", "acker", "all acked", pushState{
			Delivered: jetstream.SequenceInfo{Consumer: 3, Stream: 3}, AckFloor: jetstream.SequenceInfo{Consumer: 3, Stream: 3},
			PushBound: true,
		})
		err := msgs[1].Ack()
		wantIs(t, err, jetstream.ErrMsgAlreadyAckd, "nats: message was already acknowledged")
	})
}

// TestPushBound: a push consumer's info says push_bound only while a subscription is on its
// deliver subject.
func TestPushBound(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "B", "b")
		c := pushConsumer(t, env, "B", jetstream.ConsumerConfig{Durable: "b", DeliverSubject: "deliver.b"})
		if pushInfo(t, env, "B", "b").PushBound {
			t.Error("push bound before Consume")
		}
		cc, _ := pushConsume(t, c)
		kvEventually(t, "push_bound after Consume", func() bool { return pushInfo(t, env, "B", "b").PushBound })
		cc.Stop()
		kvEventually(t, "push_bound cleared after Stop", func() bool { return !pushInfo(t, env, "B", "b").PushBound })
	})
}

// TestPushResumeAfterStop: when the subscriber goes away the consumer holds its place; messages
// stored meanwhile are delivered to the next subscriber, after those already delivered.
func TestPushResumeAfterStop(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "R", "r")
		c := pushConsumer(t, env, "R", jetstream.ConsumerConfig{Durable: "r", DeliverSubject: "deliver.r", AckPolicy: jetstream.AckNonePolicy})
		for i := range 3 {
			pushPublish(t, env, "r", fmt.Sprint(i))
		}
		cc, ch := pushConsume(t, c)
		kvDiff(t, "first", []string{"0", "1", "2"}, pushData(pushTake(t, ch, 3)))
		cc.Stop()
		kvEventually(t, "push_bound cleared after Stop", func() bool { return !pushInfo(t, env, "R", "r").PushBound })
		for i := 3; i < 6; i++ {
			pushPublish(t, env, "r", fmt.Sprint(i))
		}
		pushWantState(t, env, "R", "r", "state while unbound", pushState{Delivered: jetstream.SequenceInfo{Consumer: 3, Stream: 3}, AckFloor: jetstream.SequenceInfo{Consumer: 3, Stream: 3}, Pending: 3})
		again, err := env.JetStream().PushConsumer(waitCtx(t), "R", "r")
		if err != nil {
			t.Fatal(err)
		}
		_, ch2 := pushConsume(t, again)
		kvDiff(t, "resumed", []pushDelivery{
			{Subject: "r", Data: "3", Stream: 4, Cons: 4, Delivered: 1, Pending: 2},
			{Subject: "r", Data: "4", Stream: 5, Cons: 5, Delivered: 1, Pending: 1},
			{Subject: "r", Data: "5", Stream: 6, Cons: 6, Delivered: 1},
		}, pushDeliveries(t, pushTake(t, ch2, 3)))
	})
}

// TestPushRedeliveryAfterAckWait: a message not acked within the ack wait is delivered again,
// with the same stream sequence, the next consumer sequence and a delivery count of 2.
func TestPushRedeliveryAfterAckWait(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "W", "w")
		c := pushConsumer(t, env, "W", jetstream.ConsumerConfig{
			Durable: "w", DeliverSubject: "deliver.w", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second,
		})
		pushPublish(t, env, "w", "again")
		_, ch := pushConsume(t, c)
		kvDiff(t, "first delivery", []pushDelivery{{Subject: "w", Data: "again", Stream: 1, Cons: 1, Delivered: 1}}, pushDeliveries(t, pushTake(t, ch, 1)))
		env.FastForward(time.Second)
		m := pushTake(t, ch, 1)
		kvDiff(t, "redelivery", []pushDelivery{{Subject: "w", Data: "again", Stream: 1, Cons: 2, Delivered: 2}}, pushDeliveries(t, m))
		if err := m[0].DoubleAck(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		pushWantState(t, env, "W", "w", "state", pushState{
			Delivered: jetstream.SequenceInfo{Consumer: 2, Stream: 1}, AckFloor: jetstream.SequenceInfo{Consumer: 2, Stream: 1}, PushBound: true,
		})
	})
}

// TestPushMaxAckPending: a push consumer stops delivering at max_ack_pending unacked messages
// and goes on when one is acked.
func TestPushMaxAckPending(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "M", "m")
		for i := range 5 {
			pushPublish(t, env, "m", fmt.Sprint(i))
		}
		// Created after the messages are stored: once in a while the real server, counting the
		// pending of a consumer that saw them arrive, reported num_pending 1 here instead of 3.
		c := pushConsumer(t, env, "M", jetstream.ConsumerConfig{
			Durable: "m", DeliverSubject: "deliver.m", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 2,
		})
		_, ch := pushConsume(t, c)
		first := pushTake(t, ch, 2)
		kvDiff(t, "first two", []string{"0", "1"}, pushData(first))
		pushWantState(t, env, "M", "m", "state at the limit", pushState{Delivered: jetstream.SequenceInfo{Consumer: 2, Stream: 2}, AckPending: 2, Pending: 3, PushBound: true})
		pushNoMore(t, ch)
		if err := first[0].DoubleAck(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "after one ack", []string{"2"}, pushData(pushTake(t, ch, 1)))
	})
}

// TestPushFilterDeliverLast: a push consumer with a filter and DeliverLast starts at the last
// matching message, then gets only new matching ones.
func TestPushFilterDeliverLast(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "F", "f.>")
		for _, s := range []string{"f.a", "f.b", "f.a", "f.b", "f.c"} {
			pushPublish(t, env, s, s)
		}
		c := pushConsumer(t, env, "F", jetstream.ConsumerConfig{
			Durable: "last", DeliverSubject: "deliver.f", FilterSubject: "f.b", DeliverPolicy: jetstream.DeliverLastPolicy,
			AckPolicy: jetstream.AckNonePolicy,
		})
		_, ch := pushConsume(t, c)
		kvDiff(t, "initial", []pushDelivery{{Subject: "f.b", Data: "f.b", Stream: 4, Cons: 1, Delivered: 1}}, pushDeliveries(t, pushTake(t, ch, 1)))
		pushPublish(t, env, "f.a", "no")
		pushPublish(t, env, "f.b", "yes")
		kvDiff(t, "live", []pushDelivery{{Subject: "f.b", Data: "yes", Stream: 7, Cons: 2, Delivered: 1}}, pushDeliveries(t, pushTake(t, ch, 1)))
		pushNoMore(t, ch)
	})
}

// TestPushConsumerKinds: PushConsumer on a pull consumer is ErrNotPushConsumer, and Consumer
// (pull) on a push consumer is ErrNotPullConsumer; a missing one is ErrConsumerNotFound.
func TestPushConsumerKinds(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		pushStream(t, env, "K", "k")
		if _, err := js.CreateOrUpdateConsumer(waitCtx(t), "K", jetstream.ConsumerConfig{Durable: "pull"}); err != nil {
			t.Fatal(err)
		}
		pushConsumer(t, env, "K", jetstream.ConsumerConfig{Durable: "push", DeliverSubject: "deliver.k"})
		_, err := js.PushConsumer(waitCtx(t), "K", "pull")
		wantIs(t, err, jetstream.ErrNotPushConsumer, "nats: consumer is not a push consumer")
		_, err = js.Consumer(waitCtx(t), "K", "push")
		wantIs(t, err, jetstream.ErrNotPullConsumer, "nats: consumer is not a pull consumer")
		_, err = js.PushConsumer(waitCtx(t), "K", "missing")
		wantIs(t, err, jetstream.ErrConsumerNotFound, "nats: API error: code=404 err_code=10014 description=consumer not found")
	})
}

// TestPushConsumerConfigDefaults: the server fills in a push consumer's defaults and echoes
// them in its info (the jetstream package's zero AckPolicy is explicit).
func TestPushConsumerConfigDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "D", "d")
		pushConsumer(t, env, "D", jetstream.ConsumerConfig{Durable: "defaults", DeliverSubject: "deliver.d"})
		info := pushInfo(t, env, "D", "defaults")
		type cfg struct {
			Name, Durable, DeliverSubject string
			Deliver                       jetstream.DeliverPolicy
			Ack                           jetstream.AckPolicy
			AckWait                       time.Duration
			MaxDeliver, MaxAckPending     int
			Replay                        jetstream.ReplayPolicy
			FlowControl                   bool
			Heartbeat                     time.Duration
		}
		c := info.Config
		kvDiff(t, "config", cfg{
			Name: "defaults", Durable: "defaults", DeliverSubject: "deliver.d", Deliver: jetstream.DeliverAllPolicy,
			Ack: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: -1, MaxAckPending: 1000,
			Replay: jetstream.ReplayInstantPolicy,
		}, cfg{
			c.Name, c.Durable, c.DeliverSubject, c.DeliverPolicy, c.AckPolicy, c.AckWait, c.MaxDeliver, c.MaxAckPending,
			c.ReplayPolicy, c.FlowControl, c.IdleHeartbeat,
		})
		if info.Stream != "D" || info.Name != "defaults" {
			t.Errorf("stream, name = %q, %q, want D, defaults", info.Stream, info.Name)
		}
	})
}

// TestPushManyConsumers: many push consumers on one stream each get every message, each with
// its own consumer sequence.
func TestPushManyConsumers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "MANY", "many.>")
		const consumers, n = 8, 5
		var chans []<-chan jetstream.Msg
		for i := range consumers {
			c := pushConsumer(t, env, "MANY", jetstream.ConsumerConfig{
				Durable: fmt.Sprint("c", i), DeliverSubject: fmt.Sprint("deliver.many.", i), AckPolicy: jetstream.AckExplicitPolicy,
			})
			_, ch := pushConsume(t, c)
			chans = append(chans, ch)
		}
		for i := range n {
			pushPublish(t, env, fmt.Sprint("many.", i), fmt.Sprint(i))
		}
		for i, ch := range chans {
			msgs := pushTake(t, ch, n)
			for _, m := range msgs {
				if err := m.Ack(); err != nil {
					t.Fatal(err)
				}
			}
			var want []pushDelivery
			for j := range n {
				want = append(want, pushDelivery{Subject: fmt.Sprint("many.", j), Data: fmt.Sprint(j), Stream: uint64(j + 1), Cons: uint64(j + 1), Delivered: 1})
			}
			got := pushDeliveries(t, msgs)
			for j := range got {
				got[j].Pending = 0 // how many were stored before the live delivery went out is timing
			}
			kvDiff(t, fmt.Sprint("consumer c", i), want, got)
		}
		st, err := env.JetStream().Stream(waitCtx(t), "MANY")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers != consumers || info.State.Msgs != n {
			t.Errorf("consumers, messages = %d, %d, want %d, %d", info.State.Consumers, info.State.Msgs, consumers, n)
		}
	})
}

// TestPushFlowControl: a flow-controlled push consumer delivers a large backlog completely and
// in order; the client answers whatever flow-control requests the server sends.
func TestPushFlowControl(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pushStream(t, env, "FC", "fc")
		js := env.JetStream()
		const n = 2000
		payload := make([]byte, 1024)
		for i := range n {
			copy(payload, fmt.Sprintf("%06d", i))
			if _, err := js.PublishAsync("fc", append([]byte(nil), payload...)); err != nil {
				t.Fatal(err)
			}
		}
		await(t, js.PublishAsyncComplete(), "the async publishes to complete")
		c := pushConsumer(t, env, "FC", jetstream.ConsumerConfig{
			Durable: "fc", DeliverSubject: "deliver.fc", AckPolicy: jetstream.AckNonePolicy,
			FlowControl: true, IdleHeartbeat: time.Second,
		})
		info := pushInfo(t, env, "FC", "fc")
		if !info.Config.FlowControl || info.Config.IdleHeartbeat != time.Second {
			t.Errorf("flow control %v heartbeat %v, want true 1s", info.Config.FlowControl, info.Config.IdleHeartbeat)
		}
		_, ch := pushConsume(t, c)
		for i, m := range pushTake(t, ch, n) {
			if want := fmt.Sprintf("%06d", i); string(m.Data()[:6]) != want || len(m.Data()) != 1024 {
				t.Fatalf("message %d: %q... (%d bytes), want %s...", i, m.Data()[:6], len(m.Data()), want)
			}
		}
		kvEventually(t, "the consumer to have delivered everything", func() bool {
			i := pushInfo(t, env, "FC", "fc")
			return i.Delivered.Stream == n && i.NumPending == 0
		})
	})
}
