package conformance

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// orderedSetup creates stream ORD on ord.> and stores the given subject=data pairs in order.
func orderedSetup(t *testing.T, env *natstest.Env, pairs ...string) {
	t.Helper()
	pushStream(t, env, "ORD", "ord.>")
	for _, p := range pairs {
		subj, data, _ := strings.Cut(p, "=")
		pushPublish(t, env, subj, data)
	}
}

// orderedConsumer makes an ordered consumer on ORD.
func orderedConsumer(t *testing.T, env *natstest.Env, cfg jetstream.OrderedConsumerConfig) jetstream.Consumer {
	t.Helper()
	c, err := env.JetStream().OrderedConsumer(waitCtx(t), "ORD", cfg)
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	return c
}

// orderedConsume starts Consume on c, stopped at the end of the test.
func orderedConsume(t *testing.T, c jetstream.Consumer, opts ...jetstream.PullConsumeOpt) (jetstream.ConsumeContext, <-chan jetstream.Msg) {
	t.Helper()
	ch := make(chan jetstream.Msg, 1024)
	cc, err := c.Consume(func(m jetstream.Msg) { ch <- m }, opts...)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	t.Cleanup(cc.Stop)
	return cc, ch
}

// orderedPairs is "subject=data" of each message.
func orderedPairs(msgs []jetstream.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Subject() + "=" + string(m.Data())
	}
	return out
}

// orderedSeqs is "stream/consumer" sequences of each message.
func orderedSeqs(t *testing.T, msgs []jetstream.Msg) []string {
	t.Helper()
	out := make([]string, len(msgs))
	for i, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = fmt.Sprintf("%d/%d", md.Sequence.Stream, md.Sequence.Consumer)
	}
	return out
}

// orderedFetch takes every message of one Fetch, failing on its error.
func orderedFetch(t *testing.T, c jetstream.Consumer, n int, opts ...jetstream.FetchOpt) []jetstream.Msg {
	t.Helper()
	b, err := c.Fetch(n, opts...)
	if err != nil {
		t.Fatalf("fetch %d: %v", n, err)
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if err := b.Error(); err != nil {
		t.Fatalf("fetch %d: after %d messages: %v", n, len(msgs), err)
	}
	return msgs
}

// TestOrderedConsume: an ordered consumer's Consume delivers every stored message in stream
// order with consumer sequences from 1, then live ones.
func TestOrderedConsume(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		var pairs []string
		for i := range 10 {
			pairs = append(pairs, fmt.Sprintf("ord.%d=m%d", i%3, i))
		}
		orderedSetup(t, env, pairs...)
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{})
		_, ch := orderedConsume(t, c)
		msgs := pushTake(t, ch, 10)
		kvDiff(t, "messages", pairs, orderedPairs(msgs))
		kvDiff(t, "sequences", []string{"1/1", "2/2", "3/3", "4/4", "5/5", "6/6", "7/7", "8/8", "9/9", "10/10"}, orderedSeqs(t, msgs))
		pushPublish(t, env, "ord.live", "L")
		live := pushTake(t, ch, 1)
		kvDiff(t, "live", []string{"ord.live=L"}, orderedPairs(live))
		kvDiff(t, "live sequence", []string{"11/11"}, orderedSeqs(t, live))
	})
}

// TestOrderedFetch: each Fetch on an ordered consumer goes on where the last one stopped; the
// client makes a new consumer for every Fetch, so consumer sequences restart at 1, and deletes
// the one it replaces.
func TestOrderedFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=0", "ord.b=1", "ord.c=2", "ord.a=3", "ord.b=4", "ord.c=5", "ord.a=6")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{NamePrefix: "of"})
		first := orderedFetch(t, c, 3)
		kvDiff(t, "first", []string{"ord.a=0", "ord.b=1", "ord.c=2"}, orderedPairs(first))
		kvDiff(t, "first sequences", []string{"1/1", "2/2", "3/3"}, orderedSeqs(t, first))
		second := orderedFetch(t, c, 3)
		kvDiff(t, "second", []string{"ord.a=3", "ord.b=4", "ord.c=5"}, orderedPairs(second))
		kvDiff(t, "second sequences", []string{"4/1", "5/2", "6/3"}, orderedSeqs(t, second))
		// OrderedConsumer made of_1; each Fetch made the next one.
		if name := c.CachedInfo().Name; name != "of_3" {
			t.Errorf("consumer of the second fetch = %q, want of_3", name)
		}
		rest := orderedFetch(t, c, 5, jetstream.FetchMaxWait(300*time.Millisecond))
		kvDiff(t, "rest", []string{"ord.a=6"}, orderedPairs(rest))
		st, err := env.JetStream().Stream(waitCtx(t), "ORD")
		if err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "the replaced consumers to be deleted", func() bool {
			info, err := st.Info(waitCtx(t))
			return err == nil && info.State.Consumers == 1
		})
		if _, err := st.Consumer(waitCtx(t), "of_4"); err != nil {
			t.Errorf("the last fetch's consumer: %v", err)
		}
		_, err = c.Consume(func(jetstream.Msg) {})
		wantIs(t, err, jetstream.ErrOrderConsumerUsedAsFetch, "nats: ordered consumer initialized as fetch")
	})
}

// TestOrderedNext: Next on an ordered consumer returns the messages one at a time in order;
// with nothing left it times out.
func TestOrderedNext(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=1", "ord.b=2", "ord.c=3")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{})
		var got []string
		for range 3 {
			m, err := c.Next(jetstream.FetchMaxWait(patience))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Subject()+"="+string(m.Data()))
		}
		kvDiff(t, "messages", []string{"ord.a=1", "ord.b=2", "ord.c=3"}, got)
		_, err := c.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
		wantIs(t, err, nats.ErrTimeout, "nats: timeout")
		pushPublish(t, env, "ord.d", "4")
		m, err := c.Next(jetstream.FetchMaxWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "after timeout", []string{"ord.d=4"}, orderedPairs([]jetstream.Msg{m}))
	})
}

// TestOrderedMessages: the Messages iterator of an ordered consumer yields stored then live
// messages in order.
func TestOrderedMessages(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=1", "ord.b=2")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{})
		it, err := c.Messages()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(it.Stop)
		next := func() jetstream.Msg {
			t.Helper()
			type res struct {
				m   jetstream.Msg
				err error
			}
			ch := make(chan res, 1)
			go func() {
				m, err := it.Next()
				ch <- res{m, err}
			}()
			r := await(t, ch, "the next message")
			if r.err != nil {
				t.Fatalf("next: %v", r.err)
			}
			return r.m
		}
		got := []jetstream.Msg{next(), next()}
		pushPublish(t, env, "ord.c", "3")
		got = append(got, next())
		kvDiff(t, "messages", []string{"ord.a=1", "ord.b=2", "ord.c=3"}, orderedPairs(got))
		kvDiff(t, "sequences", []string{"1/1", "2/2", "3/3"}, orderedSeqs(t, got))
	})
}

// TestOrderedRecoversAfterConsumerDeleted: when its server-side consumer is deleted, an ordered
// consumer (told by a 409 Consumer Deleted status) makes the next one, starting after the last
// message it delivered: nothing is lost or repeated.
func TestOrderedRecoversAfterConsumerDeleted(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=0", "ord.a=1", "ord.a=2")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{NamePrefix: "rec"})
		_, ch := orderedConsume(t, c)
		kvDiff(t, "before", []string{"ord.a=0", "ord.a=1", "ord.a=2"}, orderedPairs(pushTake(t, ch, 3)))
		if name := c.CachedInfo().Name; name != "rec_1" {
			t.Fatalf("consumer = %q, want rec_1", name)
		}
		if err := env.JetStream().DeleteConsumer(waitCtx(t), "ORD", "rec_1"); err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "the ordered consumer to make rec_2", func() bool { return c.CachedInfo().Name == "rec_2" })
		for i := 3; i < 6; i++ {
			pushPublish(t, env, "ord.a", fmt.Sprint(i))
		}
		after := pushTake(t, ch, 3)
		kvDiff(t, "after", []string{"ord.a=3", "ord.a=4", "ord.a=5"}, orderedPairs(after))
		kvDiff(t, "sequences after", []string{"4/1", "5/2", "6/3"}, orderedSeqs(t, after))
		_, err := env.JetStream().Consumer(waitCtx(t), "ORD", "rec_1")
		wantIs(t, err, jetstream.ErrConsumerNotFound, "nats: API error: code=404 err_code=10014 description=consumer not found")
	})
}

// TestOrderedRecoversWhileIdleDeleted: the consumer is deleted while the ordered consumer's pull
// request waits with nothing to deliver (num_waiting 1); the 409 that ends the request makes the
// client create the next consumer, and messages published afterwards all arrive, in order.
func TestOrderedRecoversWhileIdleDeleted(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env)
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{NamePrefix: "idle"})
		_, ch := orderedConsume(t, c)
		kvEventually(t, "the pull request to wait on the server", func() bool {
			info, err := c.Info(waitCtx(t))
			return err == nil && info.NumWaiting == 1
		})
		if err := env.JetStream().DeleteConsumer(waitCtx(t), "ORD", "idle_1"); err != nil {
			t.Fatal(err)
		}
		kvEventually(t, "the ordered consumer to make idle_2", func() bool { return c.CachedInfo().Name == "idle_2" })
		for i := range 3 {
			pushPublish(t, env, "ord.x", fmt.Sprint(i))
		}
		msgs := pushTake(t, ch, 3)
		kvDiff(t, "messages", []string{"ord.x=0", "ord.x=1", "ord.x=2"}, orderedPairs(msgs))
		kvDiff(t, "sequences", []string{"1/1", "2/2", "3/3"}, orderedSeqs(t, msgs))
	})
}

// TestOrderedDeliverLastPerSubject: DeliverLastPerSubject delivers the last message of each
// subject, in stream order, then live ones.
func TestOrderedDeliverLastPerSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=1", "ord.b=2", "ord.a=3", "ord.c=4", "ord.b=5")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
		_, ch := orderedConsume(t, c)
		msgs := pushTake(t, ch, 3)
		kvDiff(t, "last per subject", []string{"ord.a=3", "ord.c=4", "ord.b=5"}, orderedPairs(msgs))
		kvDiff(t, "sequences", []string{"3/1", "4/2", "5/3"}, orderedSeqs(t, msgs))
		pushPublish(t, env, "ord.a", "6")
		kvDiff(t, "live", []string{"ord.a=6"}, orderedPairs(pushTake(t, ch, 1)))
	})
}

// TestOrderedFilterSubjects: an ordered consumer with several filter subjects delivers the
// matching messages only, in stream order.
func TestOrderedFilterSubjects(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=1", "ord.b=2", "ord.c.x=3", "ord.d=4", "ord.a=5", "ord.c.y=6")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"ord.a", "ord.c.>"}})
		_, ch := orderedConsume(t, c)
		msgs := pushTake(t, ch, 4)
		kvDiff(t, "filtered", []string{"ord.a=1", "ord.c.x=3", "ord.a=5", "ord.c.y=6"}, orderedPairs(msgs))
		kvDiff(t, "sequences", []string{"1/1", "3/2", "5/3", "6/4"}, orderedSeqs(t, msgs))
		pushPublish(t, env, "ord.b", "no")
		pushPublish(t, env, "ord.c.z", "yes")
		kvDiff(t, "live", []string{"ord.c.z=yes"}, orderedPairs(pushTake(t, ch, 1)))
		pushNoMore(t, ch)
	})
}

// TestOrderedSingleFilterStartSeq: one filter subject with DeliverByStartSequence starts at
// that stream sequence and skips other subjects.
func TestOrderedSingleFilterStartSeq(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=1", "ord.a=2", "ord.b=3", "ord.a=4", "ord.a=5")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{"ord.a"}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 2,
		})
		msgs := orderedFetch(t, c, 3)
		kvDiff(t, "messages", []string{"ord.a=2", "ord.a=4", "ord.a=5"}, orderedPairs(msgs))
		kvDiff(t, "sequences", []string{"2/1", "4/2", "5/3"}, orderedSeqs(t, msgs))
	})
}

// TestOrderedDeliverNew: DeliverNew skips what is stored and delivers only later messages.
func TestOrderedDeliverNew(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=old1", "ord.a=old2")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
		_, ch := orderedConsume(t, c)
		pushPublish(t, env, "ord.a", "new")
		msgs := pushTake(t, ch, 1)
		kvDiff(t, "messages", []string{"ord.a=new"}, orderedPairs(msgs))
		kvDiff(t, "sequences", []string{"3/1"}, orderedSeqs(t, msgs))
	})
}

// TestOrderedHeadersOnly: a headers-only ordered consumer delivers no payload, with the payload
// size in Nats-Msg-Size and the message's own headers kept.
func TestOrderedHeadersOnly(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env)
		m := nats.NewMsg("ord.h")
		m.Header.Set("X-Kept", "yes")
		m.Data = []byte("twelve bytes")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
			t.Fatal(err)
		}
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{HeadersOnly: true})
		got := orderedFetch(t, c, 1)
		if len(got) != 1 {
			t.Fatalf("got %d messages, want 1", len(got))
		}
		type headersOnly struct{ Data, Size, Kept string }
		kvDiff(t, "headers-only message", headersOnly{Size: "12", Kept: "yes"},
			headersOnly{string(got[0].Data()), got[0].Headers().Get("Nats-Msg-Size"), got[0].Headers().Get("X-Kept")})
	})
}

// TestOrderedConsumerInfo: OrderedConsumer creates its first consumer at once; it is an
// ephemeral, memory stored, ack-none consumer named <prefix>_<serial> with a 5-minute inactive
// threshold, which Consume then uses.
func TestOrderedConsumerInfo(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		orderedSetup(t, env, "ord.a=1", "ord.b=2")
		c := orderedConsumer(t, env, jetstream.OrderedConsumerConfig{NamePrefix: "info"})
		before, err := c.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if before.Config.Name != "info_1" || before.NumPending != 2 || before.Delivered.Consumer != 0 {
			t.Errorf("before Consume: name %q pending %d delivered %d, want info_1 2 0", before.Config.Name, before.NumPending, before.Delivered.Consumer)
		}
		_, ch := orderedConsume(t, c)
		pushTake(t, ch, 2)
		info, err := c.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		type cfg struct {
			Stream, Name, Durable string
			Deliver               jetstream.DeliverPolicy
			Ack                   jetstream.AckPolicy
			Inactive              time.Duration
			Memory                bool
			Replicas              int
			MaxDeliver            int
			Pending               uint64
			Delivered             uint64
		}
		kvDiff(t, "info", cfg{
			Stream: "ORD", Name: "info_1", Deliver: jetstream.DeliverAllPolicy, Ack: jetstream.AckNonePolicy,
			Inactive: 5 * time.Minute, Memory: true, Replicas: 1, MaxDeliver: -1, Delivered: 2,
		}, cfg{
			info.Stream, info.Config.Name, info.Config.Durable, info.Config.DeliverPolicy, info.Config.AckPolicy,
			info.Config.InactiveThreshold, info.Config.MemoryStorage, info.Config.Replicas, info.Config.MaxDeliver,
			info.NumPending, info.Delivered.Consumer,
		})
		_, err = c.Fetch(1)
		if !errors.Is(err, jetstream.ErrOrderConsumerUsedAsConsume) {
			t.Errorf("fetch after consume: %v, want ErrOrderConsumerUsedAsConsume", err)
		}
	})
}
