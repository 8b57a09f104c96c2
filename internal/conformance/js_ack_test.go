package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// TestJSAck: acked messages leave the pending set and move the ack floor.
func TestJSAck(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		msgs := spNoWait(t, c, 3)
		for _, m := range msgs[:2] {
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{2, 2}, AckPending: 1})
		if err := msgs[0].Ack(); !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			t.Errorf("second ack: %v, want ErrMsgAlreadyAckd", err)
		}
	})
}

// TestJSDoubleAck: an ack with a reply subject is answered by an empty message once the server
// has applied it; on the wire, an ack for a consumer that is gone finds no responder.
func TestJSDoubleAck(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		msgs := spNoWait(t, c, 3)
		if err := msgs[1].DoubleAck(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckPending: 2})
		r, err := env.Conn().Request(msgs[0].Reply(), []byte("+ACK"), patience)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != 0 || r.Header != nil {
			t.Errorf("ack reply: data %q header %v, want an empty message", r.Data, r.Header)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{2, 2}, AckPending: 1})
		if err := s.DeleteConsumer(waitCtx(t), "d"); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Conn().Request(msgs[2].Reply(), []byte("+ACK"), patience); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("ack for a deleted consumer: %v, want no responders", err)
		}
	})
}

// TestJSNak: a nacked message is redelivered at once, with its delivery count 2 and a new
// consumer sequence, and counts as redelivered until acked.
func TestJSNak(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{})
		msgs := spNoWait(t, c, 2)
		if err := msgs[0].Nak(); err != nil {
			t.Fatal(err)
		}
		re := spTake(t, c, 1)[0]
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 3, Delivered: 2}, spDeliveryOf(t, re)); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 2}, AckPending: 2, Redelivered: 1})
		spDoubleAck(t, re, msgs[1])
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 2}, AckFloor: [2]uint64{3, 2}})
	})
}

// TestJSNakAdvisory: a nak is announced on $JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.<stream>.<consumer>.
func TestJSNakAdvisory(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		advisory := spAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.>")
		if err := spTake(t, c, 1)[0].Nak(); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.nak", "stream": "S", "consumer": "d",
			"consumer_seq": 1.0, "stream_seq": 1.0, "deliveries": 1.0}
		if d := cmp.Diff(want, advisory()); d != "" {
			t.Errorf("advisory (-want +got):\n%s", d)
		}
	})
}

// TestJSNakWithDelay: a message nacked with a delay is not redelivered before the delay has
// passed, and is then.
func TestJSNakWithDelay(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const delay = 500 * time.Millisecond
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		naked := spAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.S.d")
		if err := spTake(t, c, 1)[0].NakWithDelay(delay); err != nil {
			t.Fatal(err)
		}
		naked() // the server has taken the nak
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

// TestJSInProgress: +WPI restarts a message's ack wait, so it is redelivered an ack wait after
// the last progress report, not after the delivery.
func TestJSInProgress(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 500 * time.Millisecond
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{AckWait: wait})
		msgs := spNoWait(t, c, 2)
		env.FastForward(wait * 3 / 5)
		if err := msgs[0].InProgress(); err != nil {
			t.Fatal(err)
		}
		// The server applies a consumer's acks in order: once the second message's double ack
		// is answered, the progress report has been applied.
		spDoubleAck(t, msgs[1])
		env.FastForward(wait * 3 / 5)
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("redelivered though in progress: %v", spDeliveries(t, got))
		}
		env.FastForward(wait * 2 / 5)
		re := spTake(t, c, 1)[0]
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 3, Delivered: 2}, spDeliveryOf(t, re)); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
	})
}

// TestJSTerm: a terminated message is never redelivered and counts as acked; the server
// announces it on $JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.<stream>.<consumer>, with the
// reason if one was given.
func TestJSTerm(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 300 * time.Millisecond
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{AckWait: wait})
		terminated := spAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>")
		msgs := spNoWait(t, c, 2)
		if err := msgs[0].Term(); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.terminated", "stream": "S", "consumer": "d",
			"consumer_seq": 1.0, "stream_seq": 1.0, "deliveries": 1.0}
		if d := cmp.Diff(want, terminated()); d != "" {
			t.Errorf("advisory (-want +got):\n%s", d)
		}
		if err := msgs[1].TermWithReason("bad payload"); err != nil {
			t.Fatal(err)
		}
		want = map[string]any{"type": "io.nats.jetstream.advisory.v1.terminated", "stream": "S", "consumer": "d",
			"consumer_seq": 2.0, "stream_seq": 2.0, "deliveries": 1.0, "reason": "bad payload"}
		if d := cmp.Diff(want, terminated()); d != "" {
			t.Errorf("advisory with a reason (-want +got):\n%s", d)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckFloor: [2]uint64{2, 2}})
		env.FastForward(wait)
		if got := spNoWait(t, c, 2); len(got) != 0 {
			t.Errorf("terminated messages redelivered: %v", spDeliveries(t, got))
		}
	})
}

// TestJSAckPolicyAll: with ack policy all, acking a message acks every earlier one too.
func TestJSAckPolicyAll(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 5, jetstream.ConsumerConfig{AckPolicy: jetstream.AckAllPolicy})
		msgs := spNoWait(t, c, 4)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{4, 4}, AckPending: 4, NumPending: 1})
		spDoubleAck(t, msgs[2])
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{4, 4}, AckFloor: [2]uint64{3, 3}, AckPending: 1, NumPending: 1})
		spDoubleAck(t, msgs[3])
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{4, 4}, AckFloor: [2]uint64{4, 4}, NumPending: 1})
	})
}

// TestJSAckPolicyNone: with ack policy none a message counts as acked when delivered, and is
// never redelivered.
func TestJSAckPolicyNone(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
		if got := spStreamSeqs(t, spNoWait(t, c, 2)); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("got %v", got)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckFloor: [2]uint64{2, 2}, NumPending: 1})
		if got := spStreamSeqs(t, spNoWait(t, c, 5)); !slices.Equal(got, []uint64{3}) {
			t.Errorf("then %v, want 3", got)
		}
	})
}

// TestJSAckWaitRedelivery: a message not acked within the ack wait is redelivered, with its
// delivery count raised and a new consumer sequence.
func TestJSAckWaitRedelivery(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 300 * time.Millisecond
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{AckWait: wait})
		spTake(t, c, 1)
		env.FastForward(wait)
		re := spTake(t, c, 1)[0]
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m0", Stream: 1, Consumer: 2, Delivered: 2}, spDeliveryOf(t, re)); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 1}, AckPending: 1, Redelivered: 1})
		spDoubleAck(t, re)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 1}, AckFloor: [2]uint64{2, 1}})
	})
}

// TestJSBackoff: with backoff the n-th redelivery waits backoff[n-1], and the ack wait the
// server reports is the first backoff.
func TestJSBackoff(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		backoff := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{BackOff: backoff, MaxDeliver: 4})
		cfg := c.CachedInfo().Config
		if cfg.AckWait != backoff[0] || !slices.Equal(cfg.BackOff, backoff) {
			t.Errorf("ack wait %v backoff %v, want %v and %v", cfg.AckWait, cfg.BackOff, backoff[0], backoff)
		}
		spTake(t, c, 1)
		env.FastForward(backoff[0])
		if got := spDeliveryOf(t, spTake(t, c, 1)[0]); got.Delivered != 2 || got.Consumer != 2 {
			t.Errorf("first redelivery %+v", got)
		}
		env.FastForward(backoff[0])
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("second redelivery after the first backoff: %v", spDeliveries(t, got))
		}
		env.FastForward(backoff[1] - backoff[0])
		if got := spDeliveryOf(t, spTake(t, c, 1)[0]); got.Delivered != 3 || got.Consumer != 3 {
			t.Errorf("second redelivery %+v", got)
		}
	})
}

// TestJSBackoffNeedsMaxDeliver: backoff requires max_deliver at least its length (unlimited
// will do), though the server's message says larger.
func TestJSBackoffNeedsMaxDeliver(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		backoff := []time.Duration{time.Second, 2 * time.Second}
		for i, md := range []int{-1, 2} {
			spConsumer(t, s, jetstream.ConsumerConfig{Durable: fmt.Sprint("ok", i), BackOff: backoff, MaxDeliver: md})
		}
		_, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", BackOff: backoff, MaxDeliver: 1})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10116, Description: "max deliver is required to be > length of backoff values"})
	})
}

// TestJSMaxDeliver: a message is delivered at most max_deliver times. When it is due again the
// server announces it on $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>
// instead, and leaves it neither pending nor acked.
func TestJSMaxDeliver(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 200 * time.Millisecond
		_, c := spPullSetup(t, env, 1, jetstream.ConsumerConfig{MaxDeliver: 2, AckWait: wait})
		exceeded := spAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>")
		if err := spTake(t, c, 1)[0].Nak(); err != nil {
			t.Fatal(err)
		}
		if got := spDeliveryOf(t, spTake(t, c, 1)[0]); got.Delivered != 2 {
			t.Errorf("second delivery %+v", got)
		}
		env.FastForward(wait)
		// The real server looks at the message again when a pull request waits for it.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		fetched := make(chan int, 1)
		go func() {
			b, err := c.Fetch(1, jetstream.FetchContext(ctx))
			n := 0
			if err == nil {
				for range b.Messages() {
					n++
				}
			}
			fetched <- n
		}()
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.max_deliver", "stream": "S", "consumer": "d",
			"stream_seq": 1.0, "deliveries": 2.0}
		if d := cmp.Diff(want, exceeded()); d != "" {
			t.Errorf("advisory (-want +got):\n%s", d)
		}
		cancel()
		if n := await(t, fetched, "the waiting fetch to end"); n != 0 {
			t.Errorf("delivered %d beyond max_deliver", n)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 1}, Redelivered: 1})
	})
}

// TestJSMaxAckPending: once max_ack_pending messages await their ack, the consumer hands out
// no new message until one is acked. A pull request that asked for more is not answered, even
// with no_wait: it stays waiting, and gets the next message when an ack makes room.
func TestJSMaxAckPending(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 5, jetstream.ConsumerConfig{MaxAckPending: 2})
		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox, Data: []byte(`{"batch":5,"no_wait":true}`)})
		first := next(t, sub)
		if second := next(t, sub); string(first.Data) != "m0" || string(second.Data) != "m1" {
			t.Errorf("got %q and %q, want m0 and m1", first.Data, second.Data)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckPending: 2, Waiting: 1, NumPending: 3})
		nothingMore(t, sub)
		if _, err := nc.Request(first.Reply, []byte("+ACK"), patience); err != nil {
			t.Fatal(err)
		}
		if m := next(t, sub); string(m.Data) != "m2" {
			t.Errorf("after one ack: %q %v, want m2", m.Data, m.Header)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{1, 1}, AckPending: 2, Waiting: 1, NumPending: 2})
		nothingMore(t, sub)
	})
}

// TestJSWorkQueueRemovesAcked: in a work-queue stream a message is removed once acked.
func TestJSWorkQueueRemovesAcked(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"jobs.*"}, Retention: jetstream.WorkQueuePolicy})
		spPubN(t, env, "jobs.a", "j", 3)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "worker"})
		msgs := spNoWait(t, c, 3)
		spDoubleAck(t, msgs[1])
		spStreamUntil(t, s, "the acked job is removed", func(st jetstream.StreamState) bool { return st.Msgs == 2 })
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 3, NumSubjects: 1, NumDeleted: 1, Consumers: 1})
		spDoubleAck(t, msgs[0], msgs[2])
		spStreamUntil(t, s, "every acked job is removed", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		spState(t, s, jetstream.StreamState{FirstSeq: 4, LastSeq: 3, Consumers: 1})
	})
}

// TestJSInterestRetention: in an interest stream a message stays until every consumer has
// acked it; with no consumer at all it is not kept.
func TestJSInterestRetention(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "I", Subjects: []string{"i"}, Retention: jetstream.InterestPolicy})
		spPub(t, env, "i", "unheard")
		spStreamUntil(t, s, "the message nobody wants is dropped", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		a := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "a"})
		b := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "b"})
		spPubN(t, env, "i", "m", 2)
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 2, LastSeq: 3, NumSubjects: 1, Consumers: 2})
		spDoubleAck(t, spTake(t, a, 2)...)
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 2, LastSeq: 3, NumSubjects: 1, Consumers: 2})
		spDoubleAck(t, spTake(t, b, 1)...)
		spStreamUntil(t, s, "the message both acked is removed", func(st jetstream.StreamState) bool { return st.Msgs == 1 })
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 3, LastSeq: 3, NumSubjects: 1, Consumers: 2})
	})
}

// TestJSConsumeUnacked: a Consume whose handler never acks stops cleanly: Stop returns, its
// Closed channel closes, and the messages stay pending on the server.
func TestJSConsumeUnacked(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 5, jetstream.ConsumerConfig{})
		var seen atomic.Int32
		all := make(chan struct{})
		cc, err := c.Consume(func(m jetstream.Msg) {
			if seen.Add(1) == 5 {
				close(all)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		await(t, all, "five messages handed to the handler")
		cc.Stop()
		await(t, cc.Closed(), "consume to stop")
		spConsumerUntil(t, c, "five acks pending", func(ci *jetstream.ConsumerInfo) bool {
			return ci.NumAckPending == 5 && ci.Delivered.Stream == 5 && ci.AckFloor.Stream == 0
		})
		if n := seen.Load(); n != 5 {
			t.Errorf("handler saw %d messages, want 5", n)
		}
	})
}

// TestJSConsumeDrain: Drain lets the handler finish what it was given, and then closes.
func TestJSConsumeDrain(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		got := make(chan string, 10)
		cc, err := c.Consume(func(m jetstream.Msg) {
			got <- string(m.Data())
		})
		if err != nil {
			t.Fatal(err)
		}
		var first []string
		for range 3 {
			first = append(first, await(t, got, "a consumed message"))
		}
		cc.Drain()
		await(t, cc.Closed(), "consume to drain")
		if !slices.Equal(first, seq("m", 3)) {
			t.Errorf("consumed %q", first)
		}
	})
}
