package fake

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The store benchmarks compare a small and a large stream doing the same work: the cost per
// message should not depend on how many messages the stream holds. Run them with -benchtime 1x:
// each op does a fixed amount of work and reports its cost per message.

func benchJS(b *testing.B) (*Server, jetstream.JetStream) {
	b.Helper()
	s, err := NewServer(WithoutListener())
	if err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		b.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		nc.Close()
		s.Close()
	})
	return s, js
}

func benchFill(b *testing.B, s *Server, subj func(i int) string, n int) {
	b.Helper()
	for i := range n {
		if _, err := s.StoreMsg(&nats.Msg{Subject: subj(i), Data: []byte("x")}); err != nil {
			b.Fatal(err)
		}
	}
}

func perMsg(b *testing.B, start time.Time, msgs int) {
	d := time.Since(start)
	b.ReportMetric(float64(d.Nanoseconds())/float64(msgs), "ns/msg")
	b.ReportMetric(float64(msgs)/d.Seconds(), "msg/s")
}

// BenchmarkStoreMaxMsgsEviction: publishes to a full stream, each evicting its oldest message.
func BenchmarkStoreMaxMsgsEviction(b *testing.B) {
	const publishes = 10000
	for _, size := range []int{1000, 1000000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s, js := benchJS(b)
				ctx := context.Background()
				if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}, MaxMsgs: int64(size)}); err != nil {
					b.Fatal(err)
				}
				benchFill(b, s, func(int) string { return "s" }, size)
				b.StartTimer()
				start := time.Now()
				for range publishes {
					if _, err := js.PublishAsync("s", []byte("x")); err != nil {
						b.Fatal(err)
					}
				}
				select {
				case <-js.PublishAsyncComplete():
				case <-time.After(5 * time.Minute):
					b.Fatal("publishes not acknowledged")
				}
				perMsg(b, start, publishes)
				b.StopTimer()
				if st, _ := s.Stream("S"); len(st.Messages) != size {
					b.Fatalf("%d messages, want %d", len(st.Messages), size)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkStoreKVOverwrite: puts that replace the value of an existing key in a bucket of
// history 1.
func BenchmarkStoreKVOverwrite(b *testing.B) {
	const puts = 10000
	for _, keys := range []int{1000, 100000} {
		b.Run(strconv.Itoa(keys), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s, js := benchJS(b)
				ctx := context.Background()
				kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "B"})
				if err != nil {
					b.Fatal(err)
				}
				benchFill(b, s, func(i int) string { return "$KV.B.k" + strconv.Itoa(i) }, keys)
				b.StartTimer()
				start := time.Now()
				for i := range puts {
					if _, err := kv.Put(ctx, "k"+strconv.Itoa(i*7919%keys), []byte("y")); err != nil {
						b.Fatal(err)
					}
				}
				perMsg(b, start, puts)
			}
		})
	}
}

// drain fetches and acks everything the consumer has, in batches of 500, and returns how many
// messages came.
func drain(b *testing.B, c jetstream.Consumer, want int) {
	b.Helper()
	got := 0
	for got < want {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(30*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if err := batch.Error(); err != nil {
			b.Fatal(err)
		}
	}
}

// drainRaw pulls want messages in batches of 500 on one inbox and acks each.
func drainRaw(b *testing.B, nc *nats.Conn, stream, consumer string, want int) {
	b.Helper()
	sub, err := nc.SubscribeSync(nats.NewInbox())
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	next := "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer
	for got := 0; got < want; {
		if err := nc.PublishRequest(next, sub.Subject, []byte(`{"batch":500}`)); err != nil {
			b.Fatal(err)
		}
		for range min(500, want-got) {
			m, err := sub.NextMsg(30 * time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Ack(); err != nil {
				b.Fatal(err)
			}
			got++
		}
	}
}

// BenchmarkStoreWorkQueueDrain: a work queue drained with Fetch(500) and an ack per message.
func BenchmarkStoreWorkQueueDrain(b *testing.B) {
	for _, size := range []int{100000, 300000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s, js := benchJS(b)
				ctx := context.Background()
				st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.*"}, Retention: jetstream.WorkQueuePolicy})
				if err != nil {
					b.Fatal(err)
				}
				benchFill(b, s, func(i int) string { return "q." + strconv.Itoa(i%16) }, size)
				c, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				drain(b, c, size)
				perMsg(b, start, size)
			}
		})
	}
}

// BenchmarkStoreConsumerHeap: what a consumer keeps after it delivered, and had acknowledged,
// every message of a stream that keeps them: the heap's growth over the drain, measured once the
// client is closed, and the messages its delivery history remembers.
func BenchmarkStoreConsumerHeap(b *testing.B) {
	for _, size := range []int{20000, 200000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s, js := benchJS(b)
				ctx := context.Background()
				st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
				if err != nil {
					b.Fatal(err)
				}
				benchFill(b, s, func(int) string { return "s" }, size)
				c, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy})
				if err != nil {
					b.Fatal(err)
				}
				before := heapInUse()
				b.StartTimer()
				drainRaw(b, js.Conn(), "S", "c", size)
				b.StopTimer()
				info, err := c.Info(ctx)
				if err != nil || info.NumAckPending != 0 || info.NumPending != 0 {
					b.Fatalf("info %+v, %v", info, err)
				}
				var kept int
				s.jsLocked(func(j *jetStream) error {
					kept = len(j.streams["S"].consumers["c"].history)
					return nil
				})
				grew := float64(int64(heapInUse())-int64(before)) / (1 << 20)
				b.ReportMetric(grew, "heap-MB")
				b.ReportMetric(float64(kept), "history")
				b.StartTimer()
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
