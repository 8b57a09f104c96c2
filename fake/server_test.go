package fake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func connect(t *testing.T, s *Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestPubSubTCPAndInProcess(t *testing.T) {
	s := Run(t)
	for _, tc := range []struct {
		name string
		opts []nats.Option
	}{{"tcp", nil}, {"inprocess", []nats.Option{nats.InProcessServer(s)}}} {
		t.Run(tc.name, func(t *testing.T) {
			nc := connect(t, s, tc.opts...)
			sub, err := nc.SubscribeSync("greet.*")
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Publish("greet.joe", []byte("hello")); err != nil {
				t.Fatal(err)
			}
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != "greet.joe" || string(m.Data) != "hello" {
				t.Fatalf("got %q %q", m.Subject, m.Data)
			}
		})
	}
}

func TestRequestReplyAndNoResponders(t *testing.T) {
	s := Run(t)
	nc := connect(t, s, nats.InProcessServer(s))
	if _, err := nc.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) }); err != nil {
		t.Fatal(err)
	}
	r, err := nc.Request("svc", []byte("x"), 5*time.Second)
	if err != nil || string(r.Data) != "re:x" {
		t.Fatalf("request: %v %v", r, err)
	}
	_, err = nc.Request("nobody", nil, 5*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("want no responders, got %v", err)
	}
	rm := s.Inject(Refuse("svc", 1))
	defer rm()
	if _, err := nc.Request("svc", nil, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("refused: want no responders, got %v", err)
	}
	if r, err := nc.Request("svc", []byte("y"), 5*time.Second); err != nil || string(r.Data) != "re:y" {
		t.Fatalf("after refuse: %v %v", r, err)
	}
}

func TestQueueRoundRobin(t *testing.T) {
	s := Run(t, WithQueuePolicy(QueueRoundRobin))
	nc := connect(t, s)
	counts := make([]int, 3)
	subs := make([]*nats.Subscription, 3)
	for i := range subs {
		var err error
		if subs[i], err = nc.QueueSubscribeSync("work", "q"); err != nil {
			t.Fatal(err)
		}
	}
	for range 30 {
		nc.Publish("work", nil)
	}
	nc.Flush()
	if err := s.WaitForInterest(context.Background(), "work", 3); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		for {
			if _, err := sub.NextMsg(100 * time.Millisecond); err != nil {
				break
			}
			counts[i]++
		}
	}
	if counts[0] != 10 || counts[1] != 10 || counts[2] != 10 {
		t.Fatalf("round robin split %v, want 10 each", counts)
	}
}
