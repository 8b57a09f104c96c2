package fake

import (
	"testing"
	"testing/synctest"

	"github.com/nats-io/nats.go"
)

// A publisher that outruns a subscriber waits at the subscriber's gate, as on nats-server; a
// subscriber that never reads is still cut off as a slow consumer once the waits are spent, and
// the publisher goes on.
func TestProducerStallsAtSlowSubscriber(t *testing.T) {
	for _, inBubble := range []bool{false, true} {
		run := func(t *testing.T, body func(t *testing.T)) { body(t) }
		name := "real time"
		if inBubble {
			run, name = synctest.Test, "bubble"
		}
		t.Run(name, func(t *testing.T) {
			run(t, func(t *testing.T) {
				s := Run(t, WithoutListener(), WithoutJetStream(), WithMaxPending(64<<10))
				raw, err := s.InProcessConn() // a subscriber that never reads
				if err != nil {
					t.Fatal(err)
				}
				defer raw.Close()
				if _, err := raw.Write([]byte("CONNECT {\"verbose\":false}\r\nSUB s 1\r\n")); err != nil {
					t.Fatal(err)
				}
				if err := s.WaitForInterest(t.Context(), "s", 1); err != nil {
					t.Fatal(err)
				}
				pub, err := nats.Connect("", nats.InProcessServer(s))
				if err != nil {
					t.Fatal(err)
				}
				defer pub.Close()
				data := make([]byte, 1024)
				for range 200 {
					if err := pub.Publish("s", data); err != nil {
						t.Fatal(err)
					}
				}
				if err := pub.Flush(); err != nil {
					t.Fatal(err)
				}
				if got := s.Stats().SlowConsumers; got != 1 {
					t.Errorf("%d slow consumers, want the subscriber that never reads", got)
				}
				stalls := s.stats.stalls.Load()
				if inBubble && stalls != 0 {
					t.Errorf("a server in a bubble stalled its publisher %d times, want none", stalls)
				}
				if !inBubble && stalls == 0 {
					t.Error("the publisher was never held at the gate of a subscriber past three quarters of its pending limit")
				}
			})
		})
	}
}
