package natstest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The scale benchmarks ask whether a server's cost per message stays flat as the work grows:
// each runs at two sizes (or reports the heap a finished consumer keeps) and reports ns/msg,
// to be compared across sizes. They use the in-process backends only, so that the figures are
// about the server and not about loopback TCP.

// scaleBackends are the in-process configurations of benchBackends.
var scaleBackends = []struct {
	name string
	opts []Option
}{
	{"fake/inprocess", []Option{WithBackend(Fake), WithInProcess()}},
	{"embedded/inprocess", []Option{WithBackend(Embedded), WithInProcess()}},
}

const (
	scaleMsgSize   = 128             // bytes of every message published
	scaleWindow    = 4000            // async publishes awaiting their ack, at most
	scaleBatch     = 500             // messages asked for by one Fetch
	scaleFetchWait = 5 * time.Second // the longest one Fetch waits for its batch
	scaleWait      = 2 * time.Minute // the longest a prefill, a drain or its final state may take
	scaleEvicted   = 50_000          // messages published per op into a full stream or bucket
)

// BenchmarkWorkQueueDrain: a memory work-queue stream holding N 128-byte messages (published
// untimed), drained by a durable pull consumer with Fetch(500) and an explicit Ack of each
// message, until the stream reports no messages left. One op is one whole drain.
func BenchmarkWorkQueueDrain(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(scaleName(n), func(b *testing.B) {
			benchInProcess(b, func(b *testing.B, env *Env) {
				ctx, js, pub := context.Background(), env.JetStream(), newScalePublisher(b, env)
				for range b.N {
					b.StopTimer()
					s := scaleStream(b, js, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"wq"}, Retention: jetstream.WorkQueuePolicy})
					pub.publish(b, n, []string{"wq"}, 0)
					c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy})
					if err != nil {
						b.Fatal(err)
					}
					settleHeap()
					b.StartTimer()
					fetchAck(b, c, n)
					waitStreamHolds(b, s, 0)
					b.StopTimer()
					if err := js.DeleteStream(ctx, "WQ"); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				reportPerMsg(b, n)
			})
		})
	}
}

// BenchmarkConsumerThroughput200k: a memory stream (limits retention) holding 200k 128-byte
// messages, published untimed; timed, one durable pull consumer fetches (500 at a time) and acks
// each of them until it shows every one acked. One op is the 200k messages.
//
// Besides time it reports the live heap (after two collections) at two points, both with the
// stream still holding its 200k messages: heapMB-stream is what the full stream adds to the
// heap of the started Env, and heapMB-after is what the heap grew by from just before the
// consumer was made to just after it finished. A consumer that has acked everything should keep
// no history of the messages it delivered, so heapMB-after should stay near zero whatever the
// number of messages. The embedded server runs in this process too, so both backends are
// measured the same way. The stream is deleted only after the heap is read.
func BenchmarkConsumerThroughput200k(b *testing.B) {
	const n = 200_000
	benchInProcess(b, func(b *testing.B, env *Env) {
		ctx, js, pub := context.Background(), env.JetStream(), newScalePublisher(b, env)
		var streamMB, afterMB float64
		for range b.N {
			b.StopTimer()
			base := liveHeap()
			s := scaleStream(b, js, jetstream.StreamConfig{Name: "TP", Subjects: []string{"tp"}})
			pub.publish(b, n, []string{"tp"}, 0)
			full := liveHeap()
			c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			fetchAck(b, c, n)
			benchConsumerAcked(b, c, n)
			b.StopTimer()
			after := liveHeap()
			streamMB, afterMB = float64(full-base)/(1<<20), float64(after-full)/(1<<20)
			if err := js.DeleteStream(ctx, "TP"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		reportPerMsg(b, n)
		b.ReportMetric(streamMB, "heapMB-stream")
		b.ReportMetric(afterMB, "heapMB-after")
	})
}

// BenchmarkStreamMaxMsgsEviction: a memory stream limited to MaxMsgs messages and filled to the
// limit (untimed); timed, 50k more 128-byte messages published with PublishAsync, each evicting
// the oldest. One op is the 50k messages.
func BenchmarkStreamMaxMsgsEviction(b *testing.B) {
	for _, size := range []int{1_000, 100_000, 1_000_000} {
		b.Run(scaleName(size), func(b *testing.B) {
			benchInProcess(b, func(b *testing.B, env *Env) {
				ctx, pub := context.Background(), newScalePublisher(b, env)
				s := scaleStream(b, env.JetStream(), jetstream.StreamConfig{Name: "EV", Subjects: []string{"ev"}, MaxMsgs: int64(size)})
				pub.publish(b, size, []string{"ev"}, 0)
				settleHeap()
				b.ResetTimer()
				for range b.N {
					pub.publish(b, scaleEvicted, []string{"ev"}, 0)
				}
				b.StopTimer()
				info, err := s.Info(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if want := uint64(size + b.N*scaleEvicted); info.State.Msgs != uint64(size) || info.State.LastSeq != want {
					b.Fatalf("stream EV holds %d messages up to sequence %d, want %d up to %d", info.State.Msgs, info.State.LastSeq, size, want)
				}
				reportPerMsg(b, scaleEvicted)
			})
		})
	}
}

// BenchmarkKVBucketPut: a memory bucket keeping one revision per key (History 1), holding K keys
// (put untimed); timed, 50k puts overwriting the keys in turn, published with PublishAsync on
// $KV.<bucket>.<key>. One op is the 50k puts.
func BenchmarkKVBucketPut(b *testing.B) {
	for _, keys := range []int{1_000, 100_000} {
		b.Run(scaleName(keys), func(b *testing.B) {
			benchInProcess(b, func(b *testing.B, env *Env) {
				ctx, pub := context.Background(), newScalePublisher(b, env)
				kv, err := env.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "SCALE", History: 1, Storage: jetstream.MemoryStorage})
				if err != nil {
					b.Fatal(err)
				}
				subjects := make([]string, keys)
				for i := range subjects {
					subjects[i] = fmt.Sprintf("$KV.SCALE.k%06d", i)
				}
				pub.publish(b, keys, subjects, 0)
				settleHeap()
				b.ResetTimer()
				for i := range b.N {
					pub.publish(b, scaleEvicted, subjects, i*scaleEvicted)
				}
				b.StopTimer()
				st, err := kv.Status(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if st.Values() != uint64(keys) {
					b.Fatalf("bucket SCALE holds %d values, want %d (one per key)", st.Values(), keys)
				}
				reportPerMsg(b, scaleEvicted)
			})
		})
	}
}

// benchInProcess runs body on each of scaleBackends with a fresh Env, the timer reset after
// the start.
func benchInProcess(b *testing.B, body func(b *testing.B, env *Env)) {
	for _, bc := range scaleBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			b.ResetTimer()
			body(b, env)
		})
	}
}

// scaleName is a size as a sub-benchmark names it: 1k, 300k, 1M.
func scaleName(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// scaleStream creates the memory stream cfg.
func scaleStream(b *testing.B, js jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	b.Helper()
	cfg.Storage = jetstream.MemoryStorage
	s, err := js.CreateStream(context.Background(), cfg)
	if err != nil {
		b.Fatalf("create stream %s: %v", cfg.Name, err)
	}
	return s
}

// scalePublisher publishes with PublishAsync, at most scaleWindow messages unacknowledged, and
// counts the publishes the server refused.
type scalePublisher struct {
	js     jetstream.JetStream
	opts   []jetstream.PublishOpt // for every publish, after the stall wait
	mu     sync.Mutex
	failed int
	first  error
}

func newScalePublisher(b *testing.B, env *Env) *scalePublisher {
	b.Helper()
	p := &scalePublisher{}
	js, err := jetstream.New(env.Conn(), jetstream.WithPublishAsyncMaxPending(scaleWindow),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.failed++; p.failed == 1 {
				p.first = err
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	p.js = js
	return p
}

// publish sends n 128-byte messages, message i on subjects[(from+i)%len(subjects)], and waits
// until every one is acknowledged. It fails b if one was refused.
func (p *scalePublisher) publish(b *testing.B, n int, subjects []string, from int) {
	b.Helper()
	data := make([]byte, scaleMsgSize)
	for i := range n {
		subj := subjects[(from+i)%len(subjects)]
		if _, err := p.js.PublishAsync(subj, data, append([]jetstream.PublishOpt{jetstream.WithStallWait(scaleWait)}, p.opts...)...); err != nil {
			b.Fatalf("publish %d of %d on %s: %v", i+1, n, subj, err)
		}
	}
	select {
	case <-p.js.PublishAsyncComplete():
	case <-time.After(scaleWait):
		b.Fatalf("%d of %d async publishes unacknowledged after %v", p.js.PublishAsyncPending(), n, scaleWait)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed > 0 {
		b.Fatalf("%d async publishes refused, the first with: %v", p.failed, p.first)
	}
}

// fetchAck fetches n messages from c, scaleBatch at a time, and acks each one. Each Fetch waits
// at most scaleFetchWait: at under 10 s the client asks for no idle heartbeats and so starts no
// heartbeat timer, which would outlive the fetch by up to 10 s and keep the connection (and,
// through it, an in-process server) reachable into the next sub-benchmark's heap readings.
func fetchAck(b *testing.B, c jetstream.Consumer, n int) {
	b.Helper()
	for got := 0; got < n; {
		batch, err := c.Fetch(min(scaleBatch, n-got), jetstream.FetchMaxWait(scaleFetchWait))
		if err != nil {
			b.Fatalf("fetch after %d of %d messages: %v", got, n, err)
		}
		before := got
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				b.Fatalf("ack message %d of %d: %v", got+1, n, err)
			}
			got++
		}
		if err := batch.Error(); err != nil {
			b.Fatalf("fetch after %d of %d messages: %v", got, n, err)
		}
		if got == before {
			b.Fatalf("fetch after %d of %d messages: an empty batch", got, n)
		}
	}
}

// waitStreamHolds waits, up to scaleWait, until stream s holds n messages.
func waitStreamHolds(b *testing.B, s jetstream.Stream, n uint64) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scaleWait)
	defer cancel()
	var held uint64
	err := poll(ctx, func() (bool, error) {
		info, err := s.Info(ctx)
		if err != nil {
			return false, err
		}
		held = info.State.Msgs
		return held == n, nil
	})
	if err != nil {
		b.Fatalf("stream %s holds %d messages, want %d: %v", s.CachedInfo().Config.Name, held, n, err)
	}
}

// reportPerMsg reports ns/msg and msgs/s for msgs messages in each of b.N ops.
func reportPerMsg(b *testing.B, msgs int) {
	total, elapsed := float64(b.N*msgs), b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/total, "ns/msg")
	b.ReportMetric(total/elapsed.Seconds(), "msgs/s")
}

// settleHeap collects garbage before a timed section, on every backend alike: a timed op of a
// few seconds over a heap of hundreds of megabytes otherwise holds a whole collection or none,
// by chance, and its figure with it.
func settleHeap() { runtime.GC() }

// liveHeap is the bytes of live heap objects after two collections (the second frees what the
// first left for finalizers).
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
