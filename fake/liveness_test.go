package fake

import (
	"bufio"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
)

// rawPipe is an in-process connection spoken by hand.
type rawPipe struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

// rawConn connects in process and reads the INFO.
func rawConn(t *testing.T, s *Server) *rawPipe {
	t.Helper()
	c, err := s.InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &rawPipe{t: t, c: c, r: bufio.NewReader(c)}
	if l := p.line(); !strings.HasPrefix(l, "INFO ") {
		t.Fatalf("first line %q", l)
	}
	return p
}

func (p *rawPipe) send(s string) {
	p.t.Helper()
	p.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(p.c, s); err != nil {
		p.t.Fatalf("write %q: %v", s, err)
	}
}

func (p *rawPipe) line() string {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (p *rawPipe) expect(want string) {
	p.t.Helper()
	if got := p.line(); got != want {
		p.t.Fatalf("read %q, want %q", got, want)
	}
}

func (p *rawPipe) closed() {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := p.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		p.t.Fatalf("read %q, %v; want the connection closed", l, err)
	}
}

// pingedConn is a raw connection, through CONNECT, to a fake on a frozen clock that pings every
// minute.
func pingedConn(t *testing.T) (*Server, *rawPipe) {
	t.Helper()
	s := Run(t, WithoutListener(), WithFrozenClock(time.Unix(1e9, 0)), WithPingInterval(time.Minute))
	p := rawConn(t, s)
	p.send("CONNECT {\"verbose\":false}\r\nPING\r\n")
	p.expect("PONG")
	return s, p
}

// A connection that never answers the server's PINGs is pinged max-pings-out times, then closed
// as stale: the first PING within 2.4 s of CONNECT, the next ones a ping interval apart.
func TestStaleConnectionOnFastForward(t *testing.T) {
	s, p := pingedConn(t)
	s.FastForward(2400 * time.Millisecond)
	p.expect("PING")
	s.FastForward(time.Minute)
	p.expect("PING")
	s.FastForward(time.Minute)
	p.expect("-ERR 'Stale Connection'")
	p.closed()
}

// A connection that answers every PING stays, however far the clock moves.
func TestAnsweredPingsKeepConnection(t *testing.T) {
	s, p := pingedConn(t)
	s.FastForward(2400 * time.Millisecond)
	for range 5 {
		p.expect("PING")
		p.send("PONG\r\n")
		s.FastForward(time.Minute)
	}
	p.expect("PING")
	p.send("PING\r\n")
	p.expect("PONG")
}

// A client heard from within the interval (here its own PING) is not pinged; the first PING
// after CONNECT goes out regardless, to measure the round trip.
func TestActivityDelaysPing(t *testing.T) {
	s, p := pingedConn(t)
	s.FastForward(2400 * time.Millisecond)
	p.expect("PING")
	p.send("PONG\r\n")
	s.FastForward(30 * time.Second)
	p.send("PING\r\n")
	p.expect("PONG")
	s.FastForward(30 * time.Second) // the ping timer fires, 30 s after the client's PING
	p.send("PING\r\n")
	p.expect("PONG") // and nothing came before: no PING
}

// nats.go clients answer the PINGs a FastForward sends: jumping hours makes no connection stale.
func TestFastForwardKeepsClients(t *testing.T) {
	s := Run(t, WithoutListener(), WithPingInterval(time.Second))
	nc := inproc(t, s)
	for range 20 {
		s.FastForward(time.Minute)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush after the jumps: %v", err)
	}
	if len(s.Clients()) != 1 {
		t.Fatalf("clients: %v", s.Clients())
	}
}

// With authentication required, a connection that sends no CONNECT within the auth timeout is
// closed with -ERR 'Authentication Timeout'.
func TestAuthTimeout(t *testing.T) {
	s := Run(t, WithoutListener(), WithFrozenClock(time.Unix(1e9, 0)), WithToken("tok"), WithAuthTimeout(3*time.Second))
	p := rawConn(t, s)
	s.FastForward(2 * time.Second)
	s.FastForward(time.Second)
	p.expect("-ERR 'Authentication Timeout'")
	p.closed()

	q := rawConn(t, s)
	q.send("CONNECT {\"verbose\":false,\"auth_token\":\"tok\"}\r\nPING\r\n")
	q.expect("PONG")
	s.FastForward(10 * time.Second)
	q.expect("PING") // the first ping, not the auth timeout
	q.send("PING\r\n")
	q.expect("PONG")
}

// Without authentication there is no auth timeout, as in nats-server.
func TestNoAuthTimeoutWithoutAuth(t *testing.T) {
	s := Run(t, WithoutListener(), WithFrozenClock(time.Unix(1e9, 0)))
	p := rawConn(t, s)
	s.FastForward(time.Minute)
	p.send("CONNECT {\"verbose\":false}\r\nPING\r\n")
	p.expect("PONG")
}

// IgnorePings leaves the client's PINGs unanswered: its own stale detection drops the connection
// with nats.ErrStaleConnection; other clients are answered.
func TestIgnorePings(t *testing.T) {
	s := Run(t, WithoutListener())
	errs := make(chan error, 1)
	nc := inproc(t, s, nats.Name("quiet"), nats.PingInterval(20*time.Millisecond), nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	other := inproc(t, s, nats.Name("other"))
	remove := s.Inject(IgnorePings("quiet", 0))
	defer remove()
	if got := s.Faults(); len(got) != 1 || got[0] != `ignore-pings "quiet"` {
		t.Fatalf("faults: %q", got)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrStaleConnection) {
			t.Fatalf("disconnected with %v, want %v", err, nats.ErrStaleConnection)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client never found its connection stale")
	}
	nc.Close()
	if err := other.Flush(); err != nil {
		t.Fatalf("another client's PING: %v", err)
	}
}

// LameDuck sends INFO with ldm, refuses new connections, and closes the clients after the grace
// period.
func TestLameDuck(t *testing.T) {
	s := Run(t, WithoutListener(), WithFrozenClock(time.Unix(1e9, 0)), WithLameDuckGracePeriod(time.Second))
	ldm := make(chan struct{}, 1)
	closed := make(chan struct{})
	inproc(t, s, nats.NoReconnect(),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	p := rawConn(t, s)
	p.send("CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n")
	p.expect("PONG")
	s.LameDuck(5 * time.Second)
	if l := p.line(); !strings.HasPrefix(l, "INFO ") || !strings.Contains(l, `"ldm":true`) {
		t.Fatalf("read %q, want INFO with ldm", l)
	}
	select {
	case <-ldm:
	case <-time.After(5 * time.Second):
		t.Fatal("no lame duck mode handler call")
	}
	if _, err := s.InProcessConn(); !errors.Is(err, ErrNotAccepting) {
		t.Fatalf("new connection: %v", err)
	}
	select {
	case <-closed:
		t.Fatal("closed before the grace period")
	default:
	}
	s.FastForward(time.Second) // the grace period: the first client goes
	s.FastForward(2 * time.Second)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("client not closed")
	}
	p.closed()
	if err := s.AcceptConnections(); err != nil {
		t.Fatal(err)
	}
	rawConn(t, s)
}

// In a testing/synctest bubble the server's PINGs run on the bubble's clock: a connection that
// does not answer is found stale after minutes of virtual time, at once.
func TestStaleConnectionInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewServer(WithoutListener(), WithPingInterval(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, err := s.InProcessConn()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		start := time.Now()
		go io.WriteString(c, "CONNECT {\"verbose\":false}\r\n")
		var got []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			if !strings.HasPrefix(l, "INFO ") {
				got = append(got, strings.TrimSuffix(l, "\r\n"))
			}
		}
		if want := []string{"PING", "PING", "-ERR 'Stale Connection'"}; !slices.Equal(got, want) {
			t.Fatalf("read %q, want %q", got, want)
		}
		if d := time.Since(start); d < 2*time.Minute || d > 2*time.Minute+3*time.Second {
			t.Fatalf("closed after %v of the bubble's time, want 2m plus the first ping's 2 to 2.4 s", d)
		}
	})
}
