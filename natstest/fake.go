package natstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
)

// EnvSeed is the environment variable that seeds the fake's random choices (fake.WithSeed) in
// every Env that gives it no seed of its own. When a test on the fake fails, its log names the
// seed the fake drew: NATSTEST_SEED=<seed> go test -run <the test> repeats its queue-group picks,
// and in a testing/synctest bubble the whole run.
const EnvSeed = "NATSTEST_SEED"

// Fake runs natskit's in-memory server (package fake) inside the test process: the default
// backend. It serves core NATS and JetStream (streams, consumers, and through them the client's
// Key-Value and Object Store), with its timers on a clock the test moves (Env.FastForward).
var Fake Backend = fakeBackend{}

type fakeBackend struct{}

func (fakeBackend) String() string   { return "fake" }
func (fakeBackend) available() error { return nil }

func (fakeBackend) start(c *config) (instance, error) {
	switch {
	case c.configFile != "":
		return nil, errors.New("WithConfigFile configures nats-server: add WithBackend(natstest.Embedded)")
	case c.serverOpts != nil:
		return nil, errors.New("WithServerOptions configures nats-server: add WithBackend(natstest.Embedded)")
	}
	opts := []fake.Option{fake.WithUsers(c.users...), fake.WithToken(c.token)}
	if c.addr != "" {
		if _, _, err := splitAddr(c.addr); err != nil {
			return nil, err
		}
		opts = append(opts, fake.WithAddr(c.addr))
	}
	lazy := !c.inProcess && c.addr == "" && !c.proxy
	if c.inProcess || lazy {
		opts = append(opts, fake.WithoutListener())
	}
	if c.maxPayload != 0 {
		opts = append(opts, fake.WithMaxPayload(c.maxPayload))
	}
	if c.pingEvery != 0 {
		opts = append(opts, fake.WithPingInterval(c.pingEvery))
	}
	if c.maxPingsOut != 0 {
		opts = append(opts, fake.WithMaxPingsOut(c.maxPingsOut))
	}
	if c.authTimeout != 0 {
		opts = append(opts, fake.WithAuthTimeout(c.authTimeout))
	}
	if c.log != nil {
		log := c.log
		opts = append(opts, fake.WithLogf(func(format string, args ...any) { log(fmtLine(format, args...)) }))
	}
	if !c.jetStream {
		opts = append(opts, fake.WithoutJetStream())
	}
	if v := os.Getenv(EnvSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s=%q is not a seed: want an unsigned integer, as a failed test's log gives it", EnvSeed, v)
		}
		opts = append(opts, fake.WithSeed(n))
	}
	opts = append(opts, c.fakeOpts...) // a WithSeed of the test's own comes after, and wins
	s, err := fake.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	if lazy && c.log != nil {
		c.log("natstest: fake serving clients in process; it listens on TCP once Env.URL asks for an address")
	}
	return &fakeInstance{srv: s, lazy: lazy, log: c.log}, nil
}

// A fakeInstance is a fake server. Unless WithAddr or WithProxy asks for a port, or
// WithInProcess forbids one, it opens none until Env.URL asks for an address: the Env's own
// connections (Conn, Connect, Dial, the recorders') reach it in process, over net.Pipe, so that
// no goroutine waits on a socket. That is what lets New(t) with no option run inside a
// testing/synctest bubble, whose clock moves only when every goroutine in it is durably
// blocked, which a goroutine in Accept never is. It costs a test outside a bubble nothing: an
// in-process connection is faster than one over loopback. A test that hands the server to other
// code (a URL for a subprocess, a client of another language, a plain nats.Connect) calls
// Env.URL, which opens a TCP listener on 127.0.0.1 then, joined to the same server: the URL
// works as it always has, and connections through it are the fake's like any other.
type fakeInstance struct {
	srv  *fake.Server
	lazy bool // no listener of the fake's own: listen opens a bridge
	log  func(line string)

	mu     sync.Mutex
	bridge *bridge
}

// listen opens the TCP bridge of a lazy fake, once. In a bubble it refuses: a goroutine in
// Accept would keep the bubble's clock from moving.
func (f *fakeInstance) listen() error {
	if !f.lazy {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bridge != nil {
		return nil
	}
	if inBubble() {
		return fmt.Errorf("a TCP address for the fake inside a testing/synctest bubble would keep the bubble's clock from moving: connect with Env.Conn, Connect or Dial, which reach the fake in process: %w", errBubble)
	}
	b, err := listenBridge(f.srv)
	if err != nil {
		return err
	}
	f.bridge = b
	if f.log != nil {
		f.log("natstest: fake listening for client connections on " + b.url())
	}
	return nil
}

func (f *fakeInstance) url() string {
	if !f.lazy {
		return f.srv.ClientURL()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bridge == nil {
		return ""
	}
	return f.bridge.url()
}

// dialURL is the URL the Env's own connections dial: none when they go in process.
func (f *fakeInstance) dialURL() string { return f.srv.ClientURL() }

func (f *fakeInstance) dialOptions() []nats.Option {
	if f.srv.ClientURL() == "" {
		return []nats.Option{nats.InProcessServer(f.srv)}
	}
	return nil
}

func (f *fakeInstance) interest(_ context.Context, subj string, skip []clientID) (int, error) {
	ids := make([]uint64, 0, len(skip))
	for _, id := range skip {
		ids = append(ids, id.cid)
	}
	return f.srv.Interest(subj, ids...), nil
}

func (f *fakeInstance) subscriptions(id clientID) ([]string, error) {
	for _, c := range f.srv.Clients() {
		if c.ID == id.cid {
			out := make([]string, len(c.Subscriptions))
			for i, sub := range c.Subscriptions {
				out[i] = sub.Subject
			}
			return out, nil
		}
	}
	return nil, nil
}

func (f *fakeInstance) disconnect(id clientID) error { return f.srv.DisconnectClient(id.cid) }

// shutdown closes the server before the bridge, so that what the server sends as it shuts down
// (409 Server Shutdown to waiting pull requests) reaches the clients on TCP too.
func (f *fakeInstance) shutdown() {
	f.srv.Close()
	f.mu.Lock()
	b := f.bridge
	f.mu.Unlock()
	if b != nil {
		b.close()
	}
}

// Server is the fake server under the Env, or nil on another backend: for its state, faults and
// direct publishes.
func (e *Env) Server() *fake.Server {
	if f, ok := e.server().(*fakeInstance); ok {
		return f.srv
	}
	return nil
}

// FastForward moves time forward by d, as the server sees it. On the fake backend it moves the
// fake's clock and, before it returns, runs every timer that falls due (ack-wait and back-off
// redeliveries, nak delays, max age, TTLs), so a test of a 30-second ack wait takes milliseconds.
// A real server's clock cannot be moved: on the embedded and container backends FastForward
// waits d of real time, so the same test passes there too, only slower.
func (e *Env) FastForward(d time.Duration) {
	if f, ok := e.server().(*fakeInstance); ok {
		f.srv.FastForward(d)
		return
	}
	if d <= 0 {
		return
	}
	<-time.After(d) // a real server's timers run on real time: let d of it pass
}
