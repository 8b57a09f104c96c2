package natstest

import (
	"context"
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
	{"embedded/tcp", []Option{WithBackend(Embedded)}},
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

// BenchmarkJetStreamPublish: a publish acknowledged by a memory stream.
func BenchmarkJetStreamPublish(b *testing.B) {
	for _, bc := range benchBackends {
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
