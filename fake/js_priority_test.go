package fake

import (
	"testing"
	"time"

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
