package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
)

// The proxy forwards clients byte for byte, knows each by the client ID the server gave it, and
// cuts one off without touching the others.
func TestClientProxy(t *testing.T) {
	srv := fake.Run(t)
	p, err := newClientProxy(srv.ClientURL)
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
