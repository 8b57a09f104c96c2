package natstest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/bubble"
	"github.com/natskit/natskit/internal/subject"
)

// DefaultTimeout bounds the Env's waits whose context has no deadline of its own.
const DefaultTimeout = 5 * time.Second

// An Env is a running NATS server with connections to it. New makes one for a test and releases
// every part of it in t.Cleanup: connections drained, then the server stopped, then its store
// directory removed. Start makes one outside a test, which Close releases.
type Env struct {
	tb      testing.TB // nil for an Env made by Start
	backend Backend
	cfg     *config
	srv     instance

	mu        sync.Mutex
	conns     []*nats.Conn // every connection Conn, Connect and Dial opened
	conn      *nats.Conn
	js        jetstream.JetStream
	recConn   *nats.Conn // the recorders' connection
	recorders []*recordLog
	closers   []func() // run by Close, last first, after the server has stopped
	once      sync.Once
}

// New starts a server for the test on the backend WithBackend names, else the one
// NATSTEST_BACKEND names, else DefaultBackend, and connects to it. It fails the test if it
// cannot. The server's log is printed through t.Log if the test fails.
func New(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	c := newConfig(opts)
	b, err := c.pickBackend()
	if err != nil {
		tb.Fatal(err)
	}
	c.tb = tb
	leave, err := bubble.Enter(tb.Name(), inBubble())
	if err != nil {
		tb.Fatalf("natstest: %v", err)
	}
	tb.Cleanup(leave) // after Close, which is registered later
	if c.storeDir == "" && needsStore(b) && !c.cluster() {
		c.storeDir = testStoreDir(tb, c.fileStore)
	}
	logs := &lineBuffer{max: 5000}
	c.log = func(line string) {
		logs.add(line)
		if c.logOutput != nil {
			fmt.Fprintln(c.logOutput, line)
		}
	}
	tb.Cleanup(func() {
		if tb.Failed() && c.logOutput == nil {
			tb.Logf("natstest: %s server log:\n%s", b, logs)
		}
	})
	srv, err := c.start(b)
	if err != nil {
		tb.Fatalf("natstest: start %s %s: %v", b, c.what(), err)
	}
	e := &Env{tb: tb, backend: b, cfg: c, srv: srv}
	if f, ok := srv.(*fakeInstance); ok {
		tb.Cleanup(func() {
			if tb.Failed() {
				seed := f.srv.Seed()
				tb.Logf("natstest: the fake's seed was %d: %s=%d repeats its random choices (queue-group picks, PING jitter), and in a testing/synctest bubble the whole run", seed, EnvSeed, seed)
			}
		})
	}
	tb.Cleanup(e.Close)
	nc, err := e.Dial(nats.Name("natstest"))
	if err != nil {
		tb.Fatalf("natstest: connect to %s server: %v", b, err)
	}
	e.conn = nc
	return e
}

// Start starts a server outside any test, for a TestMain, an Example or a command, as New does
// for a test. It opens no connection until Conn asks for one, keeps JetStream's store in a
// temporary directory unless WithStoreDir names one, and writes the server's log only to
// WithLogOutput's writer. Methods that would fail a test panic instead. The caller must Close it.
func Start(opts ...Option) (*Env, error) {
	c := newConfig(opts)
	b, err := c.pickBackend()
	if err != nil {
		return nil, err
	}
	var tmp string
	if c.storeDir == "" && needsStore(b) && !c.cluster() {
		if tmp = memoryDir(); tmp == "" {
			if tmp, err = os.MkdirTemp("", "natstest-"); err != nil {
				return nil, fmt.Errorf("natstest: store directory: %w", err)
			}
		}
		c.storeDir = tmp
	}
	removeTmp := func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	if c.logOutput != nil {
		c.log = func(line string) { fmt.Fprintln(c.logOutput, line) }
	}
	srv, err := c.start(b)
	if err != nil {
		removeTmp()
		return nil, fmt.Errorf("natstest: start %s %s: %w", b, c.what(), err)
	}
	return &Env{backend: b, cfg: c, srv: srv, closers: []func(){removeTmp}}, nil
}

// needsStore reports whether b keeps a JetStream store in a directory.
func needsStore(b Backend) bool {
	_, ok := b.(embeddedBackend)
	return ok
}

// pickBackend is the backend WithBackend names, else NATSTEST_BACKEND, else DefaultBackend,
// if it is available here. A cluster the fake would run runs embedded, unless WithBackend asks
// for the fake, which is an error.
func (c *config) pickBackend() (Backend, error) {
	b := c.backend
	if b == nil {
		var err error
		if b, err = backendFromEnv(); err != nil {
			return nil, err
		}
		if b == Fake && c.cluster() {
			b = Embedded
		}
	}
	if err := c.checkCluster(b); err != nil {
		return nil, err
	}
	if err := c.bubbleCheck(b); err != nil { // before available: a real backend's check is not bubble-safe
		return nil, err
	}
	if err := b.available(); err != nil {
		return nil, fmt.Errorf("natstest: backend %s is not available here: %w", b, err)
	}
	return b, nil
}

// fatalf fails the test, or panics in an Env made by Start.
func (e *Env) fatalf(format string, args ...any) {
	if e.tb != nil {
		e.tb.Helper()
		e.tb.Fatalf(format, args...)
		return
	}
	panic(fmt.Sprintf(format, args...))
}

// testStoreDir returns a JetStream store directory removed at the end of the test: on a
// memory-backed file system unless onDisk, or where there is none.
func testStoreDir(tb testing.TB, onDisk bool) string {
	if !onDisk {
		if dir := memoryDir(); dir != "" {
			tb.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// Backend is the backend the environment runs on.
func (e *Env) Backend() Backend { return e.backend }

// URL is the server's client URL (nats://127.0.0.1:PORT), or "" for a server WithInProcess. On a
// cluster it is every node's URL, node 0 first, joined with commas, as nats.Connect takes them.
// On the fake, the first call opens the TCP port (the Env's own connections go in process): so
// not inside a testing/synctest bubble, where it fails the test.
func (e *Env) URL() string {
	if f, ok := e.srv.(*fakeInstance); ok {
		if err := f.listen(); err != nil {
			e.fatalf("natstest: URL: %v", err)
		}
	}
	return e.srv.url()
}

// Conn is the environment's connection, opened by New (or on first use in an Env made by Start).
func (e *Env) Conn() *nats.Conn {
	if e.tb != nil {
		e.tb.Helper()
	}
	e.mu.Lock()
	nc := e.conn
	e.mu.Unlock()
	if nc != nil {
		return nc
	}
	nc, err := e.Dial(nats.Name("natstest"))
	if err != nil {
		e.fatalf("natstest: connect to %s server: %v", e.backend, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		e.conn = nc
	}
	return e.conn
}

// JetStream is a JetStream context on Conn. It fails the test if it cannot make one.
func (e *Env) JetStream() jetstream.JetStream {
	if e.tb != nil {
		e.tb.Helper()
	}
	nc := e.Conn()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.js == nil {
		js, err := jetstream.New(nc)
		if err != nil {
			e.fatalf("natstest: jetstream: %v", err)
		}
		e.js = js
	}
	return e.js
}

// Connect opens another connection, with the environment's connect options and then opts (a
// name, nats.NoEcho(), credentials). It fails the test if it cannot; Dial returns the error.
func (e *Env) Connect(opts ...nats.Option) *nats.Conn {
	if e.tb != nil {
		e.tb.Helper()
	}
	nc, err := e.Dial(opts...)
	if err != nil {
		e.fatalf("natstest: connect to %s server: %v", e.backend, err)
	}
	return nc
}

// Dial opens another connection as Connect does, and returns the error instead of failing the
// test: for tests of refused connections. The connection is drained at the end of the test.
func (e *Env) Dial(opts ...nats.Option) (*nats.Conn, error) {
	nc, err := e.dial(opts)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.conns = append(e.conns, nc)
	e.mu.Unlock()
	return nc, nil
}

func (e *Env) dial(opts []nats.Option) (*nats.Conn, error) {
	all := append(append(append(e.srv.dialOptions(), e.cfg.credentials()...), e.cfg.connectOpts...), opts...)
	url := e.srv.url()
	if d, ok := e.srv.(interface{ dialURL() string }); ok {
		url = d.dialURL()
	}
	return nats.Connect(url, all...)
}

// Disconnect cuts nc off at the server, as a network failure would: nc sees the connection
// drop and, unless its options forbid it, reconnects. For tests of reconnect handling.
func (e *Env) Disconnect(nc *nats.Conn) error {
	id, err := clientOf(nc)
	if err != nil {
		return fmt.Errorf("natstest: disconnect: %w", err)
	}
	if err := e.srv.disconnect(id); err != nil {
		return fmt.Errorf("natstest: disconnect client %d: %w", id.cid, err)
	}
	return nil
}

// recorderConn is the connection the recorders subscribe on, opened on first use.
func (e *Env) recorderConn() (*nats.Conn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.recConn == nil {
		nc, err := e.dial([]nats.Option{nats.Name("natstest-recorder")})
		if err != nil {
			return nil, err
		}
		e.recConn = nc
	}
	return e.recConn, nil
}

// WaitForInterest returns once n client subscriptions, queue members included, would receive a
// message published on subject. Subscriptions of the environment's recorders do not count.
// Without a deadline in ctx it waits at most DefaultTimeout.
func (e *Env) WaitForInterest(ctx context.Context, subj string, n int) error {
	if !subject.ValidLiteral(subj) {
		return fmt.Errorf("natstest: wait for interest: invalid subject %q", subj)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	start := time.Now()
	var have int
	err := poll(ctx, func() (bool, error) {
		var skip []clientID
		e.mu.Lock()
		if e.recConn != nil {
			if id, err := clientOf(e.recConn); err == nil {
				skip = append(skip, id)
			}
		}
		e.mu.Unlock()
		var err error
		have, err = e.srv.interest(ctx, subj, skip)
		return have >= n, err
	})
	if err != nil {
		return fmt.Errorf("natstest: waited %v for %d subscriptions on %q, have %d: %w",
			time.Since(start).Round(time.Millisecond), n, subj, have, err)
	}
	return nil
}

// flush makes a round trip to the server on every open connection of the environment but the
// recorders', so that what they published has been routed.
func (e *Env) flush(ctx context.Context) error {
	e.mu.Lock()
	conns := append([]*nats.Conn(nil), e.conns...)
	e.mu.Unlock()
	for _, nc := range conns {
		if nc.IsClosed() {
			continue
		}
		if err := nc.FlushWithContext(ctx); err != nil {
			return fmt.Errorf("natstest: flush %s: %w", connName(nc), err)
		}
	}
	return nil
}

func connName(nc *nats.Conn) string {
	if name := nc.Opts.Name; name != "" {
		return fmt.Sprintf("connection %q", name)
	}
	return "connection"
}

// Close drains every connection, the recorders' last, stops the server and removes what Start
// made for it. New calls it in t.Cleanup; it is safe to call more than once. In a
// testing/synctest bubble it then lets a second of the bubble's time pass (no wall time), for
// the client's goroutines to end before the bubble does.
func (e *Env) Close() {
	e.once.Do(func() {
		e.mu.Lock()
		conns, rec, recorders, closers := e.conns, e.recConn, e.recorders, e.closers
		e.conns, e.recConn, e.recorders, e.closers = nil, nil, nil, nil
		e.mu.Unlock()
		e.closeAll(conns)
		if rec != nil {
			drainAll([]*nats.Conn{rec})
		}
		for _, l := range recorders {
			l.stop()
		}
		e.srv.shutdown()
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		if inBubble() {
			settleClient()
		}
	})
}

// settleClient lets the goroutines nats.go leaves behind a closed connection end, in a bubble:
// a drained subscription's checker and a drain's watcher sleep 100 and 10 ms between looks, and
// a bubble's clock stops when its main goroutine ends, so a goroutine still asleep then is a
// deadlock that fails the test. A second of the bubble's time costs no wall time.
func settleClient() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	<-t.C
}

// closeAll ends the connections: each one that still has subscriptions of its own is drained, so
// that its handlers finish with what was already delivered; one whose only subscription is the
// client's request multiplexer (every JetStream call makes one) is flushed and closed, since a
// drain would cost it 10 ms or more (nats.go checks a draining connection on a 10 ms tick).
func (e *Env) closeAll(conns []*nats.Conn) {
	var drain []*nats.Conn
	var wg sync.WaitGroup
	for _, nc := range conns {
		if nc.IsClosed() {
			continue
		}
		if e.hasOwnSubscriptions(nc) {
			drain = append(drain, nc)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc.FlushTimeout(DefaultTimeout)
			nc.Close()
		}()
	}
	drainAll(drain)
	wg.Wait()
}

// hasOwnSubscriptions reports whether nc subscribes to anything but its request multiplexer, as
// the server sees it; when in doubt, it says yes. A subscription the client is dropping as the
// test ends (a Fetch unsubscribes its inbox just after handing over its last message) is given a
// moment to go.
func (e *Env) hasOwnSubscriptions(nc *nats.Conn) bool {
	if nc.NumSubscriptions() == 0 {
		return false
	}
	id, err := clientOf(nc)
	if err != nil {
		return true
	}
	if err := nc.FlushTimeout(DefaultTimeout); err != nil { // the server has seen every SUB
		return true
	}
	subs, err := e.srv.subscriptions(id)
	if err != nil {
		return true
	}
	inbox := nc.NewRespInbox()
	mux := inbox[:strings.LastIndexByte(inbox, '.')+1] + "*"
	want := 0
	if slices.Contains(subs, mux) {
		want = 1
	}
	// Timers, not a spin on time.Now: in a testing/synctest bubble a goroutine waiting on a
	// timer is durably blocked, so the bubble's clock moves on to it, while a spin on the clock
	// would never see the deadline pass.
	deadline := time.NewTimer(2 * time.Millisecond)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	for nc.NumSubscriptions() > want {
		select {
		case <-deadline.C:
			return nc.NumSubscriptions() > want
		case <-tick.C:
		}
	}
	return false
}

// drainAll drains the connections together and waits, a bounded time, until each has closed.
func drainAll(conns []*nats.Conn) {
	closed := make([]chan nats.Status, len(conns))
	for i, nc := range conns {
		closed[i] = nc.StatusChanged(nats.CLOSED)
		if !nc.IsClosed() && nc.Drain() != nil {
			nc.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	for i, nc := range conns {
		if !nc.IsClosed() {
			select {
			case <-closed[i]:
			case <-ctx.Done():
			}
		}
		nc.Close()
		nc.RemoveStatusListener(closed[i])
	}
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// poll calls cond until it reports true or an error, or ctx ends, backing off from 50µs to 5ms
// between calls.
func poll(ctx context.Context, cond func() (bool, error)) error {
	wait := 50 * time.Microsecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

// lineBuffer keeps the last max lines written to it.
type lineBuffer struct {
	mu      sync.Mutex
	max     int
	lines   []string
	dropped int
}

func (b *lineBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) == b.max {
		b.lines = b.lines[1:]
		b.dropped++
	}
	b.lines = append(b.lines, line)
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	if b.dropped > 0 {
		fmt.Fprintf(&sb, "(%d earlier lines dropped)\n", b.dropped)
	}
	for _, l := range b.lines {
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	return sb.String()
}
