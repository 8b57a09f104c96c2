package natstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/internal/subject"
	"github.com/natskit/natskit/internal/wire"
)

// A clientProxy stands between clients and a server: it listens on 127.0.0.1 and forwards every
// connection frame by frame (internal/wire), the bytes unchanged, learning each connection's
// client ID, name and subscriptions. disconnect cuts a client off as a network failure would
// (a container's server cannot be told to); faults drop, hold back or repeat what clients
// publish; with a log, every message delivered to a client is recorded.
type clientProxy struct {
	ln     net.Listener
	target func() string // the server's host:port now; it may move when the server restarts
	log    *deliveryLog  // nil unless deliveries are recorded (WithProxy)

	fmu    sync.Mutex
	faults []*proxyFault
	timers []*time.Timer // delayed frames

	mu     sync.Mutex
	byCID  map[uint64]*proxied
	open   map[*proxied]struct{}
	closed bool
	wg     sync.WaitGroup
}

// proxied is one client connection and its connection to the server.
type proxied struct {
	client, server net.Conn
	once           sync.Once

	mu        sync.Mutex
	name      string            // from CONNECT
	cid       uint64            // from INFO
	subs      map[string]subRef // by SID, from SUB
	connected bool              // CONNECT has gone through
	closed    chan struct{}     // closed with the connection

	// wmu serialises writes to the server, so that pings lists the PINGs in the order the
	// server answers them: nil for the client's own, a channel for one the proxy sent (Sync).
	wmu   sync.Mutex
	pings []chan struct{}
	cmu   sync.Mutex // serialises writes to the client
}

type subRef struct{ subject, queue string }

func (p *proxied) close() {
	p.once.Do(func() {
		p.client.Close()
		p.server.Close()
		if p.closed != nil {
			close(p.closed)
		}
	})
}

// newClientProxy starts a proxy to the server whose client URL target returns. With record, it
// logs every message delivered to a client.
func newClientProxy(target func() string, record bool) (*clientProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &clientProxy{ln: ln, target: target, byCID: map[uint64]*proxied{}, open: map[*proxied]struct{}{}}
	if record {
		p.log = newDeliveryLog()
	}
	p.wg.Go(p.accept)
	return p, nil
}

// url is the proxy's client URL.
func (p *clientProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *clientProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve forwards one client connection until either side ends it.
func (p *clientProxy) serve(client net.Conn) {
	addr, err := hostPort(p.target())
	var server net.Conn
	if err == nil {
		server, err = net.DialTimeout("tcp", addr, DefaultTimeout)
	}
	if err != nil {
		client.Close()
		return
	}
	pc := &proxied{client: client, server: server, closed: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pc.close()
		return
	}
	p.open[pc] = struct{}{}
	p.mu.Unlock()
	defer func() {
		pc.close()
		p.mu.Lock()
		delete(p.open, pc)
		for cid, c := range p.byCID {
			if c == pc {
				delete(p.byCID, cid)
			}
		}
		p.mu.Unlock()
	}()

	p.pumpFrames(pc)
}

func (p *clientProxy) register(cid uint64, pc *proxied) {
	p.mu.Lock()
	p.byCID[cid] = pc
	p.mu.Unlock()
	pc.mu.Lock()
	pc.cid = cid
	pc.mu.Unlock()
}

// maxFrame bounds a frame the proxy reads: nats-server's largest max_payload, and headroom.
const maxFrame = 64<<20 + 1<<16

// pumpFrames forwards pc frame by frame both ways, learning its name, client ID and
// subscriptions, and logging every message the server delivers to it if the proxy keeps a log. A frame it cannot parse
// ends the reading that way: the rest is forwarded as it comes.
func (p *clientProxy) pumpFrames(pc *proxied) {
	// A publish over the server's max payload goes on to the server as it comes: its
	// "Maximum Payload Violation" answers the control line, before any payload is sent.
	fromClient := wire.NewReader(pc.client, maxFrame)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pump(pc.client, fromClient, func(f *wire.Frame) error { return p.fromClient(pc, f) }, func(f *wire.Frame) bool {
			switch f.Op {
			case wire.OpConnect:
				var c struct {
					Name string `json:"name"`
				}
				json.Unmarshal(f.Arg, &c)
				pc.mu.Lock()
				pc.name, pc.connected = c.Name, true
				pc.mu.Unlock()
			case wire.OpSub:
				pc.mu.Lock()
				if pc.subs == nil {
					pc.subs = map[string]subRef{}
				}
				pc.subs[f.SID] = subRef{f.Subject, f.Queue}
				pc.mu.Unlock()
			}
			return true
		})
		pc.close()
	}()
	pump(pc.server, wire.NewReader(pc.server, maxFrame), func(f *wire.Frame) error { return pc.writeClient(f.Raw) }, func(f *wire.Frame) bool {
		switch f.Op {
		case wire.OpInfo:
			if cid, ok := infoClientID(append([]byte("INFO "), f.Arg...)); ok {
				p.register(cid, pc)
			}
			if max := infoMaxPayload(f.Arg); max > 0 {
				fromClient.SetMaxPayload(max)
			}
		case wire.OpMsg, wire.OpHMsg:
			if p.log != nil {
				p.log.add(pc.delivery(f))
			}
		case wire.OpPong:
			pc.wmu.Lock()
			var mine chan struct{}
			if len(pc.pings) > 0 {
				mine, pc.pings = pc.pings[0], pc.pings[1:]
			}
			pc.wmu.Unlock()
			if mine != nil { // the answer to the proxy's PING: the client never asked
				close(mine)
				return false
			}
		}
		return true
	})
	pc.close()
	<-done
}

// writeServer forwards a client's frame to the server, noting a PING's place among the proxy's.
func (pc *proxied) writeServer(f *wire.Frame) error {
	pc.wmu.Lock()
	defer pc.wmu.Unlock()
	if f.Op == wire.OpPing {
		pc.pings = append(pc.pings, nil)
	}
	_, err := pc.server.Write(f.Raw)
	return err
}

func (pc *proxied) writeClient(b []byte) error {
	pc.cmu.Lock()
	defer pc.cmu.Unlock()
	_, err := pc.client.Write(b)
	return err
}

// fromClient forwards a client's frame to the server as the faults in force have it: a
// publish may be dropped, held back, repeated, or answered by the proxy itself.
func (p *clientProxy) fromClient(pc *proxied, f *wire.Frame) error {
	if f.Op == wire.OpPing {
		pc.mu.Lock()
		name := pc.name
		pc.mu.Unlock()
		if p.ignorePing(name) {
			return nil // the server never sees it, so no PONG comes back
		}
	}
	if f.Op != wire.OpPub && f.Op != wire.OpHPub {
		return pc.writeServer(f)
	}
	eff := p.effect(f.Subject, f.Reply)
	switch {
	case eff.refuse:
		return pc.answer(f.Reply, []byte("NATS/1.0 503\r\n\r\n"), nil)
	case eff.fail != nil:
		body, _ := json.Marshal(map[string]any{"type": "io.nats.jetstream.api.v1.error_response", "error": map[string]any{
			"code": eff.fail.Code, "err_code": eff.fail.ErrorCode, "description": eff.fail.Description}})
		return pc.answer(f.Reply, nil, body)
	case eff.delay > 0:
		cp := &wire.Frame{Op: f.Op, Raw: append([]byte(nil), f.Raw...)}
		p.fmu.Lock()
		p.timers = append(p.timers, time.AfterFunc(eff.delay, func() {
			for range eff.copies {
				pc.writeServer(cp)
			}
		}))
		p.fmu.Unlock()
		return nil
	}
	for range eff.copies {
		if err := pc.writeServer(f); err != nil {
			return err
		}
	}
	return nil
}

// answer delivers a message of the proxy's own to the client's subscription that takes reply:
// the server's no-responders status, or a JetStream error.
func (pc *proxied) answer(reply string, hdr, data []byte) error {
	if reply == "" {
		return nil
	}
	pc.mu.Lock()
	sid := ""
	for id, sub := range pc.subs {
		if subject.Matches(sub.subject, reply) {
			sid = id
			break
		}
	}
	pc.mu.Unlock()
	if sid == "" {
		return nil // nobody to tell: the request times out, as it would
	}
	var b []byte
	if hdr != nil {
		b = fmt.Appendf(nil, "HMSG %s %s %d %d\r\n%s%s\r\n", reply, sid, len(hdr), len(hdr)+len(data), hdr, data)
	} else {
		b = fmt.Appendf(nil, "MSG %s %s %d\r\n%s\r\n", reply, sid, len(data), data)
	}
	return pc.writeClient(b)
}

// A proxyFault is a fake.Fault in force in a proxy.
type proxyFault struct {
	spec fake.FaultSpec
	left int // messages still to affect; -1 for every one
}

// faultEffect is what the faults in force do to one publish.
type faultEffect struct {
	drop, refuse bool
	fail         *jetstream.APIError
	delay        time.Duration
	copies       int
}

// effect works out what the faults in force do to a publish on subj, and uses them up, as the
// fake does.
func (p *clientProxy) effect(subj, reply string) faultEffect {
	eff := faultEffect{copies: 1}
	p.fmu.Lock()
	defer p.fmu.Unlock()
	for _, f := range slices.Clone(p.faults) {
		k := f.spec.Kind
		if k == "ignore-pings" || !subject.Matches(f.spec.Pattern, subj) || (k == "refuse" || k == "fail") && reply == "" {
			continue
		}
		switch k {
		case "drop":
			eff.drop = true
		case "delay":
			eff.delay += f.spec.Delay
		case "duplicate":
			eff.copies++
		case "refuse":
			eff.refuse = true
		case "fail":
			if eff.fail == nil {
				eff.fail = f.spec.Err
			}
		}
		if f.left > 0 {
			if f.left--; f.left == 0 {
				p.removeFaultLocked(f)
			}
		}
	}
	if eff.drop {
		eff.copies = 0
	}
	return eff
}

// ignorePing reports whether an ignore-pings fault in force takes the next PING of the client
// named name, and uses it up, as the fake does.
func (p *clientProxy) ignorePing(name string) bool {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	hit := false
	for _, f := range slices.Clone(p.faults) {
		if f.spec.Kind != "ignore-pings" || (f.spec.Pattern != "" && f.spec.Pattern != name) {
			continue
		}
		hit = true
		if f.left > 0 {
			if f.left--; f.left == 0 {
				p.removeFaultLocked(f)
			}
		}
	}
	return hit
}

// inject puts faults in force until they have affected their messages or remove is called.
func (p *clientProxy) inject(faults []*fake.Fault) (remove func()) {
	var added []*proxyFault
	for _, f := range faults {
		spec := f.Spec()
		left := spec.N
		if left == 0 {
			left = -1
		}
		added = append(added, &proxyFault{spec: spec, left: left})
	}
	p.fmu.Lock()
	p.faults = append(p.faults, added...)
	p.fmu.Unlock()
	return func() {
		p.fmu.Lock()
		defer p.fmu.Unlock()
		for _, f := range added {
			p.removeFaultLocked(f)
		}
	}
}

func (p *clientProxy) removeFaultLocked(f *proxyFault) {
	if i := slices.Index(p.faults, f); i >= 0 {
		p.faults = slices.Delete(p.faults, i, i+1)
	}
}

// ping sends the server a PING of the proxy's and returns once its PONG is back: by then every
// message the server had for the client when it read the PING has passed the proxy.
func (pc *proxied) ping(ctx context.Context) error {
	pc.mu.Lock()
	connected := pc.connected
	pc.mu.Unlock()
	if !connected {
		return nil // nothing can have been delivered before CONNECT
	}
	pong := make(chan struct{})
	pc.wmu.Lock()
	pc.pings = append(pc.pings, pong)
	_, err := pc.server.Write([]byte("PING\r\n"))
	pc.wmu.Unlock()
	if err != nil {
		return nil // the connection is gone: nothing more will come through it
	}
	select {
	case <-pong:
		return nil
	case <-pc.closed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sync returns once every message the server had sent to any connection when sync was called
// has been logged.
func (p *clientProxy) sync(ctx context.Context) error {
	p.mu.Lock()
	open := make([]*proxied, 0, len(p.open))
	for pc := range p.open {
		open = append(open, pc)
	}
	p.mu.Unlock()
	errs := make([]error, len(open))
	var wg sync.WaitGroup
	for i, pc := range open {
		wg.Go(func() { errs[i] = pc.ping(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pump copies frames from src to write, showing each to see first; see returns false to keep a
// frame back.
func pump(src net.Conn, r *wire.Reader, write func(*wire.Frame) error, see func(*wire.Frame) bool) {
	for {
		f, err := r.Next()
		if err != nil {
			rest := &wire.Frame{}
			if f != nil {
				rest.Raw = f.Raw
			}
			if errors.Is(err, wire.ErrMalformed) {
				rest.Raw = append(rest.Raw, r.Buffered()...)
			}
			if len(rest.Raw) > 0 && write(rest) != nil {
				return
			}
			if errors.Is(err, wire.ErrMalformed) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 && write(&wire.Frame{Raw: buf[:n]}) != nil {
						return
					}
					if err != nil {
						return
					}
				}
			}
			return
		}
		if see(f) {
			if err := write(f); err != nil {
				return
			}
		}
	}
}

// delivery is the Delivery a MSG or HMSG frame to pc makes.
func (pc *proxied) delivery(f *wire.Frame) assert.Delivery {
	pc.mu.Lock()
	name, cid, sub := pc.name, pc.cid, pc.subs[f.SID]
	pc.mu.Unlock()
	if name == "" {
		name = fmt.Sprintf("cid %d", cid)
	}
	m := &nats.Msg{Subject: f.Subject, Reply: f.Reply, Data: append([]byte(nil), f.Data()...)}
	if h := f.Header(); h != nil {
		m.Header = parseHeader(h)
	}
	return assert.Delivery{Conn: name, ClientID: cid, SID: f.SID, Sub: sub.subject, Queue: sub.queue, Msg: m}
}

// parseHeader reads a NATS/1.0 header block into a nats.Header (the status line's code and
// description, if any, under Status and Description, as nats.go does).
func parseHeader(b []byte) nats.Header {
	h := nats.Header{}
	lines := strings.Split(string(b), "\r\n")
	if len(lines) > 0 {
		if status := strings.TrimSpace(strings.TrimPrefix(lines[0], "NATS/1.0")); status != "" {
			code, desc, _ := strings.Cut(status, " ")
			h.Set("Status", code)
			if desc != "" {
				h.Set("Description", strings.TrimSpace(desc))
			}
		}
	}
	for _, l := range lines[min(1, len(lines)):] {
		if k, v, ok := strings.Cut(l, ":"); ok && k != "" {
			h.Add(k, strings.TrimSpace(v))
		}
	}
	return h
}

// A deliveryLog is the messages a proxy saw delivered, in order.
type deliveryLog struct {
	mu     sync.Mutex
	all    []assert.Delivery
	notify chan struct{} // closed at the next delivery
}

func newDeliveryLog() *deliveryLog { return &deliveryLog{notify: make(chan struct{})} }

func (l *deliveryLog) add(d assert.Delivery) {
	l.mu.Lock()
	l.all = append(l.all, d)
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

func (l *deliveryLog) snapshot() ([]assert.Delivery, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all[:len(l.all):len(l.all)], l.notify
}

// infoClientID reads client_id from a server's INFO line.
func infoClientID(line []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("INFO "))
	if !ok {
		return 0, false
	}
	var info struct {
		ClientID uint64 `json:"client_id"`
	}
	if json.Unmarshal(bytes.TrimSpace(rest), &info) != nil || info.ClientID == 0 {
		return 0, false
	}
	return info.ClientID, true
}

// infoMaxPayload reads max_payload from an INFO's JSON, or 0.
func infoMaxPayload(arg []byte) int {
	var info struct {
		MaxPayload int `json:"max_payload"`
	}
	json.Unmarshal(arg, &info)
	return info.MaxPayload
}

// disconnect cuts the connection of client cid off at both ends.
func (p *clientProxy) disconnect(cid uint64) error {
	p.mu.Lock()
	pc := p.byCID[cid]
	p.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("no open connection with client ID %d", cid)
	}
	pc.close()
	return nil
}

// close stops accepting, cuts every connection and waits until each has ended.
func (p *clientProxy) close() {
	p.mu.Lock()
	p.closed = true
	open := make([]*proxied, 0, len(p.open))
	for pc := range p.open {
		open = append(open, pc)
	}
	p.mu.Unlock()
	p.ln.Close()
	p.fmu.Lock()
	for _, t := range p.timers {
		t.Stop()
	}
	p.fmu.Unlock()
	for _, pc := range open {
		pc.close()
	}
	p.wg.Wait()
}

// hostPort is the host:port of a nats:// URL.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", errors.New("no host in " + raw)
	}
	return u.Host, nil
}

// A proxiedInstance is a server whose clients go through a recording proxy (WithProxy).
type proxiedInstance struct {
	instance
	proxy *clientProxy
}

func newProxiedInstance(srv instance) (instance, error) {
	url := srv.url()
	p, err := newClientProxy(func() string { return url }, true)
	if err != nil {
		srv.shutdown()
		return nil, err
	}
	return &proxiedInstance{instance: srv, proxy: p}, nil
}

func (pi *proxiedInstance) url() string { return pi.proxy.url() }

func (pi *proxiedInstance) shutdown() {
	pi.proxy.close()
	pi.instance.shutdown()
}

// proxy is the Env's proxy, or nil.
func (e *Env) proxy() *clientProxy {
	switch s := e.srv.(type) {
	case *proxiedInstance:
		return s.proxy
	case *containerInstance:
		return s.proxy
	}
	return nil
}

// deliveryLog is the Env's proxy's log, or nil without WithProxy.
func (e *Env) deliveryLog() *deliveryLog {
	if p := e.proxy(); p != nil {
		return p.log
	}
	return nil
}

// server is the Env's server under natstest's proxy, if any.
func (e *Env) server() instance {
	if pi, ok := e.srv.(*proxiedInstance); ok {
		return pi.instance
	}
	return e.srv
}

// Delivered returns every message delivered to a connection of the Env so far, with the
// connection and subscription it reached, in arrival order, and a channel closed at the next
// delivery: an assert.Deliveries for assert.QueueGroup. It needs WithProxy: without it, it fails
// the test.
func (e *Env) Delivered() ([]assert.Delivery, <-chan struct{}) {
	if e.tb != nil {
		e.tb.Helper()
	}
	l := e.deliveryLog()
	if l == nil {
		e.fatalf("natstest: Delivered needs an Env made WithProxy: only then do its connections go through natstest's proxy")
		return nil, nil
	}
	return l.snapshot()
}

// SyncDelivered returns once every message the server had sent to the Env's connections when it
// was called has reached Delivered's log. It needs WithProxy.
func (e *Env) SyncDelivered(ctx context.Context) error {
	p := e.proxy()
	if p == nil || p.log == nil {
		return errors.New("natstest: SyncDelivered needs an Env made WithProxy")
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := p.sync(ctx); err != nil {
		return fmt.Errorf("natstest: sync deliveries: %w", err)
	}
	return nil
}

// Inject puts faults in force on what the Env's clients publish, until each has affected its
// messages or remove is called: the same faults, with the same effect as the client sees it, on
// every backend. On the fake they act in the server (fake.Server.Inject). On the embedded and
// container backends they act in natstest's proxy (every container Env has one; an embedded
// server needs WithProxy): it drops, holds back
// or repeats the publishing client's PUB, and answers a refused request (a 503, no responders)
// or a failed JetStream call itself. There they apply to client publishes only, not to what the
// server sends on its own (a push consumer's deliveries), and a delay runs on real time.
func (e *Env) Inject(faults ...*fake.Fault) (remove func()) {
	if e.tb != nil {
		e.tb.Helper()
	}
	if s := e.Server(); s != nil {
		return s.Inject(faults...)
	}
	p := e.proxy()
	if p == nil {
		e.fatalf("natstest: Inject on the %s backend needs an Env made WithProxy: the faults act in natstest's proxy", e.backend)
		return func() {}
	}
	return p.inject(faults)
}
