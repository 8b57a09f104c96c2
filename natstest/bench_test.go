package natstest

import (
	"context"
	"sync/atomic"
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
	{"fake/tcp", []Option{WithBackend(Fake)}},
	{"embedded/tcp", []Option{WithBackend(Embedded)}},
	{"fake/inprocess", []Option{WithBackend(Fake), WithInProcess()}},
	{"embedded/inprocess", []Option{WithBackend(Embedded), WithInProcess()}},
}

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
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			opts := bc.opts
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
	for _, bc := range benchBackends {
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
	for _, bc := range benchBackends {
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

// BenchmarkJetStreamPublish: a publish acknowledged by a memory stream (embedded only, until the
// fake serves JetStream).
func BenchmarkJetStreamPublish(b *testing.B) {
	for _, bc := range benchBackends[1:2] {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			ctx := context.Background()
			js := env.JetStream()
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}, Storage: jetstream.MemoryStorage}); err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 128)
			for b.Loop() {
				if _, err := js.Publish(ctx, "b", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPubSubThroughput: 128-byte messages published back to back on one connection and
// handled on others: one subscriber, three subscribers (each gets every message), or a queue
// group of three (each message goes to one). One op is one published message.
func BenchmarkPubSubThroughput(b *testing.B) {
	for _, shape := range []struct {
		name        string
		subs, share int // subscribers, and how many of them receive each message
		queue       string
	}{{"1sub", 1, 1, ""}, {"3subs", 3, 3, ""}, {"queue3", 3, 1, "q"}} {
		for _, bc := range benchBackends {
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
				pub, data := env.Connect(), make([]byte, 128)
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
