package conformance

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// Connection liveness in the timed tier: nats-server's own ping interval (2 minutes) and
// authentication timeout (2 seconds) in the fake's bubble, a fraction of a second on the
// embedded server. nats-server PINGs each client every ping interval (the first PING after
// CONNECT at most 2 s, plus up to 20%, after it), skips a PING when the client was heard from
// within the interval, and when a PING would be one more than max-pings-out unanswered sends
// -ERR 'Stale Connection' and closes. With authentication configured, a connection that sends no
// CONNECT within the auth timeout gets -ERR 'Authentication Timeout' and is closed; without
// authentication there is no such timer.

// firstPing caps the wait for the first PING after CONNECT (nats-server's
// firstClientPingInterval).
const firstPing = 2 * time.Second

// livePing is the server's ping interval in the tier.
func (tm timing) livePing() time.Duration { return tm.d(2*time.Minute, 200*time.Millisecond) }

// liveOpts are the liveness options of the tier's Envs: the ping interval and max pings out n.
func (tm timing) liveOpts(n int, opts ...natstest.Option) []natstest.Option {
	return append([]natstest.Option{natstest.WithJetStream(false), natstest.WithPingInterval(tm.livePing()),
		natstest.WithMaxPingsOut(n)}, opts...)
}

// timedWire opens a raw connection to the Env's server, each read of which may wait d: in the
// bubble over an in-memory pipe to the fake (a bubble cannot wait on TCP), else over TCP.
func timedWire(t *testing.T, env *natstest.Env, tm timing, d time.Duration) *wire {
	t.Helper()
	if !tm.virtual {
		w := dialWire(t, env)
		w.wait = d
		return w
	}
	c, err := env.Server().InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	return wireOn(t, c, d)
}

// expectNext reads the line want, the next event of sched, gap after the one before.
func expectNext(w *wire, sched *schedule, want string, gap time.Duration, jitter bool) {
	w.t.Helper()
	w.expect(want)
	sched.next(fmt.Sprintf("%q", want), gap, jitter)
}

// TestTimedStaleConnection: a connection that sends CONNECT and never answers a PING gets
// max-pings-out PINGs (2), an interval apart, then -ERR 'Stale Connection' an interval after the
// last, and is closed.
func TestTimedStaleConnection(t *testing.T) { timedStale(t, 2) }

// TestTimedStaleConnectionMaxPingsOut: max-pings-out is what the server allows before it gives
// up: with 1, one PING, then -ERR 'Stale Connection'.
func TestTimedStaleConnectionMaxPingsOut(t *testing.T) { timedStale(t, 1) }

// timedStale is the stale connection scenario with max-pings-out n.
func timedStale(t *testing.T, n int) {
	eachTiming(t, func(t *testing.T, tm timing) {
		iv := tm.livePing()
		env := tm.env(t, tm.liveOpts(n)...)
		w := timedWire(t, env, tm, tm.within(iv))
		sched := tm.schedule(t)
		w.handshake(`{"verbose":false}`)
		expectNext(w, sched, "PING", min(iv, firstPing), true) // the first, up to 20% later
		for range n - 1 {
			expectNext(w, sched, "PING", iv, false)
		}
		expectNext(w, sched, "-ERR 'Stale Connection'", iv, false)
		w.closed()
	})
}

// TestTimedAnsweredPingsKeepConnection: a connection that answers each PING with PONG stays,
// pinged every interval, however long it lives.
func TestTimedAnsweredPingsKeepConnection(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		iv := tm.livePing()
		env := tm.env(t, tm.liveOpts(1)...)
		w := timedWire(t, env, tm, tm.within(iv))
		sched := tm.schedule(t)
		w.handshake(`{"verbose":false}`)
		expectNext(w, sched, "PING", min(iv, firstPing), true) // the first, up to 20% later
		w.send("PONG\r\n")
		for range 4 {
			expectNext(w, sched, "PING", iv, false)
			w.send("PONG\r\n")
		}
		w.pingPong()
	})
}

// TestTimedAuthTimeout: with authentication configured, a connection that sends no CONNECT
// within the auth timeout (nats-server's default, 2 s) gets -ERR 'Authentication Timeout' and is
// closed.
func TestTimedAuthTimeout(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		auth := tm.d(2*time.Second, 200*time.Millisecond)
		env := tm.env(t, natstest.WithJetStream(false), withUser(fake.User{Name: "bob", Password: "pw"}), natstest.WithAuthTimeout(auth))
		sched := tm.schedule(t)
		w := timedWire(t, env, tm, tm.within(auth))
		expectNext(w, sched, "-ERR 'Authentication Timeout'", auth, false)
		w.closed()
	})
}

// TestTimedNoAuthTimeoutWithoutAuth: without authentication the auth timeout does not apply: a
// connection that never sends CONNECT is pinged at the full interval (CONNECT is what shortens
// the first one) and closed as stale, not for authentication.
func TestTimedNoAuthTimeoutWithoutAuth(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		iv := tm.livePing()
		env := tm.env(t, tm.liveOpts(2, natstest.WithAuthTimeout(tm.d(2*time.Second, 50*time.Millisecond)))...)
		sched := tm.schedule(t)
		w := timedWire(t, env, tm, tm.within(iv))
		expectNext(w, sched, "PING", iv, false)
		expectNext(w, sched, "PING", iv, false)
		expectNext(w, sched, "-ERR 'Stale Connection'", iv, false)
		w.closed()
	})
}

// TestTimedClientStale: a client whose PINGs go unanswered finds its connection stale by itself
// after its ping interval times max pings outstanding, reports nats.ErrStaleConnection to its
// disconnect handler, and reconnects. nats.go's defaults in the bubble; on the embedded server
// the IgnorePings fault acts in natstest's proxy, which keeps the client's PINGs from the server.
func TestTimedClientStale(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		opts := []natstest.Option{natstest.WithJetStream(false)}
		if !tm.virtual {
			opts = append(opts, natstest.WithProxy()) // a bubble has no sockets, so no proxy
		}
		env := tm.env(t, opts...)
		every, outstanding := tm.d(2*time.Minute, 50*time.Millisecond), 2 // nats.go's defaults in the bubble
		wait := tm.d(2*time.Second, 10*time.Millisecond)
		disc := make(chan error, 1)
		back := make(chan struct{}, 1)
		nc := env.Connect(nats.Name("quiet"), nats.PingInterval(every), nats.MaxPingsOutstanding(outstanding),
			nats.ReconnectWait(wait),
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
		start := time.Now()
		remove := env.Inject(fake.IgnorePings("quiet", 0)) // after the handshake, whose PING it would leave unanswered
		err := awaitWithin(t, disc, tm.within(time.Duration(outstanding+1)*every), "a disconnect")
		if !errors.Is(err, nats.ErrStaleConnection) {
			t.Fatalf("disconnected with %v, want %v", err, nats.ErrStaleConnection)
		}
		// nats.go counts a PING outstanding when its timer fires: the third finds two out.
		tm.due(t, "the stale connection", time.Since(start), time.Duration(outstanding+1)*every)
		remove()
		awaitWithin(t, back, tm.within(wait), "a reconnect")
		flush(t, nc)
		flush(t, env.Conn()) // the Env's own client, not named, was answered throughout
	})
}

// TestTimedLameDuckMode: in lame duck mode the server tells its clients (INFO with "ldm":true,
// which nats.go hands to its LameDuckModeHandler), accepts no new connections, and closes the
// clients once the grace period has passed, not before. nats-server's defaults in the bubble (2
// minutes, 10 s of grace), a second on the embedded server, started here since natstest's Env
// does not expose lame duck mode on its embedded server.
func TestTimedLameDuckMode(t *testing.T) {
	eachTiming(t, func(t *testing.T, tm timing) {
		duration, grace := tm.d(2*time.Minute, time.Second), tm.d(10*time.Second, 100*time.Millisecond)
		var (
			dial      func(opts ...nats.Option) (*nats.Conn, error)
			lameDuck  func()
			dialFails func() error // nil if a new connection was accepted
		)
		if tm.virtual {
			env := tm.env(t, natstest.WithJetStream(false), natstest.WithFakeOptions(fake.WithLameDuckGracePeriod(grace)))
			dial = env.Dial
			lameDuck = func() { env.Server().LameDuck(duration) }
			dialFails = func() error {
				c, err := env.Server().InProcessConn()
				if err == nil {
					c.Close()
				}
				return err
			}
		} else {
			s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
				LameDuckDuration: duration, LameDuckGracePeriod: grace})
			if err != nil {
				t.Fatal(err)
			}
			go s.Start()
			t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
			if !s.ReadyForConnections(patience) {
				t.Fatal("embedded server not ready")
			}
			dial = func(opts ...nats.Option) (*nats.Conn, error) { return nats.Connect(s.ClientURL(), opts...) }
			lameDuck = func() { go s.LameDuckShutdown() }
			dialFails = func() error {
				u, err := url.Parse(s.ClientURL())
				if err != nil {
					t.Fatal(err)
				}
				c, err := net.DialTimeout("tcp", u.Host, patience)
				if err == nil {
					c.Close()
				}
				return err
			}
		}
		ldm := make(chan struct{}, 1)
		closed := make(chan struct{})
		nc, err := dial(nats.NoReconnect(),
			nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
			nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		start := time.Now()
		lameDuck()
		awaitWithin(t, ldm, patience, "the lame duck mode handler")
		awaitWithin(t, closed, tm.within(duration), "the client closed")
		atLeast(t, "the client closed", time.Since(start), grace)
		if dialFails() == nil {
			t.Fatal("a new connection was accepted in lame duck mode")
		}
	})
}
