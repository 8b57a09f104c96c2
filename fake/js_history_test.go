package fake

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A consumer's history keeps what is still awaiting an ack and the latest messages it finished
// with, not every message it delivered.
func TestConsumerHistoryBounded(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	for range n {
		if _, err := s.StoreMsg(&nats.Msg{Subject: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "c", AckWait: time.Hour}); err != nil {
		t.Fatal(err)
	}
	nc := js.Conn()
	sub, err := nc.SubscribeSync(nats.NewInbox())
	if err != nil {
		t.Fatal(err)
	}
	for got := 0; got < n; {
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.c", sub.Subject, []byte(`{"batch":500}`)); err != nil {
			t.Fatal(err)
		}
		for range 500 {
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got++
			if got == 10 {
				continue // left pending
			}
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cs, _ := s.Consumer("S", "c")
	if cs.NumAckPending != 1 {
		t.Fatalf("%d pending, want 1", cs.NumAckPending)
	}
	if len(cs.Messages) > 3*historyDone {
		t.Errorf("history of %d messages after %d delivered, want at most %d", len(cs.Messages), n, 3*historyDone)
	}
	if m, ok := cs.Message(10); !ok || m.Ack != AckPending {
		t.Errorf("the unacked message: %+v, %v; want it pending", m, ok)
	}
	if m, ok := cs.Message(n); !ok || m.Ack != Acked {
		t.Errorf("the last message: %+v, %v; want it acked", m, ok)
	}
	if _, ok := cs.Message(11); ok {
		t.Errorf("message 11, acked long ago, is still remembered")
	}
}

// A consumer with a wildcard filter finds its next message past many it does not take, and
// past messages stored after it last looked.
func TestConsumerWildcardFilterNext(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"a.>", "b.>"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "c", FilterSubject: "a.*.x"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		subj := "b.1.x"
		if i == 150 {
			subj = "a.1.x"
		}
		if _, err := s.StoreMsg(&nats.Msg{Subject: subj}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []uint64{151, 303} {
		if want == 303 {
			if _, err := s.StoreMsg(&nats.Msg{Subject: "b.2.x"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.StoreMsg(&nats.Msg{Subject: "a.2.y"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.StoreMsg(&nats.Msg{Subject: "a.2.x"}); err != nil {
				t.Fatal(err)
			}
		}
		if info, _ := c.Info(ctxT(t)); info.NumPending != 1 {
			t.Fatalf("num pending %d before %d, want 1", info.NumPending, want)
		}
		m := pull(t, c)
		md, _ := m.Metadata()
		if md.Sequence.Stream != want {
			t.Fatalf("delivered %d, want %d", md.Sequence.Stream, want)
		}
		if err := m.DoubleAck(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
}
