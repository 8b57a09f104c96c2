package natstest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/fake"
)

// The proxy forwards clients byte for byte, knows each by the client ID the server gave it, and
// cuts one off without touching the others.
func TestClientProxy(t *testing.T) {
	for _, record := range []bool{false, true} {
		t.Run(map[bool]string{false: "bytes", true: "frames"}[record], func(t *testing.T) { testClientProxy(t, record) })
	}
}

func testClientProxy(t *testing.T, record bool) {
	srv := fake.Run(t)
	p, err := newClientProxy(srv.ClientURL, record)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	a, err := nats.Connect(p.url(), nats.ReconnectWait(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := nats.Connect(p.url())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, err := b.SubscribeSync("through")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitForInterest(ctx, "through", 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish("through", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "x" {
		t.Fatalf("through the proxy: %v, %v", m, err)
	}

	before, _ := a.GetClientID()
	reconnected := a.StatusChanged(nats.CONNECTED)
	defer a.RemoveStatusListener(reconnected)
	if err := p.disconnect(before); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("no reconnect after the proxy cut the client off")
	}
	if after, _ := a.GetClientID(); after == before {
		t.Errorf("client ID %d after reconnecting, want a new one", after)
	}
	if b.Reconnects != 0 || !b.IsConnected() {
		t.Errorf("the other client was touched: %d reconnects, connected %v", b.Reconnects, b.IsConnected())
	}
	if err := p.disconnect(before); err == nil {
		t.Error("disconnect of a client ID that is gone succeeded")
	}

	closed := b.StatusChanged(nats.RECONNECTING)
	defer b.RemoveStatusListener(closed)
	p.close()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("closing the proxy did not cut its clients off")
	}
	if _, err := nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(time.Second)); err == nil {
		t.Error("a closed proxy accepted a client")
	}
}

func TestInfoClientID(t *testing.T) {
	for line, want := range map[string]uint64{
		"INFO {\"server_id\":\"X\",\"client_id\":42}\r\n": 42,
		"INFO {}\r\n":              0,
		"INFO {not json\r\n":       0,
		"-ERR 'Authorization'\r\n": 0,
	} {
		got, ok := infoClientID([]byte(line))
		if got != want || ok != (want != 0) {
			t.Errorf("infoClientID(%q) = %d, %v; want %d", line, got, ok, want)
		}
	}
}

// With WithProxy, the Env knows which message reached which connection and subscription, on
// every backend.
func TestDelivered(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		ctx := ctxT(t)
		w1, w2 := env.Connect(nats.Name("w1")), env.Connect(nats.Name("w2"))
		for _, w := range []*nats.Conn{w1, w2} {
			if _, err := w.QueueSubscribe("jobs.*", "workers", func(*nats.Msg) {}); err != nil {
				t.Fatal(err)
			}
		}
		plain, err := env.Connect().SubscribeSync("jobs.>")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.WaitForInterest(ctx, "jobs.x", 3); err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg("jobs.x")
		m.Header.Set("Job", "1")
		m.Data = []byte("one")
		if err := env.Conn().PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		if _, err := plain.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		var ds []assert.Delivery
		for {
			var next <-chan struct{}
			ds, next = env.Delivered()
			if len(ds) >= 2 {
				break
			}
			select {
			case <-next:
			case <-ctx.Done():
				t.Fatalf("deliveries: %+v", ds)
			}
		}
		var queue, other assert.Delivery
		for _, d := range ds {
			if d.Queue == "workers" {
				queue = d
			} else {
				other = d
			}
		}
		if queue.Conn != "w1" && queue.Conn != "w2" || queue.Sub != "jobs.*" || queue.Msg.Subject != "jobs.x" ||
			string(queue.Msg.Data) != "one" || queue.Msg.Header.Get("Job") != "1" || queue.ClientID == 0 {
			t.Errorf("queue delivery %+v, msg %+v", queue, queue.Msg)
		}
		if other.Queue != "" || other.Sub != "jobs.>" || !strings.HasPrefix(other.Conn, "cid ") {
			t.Errorf("plain delivery %+v", other)
		}
	}, WithProxy(), WithJetStream(false))
}

func TestDeliveredNeedsProxy(t *testing.T) {
	tb := newFakeTB(t)
	tb.run(func() { New(tb).Delivered() })
	tb.finish()
	if got := tb.errorText(); !strings.Contains(got, "Delivered needs an Env made WithProxy") {
		t.Errorf("failure = %q", got)
	}
	for _, opts := range [][]Option{{WithInProcess()}, {WithCluster(3)}} {
		if env, err := Start(append(opts, WithProxy())...); err == nil {
			env.Close()
			t.Errorf("Start(%d options, WithProxy) succeeded", len(opts))
		}
	}
}
