package fake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/natskit/natskit/internal/bubble"

	"github.com/nats-io/nuid"
)

// Version is the nats-server version the fake reports in INFO: the one whose behaviour it follows.
const Version = "2.15.2"

// ErrServerClosed is returned by InProcessConn and Publish after Close.
var ErrServerClosed = errors.New("fake: server closed")

// ErrNotAccepting is returned by InProcessConn while RefuseConnections is in force.
var ErrNotAccepting = errors.New("fake: server is not accepting connections")

// A Server is an in-memory NATS server. Make one with NewServer or Run; its methods are safe for
// concurrent use.
type Server struct {
	opts    *options
	id      string
	clock   *clock
	noStall bool // started in a testing/synctest bubble: publishers are never stalled (stall.go)

	ln       net.Listener
	addr     string // the address listened on, kept while refusing connections
	acceptWG sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	refusing bool
	ldm      bool // in lame duck mode, until AcceptConnections
	clients  map[uint64]*client
	nextCID  uint64
	subs     sublist
	rng      *rand.Rand // queue-group picks
	jitter   *rand.Rand // PING and lame-duck timing: a stream of its own, so that when clients
	// connect does not change which queue member gets a message
	rr        map[string]uint64 // round-robin position per queue group
	faults    []*Fault
	faultsOn  atomic.Bool          // faults holds any: route takes s.mu for them only then
	pinged    map[*client]struct{} // clients sent a PING since the last FastForward
	interestC chan struct{}        // closed and replaced when subscriptions change

	stats   counters
	connsWG sync.WaitGroup

	js *jetStream // nil with WithoutJetStream
}

// counters are the server's totals that are not a connection's. A connection counts its own
// messages and bytes (no cache line shared by every publisher); Stats adds up the connections
// there are and those that have gone.
type counters struct {
	ownMsgs, ownBytes         atomic.Int64 // the server's own publishes (Server.Publish)
	slowConsumers, totalConns atomic.Int64
	stalls                    atomic.Int64 // publishers held at a slow receiver's gate
	gone                      traffic      // what closed connections did; guarded by Server.mu
}

// traffic is a connection's or a server's messages and bytes, in and out.
type traffic struct{ inMsgs, outMsgs, inBytes, outBytes int64 }

// traffic reads c's counters.
func (c *client) traffic() traffic {
	return traffic{c.inMsgs.Load(), c.outMsgs.Load(), c.inBytes.Load(), c.outBytes.Load()}
}

func (t *traffic) add(u traffic) {
	t.inMsgs += u.inMsgs
	t.outMsgs += u.outMsgs
	t.inBytes += u.inBytes
	t.outBytes += u.outBytes
}

// NewServer starts a server on 127.0.0.1 on a free port (WithAddr for another address,
// WithoutListener for none). The caller must Close it.
func NewServer(opts ...Option) (*Server, error) {
	o := newOptions(opts)
	if !o.noListen && bubble.In() {
		return nil, errors.New("fake: a server that listens on TCP cannot run inside a testing/synctest bubble: its goroutine waiting in Accept would keep the bubble's clock from moving; add WithoutListener() and connect with nats.InProcessServer(s)")
	}
	if o.name == "" {
		o.name = "fake"
	}
	s := &Server{
		opts:      o,
		id:        "NFAKE" + nuid.Next(),
		clock:     newClock(),
		noStall:   bubble.In(),
		clients:   make(map[uint64]*client),
		rng:       rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)),
		jitter:    rand.New(rand.NewPCG(o.seed^0x6a09e667f3bcc908, o.seed)),
		rr:        make(map[string]uint64),
		interestC: make(chan struct{}),
	}
	s.subs.init()
	if o.frozen {
		s.clock.freeze(o.start)
	}
	if !o.noListen {
		ln, err := net.Listen("tcp", o.addr)
		if err != nil {
			return nil, fmt.Errorf("fake: listen on %s: %w", o.addr, err)
		}
		s.ln, s.addr = ln, ln.Addr().String()
		s.logf("fake: listening for client connections on %s", s.ClientURL())
	}
	if !o.noJetStream {
		s.js = newJetStream(s)
	}
	if s.ln != nil {
		s.acceptWG.Add(1)
		go s.acceptLoop(s.ln)
	}
	return s, nil
}

// A TB is the part of testing.TB that Run uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

var _ TB = testing.TB(nil)

// Run starts a server as NewServer does, fails the test if it cannot, and closes it when the
// test ends. If the test fails (and t has Failed and Logf, as a testing.TB has), Run logs the
// server's seed, so that WithSeed can repeat its random choices.
//
// Inside a testing/synctest bubble, Run needs WithoutListener (clients connect with
// nats.InProcessServer). It also keeps the bubble apart from nats.go's process-wide timer pool,
// as natstest.New does (its README's "Virtual time" tells how): a bubbled test waits for the
// servers of tests outside bubbles to close, and holds theirs off while its own are open (when t
// has a Name, as a testing.TB has).
func Run(t TB, opts ...Option) *Server {
	t.Helper()
	if n, ok := t.(interface{ Name() string }); ok {
		leave, err := bubble.Enter(n.Name(), bubble.In())
		if err != nil {
			t.Fatalf("fake: %v", err)
		}
		t.Cleanup(leave) // registered before Close, so run after it
	}
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("fake: start server: %v", err)
	}
	t.Cleanup(s.Close)
	if r, ok := t.(failReporter); ok {
		t.Cleanup(func() {
			if r.Failed() {
				r.Logf("%s", s.seedNote())
			}
		})
	}
	return s
}

type failReporter interface {
	Failed() bool
	Logf(format string, args ...any)
}

// seedNote says how to repeat the server's random choices: "fake: seed N; fake.WithSeed(N) repeats
// this server's random choices".
func (s *Server) seedNote() string {
	return fmt.Sprintf("fake: seed %d; fake.WithSeed(%d) repeats this server's random choices", s.opts.seed, s.opts.seed)
}

// ClientURL is the URL clients connect to ("nats://127.0.0.1:PORT"), or "" for a server without
// a listener.
func (s *Server) ClientURL() string {
	if s.addr == "" {
		return ""
	}
	return "nats://" + s.addr
}

// Addr is the address the server listens on, or "" for a server without a listener.
func (s *Server) Addr() string { return s.addr }

// ID is the server_id the server reports in INFO.
func (s *Server) ID() string { return s.id }

// Seed is the seed of the server's random choices: WithSeed's, or the one it drew. A server
// started WithSeed(s.Seed()) makes the same choices for the same sequence of events.
func (s *Server) Seed() uint64 { return s.opts.seed }

// InProcessConn returns a connection to the server over an in-memory pipe, so that
// nats.Connect("", nats.InProcessServer(s)) needs no socket.
func (s *Server) InProcessConn() (net.Conn, error) {
	srv, cli := net.Pipe()
	if err := s.serve(srv, "pipe"); err != nil {
		srv.Close()
		cli.Close()
		return nil, err
	}
	return cli, nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.acceptWG.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		host := "127.0.0.1"
		if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
			host = a.IP.String()
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		if err := s.serve(nc, host); err != nil {
			nc.Close()
		}
	}
}

// serve registers nc as a new client and starts its reader and writer.
func (s *Server) serve(nc net.Conn, host string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.refusing {
		s.mu.Unlock()
		return ErrNotAccepting
	}
	s.nextCID++
	c := newClient(s, s.nextCID, nc, host)
	s.clients[c.id] = c
	s.connsWG.Add(2)
	s.mu.Unlock()
	s.stats.totalConns.Add(1)
	c.startLiveness()
	go c.writeLoop()
	go c.readLoop()
	return nil
}

// info is the INFO line sent to client c.
func (s *Server) info(c *client, ldm bool) []byte {
	type info struct {
		ServerID     string `json:"server_id"`
		ServerName   string `json:"server_name"`
		Version      string `json:"version"`
		Proto        int    `json:"proto"`
		Go           string `json:"go"`
		Host         string `json:"host"`
		Port         int    `json:"port"`
		Headers      bool   `json:"headers"`
		AuthRequired bool   `json:"auth_required,omitempty"`
		MaxPayload   int32  `json:"max_payload"`
		JetStream    bool   `json:"jetstream,omitempty"`
		ClientID     uint64 `json:"client_id"`
		ClientIP     string `json:"client_ip"`
		LameDuckMode bool   `json:"ldm,omitempty"`
	}
	host, port := "127.0.0.1", 0
	if s.addr != "" {
		h, p, _ := net.SplitHostPort(s.addr)
		host = h
		port, _ = strconv.Atoi(p)
	}
	b, _ := json.Marshal(info{
		ServerID: s.id, ServerName: s.opts.name, Version: Version, Proto: 1, Go: runtime.Version(),
		Host: host, Port: port, Headers: true, AuthRequired: s.authRequired(),
		MaxPayload: s.opts.maxPayload, ClientID: c.id, ClientIP: c.host, JetStream: s.js != nil,
		LameDuckMode: ldm,
	})
	return append(append([]byte("INFO "), b...), '\r', '\n')
}

// Close shuts the server down for good: as nats-server does, it ends the waiting pull requests
// with 409 Server Shutdown, then disconnects every client, stops listening and waits for every
// goroutine the server started. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.connsWG.Wait()
		return
	}
	s.closed = true
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if s.js != nil {
		s.js.signalShutdown()
	}
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.acceptWG.Wait()
	for _, c := range clients {
		c.close(closeServerShutdown)
	}
	if s.js != nil {
		s.js.close()
	}
	s.clock.close()
	s.connsWG.Wait()
}

// Stop takes the server down as a nats-server is shut down for a restart: waiting pull requests
// end with 409 Server Shutdown, new connections are refused and every client is disconnected
// (clients then try to reconnect). File-storage streams, their consumers and messages stay;
// what the server keeps in memory is lost: streams with memory storage, and consumers with
// memory storage (nats.go's ordered consumers), as after a restart.
// AcceptConnections brings it back, on the same address.
func (s *Server) Stop() {
	if s.js != nil {
		s.js.signalShutdown()
	}
	s.RefuseConnections()
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		c.close(closeServerShutdown)
	}
}

// RefuseConnections stops accepting new connections, as a server that is down: the listener is
// closed (clients get "connection refused") and InProcessConn fails. Existing connections stay;
// Disconnect them to make clients try to reconnect. AcceptConnections undoes it.
func (s *Server) RefuseConnections() {
	s.mu.Lock()
	s.refusing = true
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
		s.acceptWG.Wait()
	}
}

// AcceptConnections accepts connections again after RefuseConnections, on the same address.
func (s *Server) AcceptConnections() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	s.refusing, s.ldm = false, false
	if s.addr == "" || s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("fake: listen again on %s: %w", s.addr, err)
	}
	s.ln = ln
	s.acceptWG.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// removeClient forgets c and its subscriptions.
func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	if _, ok := s.clients[c.id]; ok {
		s.stats.gone.add(c.traffic())
	}
	delete(s.clients, c.id)
	delete(s.pinged, c)
	var changed []string
	for _, sub := range c.subs {
		sub.gone.Store(true) // a publish that matched it before picks another queue member
		s.subs.remove(sub)
		changed = append(changed, sub.subject)
	}
	if len(changed) > 0 {
		s.interestChangedLocked(changed...)
	}
	s.mu.Unlock()
}

// interestChangedLocked wakes WaitForInterest callers, and the push consumers whose deliver
// subject the subscriptions on subjects, come or gone, match. s.mu must be held.
func (s *Server) interestChangedLocked(subjects ...string) {
	close(s.interestC)
	s.interestC = make(chan struct{})
	if s.js != nil {
		s.js.interestChanged(subjects)
	}
}

// WaitForInterest waits until at least n client subscriptions would receive a message published
// on subject, or ctx ends.
func (s *Server) WaitForInterest(ctx context.Context, subject string, n int) error {
	for {
		s.mu.Lock()
		got := s.interestLocked(subject, nil)
		ch := s.interestC
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake: waiting for %d subscriptions on %q, have %d: %w", n, subject, got, ctx.Err())
		}
	}
}

// Interest counts the client subscriptions that would receive a message published on subject,
// leaving out those of the clients whose IDs are in skip.
func (s *Server) Interest(subject string, skip ...uint64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m map[uint64]bool
	if len(skip) > 0 {
		m = make(map[uint64]bool, len(skip))
		for _, id := range skip {
			m[id] = true
		}
	}
	return s.interestLocked(subject, m)
}

func (s *Server) interestLocked(subject string, skip map[uint64]bool) int {
	n := 0
	for _, sub := range s.subs.all() {
		if sub.internal == nil && !skip[sub.client.id] && matchSub(sub.subject, subject) {
			n++
		}
	}
	return n
}

// Now is the time on the server's clock: the time it stamps on stored messages and measures its
// timers by.
func (s *Server) Now() time.Time { return s.clock.Now() }

// FastForward moves the server's clock forward by d and, before it returns, runs every timer that
// falls due: ack-wait and back-off redeliveries, nak delays, max-age and TTL expiry, inactive
// consumers, the duplicate window, pull request expiry and idle heartbeats, Delay faults. A test
// of a 30-second ack wait takes milliseconds. (On a frozen clock, expiries and heartbeats, which
// the client also measures on its own clock, come in real time as well.) The server's PINGs
// fall due too: FastForward then waits a moment (at most pongPatience) for the clients it pinged
// to answer, as they would have in the time skipped, so that a jump alone makes no connection
// stale. FastForward must not be called from a message handler that the server is waiting on.
func (s *Server) FastForward(d time.Duration) {
	s.clock.advance(d)
	s.awaitPongs()
}
