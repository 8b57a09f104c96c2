package fake

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A pinned client's time to live is on the server's clock: FastForward past it unpins the
// client, an hour early in real time, and the next request is pinned anew.
func TestPinnedTTLOnTheClock(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctxT(t), "s.a", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CreateOrUpdateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy,
		PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}, PinnedTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pinOf := func() string {
		t.Helper()
		info, err := c.Info(ctxT(t))
		if err != nil || len(info.PriorityGroups) != 1 {
			t.Fatalf("consumer info: %+v, %v", info, err)
		}
		return info.PriorityGroups[0].PinnedClientID
	}
	b, err := c.Fetch(1, jetstream.FetchPriorityGroup("A"))
	if err != nil {
		t.Fatal(err)
	}
	m := <-b.Messages()
	if m == nil {
		t.Fatalf("no message: %v", b.Error())
	}
	pin := m.Headers().Get("Nats-Pin-Id")
	if pin == "" || pinOf() != pin {
		t.Fatalf("pin %q, consumer info %q; want the same, set", pin, pinOf())
	}
	s.FastForward(59 * time.Minute)
	if got := pinOf(); got != pin {
		t.Fatalf("after 59 minutes the pin is %q, want %q", got, pin)
	}
	s.FastForward(time.Minute)
	if got := pinOf(); got != "" {
		t.Fatalf("after the TTL the pin is %q, want none", got)
	}
}

// FuzzPriorityPull sends arbitrary pull requests to priority consumers of each policy, then
// unpins: the server never fails, and each consumer still delivers a new message.
func FuzzPriorityPull(f *testing.F) {
	for _, b := range []string{"", "1", "{}", `{"batch":2,"group":"A"}`, `{"batch":1,"group":"A","id":"x"}`,
		`{"batch":3,"group":"A","min_pending":2,"min_ack_pending":1,"no_wait":true}`,
		`{"batch":1,"group":"A","priority":9,"max_bytes":5,"expires":1000000}`, `{"group":"B","priority":-1}`} {
		for policy := range uint8(3) {
			f.Add(policy, []byte(b))
		}
	}
	policies := []jetstream.PriorityPolicy{jetstream.PriorityPolicyOverflow, jetstream.PriorityPolicyPinned, jetstream.PriorityPolicyPrioritized}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		if len(body) > 1<<12 {
			return
		}
		s, err := NewServer(WithoutListener())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.CreateStream(jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect("", nats.InProcessServer(s))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx := t.Context()
		st, err := js.Stream(ctx, "S")
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckNonePolicy,
			PriorityPolicy: policies[int(which)%len(policies)], PriorityGroups: []string{"A"}})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := js.Publish(ctx, "s.a", []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		// from a connection of its own, closed after: a request left waiting has nobody to
		// deliver to (on the one connection, nats.go would take a delivery for a later reply)
		other, err := nats.Connect("", nats.InProcessServer(s))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = other.Request("$JS.API.CONSUMER.MSG.NEXT.S.C", body, 50*time.Millisecond)
		other.Close()
		if err := st.UnpinConsumer(ctx, "C", "A"); err != nil {
			t.Fatalf("after %q: unpin: %v", body, err)
		}
		if _, err := js.Publish(ctx, "s.a", []byte("last")); err != nil {
			t.Fatal(err)
		}
		b, err := c.Fetch(1, jetstream.FetchPriorityGroup("A"), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if m := <-b.Messages(); m == nil {
			// the request left waiting may have taken it before its connection's close was seen
			info, err := c.Info(ctx)
			if err != nil || info.Delivered.Stream != 4 {
				t.Fatalf("after %q: no message for a request of the group (%v), and the last not delivered: %+v %v", body, b.Error(), info, err)
			}
		}
	})
}
