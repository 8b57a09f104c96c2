package fake

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// sink is a net.Conn that keeps what the server writes and has nothing to read.
type sink struct {
	mu     sync.Mutex
	out    bytes.Buffer
	closed chan struct{}
	once   sync.Once
}

func newSink() *sink { return &sink{closed: make(chan struct{})} }

func (k *sink) Read([]byte) (int, error) { <-k.closed; return 0, net.ErrClosed }
func (k *sink) Write(b []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.out.Write(b)
}
func (k *sink) Close() error                     { k.once.Do(func() { close(k.closed) }); return nil }
func (k *sink) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (k *sink) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (k *sink) SetDeadline(time.Time) error      { return nil }
func (k *sink) SetReadDeadline(time.Time) error  { return nil }
func (k *sink) SetWriteDeadline(time.Time) error { return nil }
func (k *sink) isClosed() bool {
	select {
	case <-k.closed:
		return true
	default:
		return false
	}
}

// session feeds in to a new client of s, chunk bytes at a time, as its read loop would, and
// returns what the server wrote back (INFO left out) and whether the server closed the connection.
func session(s *Server, in []byte, chunk int) (string, bool) {
	k := newSink()
	s.mu.Lock()
	s.nextCID++
	c := newClient(s, s.nextCID, k, "127.0.0.1")
	s.clients[c.id] = c
	s.connsWG.Add(1)
	s.mu.Unlock()
	written := make(chan struct{})
	go func() { c.writeLoop(); close(written) }()
	var err error
	for len(in) > 0 && err == nil {
		n := min(chunk, len(in))
		err = c.rd.feed(in[:n], c)
		c.flushPending()
		in = in[n:]
	}
	if err != nil {
		c.protocolError(err)
	}
	c.outMu.Lock()
	closedByServer := c.closing
	c.outMu.Unlock()
	c.close(closeServerShutdown) // flush, then end the session
	c.srv.removeClient(c)
	<-written
	out := k.out.String()
	if i := strings.Index(out, "\r\n"); strings.HasPrefix(out, "INFO ") && i >= 0 {
		out = out[i+2:]
	}
	return out, closedByServer
}

// serverErrors are every -ERR text the server sends.
var serverErrors = []string{
	"Unknown Protocol Operation", "maximum control line exceeded", "Authorization Violation",
	"Maximum Payload Violation", "Invalid Subject", "Invalid Publish Subject",
	"invalid client protocol", "no responders requires headers support",
	"Permissions Violation for ",
}

// checkTranscript checks that out is a sequence of well-formed server lines, every -ERR one the
// server sends, and nothing after a closing -ERR.
func checkTranscript(t *testing.T, out string, closed bool) {
	t.Helper()
	rest := out
	for rest != "" {
		i := strings.Index(rest, "\r\n")
		if i < 0 {
			t.Fatalf("transcript %q: unterminated line %q", out, rest)
		}
		line := rest[:i]
		rest = rest[i+2:]
		switch {
		case line == "+OK", line == "PONG":
		case strings.HasPrefix(line, "-ERR '") && strings.HasSuffix(line, "'"):
			text := line[6 : len(line)-1]
			known := false
			for _, e := range serverErrors {
				if text == e || strings.HasSuffix(e, " ") && strings.HasPrefix(text, e) {
					known = true
				}
			}
			if !known {
				t.Fatalf("transcript %q: unknown error %q", out, line)
			}
		case strings.HasPrefix(line, "MSG "), strings.HasPrefix(line, "HMSG "):
			f := strings.Fields(line)
			n := parseSize([]byte(f[len(f)-1]))
			if n < 0 || len(rest) < n+2 || rest[n:n+2] != "\r\n" {
				t.Fatalf("transcript %q: bad message %q", out, line)
			}
			rest = rest[n+2:]
		default:
			t.Fatalf("transcript %q: unexpected line %q", out, line)
		}
	}
}

// seeds are the protocol inputs in testdata/protocol, one per file.
func seeds(tb testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "protocol", "*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no seed corpus in testdata/protocol: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzReader: whatever bytes a client sends, the server answers with well-formed lines and
// known errors, never panics, reads the same way however the bytes are split across reads, and
// keeps serving its other clients.
func FuzzReader(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return // larger inputs only repeat what smaller ones cover, slowly
		}
		s, err := NewServer(WithoutListener(), WithMaxPayload(4096), WithUsers(User{Name: "u", Password: "p",
			Permissions: &Permissions{Publish: &SubjectPermission{Deny: []string{"deny.>"}}, Subscribe: &SubjectPermission{Deny: []string{"deny.>"}}}}))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		healthy, err := nats.Connect("", nats.InProcessServer(s), nats.UserInfo("u", "p"))
		if err != nil {
			t.Fatal(err)
		}
		defer healthy.Close()
		sub, err := healthy.SubscribeSync("health")
		if err != nil {
			t.Fatal(err)
		}
		// The seed inputs authenticate with CONNECT {"user":"u","pass":"p"}; others fail auth.
		whole, closedWhole := session(s, in, len(in)+1)
		split, closedSplit := session(s, in, 1)
		if whole != split || closedWhole != closedSplit {
			t.Fatalf("input %q read whole gives %q (closed %v), byte by byte %q (closed %v)", in, whole, closedWhole, split, closedSplit)
		}
		checkTranscript(t, whole, closedWhole)
		if err := healthy.Publish("health", []byte("ok")); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("after input %q the healthy client got nothing: %v", in, err)
		}
	})
}

// TestReaderTranscripts pins the server's answer to inputs seen on nats-server (the conformance
// suite compares them with the real server).
func TestReaderTranscripts(t *testing.T) {
	auth := `CONNECT {"verbose":true,"user":"u","pass":"p","headers":true}` + "\r\n"
	for _, tc := range []struct {
		in, out string
		closed  bool
	}{
		{"PUB foo\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{auth + "PUB foo\r\n", "+OK\r\n", true},
		{"PUB\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{auth + "PUB\r\n", "+OK\r\n-ERR 'Unknown Protocol Operation'\r\n", true},
		{auth + "PUB foo 3\r\nabcd\r\n", "+OK\r\n-ERR 'Unknown Protocol Operation'\r\n", true},
		{auth + "SUB foo.>.bar 1\r\n", "+OK\r\n-ERR 'Invalid Subject'\r\n", false},
		{auth + "SUB foo 1\r\nPUB foo 1\r\nx\r\nPING\r\n", "+OK\r\n+OK\r\n+OK\r\nMSG foo 1 1\r\nx\r\nPONG\r\n", false},
		{auth + "PUB foo 5000\r\n", "+OK\r\n-ERR 'Maximum Payload Violation'\r\n", true},
		{auth + "PINGX\r\n", "+OK\r\nPONG\r\n", false},
		{auth + "UNSUB\r\n", "+OK\r\n-ERR 'Unknown Protocol Operation'\r\n", true},
		{auth + "UNSUB x\r\n", "+OK\r\n+OK\r\n", false},
		{auth + "-ERR 'x'\r\n", "+OK\r\n", true},
		{auth + "PUB deny.x 1\r\nx\r\n", "+OK\r\n-ERR 'Permissions Violation for Publish to \"deny.x\"'\r\n", false},
		{auth + "SUB deny.x q 1\r\n", "+OK\r\n-ERR 'Permissions Violation for Subscription to \"deny.x\" using queue \"q\"'\r\n", false},
		{auth + "PUB x _R_.y 1\r\nx\r\n", "+OK\r\n-ERR 'Permissions Violation for Publish with Reply of \"_R_.y\"'\r\n", false},
		{auth + "SUB " + strings.Repeat("a", 5000) + " 1\r\n", "+OK\r\n-ERR 'maximum control line exceeded'\r\n", true},
		{auth + "SUB r 5\r\nPUB a r 1\r\nx\r\n", "+OK\r\n+OK\r\n+OK\r\n", false},
		{`CONNECT {"user":"u","pass":"p","headers":true,"no_responders":true}` + "\r\nSUB r 5\r\nPUB a r 1\r\nx\r\nPING\r\n",
			"+OK\r\n+OK\r\n+OK\r\nHMSG r 5 33 33\r\nNATS/1.0 503\r\nNats-Subject: a\r\n\r\n\r\nPONG\r\n", false},
		{`CONNECT {"user":"u","pass":"x"}` + "\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{`CONNECT {"user":"u","pass":"p","protocol":2}` + "\r\n", "-ERR 'invalid client protocol'\r\n", true},
	} {
		s := Run(t, WithoutListener(), WithMaxPayload(4096), WithUsers(User{Name: "u", Password: "p",
			Permissions: &Permissions{Publish: &SubjectPermission{Deny: []string{"deny.>"}}, Subscribe: &SubjectPermission{Deny: []string{"deny.>"}}}}))
		out, closed := session(s, []byte(tc.in), len(tc.in))
		if out != tc.out || closed != tc.closed {
			t.Errorf("input %q:\n got %q (closed %v)\nwant %q (closed %v)", tc.in, out, closed, tc.out, tc.closed)
		}
	}
}

func TestSeedsAreWellFormed(t *testing.T) {
	s := Run(t, WithoutListener())
	for _, in := range seeds(t) {
		out, closed := session(s, in, len(in))
		checkTranscript(t, out, closed)
	}
	if errors.Is(nil, errUnknownOp) {
		t.Fatal("unreachable")
	}
}

// recorder is a handler that keeps the control lines it is given.
type recorder struct{ ops []string }

func (r *recorder) control(o op, arg []byte) (int, error) {
	r.ops = append(r.ops, o.String()+" "+string(arg))
	if o == opPub {
		return 1, nil
	}
	return -1, nil
}
func (r *recorder) payload([]byte) error { return nil }

// Blanks between an op word and its arguments are skipped as they come, as nats-server skips
// them: the reader keeps none of them, however many there are.
func TestReaderSkipsBlanksWithoutKeepingThem(t *testing.T) {
	rd := &reader{maxLine: 4096}
	h := &recorder{}
	if err := rd.feed([]byte("PUB"), h); err != nil {
		t.Fatal(err)
	}
	blanks := bytes.Repeat([]byte(" \t"), 32<<10)
	for range 64 { // 4 MiB of blanks
		if err := rd.feed(blanks, h); err != nil {
			t.Fatal(err)
		}
		if cap(rd.line) > 64 {
			t.Fatalf("the reader keeps %d bytes for a line of blanks", cap(rd.line))
		}
	}
	if err := rd.feed([]byte("foo 1\r\nx\r\n"), h); err != nil {
		t.Fatal(err)
	}
	if len(h.ops) != 1 || h.ops[0] != "PUB foo 1" {
		t.Fatalf("control lines %q, want PUB foo 1", h.ops)
	}
}

// sizedPayloads is a handler whose PUBs announce size bytes, and which keeps a copy of each
// payload, as a handler must (the reader reuses what it hands over).
type sizedPayloads struct {
	size int
	got  [][]byte
}

func (h *sizedPayloads) control(op, []byte) (int, error) { return h.size, nil }
func (h *sizedPayloads) payload(p []byte) error {
	h.got = append(h.got, bytes.Clone(p))
	return nil
}

// A payload that spans reads is gathered in storage the next such payload reuses: each comes
// out whole and its own, and gathering one after the first allocates nothing.
func TestReaderReusesSpanningPayloads(t *testing.T) {
	const size = 40 << 10
	rd := &reader{maxLine: 4096}
	h := &sizedPayloads{size: size}
	frame := func(fill byte) []byte {
		return append(append([]byte("PUB s 40960\r\n"), bytes.Repeat([]byte{fill}, size)...), "\r\n"...)
	}
	feed := func(b []byte) {
		for len(b) > 0 { // in reads of 16 KiB, so every payload spans several
			n := min(len(b), 16<<10)
			if err := rd.feed(b[:n], h); err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
	}
	a, b := frame('a'), frame('b')
	feed(a)
	feed(b)
	if len(h.got) != 2 || !bytes.Equal(h.got[0], bytes.Repeat([]byte{'a'}, size)) || !bytes.Equal(h.got[1], bytes.Repeat([]byte{'b'}, size)) {
		t.Fatalf("payloads out of the reader are not the ones sent (%d of them)", len(h.got))
	}
	h.got = make([][]byte, 0, 1000)
	if allocs := testing.AllocsPerRun(100, func() { feed(a) }); allocs > 1 {
		t.Errorf("a payload spanning reads allocates %v times, want only the handler's copy", allocs)
	}
}
