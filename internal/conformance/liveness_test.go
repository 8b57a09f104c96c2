package conformance

import (
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// Connection liveness, in real time with short durations. nats-server PINGs each client every
// ping interval (the first PING after CONNECT at most 2 s, plus up to 20%, after it), skips a
// PING when the client was heard from within the interval, and when a PING would be one more
// than max-pings-out unanswered sends -ERR 'Stale Connection' and closes. With authentication
// configured, a connection that sends no CONNECT within the auth timeout gets -ERR
// 'Authentication Timeout' and is closed; without authentication there is no such timer.

const livePing = 200 * time.Millisecond

// TestStaleConnection: a connection that sends CONNECT and never answers a PING gets max-pings-out
// PINGs, then -ERR 'Stale Connection', and is closed.
func TestStaleConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.expect("PING", "PING", "-ERR 'Stale Connection'")
		w.closed()
	}, natstest.WithPingInterval(livePing), natstest.WithMaxPingsOut(2))
}

// TestStaleConnectionMaxPingsOut: max-pings-out is what the server allows before it gives up.
func TestStaleConnectionMaxPingsOut(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.expect("PING", "-ERR 'Stale Connection'")
		w.closed()
	}, natstest.WithPingInterval(livePing), natstest.WithMaxPingsOut(1))
}

// TestAnsweredPingsKeepConnection: a connection that answers each PING with PONG stays.
func TestAnsweredPingsKeepConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		for range 4 {
			w.expect("PING")
			w.send("PONG\r\n")
		}
		w.pingPong()
	}, natstest.WithPingInterval(livePing), natstest.WithMaxPingsOut(1))
}

// TestAuthTimeout: with authentication configured, a connection that sends no CONNECT within the
// auth timeout gets -ERR 'Authentication Timeout' and is closed.
func TestAuthTimeout(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.expect("-ERR 'Authentication Timeout'")
		w.closed()
	}, withUser(fake.User{Name: "bob", Password: "pw"}), natstest.WithAuthTimeout(livePing))
}

// TestNoAuthTimeoutWithoutAuth: without authentication the auth timeout does not apply: a
// connection that never sends CONNECT is pinged at the full interval (CONNECT is what shortens
// the first one) and closed as stale, not for authentication.
func TestNoAuthTimeoutWithoutAuth(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.expect("PING", "PING", "-ERR 'Stale Connection'")
		w.closed()
	}, natstest.WithAuthTimeout(50*time.Millisecond), natstest.WithPingInterval(livePing), natstest.WithMaxPingsOut(2))
}

// TestClientStaleWhenServerIgnoresPings: a client whose PINGs go unanswered finds its connection
// stale by itself and reports nats.ErrStaleConnection to its disconnect handler. Fake only: the
// IgnorePings fault is the fake's (natstest's proxy does not apply it).
func TestClientStaleWhenServerIgnoresPings(t *testing.T) {
	env := natstest.New(t, natstest.WithBackend(natstest.Fake), natstest.WithJetStream(false))
	disc := make(chan error, 1)
	back := make(chan struct{}, 1)
	nc := env.Connect(nats.Name("quiet"), nats.PingInterval(50*time.Millisecond), nats.MaxPingsOutstanding(2),
		nats.ReconnectWait(10*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			select {
			case disc <- err:
			default:
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case back <- struct{}{}:
			default:
			}
		}))
	remove := env.Inject(fake.IgnorePings("quiet", 0)) // after the handshake, whose PING it would leave unanswered
	if err := await(t, disc, "a disconnect"); !errors.Is(err, nats.ErrStaleConnection) {
		t.Fatalf("disconnected with %v, want %v", err, nats.ErrStaleConnection)
	}
	remove()
	await(t, back, "a reconnect")
	flush(t, nc)
	flush(t, env.Conn()) // the Env's own client, not named, was answered throughout
}

// TestLameDuckMode: in lame duck mode the server tells its clients (INFO with "ldm":true, which
// nats.go hands to its LameDuckModeHandler), accepts no new connections, and after the grace
// period closes the clients. Run on the fake and on an embedded nats-server started here, since
// natstest's Env does not expose lame duck mode on its embedded server.
func TestLameDuckMode(t *testing.T) {
	const grace = 100 * time.Millisecond
	backends := []struct {
		name  string
		start func(t *testing.T) (url string, lameDuck func())
	}{
		{"fake", func(t *testing.T) (string, func()) {
			s := fake.Run(t, fake.WithoutJetStream(), fake.WithLameDuckGracePeriod(grace))
			return s.ClientURL(), func() { s.LameDuck(time.Second) }
		}},
		{"embedded", func(t *testing.T) (string, func()) {
			s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
				LameDuckDuration: time.Second, LameDuckGracePeriod: grace})
			if err != nil {
				t.Fatal(err)
			}
			go s.Start()
			t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
			if !s.ReadyForConnections(patience) {
				t.Fatal("embedded server not ready")
			}
			return s.ClientURL(), func() { go s.LameDuckShutdown() }
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			u, lameDuck := b.start(t)
			ldm := make(chan struct{}, 1)
			closed := make(chan struct{})
			nc, err := nats.Connect(u, nats.NoReconnect(),
				nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
				nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			lameDuck()
			await(t, ldm, "the lame duck mode handler")
			await(t, closed, "the client closed")
			pu, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := net.DialTimeout("tcp", pu.Host, patience); err == nil {
				c.Close()
				t.Fatal("a new connection was accepted in lame duck mode")
			}
		})
	}
}
