package fake

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pullSetup makes stream S with pull consumer C on s, and returns a connection.
func pullSetup(t *testing.T, s *Server) (*nats.Conn, jetstream.Consumer) {
	t.Helper()
	nc := inproc(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateOrUpdateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return nc, c
}

// A pull request's expiry is on the server's clock: FastForward past it ends the request with
// 408, an hour early in real time.
func TestPullExpiryOnTheClock(t *testing.T) {
	s := Run(t, WithoutListener())
	nc, _ := pullSetup(t, s)
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":5,"expires":3600000000000}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil { // the server has the request
		t.Fatal(err)
	}
	s.FastForward(59 * time.Minute)
	if c, _ := s.Consumer("S", "C"); c.NumWaiting != 1 {
		t.Fatalf("after 59 minutes NumWaiting = %d, want the request still waiting", c.NumWaiting)
	}
	s.FastForward(time.Minute)
	m := next(t, sub)
	if got := m.Header.Get("Status"); got != "408" {
		t.Fatalf("status %q (%q), want 408 Request Timeout", got, m.Header.Get("Description"))
	}
	if got := m.Header.Get("Nats-Pending-Messages"); got != "5" {
		t.Fatalf("Nats-Pending-Messages = %q, want 5", got)
	}
	if c, _ := s.Consumer("S", "C"); c.NumWaiting != 0 {
		t.Fatalf("after expiry NumWaiting = %d", c.NumWaiting)
	}
}

// Idle heartbeats of a pull request are on the server's clock too: FastForward past three
// intervals sends them (one per interval that passed idle, as the timer comes round).
func TestPullHeartbeatOnTheClock(t *testing.T) {
	s := Run(t, WithoutListener())
	nc, _ := pullSetup(t, s)
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox,
		[]byte(`{"batch":1,"expires":3600000000000,"idle_heartbeat":60000000000}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s.FastForward(time.Minute)
		m := next(t, sub)
		if got := m.Header.Get("Status"); got != "100" {
			t.Fatalf("heartbeat %d: status %q, want 100 Idle Heartbeat", i+1, got)
		}
	}
}

// On a frozen clock the client still measures expiries and heartbeats on its own: they come in
// real time as well, or a Fetch would wait forever for its 408 and a heartbeat check would fail.
func TestPullTimersOnAFrozenClockFollowRealTime(t *testing.T) {
	s := Run(t, WithoutListener(), WithFrozenClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	_, c := pullSetup(t, s)
	start := time.Now()
	batch, err := c.Fetch(1, jetstream.FetchMaxWait(600*time.Millisecond), jetstream.FetchHeartbeat(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range batch.Messages() {
			t.Error("a message from an empty stream")
		}
	}()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatal("Fetch did not end: the request's expiry never came")
	}
	if err := batch.Error(); err != nil {
		t.Fatalf("Fetch ended with %v, want nil (heartbeats every 100ms, then 408)", err)
	}
	if waited := time.Since(start); waited < 600*time.Millisecond {
		t.Fatalf("Fetch ended after %v, before its expiry", waited)
	}
	if got := s.Now(); !got.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the frozen clock moved to %v", got)
	}
}
