package fake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The fake's own surface in a testing/synctest bubble: a server started and closed in it, its
// faults, FastForward, lame duck mode and the JetStream timers all wait on the bubble's clock, so
// hours of virtual time pass in no wall time and nothing hangs at Close.
func TestFakeInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := Run(t, WithoutListener(), WithPingInterval(time.Minute), WithLameDuckGracePeriod(time.Second))
		nc := inproc(t, s, nats.Name("app"))
		ctx := context.Background()

		// a Delay fault on the fake's clock, which is the bubble's
		sub, err := nc.SubscribeSync("slow")
		if err != nil {
			t.Fatal(err)
		}
		remove := s.Inject(Delay("slow", 1, 10*time.Second))
		start := time.Now()
		if err := nc.Publish("slow", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.NextMsg(time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("a 10s Delay fault delivered after %v of the bubble's time", got)
		}
		remove()

		// FastForward in a bubble moves the fake's clock ahead of the bubble's, without deadlock
		before := s.Now()
		s.FastForward(time.Hour)
		if got := s.Now().Sub(before); got < time.Hour {
			t.Errorf("FastForward(1h) moved the clock %v", got)
		}

		// JetStream: max age and a pull request's expiry pass as the bubble sleeps
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxAge: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "s.1", nil); err != nil {
			t.Fatal(err)
		}
		c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := c.Next(); err != nil {
			t.Fatal(err)
		} else if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		batch, err := c.Fetch(1, jetstream.FetchMaxWait(10*time.Minute)) // nothing more to come
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
			t.Error("a message from a drained consumer")
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if got := time.Since(start); got != 10*time.Minute {
			t.Errorf("a 10-minute Fetch ended after %v of the bubble's time", got)
		}
		time.Sleep(2 * time.Hour) // past max age; the server's PINGs every minute are answered
		if got, _ := s.Stream("S"); len(got.Messages) != 0 {
			t.Errorf("%d messages after max age", len(got.Messages))
		}
		if !nc.IsConnected() {
			t.Fatal("the client did not live through two idle hours of PINGs")
		}

		// lame duck mode moves the client off within the grace period and its duration
		gone := make(chan struct{})
		nc.SetDisconnectErrHandler(func(*nats.Conn, error) { close(gone) })
		start = time.Now()
		s.LameDuck(5 * time.Second)
		<-gone // a client never moved off is a deadlock, which synctest reports
		if got := time.Since(start); got > 6*time.Second {
			t.Errorf("lame duck mode of 5s (grace 1s) moved the client off after %v", got)
		}
		if _, err := s.InProcessConn(); !errors.Is(err, ErrNotAccepting) {
			t.Errorf("a new connection in lame duck mode: %v", err)
		}
	})
}

// A server that would listen on TCP is refused in a bubble, with what to do instead, rather than
// left to stop the bubble's clock.
func TestListenerRefusedInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewServer()
		if err == nil {
			s.Close()
			t.Fatal("NewServer() listened on TCP inside a bubble")
		}
		if !strings.Contains(err.Error(), "WithoutListener()") {
			t.Fatalf("NewServer() in a bubble: %v, want it to name WithoutListener", err)
		}
	})
}
