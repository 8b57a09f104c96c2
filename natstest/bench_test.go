package natstest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchBackends are the configurations every benchmark here runs on, side by side.
var benchBackends = []struct {
	name string
	opts []Option
}{
	{"fake/tcp", []Option{WithBackend(Fake), WithAddr("127.0.0.1:0")}},
	{"embedded/tcp", []Option{WithBackend(Embedded)}},
	{"fake/inprocess", []Option{WithBackend(Fake), WithInProcess()}},
	{"embedded/inprocess", []Option{WithBackend(Embedded), WithInProcess()}},
}

// proxyBackends are benchBackends and the TCP ones through natstest's recording proxy
// (WithProxy), for the core benchmarks: what the proxy costs.
var proxyBackends = append(benchBackends[:len(benchBackends):len(benchBackends)],
	struct {
		name string
		opts []Option
	}{"fake/tcp-proxy", []Option{WithBackend(Fake), WithProxy()}},
	struct {
		name string
		opts []Option
	}{"embedded/tcp-proxy", []Option{WithBackend(Embedded), WithProxy()}})

// BenchmarkStartClose: a server with JetStream, a connected client, then everything released.
func BenchmarkStartClose(b *testing.B) {
	cases := append(benchBackends[:len(benchBackends):len(benchBackends)], struct {
		name string
		opts []Option
	}{"embedded/tcp-nojetstream", []Option{WithBackend(Embedded), WithJetStream(false)}},
		struct {
			name string
			opts []Option
		}{"embedded/tcp-diskstore", []Option{WithBackend(Embedded), WithFileStore()}})
	if Container.available() == nil { // a new container per op: about a second
		cases = append(cases, struct {
			name string
			opts []Option
		}{"container/tcp", []Option{WithBackend(Container), WithoutReuse()}},
			struct {
				name string
				opts []Option
			}{"container/tcp-reused", []Option{WithBackend(Container)}}) // ReuseContainers (TestMain)
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			opts := bc.opts
			if bc.name == "container/tcp-reused" { // a container for the loop to reuse
				env, err := Start(opts...)
				if err != nil {
					b.Fatal(err)
				}
				env.Close()
			}
			for b.Loop() {
				if bc.name == "embedded/tcp-diskstore" {
					opts = append(bc.opts[:len(bc.opts):len(bc.opts)], WithStoreDir(b.TempDir()))
				}
				env, err := Start(opts...)
				if err != nil {
					b.Fatal(err)
				}
				if !env.Conn().IsConnected() {
					b.Fatal("not connected")
				}
				env.Close()
			}
		})
	}
}

// BenchmarkPublishReceive: one message published on one connection and received on another.
func BenchmarkPublishReceive(b *testing.B) {
	for _, bc := range proxyBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			sub, err := env.Connect().SubscribeSync("bench")
			if err != nil {
				b.Fatal(err)
			}
			if err := env.WaitForInterest(context.Background(), "bench", 1); err != nil {
				b.Fatal(err)
			}
			pub, data := env.Conn(), make([]byte, 128)
			for b.Loop() {
				if err := pub.Publish("bench", data); err != nil {
					b.Fatal(err)
				}
				if _, err := sub.NextMsg(5 * time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequestReply: a request answered by a responder on another connection.
func BenchmarkRequestReply(b *testing.B) {
	for _, bc := range proxyBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			if _, err := env.Connect().Subscribe("svc", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
				b.Fatal(err)
			}
			if err := env.WaitForInterest(context.Background(), "svc", 1); err != nil {
				b.Fatal(err)
			}
			nc, data := env.Conn(), make([]byte, 128)
			for b.Loop() {
				if _, err := nc.Request("svc", data, 5*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPubSubThroughput: messages published back to back on one connection and handled on
// others: one subscriber (128 B, 1 KiB and 64 KiB payloads), three subscribers (each gets every
// message), or a queue group of three (each message goes to one). One op is one published
// message.
func BenchmarkPubSubThroughput(b *testing.B) {
	for _, shape := range []struct {
		name        string
		subs, share int // subscribers, and how many of them receive each message
		queue       string
		size        int
	}{{"1sub", 1, 1, "", 128}, {"1sub-1KiB", 1, 1, "", 1 << 10}, {"1sub-64KiB", 1, 1, "", 64 << 10},
		{"3subs", 3, 3, "", 128}, {"queue3", 3, 1, "q", 128}} {
		for _, bc := range proxyBackends {
			b.Run(shape.name+"/"+bc.name, func(b *testing.B) {
				env := New(b, append(bc.opts[:len(bc.opts):len(bc.opts)], WithJetStream(false))...)
				var got atomic.Int64
				done := make(chan struct{}, 1)
				var want atomic.Int64
				for range shape.subs {
					sub, err := env.Connect().QueueSubscribe("tp", shape.queue, func(*nats.Msg) {
						if got.Add(1) == want.Load() {
							done <- struct{}{}
						}
					})
					if err != nil {
						b.Fatal(err)
					}
					sub.SetPendingLimits(-1, -1)
				}
				if err := env.WaitForInterest(context.Background(), "tp", shape.subs); err != nil {
					b.Fatal(err)
				}
				pub, data := env.Connect(), make([]byte, shape.size)
				b.SetBytes(int64(len(data)))
				want.Store(int64(b.N * shape.share))
				b.ResetTimer()
				for range b.N {
					if err := pub.Publish("tp", data); err != nil {
						b.Fatal(err)
					}
				}
				if err := pub.Flush(); err != nil {
					b.Fatal(err)
				}
				select {
				case <-done:
				case <-time.After(time.Minute):
					b.Fatalf("handled %d of %d messages", got.Load(), want.Load())
				}
			})
		}
	}
}

// benchJetStream runs body on every backend with a fresh Env, JetStream on, and a memory stream B
// on subjects b.>.
func benchJetStream(b *testing.B, body func(b *testing.B, env *Env, js jetstream.JetStream, s jetstream.Stream)) {
	for _, bc := range benchBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			js := env.JetStream()
			s, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}, Storage: jetstream.MemoryStorage})
			if err != nil {
				b.Fatal(err)
			}
			body(b, env, js, s)
		})
	}
}

// BenchmarkJetStreamPublish: a 128-byte publish acknowledged by a memory stream, one at a time.
func BenchmarkJetStreamPublish(b *testing.B) {
	benchJetStream(b, func(b *testing.B, env *Env, js jetstream.JetStream, s jetstream.Stream) {
		ctx, data := context.Background(), make([]byte, 128)
		for b.Loop() {
			if _, err := js.Publish(ctx, "b.x", data); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		benchStreamHolds(b, s, b.N)
	})
}

// BenchmarkJetStreamPublishAsync: b.N 128-byte messages published with PublishAsync (up to 4000
// unacknowledged), then PublishAsyncComplete. One op is one acknowledged message.
func BenchmarkJetStreamPublishAsync(b *testing.B) {
	benchJetStream(b, func(b *testing.B, env *Env, _ jetstream.JetStream, s jetstream.Stream) {
		var mu sync.Mutex
		var failed int
		var firstErr error
		js, err := jetstream.New(env.Conn(), jetstream.WithPublishAsyncMaxPending(4000),
			jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
				mu.Lock()
				defer mu.Unlock()
				if failed++; failed == 1 {
					firstErr = err
				}
			}))
		if err != nil {
			b.Fatal(err)
		}
		data := make([]byte, 128)
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		publishAll(b, js, b.N, data)
		b.StopTimer()
		mu.Lock()
		defer mu.Unlock()
		if failed > 0 {
			b.Fatalf("%d of %d async publishes failed, the first with: %v", failed, b.N, firstErr)
		}
		benchStreamHolds(b, s, b.N)
	})
}

// BenchmarkJetStreamConsumeAck: a stream holding b.N 128-byte messages, consumed by a durable
// pull consumer through Consume, each message acked (explicit ack policy) in the handler. One op
// is one message delivered and acked; the timer stops once the last is acked and the consumer
// shows no ack pending.
func BenchmarkJetStreamConsumeAck(b *testing.B) {
	benchJetStream(b, func(b *testing.B, env *Env, js jetstream.JetStream, s jetstream.Stream) {
		data := make([]byte, 128)
		c := benchPrefilled(b, js, s, data)
		var acked, ackErrs atomic.Int64
		done := make(chan struct{})
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		cc, err := c.Consume(func(m jetstream.Msg) {
			if m.Ack() != nil {
				ackErrs.Add(1)
			}
			if acked.Add(1) == int64(b.N) {
				close(done)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Stop()
		waitHandled(b, done, &acked)
		if n := ackErrs.Load(); n > 0 {
			b.Fatalf("%d acks failed", n)
		}
		benchConsumerAcked(b, c, b.N)
	})
}

// BenchmarkKVPut: a 128-byte value put into a memory bucket, on one of 100 keys in turn.
func BenchmarkKVPut(b *testing.B) {
	benchKV(b, 0, func(b *testing.B, kv jetstream.KeyValue) {
		ctx, data := context.Background(), make([]byte, 128)
		keys := benchKeys(100)
		i := 0
		for b.Loop() {
			if _, err := kv.Put(ctx, keys[i%len(keys)], data); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkKVGet: a Get of one of 100 keys in turn, 128-byte values.
func BenchmarkKVGet(b *testing.B) {
	benchKV(b, 100, func(b *testing.B, kv jetstream.KeyValue) {
		ctx := context.Background()
		keys := benchKeys(100)
		i := 0
		for b.Loop() {
			e, err := kv.Get(ctx, keys[i%len(keys)])
			if err != nil {
				b.Fatal(err)
			}
			if len(e.Value()) != 128 {
				b.Fatalf("get %s: %d bytes, want 128", e.Key(), len(e.Value()))
			}
			i++
		}
	})
}

// BenchmarkKVWatchInitial: WatchAll on a bucket of 100 keys, until the nil entry that ends the
// initial values, then Stop.
func BenchmarkKVWatchInitial(b *testing.B) {
	benchKV(b, 100, func(b *testing.B, kv jetstream.KeyValue) {
		ctx := context.Background()
		for b.Loop() {
			w, err := kv.WatchAll(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
		initial:
			for {
				select {
				case e := <-w.Updates():
					if e == nil {
						break initial
					}
					n++
				case <-time.After(10 * time.Second):
					b.Fatalf("watch: %d initial values and no end marker after 10s", n)
				}
			}
			if err := w.Stop(); err != nil {
				b.Fatal(err)
			}
			if n != 100 {
				b.Fatalf("watch: %d initial values, want 100", n)
			}
		}
	})
}

// BenchmarkJetStreamSuite: the 200 cases of TestJetStreamSuite, each on a fresh Env of the
// backend (started, run, released). One op is the whole suite; ns/case is per case.
func BenchmarkJetStreamSuite(b *testing.B) {
	for _, bc := range benchBackends {
		b.Run(bc.name, func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				for _, c := range jsSuiteCases {
					runJSCase(b, c, bc.opts)
				}
			}
			cases := float64(b.N * len(jsSuiteCases))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/cases, "ns/case")
			// client and server together, steadier than the wall clock on a shared machine
			b.ReportMetric(float64(processCPU()-cpu0)/cases, "cpu-ns/case")
		})
	}
}

// runJSCase runs c on an Env of its own, released before it returns.
func runJSCase(tb testing.TB, c jsCase, opts []Option) {
	ctb := &jsCaseTB{TB: tb, name: c.name}
	defer ctb.finish()
	c.run(ctb, New(ctb, opts...))
}

// jsCaseTB is tb for one case of a benchmark: its cleanups run when the case ends, not when the
// benchmark does, and its failures name the case.
type jsCaseTB struct {
	testing.TB
	name     string
	cleanups []func()
}

func (c *jsCaseTB) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }
func (c *jsCaseTB) Error(args ...any) {
	c.TB.Helper()
	c.TB.Error(append([]any{c.name + ": "}, args...)...)
}
func (c *jsCaseTB) Errorf(format string, args ...any) {
	c.TB.Helper()
	c.TB.Errorf(c.name+": "+format, args...)
}
func (c *jsCaseTB) Fatal(args ...any) {
	c.TB.Helper()
	c.TB.Fatal(append([]any{c.name + ": "}, args...)...)
}
func (c *jsCaseTB) Fatalf(format string, args ...any) {
	c.TB.Helper()
	c.TB.Fatalf(c.name+": "+format, args...)
}

// finish runs the cleanups, last registered first, as the testing package does.
func (c *jsCaseTB) finish() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	c.cleanups = nil
}

// benchKV runs body on every backend with a memory bucket KV holding keys 128-byte values.
func benchKV(b *testing.B, keys int, body func(b *testing.B, kv jetstream.KeyValue)) {
	for _, bc := range benchBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			ctx := context.Background()
			kv, err := env.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "KV", Storage: jetstream.MemoryStorage})
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range benchKeys(keys) {
				if _, err := kv.Put(ctx, k, make([]byte, 128)); err != nil {
					b.Fatal(err)
				}
			}
			body(b, kv)
		})
	}
}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key.%03d", i)
	}
	return keys
}

// benchStreamHolds fails b unless stream s holds n messages.
func benchStreamHolds(b *testing.B, s jetstream.Stream, n int) {
	b.Helper()
	info, err := s.Info(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if info.State.Msgs != uint64(n) {
		b.Fatalf("stream %s holds %d messages, want %d", info.Config.Name, info.State.Msgs, n)
	}
}

// benchConsumerAcked waits, up to 10 s, until consumer c has every one of n messages acked.
func benchConsumerAcked(b *testing.B, c jetstream.Consumer, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var info *jetstream.ConsumerInfo
	err := poll(ctx, func() (bool, error) {
		var err error
		info, err = c.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.AckFloor.Stream == uint64(n), err
	})
	if err != nil {
		if info != nil {
			b.Fatalf("consumer: %d acks pending, ack floor %d, want 0 and %d: %v", info.NumAckPending, info.AckFloor.Stream, n, err)
		}
		b.Fatal(err)
	}
}

// processCPU is the CPU time the process has used, user and system, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// waitHandled waits up to a minute for done, closed once a Consume handler has handled b.N
// messages, which handled counts.
func waitHandled(b *testing.B, done <-chan struct{}, handled *atomic.Int64) {
	b.Helper()
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("handled %d of %d messages in a minute", handled.Load(), b.N)
	}
}
