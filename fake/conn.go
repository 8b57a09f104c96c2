package fake

import (
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// closeReason says why a connection ended.
type closeReason int

const (
	closeClient closeReason = iota
	closeServerShutdown
	closeProtocol
	closeAuth
	closeSlowConsumer
	closeKicked
	closeMaxPayload
	closeStale
	closeAuthTimeout
)

// connectOpts is the client's CONNECT, with nats-server's defaults before it arrives.
type connectOpts struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	User         string `json:"user"`
	Pass         string `json:"pass"`
	Token        string `json:"auth_token"`
}

// A client is one connection: a reader goroutine that parses and routes, and a writer goroutine
// that drains the outbound queue, so no read ever waits on a write.
type client struct {
	srv  *Server
	id   uint64
	nc   net.Conn
	host string
	rd   reader

	// owned by the reader goroutine
	opts        connectOpts
	connected   bool
	perms       *perms
	pub         pubArgs
	pubMsg      message                  // the message being routed, reused: route does not keep it
	pcd         []*client                // connections written to while routing this read; woken after it
	pcdSet      map[*client]struct{}     // pcd as a set, once it is too long to search
	lastSubject string                   // the subject of the last PUB or HPUB
	stalled     time.Duration            // how long this read has waited at slow receivers' gates (stall.go)
	subs        map[string]*subscription // by sid; guarded by srv.mu for writes made elsewhere
	activity    bool                     // this read published or changed subscriptions

	liveMu sync.Mutex
	live   liveness

	// the outbound queue
	outMu    sync.Mutex
	out      outBuf
	spare    [][]byte // the chunk list of the last write, reused for the next queue
	writer   chunkWriter
	inFlight int
	stall    chan struct{} // open while the queue is past three quarters of the limit (stall.go)
	wake     chan struct{}
	closing  bool
	flushEnd bool // write what is queued before closing
	done     chan struct{}
	once     sync.Once
	start    time.Time

	headers  atomic.Bool // the client takes HMSG
	meta     atomic.Pointer[clientMeta]
	user     string
	inMsgs   atomic.Int64
	outMsgs  atomic.Int64
	inBytes  atomic.Int64
	outBytes atomic.Int64
}

// pubArgs are the arguments of the PUB or HPUB whose payload is being read.
type pubArgs struct {
	subject, reply string
	hdr            int // header bytes, -1 for PUB
}

func newClient(s *Server, id uint64, nc net.Conn, host string) *client {
	c := &client{
		srv: s, id: id, nc: nc, host: host,
		opts:  connectOpts{Verbose: true, Pedantic: true, Echo: true},
		subs:  make(map[string]*subscription),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		start: s.clock.Now(),
	}
	c.rd.maxLine = s.opts.maxControl
	c.rd.authFirst = s.authRequired()
	c.meta.Store(&clientMeta{})
	return c
}

// readLoop sends INFO, then reads and handles the client's protocol until the connection ends.
func (c *client) readLoop() {
	defer c.srv.connsWG.Done()
	c.enqueue(c.srv.info(c, false))
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			perr := c.rd.feed(buf[:n], c)
			c.flushPending()
			c.stalled = 0
			if c.activity {
				c.activity = false
				c.heard()
			}
			if perr != nil {
				c.protocolError(perr)
				// Read on until the writer has flushed the -ERR and closed: over net.Pipe,
				// which buffers nothing, a client still writing (the PING after a refused
				// CONNECT) would otherwise never get to read it.
				for _, err := c.nc.Read(buf); err == nil; _, err = c.nc.Read(buf) {
				}
				break
			}
		}
		if err != nil {
			c.close(closeClient)
			break
		}
		if c.isClosing() {
			break
		}
	}
	c.srv.removeClient(c)
}

// readBufs are the read loops' buffers, reused across connections: a test opens many.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// protocolError answers a parse or protocol error as nats-server does, and closes.
func (c *client) protocolError(err error) {
	var se sendErr
	switch {
	case errors.Is(err, errUnknownOp), errors.Is(err, errMaxControl):
		c.sendErr(err.Error())
		c.close(closeProtocol)
	case errors.Is(err, errAuthFirst):
		c.sendErr("Authorization Violation")
		c.close(closeAuth)
	case errors.As(err, &se):
		c.sendErr(string(se))
		c.close(closeProtocol)
	default:
		c.close(closeProtocol)
	}
}

// sendErr is an error answered with -ERR and a close.
type sendErr string

func (e sendErr) Error() string { return string(e) }

var errSilentClose = errors.New("close")

func (c *client) sendErr(text string) { c.enqueue([]byte("-ERR '" + text + "'\r\n")) }

func (c *client) ok() {
	if c.opts.Verbose {
		c.enqueue([]byte("+OK\r\n"))
	}
}

// control handles one control line (the reader's handler).
func (c *client) control(o op, arg []byte) (int, error) {
	switch o {
	case opPing:
		if c.srv.ignoresPing(c) {
			return -1, nil
		}
		c.pinged() // before the PONG: once the client has it, the server counts its PING (lame duck's INFO goes to it)
		c.enqueue([]byte("PONG\r\n"))
	case opPong:
		c.ponged()
	case opOK, opInfo:
		if o == opInfo {
			var v map[string]any
			if json.Unmarshal(arg, &v) != nil {
				return -1, errSilentClose
			}
		}
	case opErr:
		return -1, errSilentClose
	case opConnect:
		return -1, c.connect(arg)
	case opPub, opHPub:
		return c.pubArgs(o, arg)
	case opSub:
		return -1, c.sub(arg)
	case opUnsub:
		return -1, c.unsub(arg)
	}
	return -1, nil
}

func (c *client) connect(arg []byte) error {
	if err := json.Unmarshal(arg, &c.opts); err != nil {
		return errSilentClose
	}
	if !c.connectReceived() {
		return errSilentClose
	}
	s := c.srv
	if !c.connected && s.authRequired() {
		p, user, ok := s.authenticate(&c.opts)
		if !ok {
			s.logf("fake: client %d: authorization violation (user %q)", c.id, c.opts.User)
			return errAuthFirst
		}
		c.perms = p
		s.mu.Lock()
		c.user = user
		s.mu.Unlock()
	}
	c.connected = true
	c.rd.authFirst = false
	c.headers.Store(c.opts.Headers)
	c.meta.Store(&clientMeta{name: c.opts.Name, lang: c.opts.Lang, version: c.opts.Version})
	if c.opts.Protocol < 0 || c.opts.Protocol > 1 {
		return sendErr("invalid client protocol")
	}
	if c.opts.NoResponders && !c.opts.Headers {
		return sendErr("no responders requires headers support")
	}
	c.ok()
	return nil
}

// parseSize parses a size as nats-server does: 1 to 9 decimal digits, else -1.
func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > 9 {
		return -1
	}
	n := 0
	for _, d := range b {
		if d < '0' || d > '9' {
			return -1
		}
		n = n*10 + int(d-'0')
	}
	return n
}

// splitArgs splits a control line's arguments on spaces, tabs, CR and LF.
func splitArgs(arg []byte, into [][]byte) [][]byte {
	args := into[:0]
	start := -1
	for i, b := range arg {
		switch b {
		case ' ', '\t', '\r', '\n':
			if start >= 0 {
				args = append(args, arg[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		args = append(args, arg[start:])
	}
	return args
}

func (c *client) pubArgs(o op, arg []byte) (int, error) {
	var a [5][]byte
	args := splitArgs(arg, a[:])
	hdr, size := -1, -1
	var subj, reply []byte
	if o == opPub {
		switch len(args) {
		case 2:
			subj, size = args[0], parseSize(args[1])
		case 3:
			subj, reply, size = args[0], args[1], parseSize(args[2])
		default:
			return -1, errSilentClose
		}
	} else {
		if !c.opts.Headers {
			return -1, errSilentClose
		}
		switch len(args) {
		case 3:
			subj, hdr, size = args[0], parseSize(args[1]), parseSize(args[2])
		case 4:
			subj, reply, hdr, size = args[0], args[1], parseSize(args[2]), parseSize(args[3])
		default:
			return -1, errSilentClose
		}
		if hdr < 0 || hdr > size {
			return -1, errSilentClose
		}
	}
	if size < 0 {
		return -1, errSilentClose
	}
	if size > int(c.srv.opts.maxPayload) {
		c.srv.logf("fake: client %d: maximum payload exceeded: %d vs %d", c.id, size, c.srv.opts.maxPayload)
		return -1, sendErr("Maximum Payload Violation")
	}
	// A publisher mostly repeats its subject: the last one is kept, and a PUB that repeats it
	// reuses its string rather than allocating another.
	if string(subj) != c.lastSubject {
		c.lastSubject = string(subj)
	}
	c.pub = pubArgs{subject: c.lastSubject, reply: string(reply), hdr: hdr}
	if c.opts.Pedantic && !validLiteral(c.pub.subject) {
		c.sendErr("Invalid Publish Subject")
	}
	return size, nil
}

// payload handles the payload of the last PUB or HPUB (the reader's handler).
func (c *client) payload(p []byte) error {
	a := &c.pub
	c.activity = true
	c.inMsgs.Add(1)
	c.inBytes.Add(int64(len(p)))
	if reservedPublish(a.subject) || !c.perms.canPublish(a.subject) {
		c.sendErr("Permissions Violation for Publish to " + strconv.Quote(a.subject))
		return nil
	}
	if reservedReply(a.reply) {
		c.sendErr("Permissions Violation for Publish with Reply of " + strconv.Quote(a.reply))
		return nil
	}
	c.ok()
	var hdr, data []byte
	if a.hdr >= 0 {
		hdr, data = p[:a.hdr], p[a.hdr:]
	} else {
		data = p
	}
	m := &c.pubMsg
	*m = message{subject: a.subject, reply: a.reply, hdr: hdr, data: data, from: c, flushBy: c}
	c.srv.route(m)
	*m = message{}
	return nil
}

// flushPending wakes the writers of the connections this read delivered to: once per read, not
// once per message, so that a burst of publishes becomes a few large writes, as nats-server does.
func (c *client) flushPending() {
	for i, x := range c.pcd {
		x.signal()
		c.pcd[i] = nil
	}
	c.pcd = c.pcd[:0]
	if c.pcdSet != nil {
		clear(c.pcdSet)
	}
}

// pcdSearchMax is how long pcd grows before a set is kept beside it: a read that delivers to a
// few connections searches a short slice and allocates nothing; a fan-out to many does not search.
const pcdSearchMax = 16

// notePending records that this read (c is its reader) wrote to x, for flushPending.
func (c *client) notePending(x *client) {
	n := len(c.pcd)
	if n > 0 && c.pcd[n-1] == x {
		return
	}
	if n < pcdSearchMax {
		for _, y := range c.pcd {
			if y == x {
				return
			}
		}
		c.pcd = append(c.pcd, x)
		return
	}
	if c.pcdSet == nil {
		c.pcdSet = make(map[*client]struct{}, 2*pcdSearchMax)
	}
	if len(c.pcdSet) == 0 {
		for _, y := range c.pcd {
			c.pcdSet[y] = struct{}{}
		}
	}
	if _, ok := c.pcdSet[x]; ok {
		return
	}
	c.pcdSet[x] = struct{}{}
	c.pcd = append(c.pcd, x)
}

func (c *client) sub(arg []byte) error {
	c.activity = true
	var a [4][]byte
	args := splitArgs(arg, a[:])
	var subj, queue, sid []byte
	switch len(args) {
	case 2:
		subj, sid = args[0], args[1]
	case 3:
		subj, queue, sid = args[0], args[1], args[2]
	default:
		return errSilentClose
	}
	sub := &subscription{client: c, subject: string(subj), queue: string(queue), sid: string(sid)}
	if !c.perms.canSubscribe(sub.subject, sub.queue) {
		text := "Permissions Violation for Subscription to " + strconv.Quote(sub.subject)
		if sub.queue != "" {
			text += " using queue " + strconv.Quote(sub.queue)
		}
		c.sendErr(text)
		return nil
	}
	s := c.srv
	s.mu.Lock()
	if _, dup := c.subs[sub.sid]; dup {
		s.mu.Unlock()
		c.ok()
		return nil
	}
	if !insertable(sub.subject) {
		s.mu.Unlock()
		c.sendErr("Invalid Subject")
		return nil
	}
	c.subs[sub.sid] = sub
	s.subs.insert(sub)
	s.interestChangedLocked(sub.subject)
	s.mu.Unlock()
	c.ok()
	return nil
}

func (c *client) unsub(arg []byte) error {
	c.activity = true
	var a [3][]byte
	args := splitArgs(arg, a[:])
	var sid []byte
	max := int64(-1)
	switch len(args) {
	case 1:
		sid = args[0]
	case 2:
		sid, max = args[0], int64(parseSize(args[1]))
	default:
		return errSilentClose
	}
	s := c.srv
	s.mu.Lock()
	if sub, ok := c.subs[string(sid)]; ok {
		if max > 0 {
			// set the limit first, then look at what was delivered: a delivery running now
			// either sees the limit or is counted here, so one of the two ends the subscription
			sub.max.Store(max)
			if sub.delivered.Load() >= max {
				s.unsubscribeLocked(sub)
			}
		} else {
			s.unsubscribeLocked(sub)
		}
	}
	s.mu.Unlock()
	c.ok()
	return nil
}

// unsubscribeLocked removes sub. s.mu must be held.
func (s *Server) unsubscribeLocked(sub *subscription) {
	if sub.gone.Swap(true) {
		return
	}
	if sub.client != nil && sub.client.subs[sub.sid] == sub {
		delete(sub.client.subs, sub.sid)
	}
	s.subs.remove(sub)
	s.interestChangedLocked(sub.subject)
}

// enqueue queues b to be written to the client. Past the server's pending limit the client is
// closed as a slow consumer, as nats-server does.
func (c *client) enqueue(b []byte) bool {
	c.outMu.Lock()
	if c.closing {
		c.outMu.Unlock()
		return false
	}
	if int64(c.out.len()+c.inFlight+len(b)) > c.srv.opts.maxPending {
		c.outMu.Unlock()
		c.slowConsumer()
		return false
	}
	c.out.write(b)
	c.stallGateLocked()
	c.outMu.Unlock()
	c.signal()
	return true
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *client) slowConsumer() {
	c.srv.stats.slowConsumers.Add(1)
	c.srv.logf("fake: client %d (%s): slow consumer detected, closing", c.id, c.Name())
	c.close(closeSlowConsumer)
}

// clientMeta is what a client says about itself in CONNECT.
type clientMeta struct{ name, lang, version string }

// Name is the connection name the client sent in CONNECT.
func (c *client) Name() string { return c.meta.Load().name }

func (c *client) isClosing() bool {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.closing
}

// close ends the connection: what is queued is still written (an -ERR before the close), except
// for a slow consumer, then the socket is closed.
func (c *client) close(why closeReason) {
	c.once.Do(func() {
		c.outMu.Lock()
		c.closing = true
		c.flushEnd = why != closeSlowConsumer && why != closeClient
		c.outMu.Unlock()
		close(c.done)
		c.stopLiveness()
		if c.flushEnd {
			// A writer blocked on a client that does not read gives up after a second.
			c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		} else {
			c.nc.Close()
		}
	})
}

// writeLoop writes the outbound queue until the connection closes.
func (c *client) writeLoop() {
	defer c.srv.connsWG.Done()
	defer c.nc.Close()
	failed := false // a write failed: the peer is gone or stuck, so nothing more is flushed
	for {
		select {
		case <-c.wake:
		case <-c.done:
			c.outMu.Lock()
			rest, n := c.out.take(nil)
			flush := c.flushEnd
			c.outMu.Unlock()
			if flush && !failed && n > 0 {
				c.nc.SetWriteDeadline(time.Now().Add(time.Second))
				_ = c.writer.write(c.nc, rest)
			} else {
				releaseChunks(rest)
			}
			return
		}
		for {
			c.outMu.Lock()
			if c.out.len() == 0 || c.closing {
				c.outMu.Unlock()
				break
			}
			chunks, n := c.out.take(c.spare)
			c.spare = nil
			c.inFlight = n
			c.outMu.Unlock()
			err := c.writer.write(c.nc, chunks)
			c.outMu.Lock()
			c.inFlight = 0
			c.spare = chunks[:0]
			c.stallDoneLocked()
			c.outMu.Unlock()
			if err != nil {
				failed = true
				c.close(closeClient)
				break
			}
		}
	}
}
