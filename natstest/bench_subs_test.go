package natstest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// BenchmarkManySubscriptions: one connection holds 10,000 wildcard subscriptions (w.N.*, w.*.N,
// w.N.> and w.*.*.N for N below 2,500) while another publishes 128 B messages on w.<i mod
// 2500>.<i>, a subject never seen before each time (an id in every subject): each reaches
// w.N.* and w.N.>, and the first 2,500 also w.*.i. One op is one published message. heapB/sub
// is the live heap the subscriptions added, client and server, divided by 10,000.
func BenchmarkManySubscriptions(b *testing.B) {
	for _, bc := range benchBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, append(bc.opts[:len(bc.opts):len(bc.opts)], WithJetStream(false))...)
			want := 2*b.N + min(b.N, 2500)
			ch := make(chan *nats.Msg, want) // room for all: the client drops what a full channel cannot take
			subc := env.Connect()
			before := liveHeap()
			for n := range 2500 {
				ns := strconv.Itoa(n)
				for _, p := range []string{"w." + ns + ".*", "w.*." + ns, "w." + ns + ".>", "w.*.*." + ns} {
					sub, err := subc.ChanSubscribe(p, ch)
					if err != nil {
						b.Fatal(err)
					}
					sub.SetPendingLimits(-1, -1)
				}
			}
			if err := subc.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := env.WaitForInterest(context.Background(), "w.0.1.2499", 1); err != nil {
				b.Fatal(err)
			}
			// the heap the subscriptions take, client and server (in process, the embedded
			// server's heap is the test's; the client's share is the same on both backends)
			perSub := float64(liveHeap()-before) / 10000
			done := countMsgs(ch, want)
			pub, data := env.Connect(), make([]byte, 128)
			b.ResetTimer()
			for i := range b.N {
				if err := pub.Publish("w."+strconv.Itoa(i%2500)+"."+strconv.Itoa(i), data); err != nil {
					b.Fatal(err)
				}
			}
			if err := pub.Flush(); err != nil {
				b.Fatal(err)
			}
			if got := <-done; got != want {
				b.Fatalf("received %d of %d messages", got, want)
			}
			b.ReportMetric(perSub, "heapB/sub") // after ResetTimer, which drops reported metrics
		})
	}
}

// BenchmarkSubscribeChurn: with 1,000 wildcard subscriptions in place (w.N.*), one op subscribes
// to a subject of its own, publishes on w.<op mod 100>.x (which one of them receives) and
// unsubscribes again, as Request and Fetch come and go among long-lived subscriptions. (A
// channel subscription: SubscribeSync makes the client allocate a 64k-message channel, which
// would be most of an op.)
func BenchmarkSubscribeChurn(b *testing.B) {
	for _, bc := range benchBackends {
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, append(bc.opts[:len(bc.opts):len(bc.opts)], WithJetStream(false))...)
			ch := make(chan *nats.Msg, b.N) // room for all: the client drops what a full channel cannot take
			subc := env.Connect()
			for n := range 1000 {
				sub, err := subc.ChanSubscribe("w."+strconv.Itoa(n)+".*", ch)
				if err != nil {
					b.Fatal(err)
				}
				sub.SetPendingLimits(-1, -1)
			}
			if err := subc.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := env.WaitForInterest(context.Background(), "w.999.x", 1); err != nil {
				b.Fatal(err)
			}
			want := b.N
			done := countMsgs(ch, want)
			nc, data := env.Connect(), make([]byte, 128)
			own := make(chan *nats.Msg) // never sent to: nothing publishes on churn.>
			b.ResetTimer()
			for i := range b.N {
				sub, err := nc.ChanSubscribe("churn."+strconv.Itoa(i), own)
				if err != nil {
					b.Fatal(err)
				}
				if err := nc.Publish("w."+strconv.Itoa(i%100)+".x", data); err != nil {
					b.Fatal(err)
				}
				if err := sub.Unsubscribe(); err != nil {
					b.Fatal(err)
				}
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			if got := <-done; got != want {
				b.Fatalf("received %d of %d messages", got, want)
			}
		})
	}
}

// countMsgs counts what arrives on ch until want have, or a minute has passed, and then sends
// the count.
func countMsgs(ch <-chan *nats.Msg, want int) <-chan int {
	done := make(chan int, 1)
	go func() {
		got := 0
		timeout := time.After(time.Minute)
		for got < want {
			select {
			case <-ch:
				got++
			case <-timeout:
				done <- got
				return
			}
		}
		done <- got
	}()
	return done
}
