package fake

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func jsOn(t *testing.T, s *Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(inproc(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func pull(t *testing.T, c jetstream.Consumer) jetstream.Msg {
	t.Helper()
	m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return m
}

// A 30-second ack wait passes with one FastForward: the message comes back redelivered.
func TestAckWaitRedeliveryOnTheClock(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctxT(t), "orders.new", []byte("o1")); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "d", AckWait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first := pull(t, c) // not acked
	s.FastForward(29 * time.Second)
	if cs, _ := s.Consumer("ORDERS", "d"); cs.Messages[0].Ack != AckPending {
		t.Fatalf("after 29s: %v, want pending", cs.Messages[0].Ack)
	}
	s.FastForward(time.Second)
	again := pull(t, c)
	md1, _ := first.Metadata()
	md2, _ := again.Metadata()
	if md2.Sequence.Stream != md1.Sequence.Stream || md2.NumDelivered != 2 {
		t.Fatalf("redelivery: stream seq %d delivered %d, want %d and 2", md2.Sequence.Stream, md2.NumDelivered, md1.Sequence.Stream)
	}
}

// The consumer's state tells what happened to each message: acked, nak'd, termed, redelivered.
func TestConsumerState(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, _ := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}})
	for _, subj := range []string{"s.a", "s.b", "s.c", "s.d"} {
		if _, err := js.Publish(ctxT(t), subj, nil); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "d", MaxDeliver: 2, AckWait: time.Minute})
	batch, err := c.FetchNoWait(4)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 4 {
		t.Fatalf("fetched %d", len(msgs))
	}
	msgs[0].DoubleAck(ctxT(t))
	msgs[1].Nak()
	msgs[2].TermWithReason("bad")
	msgs[3].InProgress()
	if _, err := js.Publish(ctxT(t), "s.x", nil); err != nil { // a round trip: the acks are in
		t.Fatal(err)
	}
	cs, ok := s.Consumer("S", "d")
	if !ok {
		t.Fatal("no consumer")
	}
	var got []AckState
	for _, m := range cs.Messages {
		got = append(got, m.Ack)
	}
	if want := []AckState{Acked, Naked, Termed, InProgress}; !slices.Equal(got, want) {
		t.Fatalf("ack states %v, want %v", got, want)
	}
	if cs.Messages[2].TermReason != "bad" || cs.NumAckPending != 2 || cs.NumPending != 1 {
		t.Fatalf("state %+v", cs)
	}
	// the nak'd message comes back; after a minute the in-progress one does too, and on its
	// second expiry max deliver gives up on it
	pull(t, c)
	s.FastForward(time.Minute)
	cs, _ = s.Consumer("S", "d")
	m, _ := cs.Message(4)
	if m.Ack != AckExpired {
		t.Fatalf("message 4 after its ack wait: %v", m.Ack)
	}
}

// A stream and a bucket seeded from the test side are what the client then reads.
func TestSeedStreamAndBucket(t *testing.T) {
	s := Run(t, WithoutListener())
	if err := s.CreateStream(jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	ack, err := s.StoreMsg(&nats.Msg{Subject: "s.a", Data: []byte("seeded"), Header: nats.Header{"Nats-Msg-Id": {"1"}}})
	if err != nil || ack.Sequence != 1 || ack.Stream != "S" {
		t.Fatalf("StoreMsg = %+v, %v", ack, err)
	}
	if ack, _ := s.StoreMsg(&nats.Msg{Subject: "s.a", Header: nats.Header{"Nats-Msg-Id": {"1"}}}); !ack.Duplicate {
		t.Fatal("the duplicate was stored")
	}
	_, err = s.StoreMsg(&nats.Msg{Subject: "s.b", Header: nats.Header{"Nats-Expected-Last-Sequence": {"7"}}})
	if !errors.Is(err, jetstream.ErrStreamNotFound) && !isCode(err, 10071) {
		t.Fatalf("expected last sequence: %v", err)
	}
	if _, err := s.StoreMsg(&nats.Msg{Subject: "nowhere"}); err == nil {
		t.Fatal("stored without a stream")
	}
	js := jsOn(t, s)
	stream, err := js.Stream(ctxT(t), "S")
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetMsg(ctxT(t), 1)
	if err != nil || string(m.Data) != "seeded" {
		t.Fatalf("GetMsg = %v, %v", m, err)
	}

	if err := s.CreateKeyValue(jetstream.KeyValueConfig{Bucket: "cfg", History: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutKeyValue("cfg", "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctxT(t), "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctxT(t), "a"); err != nil || string(e.Value()) != "1" {
		t.Fatalf("Get = %v, %v", e, err)
	}
	if _, err := js.CreateKeyValue(ctxT(t), jetstream.KeyValueConfig{Bucket: "cfg", History: 2}); err != nil {
		t.Fatalf("the client's create of the seeded bucket: %v", err)
	}
	kv.Put(ctxT(t), "b", []byte("2"))
	kv.Delete(ctxT(t), "a")
	got, ok := s.KeyValue("cfg")
	if !ok || len(got) != 1 || string(got["b"]) != "2" {
		t.Fatalf("KeyValue = %q, %v", got, ok)
	}
	if st, ok := s.Stream("KV_cfg"); !ok || len(st.Messages) != 3 || st.Messages[2].Header.Get("KV-Operation") != "DEL" {
		t.Fatalf("Stream = %+v", st)
	}
}

func isCode(err error, code int) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && int(apiErr.ErrorCode) == code
}

// FailJetStream answers an API call with the error given; Drop leaves it unanswered.
func TestFailJetStream(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S"}); err != nil {
		t.Fatal(err)
	}
	s.Inject(FailJetStream("$JS.API.STREAM.INFO.S", jetstream.APIError{Code: 404, ErrorCode: jetstream.JSErrCodeStreamNotFound, Description: "stream not found"}, 1))
	if _, err := js.Stream(ctxT(t), "S"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("first call: %v, want stream not found", err)
	}
	if _, err := js.Stream(ctxT(t), "S"); err != nil {
		t.Fatalf("second call: %v", err)
	}
	s.Inject(FailJetStream("S", jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages exceeded"}, 1))
	if _, err := js.Publish(ctxT(t), "S", nil); !isCode(err, 10077) {
		t.Fatalf("publish: %v", err)
	}
	if got := s.Faults(); len(got) != 0 {
		t.Fatalf("faults left: %v", got)
	}
	remove := s.Inject(Drop("$JS.API.STREAM.INFO.S", 0))
	ctx, cancel := contextWithTimeout(t, 100*time.Millisecond)
	defer cancel()
	if _, err := js.Stream(ctx, "S"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dropped call: %v", err)
	}
	remove()
}

// Max age runs on the server's clock; a frozen clock moves only when the test moves it.
func TestMaxAgeOnFrozenClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Run(t, WithoutListener(), WithFrozenClock(start))
	js := jsOn(t, s)
	st, _ := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", MaxAge: time.Hour})
	ack, err := js.Publish(ctxT(t), "S", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.GetMsg(ctxT(t), ack.Sequence)
	if !m.Time.Equal(start) {
		t.Fatalf("stored at %v, want %v", m.Time, start)
	}
	s.FastForward(59 * time.Minute)
	if got, _ := s.Stream("S"); len(got.Messages) != 1 {
		t.Fatal("aged out early")
	}
	s.FastForward(time.Minute)
	if got, _ := s.Stream("S"); len(got.Messages) != 0 {
		t.Fatal("still there after max age")
	}
	if !s.Now().Equal(start.Add(time.Hour)) {
		t.Fatalf("Now = %v", s.Now())
	}
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

// An ephemeral consumer nobody pulls from is removed once its inactive threshold passes on the
// server's clock; a durable stays.
func TestInactiveThresholdOnTheClock(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, _ := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S"})
	eph, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{InactiveThreshold: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "keep"}); err != nil {
		t.Fatal(err)
	}
	name := eph.CachedInfo().Name
	s.FastForward(59 * time.Second)
	if _, ok := s.Consumer("S", name); !ok {
		t.Fatal("removed before its threshold")
	}
	s.FastForward(time.Second)
	if _, ok := s.Consumer("S", name); ok {
		t.Fatal("still there after its threshold")
	}
	if _, err := st.Consumer(ctxT(t), name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("client sees %v", err)
	}
	if st, _ := s.Stream("S"); len(st.Consumers) != 1 || st.Consumers[0] != "keep" {
		t.Fatalf("consumers left: %v", st.Consumers)
	}
}

// An idle watcher stays as it is while the clock moves on by minutes: its consumer is not
// removed as inactive, nothing is replayed, and the next update is the next thing it sees.
func TestIdleWatcherAcrossMinutes(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	kv, err := js.CreateKeyValue(ctxT(t), jetstream.KeyValueConfig{Bucket: "cfg", History: 5})
	if err != nil {
		t.Fatal(err)
	}
	kv.Put(ctxT(t), "a", []byte("old1"))
	kv.Put(ctxT(t), "a", []byte("old2"))
	w, err := kv.WatchAll(ctxT(t), jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for range 10 {
		s.FastForward(time.Minute)
	}
	if got := s.Consumers("KV_cfg"); len(got) != 1 {
		t.Fatalf("%d consumers after ten minutes, want the watcher's one", len(got))
	}
	kv.Put(ctxT(t), "a", []byte("new"))
	select {
	case e := <-w.Updates():
		if e == nil || string(e.Value()) != "new" {
			t.Fatalf("watcher saw %v first, want the new value", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher saw nothing")
	}
}

// A push consumer with flow control stops sending once a window's worth waits on the client, and
// goes on when the client answers the flow-control request.
func TestPushFlowControl(t *testing.T) {
	s := Run(t, WithoutListener())
	nc := inproc(t, s)
	js, _ := jetstream.New(nc)
	st, _ := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S"})
	payload := make([]byte, 256<<10)
	const total = 40 // 10 MiB
	for range total {
		if err := s.PublishMsg(&nats.Msg{Subject: "S", Data: payload}); err != nil {
			t.Fatal(err)
		}
	}
	sub, _ := nc.SubscribeSync("deliver")
	defer sub.Unsubscribe()
	if _, err := st.CreateOrUpdatePushConsumer(ctxT(t), jetstream.ConsumerConfig{
		Durable: "p", DeliverSubject: "deliver", AckPolicy: jetstream.AckNonePolicy,
		FlowControl: true, IdleHeartbeat: time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
	got, requests := 0, 0
	for got < total {
		m := next(t, sub)
		if m.Header.Get("Status") == "100" {
			if m.Header.Get("Description") != "FlowControl Request" || m.Reply == "" {
				t.Fatalf("control message %v", m.Header)
			}
			requests++
			// what the server sent and the client has not read is bounded by the window
			if cs, _ := s.Consumer("S", "p"); int(cs.Delivered.Stream)-got > flowWindow/len(payload)+1 {
				t.Fatalf("%d messages outstanding at a flow-control request", int(cs.Delivered.Stream)-got)
			}
			m.Respond(nil)
			continue
		}
		got++
	}
	if requests == 0 {
		t.Fatal("10 MiB went out without a flow-control request")
	}
}
