package fake

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A push consumer waiting for interest delivers once a subscription matching its deliver subject
// comes, literal or wildcard, however many other subscriptions come with it (past the watcher's
// list of changes too); a subscription that does not match leaves it waiting.
func TestPushConsumerWakesOnMatchingSubscription(t *testing.T) {
	for _, tc := range []struct {
		name, sub string
		others    int // unrelated subscriptions made just before
	}{
		{"literal", "d.one", 0},
		{"wildcard", "d.*", 0},
		{"full wildcard", ">", 0},
		{"among many", "d.one", 3 * maxInterestChanges},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Run(t, WithoutListener())
			js := jsOn(t, s)
			st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctxT(t), "s.1", []byte("x")); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if _, err := st.CreateOrUpdatePushConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: fmt.Sprintf("p%d", i),
					DeliverSubject: []string{"d.one", "d.two", "e.three"}[i], AckPolicy: jetstream.AckNonePolicy}); err != nil {
					t.Fatal(err)
				}
			}
			nc := inproc(t, s)
			miss, err := nc.SubscribeSync("d.none")
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.others {
				if _, err := nc.Subscribe("other."+strconv.Itoa(i), func(*nats.Msg) {}); err != nil {
					t.Fatal(err)
				}
			}
			sub, err := nc.SubscribeSync(tc.sub)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("no delivery after a subscription on %s: %v", tc.sub, err)
			}
			if m.Subject != "s.1" {
				t.Fatalf("delivered %s, want s.1", m.Subject)
			}
			if _, err := miss.NextMsg(10 * time.Millisecond); err == nil {
				t.Error("a subscription no consumer delivers to got a message")
			}
		})
	}
}

// BenchmarkSubscribeAmongPushConsumers: 1,000 push consumers waiting for interest, and one op a
// subscription of an inbox that none delivers to, a round trip, and its end (as Request and Fetch
// make them).
// The interest watcher looks only at the consumers a subscription concerns.
func BenchmarkSubscribeAmongPushConsumers(b *testing.B) {
	s, err := NewServer(WithoutListener())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if _, err := st.CreateOrUpdatePushConsumer(ctx, jetstream.ConsumerConfig{Durable: "p" + strconv.Itoa(i),
			DeliverSubject: "d." + strconv.Itoa(i), AckPolicy: jetstream.AckNonePolicy}); err != nil {
			b.Fatal(err)
		}
	}
	ch := make(chan *nats.Msg)
	i := 0
	cpu0 := processCPU()
	for b.Loop() {
		sub, err := nc.ChanSubscribe("inbox."+strconv.Itoa(i), ch)
		if err != nil {
			b.Fatal(err)
		}
		if err := nc.Flush(); err != nil { // a round trip while subscribed, as a request makes
			b.Fatal(err)
		}
		if err := sub.Unsubscribe(); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
	// the watcher works on its own goroutine: the process's CPU time shows what the op's time
	// does not
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time the process has used, user and system, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
