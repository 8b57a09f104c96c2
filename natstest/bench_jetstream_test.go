package natstest

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkJetStreamFetch: a stream holding b.N 128-byte messages, read by a durable pull
// consumer in Fetch batches of 100, each message acked with Ack (explicit ack policy). One op is
// one message fetched and acked; the timer stops once the consumer shows no ack pending.
func BenchmarkJetStreamFetch(b *testing.B) {
	benchJetStream(b, func(b *testing.B, env *Env, js jetstream.JetStream, s jetstream.Stream) {
		data := make([]byte, 128)
		c := benchPrefilled(b, js, s, data)
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		for got := 0; got < b.N; {
			batch, err := c.Fetch(min(100, b.N-got), jetstream.FetchMaxWait(10*time.Second))
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
				b.Fatalf("fetch after %d of %d messages: %v", got, b.N, err)
			}
		}
		benchConsumerAcked(b, c, b.N)
	})
}

// BenchmarkKVWatchUpdates: a watcher on a memory bucket (updates only), and one op is a 128-byte
// Put on one of 100 keys and its arrival at the watcher.
func BenchmarkKVWatchUpdates(b *testing.B) {
	benchKV(b, 0, func(b *testing.B, kv jetstream.KeyValue) {
		ctx, data := context.Background(), make([]byte, 128)
		w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = w.Stop() }()
		keys := benchKeys(100)
		i := 0
		for b.Loop() {
			rev, err := kv.Put(ctx, keys[i%len(keys)], data)
			if err != nil {
				b.Fatal(err)
			}
			select {
			case e := <-w.Updates():
				if e == nil || e.Revision() != rev {
					b.Fatalf("watch: got %v, want revision %d", e, rev)
				}
			case <-time.After(10 * time.Second):
				b.Fatalf("watch: revision %d did not arrive in 10s", rev)
			}
			i++
		}
	})
}

// BenchmarkObjectPutGet10MiB: a 10 MiB object put into a memory Object Store, then read back
// whole. One op is the put and the get.
func BenchmarkObjectPutGet10MiB(b *testing.B) {
	for _, bc := range benchBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			ctx := context.Background()
			obs, err := env.JetStream().CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "OBJ", Storage: jetstream.MemoryStorage})
			if err != nil {
				b.Fatal(err)
			}
			data := bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := obs.PutBytes(ctx, "blob", data); err != nil {
					b.Fatal(err)
				}
				got, err := obs.GetBytes(ctx, "blob")
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(data) {
					b.Fatalf("get: %d bytes, want %d", len(got), len(data))
				}
			}
		})
	}
}

// publishAll publishes n copies of data on b.x with PublishAsync and waits up to a minute for
// every ack.
func publishAll(b *testing.B, js jetstream.JetStream, n int, data []byte) {
	b.Helper()
	for range n {
		if _, err := js.PublishAsync("b.x", data, jetstream.WithStallWait(10*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d async publishes unacknowledged after a minute", js.PublishAsyncPending(), n)
	}
}

// benchPrefilled publishes b.N messages of data on b.x into s (which must then hold them) and
// makes a durable explicit-ack pull consumer on it.
func benchPrefilled(b *testing.B, js jetstream.JetStream, s jetstream.Stream, data []byte) jetstream.Consumer {
	b.Helper()
	publishAll(b, js, b.N, data)
	benchStreamHolds(b, s, b.N)
	c, err := s.CreateConsumer(context.Background(), jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkJetStreamOrdered: a stream holding b.N 128-byte messages, read through an ordered
// consumer's Consume with at most 500 messages buffered, as natscli's `nats bench js ordered`
// reads. One op is one message delivered to the handler.
func BenchmarkJetStreamOrdered(b *testing.B) {
	benchJetStream(b, func(b *testing.B, env *Env, js jetstream.JetStream, s jetstream.Stream) {
		data := make([]byte, 128)
		benchPrefilled(b, js, s, data)
		c, err := s.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{})
		if err != nil {
			b.Fatal(err)
		}
		var got atomic.Int64
		done := make(chan struct{})
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		cc, err := c.Consume(func(jetstream.Msg) {
			if got.Add(1) == int64(b.N) {
				close(done)
			}
		}, jetstream.PullMaxMessages(500))
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Stop()
		waitHandled(b, done, &got)
	})
}
