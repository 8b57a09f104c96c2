package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkStreamManyConsumers: a memory stream on mc.* with N durable pull consumers (created
// untimed), consumer i filtered on mc.<i>, none of them reading; timed, 50k 128-byte messages
// published with PublishAsync on mc.0 .. mc.999 in turn. One op is the 50k messages: what the
// consumers a stream has cost each publish.
func BenchmarkStreamManyConsumers(b *testing.B) {
	subjects := make([]string, 1000)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("mc.%d", i)
	}
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("%dconsumers", n), func(b *testing.B) {
			benchInProcess(b, func(b *testing.B, env *Env) {
				ctx, pub := context.Background(), newScalePublisher(b, env)
				s := scaleStream(b, env.JetStream(), jetstream.StreamConfig{Name: "MC", Subjects: []string{"mc.*"}})
				for i := range n {
					if _, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: fmt.Sprintf("c%d", i),
						AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: subjects[i]}); err != nil {
						b.Fatal(err)
					}
				}
				pub.publish(b, scaleEvicted, subjects, 0) // untimed: the first round warms the process up
				settleHeap()
				b.ResetTimer()
				for i := range b.N {
					pub.publish(b, scaleEvicted, subjects, i*scaleEvicted)
				}
				b.StopTimer()
				waitStreamHolds(b, s, uint64((b.N+1)*scaleEvicted))
				c, err := s.Consumer(ctx, "c0")
				if err != nil {
					b.Fatal(err)
				}
				info, err := c.Info(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if want := uint64((b.N + 1) * scaleEvicted / len(subjects)); info.NumPending != want {
					b.Fatalf("consumer c0 has %d pending, want %d", info.NumPending, want)
				}
				reportPerMsg(b, scaleEvicted)
			})
		})
	}
}

// BenchmarkMessageTTL: a memory stream allowing message TTLs and holding N messages of 128 B,
// each with a TTL of an hour (published untimed); timed, 50k more with the same TTL. One op is
// the 50k messages: what a stream full of TTLs costs each publish.
func BenchmarkMessageTTL(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(scaleName(n), func(b *testing.B) {
			benchInProcess(b, func(b *testing.B, env *Env) {
				pub := newScalePublisher(b, env)
				pub.opts = []jetstream.PublishOpt{jetstream.WithMsgTTL(time.Hour)}
				s := scaleStream(b, env.JetStream(), jetstream.StreamConfig{Name: "TTL", Subjects: []string{"ttl.*"}, AllowMsgTTL: true})
				subjects := []string{"ttl.a", "ttl.b", "ttl.c", "ttl.d"}
				pub.publish(b, n, subjects, 0)
				settleHeap()
				b.ResetTimer()
				for i := range b.N {
					pub.publish(b, scaleEvicted, subjects, i*scaleEvicted)
				}
				b.StopTimer()
				waitStreamHolds(b, s, uint64(n+b.N*scaleEvicted))
				reportPerMsg(b, scaleEvicted)
			})
		})
	}
}
