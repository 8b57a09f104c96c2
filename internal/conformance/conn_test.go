package conformance

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// connEvents are a connection's disconnect, reconnect and close notifications.
type connEvents struct {
	disconnected chan error
	reconnected  chan struct{}
	closed       chan struct{}
	once         sync.Once
}

func newConnEvents() *connEvents {
	return &connEvents{disconnected: make(chan error, 8), reconnected: make(chan struct{}, 8), closed: make(chan struct{})}
}

// options are the handlers that feed the channels, and a reconnect without the usual two-second
// wait before trying the same server again.
func (e *connEvents) options() []nats.Option {
	return []nats.Option{
		nats.ReconnectWait(time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { e.disconnected <- err }),
		nats.ReconnectHandler(func(*nats.Conn) { e.reconnected <- struct{}{} }),
		nats.ClosedHandler(func(*nats.Conn) { e.once.Do(func() { close(e.closed) }) }),
	}
}

// disconnect has the server cut nc off and waits until nc has seen it and reconnected.
func disconnect(t *testing.T, env *natstest.Env, nc *nats.Conn, ev *connEvents) error {
	t.Helper()
	if err := env.Disconnect(nc); err != nil {
		t.Fatal(err)
	}
	err := await(t, ev.disconnected, "the disconnect")
	await(t, ev.reconnected, "the reconnect")
	return err
}

// TestFlushMakesSubscriptionLive: once Flush returns after Subscribe, the server has the
// subscription: a message another connection publishes afterwards is delivered.
func TestFlushMakesSubscriptionLive(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		sub := subSync(t, nc, "live")
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := nc.FlushWithContext(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		publish(t, env.Conn(), "live", "now")
		if d := nextData(t, sub); d != "now" {
			t.Errorf("got %q", d)
		}
	})
}

// TestDrainSubscription: Drain unsubscribes at the server, lets the callback finish every
// message already delivered, then closes the subscription; later messages are not delivered.
func TestDrainSubscription(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		sub, err := nc.Subscribe("d", func(m *nats.Msg) {
			<-release
			mu.Lock()
			got = append(got, string(m.Data))
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		mark := subSync(t, nc, "d.mark")
		flush(t, nc)
		want := seq("m", 10)
		for _, d := range want {
			publish(t, env.Conn(), "d", d)
		}
		marker(t, env.Conn(), "d.mark", mark) // all ten are in the client, waiting for the callback
		closed := sub.StatusChanged(nats.SubscriptionClosed)
		if err := sub.Drain(); err != nil {
			t.Fatal(err)
		}
		close(release)
		await(t, closed, "the drained subscription to close")
		publish(t, env.Conn(), "d", "late")
		marker(t, env.Conn(), "d.mark", mark)
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("callback got %q, want %q", got, want)
		}
	})
}

// TestDrainConnection: draining a connection delivers every message already received to its
// callbacks, then closes it; afterwards publishing fails with nats.ErrConnectionClosed.
func TestDrainConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		closedOpt, closed := closedChan()
		nc := env.Connect(closedOpt)
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		if _, err := nc.Subscribe("d", func(m *nats.Msg) {
			<-release
			mu.Lock()
			got = append(got, string(m.Data))
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
		mark := subSync(t, nc, "d.mark")
		flush(t, nc)
		want := seq("m", 20)
		for _, d := range want {
			publish(t, env.Conn(), "d", d)
		}
		marker(t, env.Conn(), "d.mark", mark)
		if err := mark.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		if err := nc.Drain(); err != nil {
			t.Fatal(err)
		}
		close(release)
		await(t, closed, "the drained connection to close")
		mu.Lock()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("callback got %q, want %q", got, want)
		}
		mu.Unlock()
		wantIs(t, nc.Publish("d", nil), nats.ErrConnectionClosed, "nats: connection closed")
	})
}

// TestDrainDeliversPublishes: what a connection published before Drain reaches the subscribers.
func TestDrainDeliversPublishes(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "out")
		interest(t, env, "out", 1)
		closedOpt, closed := closedChan()
		pub := env.Connect(closedOpt)
		want := seq("p", 500)
		for _, d := range want {
			publish(t, pub, "out", d)
		}
		if err := pub.Drain(); err != nil {
			t.Fatal(err)
		}
		await(t, closed, "the publisher to close")
		for i, w := range want {
			if d := nextData(t, sub); d != w {
				t.Fatalf("message %d is %q, want %q", i, d, w)
			}
		}
	})
}

// TestReconnectResubscribes: when the server cuts a client off, the client reconnects and
// subscribes again, plain and queue subscriptions alike, and messages flow again.
func TestReconnectResubscribes(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		ev := newConnEvents()
		nc := env.Connect(ev.options()...)
		plain := subSync(t, nc, "r.plain")
		q := queueSync(t, nc, "r.queue", "g")
		flush(t, nc)
		err := disconnect(t, env, nc, ev)
		if !errors.Is(err, io.EOF) {
			t.Errorf("disconnect error %v, want %v", err, io.EOF)
		}
		if !nc.IsConnected() {
			t.Fatalf("status %v after the reconnect", nc.Status())
		}
		interest(t, env, "r.plain", 1)
		interest(t, env, "r.queue", 1)
		publish(t, env.Conn(), "r.plain", "p")
		publish(t, env.Conn(), "r.queue", "q")
		if d := nextData(t, plain); d != "p" {
			t.Errorf("plain got %q", d)
		}
		if d := nextData(t, q); d != "q" {
			t.Errorf("queue got %q", d)
		}
		if nc.Stats().Reconnects != 1 {
			t.Errorf("%d reconnects, want 1", nc.Stats().Reconnects)
		}
	})
}

// TestReconnectNewClientID: a reconnected client is a new connection to the server, with a new
// client id.
func TestReconnectNewClientID(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		ev := newConnEvents()
		nc := env.Connect(ev.options()...)
		before, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		disconnect(t, env, nc, ev)
		after, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		if after == before || after == 0 {
			t.Errorf("client id %d before, %d after the reconnect", before, after)
		}
	})
}

// TestReconnectRequestsWork: after a reconnect the client's request inbox subscription is back:
// requests are answered, and no-responders still reported.
func TestReconnectRequestsWork(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		respond(t, env, "svc", echo)
		interest(t, env, "svc", 1)
		ev := newConnEvents()
		nc := env.Connect(ev.options()...)
		if _, err := nc.Request("svc", []byte("1"), patience); err != nil {
			t.Fatal(err)
		}
		disconnect(t, env, nc, ev)
		resp, err := nc.Request("svc", []byte("2"), patience)
		if err != nil || string(resp.Data) != "2" {
			t.Fatalf("request after reconnect: %v, %v", resp, err)
		}
		_, err = nc.Request("nobody", nil, patience)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestReconnectPublishesWhileDown: messages published between the disconnect and the reconnect
// are buffered by the client and delivered once it is back.
func TestReconnectPublishesWhileDown(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "buffered")
		interest(t, env, "buffered", 1)
		ev := newConnEvents()
		published := make(chan error, 1)
		opts := append(ev.options(), nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			published <- c.Publish("buffered", []byte("while down"))
			ev.disconnected <- err
		}))
		nc := env.Connect(opts...)
		disconnect(t, env, nc, ev)
		if err := await(t, published, "the publish"); err != nil {
			t.Fatal(err)
		}
		publish(t, nc, "buffered", "after")
		if d := nextData(t, sub); d != "while down" {
			t.Errorf("got %q first", d)
		}
		if d := nextData(t, sub); d != "after" {
			t.Errorf("got %q second", d)
		}
	})
}

// TestDisconnectWithoutReconnect: a client that may not reconnect is closed when the server
// cuts it off.
func TestDisconnectWithoutReconnect(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		ev := newConnEvents()
		nc := env.Connect(append(ev.options(), nats.NoReconnect())...)
		if err := env.Disconnect(nc); err != nil {
			t.Fatal(err)
		}
		await(t, ev.closed, "the connection to close")
		if nc.Status() != nats.CLOSED {
			t.Errorf("status %v, want CLOSED", nc.Status())
		}
		wantIs(t, nc.Publish("x", nil), nats.ErrConnectionClosed, "nats: connection closed")
	})
}

// TestManyClientsPublishing: many connections publishing at once; a subscriber gets every
// message, and each publisher's in the order it published.
func TestManyClientsPublishing(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "load.>")
		interest(t, env, "load.x", 1)
		const clients, perClient = 16, 200
		conns := make([]*nats.Conn, clients)
		for i := range conns {
			conns[i] = env.Connect()
		}
		start := make(chan struct{})
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for i, nc := range conns {
			wg.Go(func() {
				<-start
				for j := range perClient {
					if err := nc.Publish(fmt.Sprintf("load.%d", i), fmt.Appendf(nil, "c%d/%d", i, j)); err != nil {
						errs <- err
						return
					}
				}
				errs <- nc.Flush()
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		msgs := make([]*nats.Msg, clients*perClient)
		for i := range msgs {
			msgs[i] = next(t, sub)
		}
		inOrder(t, msgs)
		counts := map[string]int{}
		for _, m := range msgs {
			counts[m.Subject]++
		}
		for i := range clients {
			if n := counts[fmt.Sprintf("load.%d", i)]; n != perClient {
				t.Errorf("client %d: %d messages, want %d", i, n, perClient)
			}
		}
	})
}

// TestConnectionInfo: what a client learns from the server: a non-zero client id of its own,
// the 1 MiB maximum payload, header support, no authentication required, the client's IP, and
// a server id, name and version (which servers choose for themselves: checked loosely).
func TestConnectionInfo(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, other := env.Conn(), env.Connect()
		id, err := nc.GetClientID()
		if err != nil || id == 0 {
			t.Errorf("GetClientID() = %d, %v", id, err)
		}
		if id2, _ := other.GetClientID(); id2 == id {
			t.Errorf("two connections share client id %d", id)
		}
		if got := nc.MaxPayload(); got != 1<<20 {
			t.Errorf("MaxPayload() = %d", got)
		}
		if !nc.HeadersSupported() {
			t.Error("HeadersSupported() = false")
		}
		if nc.AuthRequired() || nc.TLSRequired() {
			t.Errorf("AuthRequired() = %v, TLSRequired() = %v", nc.AuthRequired(), nc.TLSRequired())
		}
		// A container's server sees its clients from behind Docker's NAT, at the bridge's
		// gateway: a private address.
		if ip, err := nc.GetClientIP(); err != nil || !ip.IsLoopback() && !(env.Backend() == natstest.Container && ip.IsPrivate()) {
			t.Errorf("GetClientIP() = %v, %v, want a loopback address", ip, err)
		}
		if u := nc.ConnectedUrl(); u != env.URL() {
			t.Errorf("ConnectedUrl() = %q, want %q", u, env.URL())
		}
		if nc.Status() != nats.CONNECTED || !nc.IsConnected() {
			t.Errorf("status %v", nc.Status())
		}
		if ds := nc.DiscoveredServers(); len(ds) != 0 {
			t.Errorf("DiscoveredServers() = %v, want none from a lone server", ds)
		}
		looksLikeVersion(t, nc.ConnectedServerVersion())
		nonEmpty(t, "ConnectedServerId()", nc.ConnectedServerId())
		nonEmpty(t, "ConnectedServerName()", nc.ConnectedServerName())
		if other.ConnectedServerId() != nc.ConnectedServerId() {
			t.Errorf("one server, two ids: %q and %q", nc.ConnectedServerId(), other.ConnectedServerId())
		}
		if rtt, err := nc.RTT(); err != nil || rtt <= 0 {
			t.Errorf("RTT() = %v, %v", rtt, err)
		}
	}, natstest.WithAddr("127.0.0.1:0")) // over TCP: the fake connects in process unless asked for a port
}

// TestConnectionInfoMaxPayload: a configured maximum payload is what the client is told.
func TestConnectionInfoMaxPayload(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		if got := env.Conn().MaxPayload(); got != 64<<10 {
			t.Errorf("MaxPayload() = %d, want %d", got, 64<<10)
		}
	}, natstest.WithMaxPayload(64<<10))
}

// TestConnectionInfoAuthRequired: with users configured, the client is told authentication is
// required.
func TestConnectionInfoAuthRequired(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		if !env.Conn().AuthRequired() {
			t.Error("AuthRequired() = false")
		}
	}, natstest.WithUsers(fake.User{Name: "u", Password: "p"}))
}

// TestCloseConnection: after Close, the closed handler runs and every operation fails with
// nats.ErrConnectionClosed.
func TestCloseConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		closedOpt, closed := closedChan()
		nc := env.Connect(closedOpt)
		nc.Close()
		await(t, closed, "the closed handler")
		wantIs(t, nc.Publish("x", nil), nats.ErrConnectionClosed, "nats: connection closed")
		_, err := nc.SubscribeSync("x")
		wantIs(t, err, nats.ErrConnectionClosed, "nats: connection closed")
		wantIs(t, nc.Flush(), nats.ErrConnectionClosed, "nats: connection closed")
		_, err = nc.Request("x", nil, patience)
		wantIs(t, err, nats.ErrConnectionClosed, "nats: connection closed")
	})
}

// TestStatistics: the client's counters agree with what the server delivered: messages and
// bytes out on the publisher, in on the subscriber.
func TestStatistics(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		subConn, pub := env.Connect(), env.Connect()
		sub := subSync(t, subConn, "stats")
		flush(t, subConn)
		for _, d := range []string{"a", "bb", "ccc"} {
			publish(t, pub, "stats", d)
		}
		for range 3 {
			next(t, sub)
		}
		if s := pub.Stats(); s.OutMsgs != 3 || s.OutBytes != 6 {
			t.Errorf("publisher out: %d messages, %d bytes", s.OutMsgs, s.OutBytes)
		}
		if s := subConn.Stats(); s.InMsgs != 3 || s.InBytes != 6 {
			t.Errorf("subscriber in: %d messages, %d bytes", s.InMsgs, s.InBytes)
		}
	})
}

// TestInProcessConnection: with no listener, clients reach the server in process: publish,
// subscribe and request work, and there is no URL.
func TestInProcessConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		if env.URL() != "" {
			t.Errorf("URL() = %q, want none", env.URL())
		}
		respond(t, env, "svc", echo)
		sub := subSync(t, env.Connect(), "ip")
		interest(t, env, "ip", 1)
		interest(t, env, "svc", 1)
		publish(t, env.Conn(), "ip", "x")
		if d := nextData(t, sub); d != "x" {
			t.Errorf("got %q", d)
		}
		resp, err := env.Conn().Request("svc", []byte("y"), patience)
		if err != nil || string(resp.Data) != "y" {
			t.Errorf("request: %v, %v", resp, err)
		}
		if id, err := env.Conn().GetClientID(); err != nil || id == 0 {
			t.Errorf("GetClientID() = %d, %v", id, err)
		}
	}, natstest.WithInProcess())
}
