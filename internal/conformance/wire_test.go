package conformance

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// A wire is a raw connection to the server (TCP, or an in-memory pipe to the fake), speaking
// the client protocol by hand: for what nats.go would not send or would hide.
type wire struct {
	t    *testing.T
	c    net.Conn
	r    *bufio.Reader
	info map[string]any // the server's first INFO
	wait time.Duration  // how long one read or write may take; patience if zero
}

// patience is how long one read or write may take.
func (w *wire) patience() time.Duration {
	if w.wait > 0 {
		return w.wait
	}
	return patience
}

// dialWire connects to the server's TCP listener and reads its INFO.
func dialWire(t *testing.T, env *natstest.Env) *wire {
	t.Helper()
	if env.URL() == "" {
		t.Fatal("the raw protocol scenarios need a server listening on TCP; env.URL() is empty")
	}
	u, err := url.Parse(env.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, patience)
	if err != nil {
		t.Fatal(err)
	}
	return wireOn(t, c, 0)
}

// wireOn speaks the client protocol on c, a new connection to the server, and reads its INFO.
// Each read and write may take wait (patience if zero). c is closed at the end of the test.
func wireOn(t *testing.T, c net.Conn, wait time.Duration) *wire {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	w := &wire{t: t, c: c, r: bufio.NewReader(c), wait: wait}
	line := w.line()
	js, ok := strings.CutPrefix(line, "INFO ")
	if !ok {
		t.Fatalf("first line %q is not INFO", line)
	}
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&w.info); err != nil {
		t.Fatalf("INFO %q: %v", js, err)
	}
	return w
}

// send writes s as it is.
func (w *wire) send(s string) {
	w.t.Helper()
	if err := w.c.SetWriteDeadline(time.Now().Add(w.patience())); err != nil {
		w.t.Fatal(err)
	}
	if _, err := io.WriteString(w.c, s); err != nil {
		w.t.Fatalf("write %q: %v", s, err)
	}
}

// line reads one line, which must end in CRLF, and returns it without the CRLF.
func (w *wire) line() string {
	w.t.Helper()
	l, err := w.readLine()
	if err != nil {
		w.t.Fatalf("read: %v (after %q)", err, l)
	}
	return l
}

func (w *wire) readLine() (string, error) {
	if err := w.c.SetReadDeadline(time.Now().Add(w.patience())); err != nil {
		return "", err
	}
	l, err := w.r.ReadString('\n')
	if err != nil {
		return l, err
	}
	if !strings.HasSuffix(l, "\r\n") {
		return l, fmt.Errorf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n"), nil
}

// expect reads lines, which must be want in order.
func (w *wire) expect(want ...string) {
	w.t.Helper()
	for _, s := range want {
		if got := w.line(); got != s {
			w.t.Fatalf("read %q, want %q", got, s)
		}
	}
}

// bytes reads exactly n bytes and the CRLF after them.
func (w *wire) bytes(n int) string {
	w.t.Helper()
	if err := w.c.SetReadDeadline(time.Now().Add(w.patience())); err != nil {
		w.t.Fatal(err)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(w.r, buf); err != nil {
		w.t.Fatalf("read %d bytes: %v", n+2, err)
	}
	if string(buf[n:]) != "\r\n" {
		w.t.Fatalf("payload %q not followed by CRLF", buf)
	}
	return string(buf[:n])
}

// handshake sends CONNECT with the given JSON and a PING, and expects the PONG alone: options
// must turn verbose off.
func (w *wire) handshake(connect string) {
	w.t.Helper()
	w.send("CONNECT " + connect + "\r\nPING\r\n")
	w.expect("PONG")
}

// pingPong makes a round trip: everything the server would send for what came before has been
// read when it returns, if the caller reads it first.
func (w *wire) pingPong() {
	w.t.Helper()
	w.send("PING\r\n")
	w.expect("PONG")
}

func (w *wire) pub(subj, reply, payload string) {
	w.t.Helper()
	w.send(pubLine(subj, reply, payload))
}

func pubLine(subj, reply, payload string) string {
	if reply != "" {
		subj += " " + reply
	}
	return fmt.Sprintf("PUB %s %d\r\n%s\r\n", subj, len(payload), payload)
}

func (w *wire) hpub(subj, reply, hdr, payload string) {
	w.t.Helper()
	if reply != "" {
		subj += " " + reply
	}
	w.send(fmt.Sprintf("HPUB %s %d %d\r\n%s%s\r\n", subj, len(hdr), len(hdr)+len(payload), hdr, payload))
}

// A wireMsg is a MSG or HMSG as read.
type wireMsg struct {
	op, subject, sid, reply, header, payload string
}

// msg reads one MSG or HMSG, checking its sizes.
func (w *wire) msg() wireMsg {
	w.t.Helper()
	l := w.line()
	f := strings.Fields(l)
	var m wireMsg
	if len(f) == 0 {
		w.t.Fatalf("read %q, want MSG or HMSG", l)
	}
	m.op = f[0]
	nums := 1
	if m.op == "HMSG" {
		nums = 2
	} else if m.op != "MSG" {
		w.t.Fatalf("read %q, want MSG or HMSG", l)
	}
	switch len(f) - nums {
	case 3:
		m.subject, m.sid = f[1], f[2]
	case 4:
		m.subject, m.sid, m.reply = f[1], f[2], f[3]
	default:
		w.t.Fatalf("malformed %q", l)
	}
	sizes := make([]int, nums)
	for i := range nums {
		n, err := strconv.Atoi(f[len(f)-nums+i])
		if err != nil {
			w.t.Fatalf("malformed %q: %v", l, err)
		}
		sizes[i] = n
	}
	body := w.bytes(sizes[nums-1])
	if nums == 2 {
		if sizes[0] > sizes[1] {
			w.t.Fatalf("malformed %q: header longer than the message", l)
		}
		m.header, body = body[:sizes[0]], body[sizes[0]:]
	}
	m.payload = body
	return m
}

// closed expects the server to close the connection, with nothing more to read.
func (w *wire) closed() {
	w.t.Helper()
	l, err := w.readLine()
	if l != "" {
		w.t.Fatalf("read %q, want the connection closed", l)
	}
	// On the fake's in-process pipe, a deadline is refused with io.ErrClosedPipe once the server's
	// end has closed (this end never is before the test ends).
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.ErrClosedPipe) {
		w.t.Fatalf("read error %v, want the connection closed", err)
	}
}

// infoAgrees is the looser comparison of INFO: servers describe themselves differently
// (server_id, server_name, version, go, host, port, nonce, xkey...), but the fields a client
// depends on must agree. want lists those, by value; client_id must be a positive number and
// server_id, version present.
func infoAgrees(t *testing.T, info map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, ok := info[k]
		if v == nil {
			if ok && got != false {
				t.Errorf("INFO %s = %v, want it absent or false", k, got)
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("INFO %s = %v, want %v", k, got, v)
		}
	}
	if id, err := info["client_id"].(json.Number).Int64(); err != nil || id <= 0 {
		t.Errorf("INFO client_id = %v, want a positive number", info["client_id"])
	}
	nonEmpty(t, "INFO server_id", fmt.Sprint(info["server_id"]))
	looksLikeVersion(t, fmt.Sprint(info["version"]))
}

// TestWireInfo: the server greets a client with INFO: protocol 1, headers supported, a 1 MiB
// maximum payload, a client id, and no authentication required.
func TestWireInfo(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		infoAgrees(t, w.info, map[string]any{"proto": 1, "headers": true, "max_payload": 1048576, "auth_required": nil})
	})
}

// TestWireInfoAuthRequired: with users configured, INFO says auth_required.
func TestWireInfoAuthRequired(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		infoAgrees(t, w.info, map[string]any{"proto": 1, "headers": true, "max_payload": 1048576, "auth_required": true})
	}, natstest.WithUsers(fake.User{Name: "alice", Password: "pw"}))
}

// TestWireInfoMaxPayload: INFO advertises a configured maximum payload.
func TestWireInfoMaxPayload(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		infoAgrees(t, w.info, map[string]any{"proto": 1, "headers": true, "max_payload": 2048})
	}, natstest.WithMaxPayload(2048))
}

// TestWireClientIDsDiffer: every connection gets its own client id.
func TestWireClientIDsDiffer(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		a, b := dialWire(t, env), dialWire(t, env)
		if fmt.Sprint(a.info["client_id"]) == fmt.Sprint(b.info["client_id"]) {
			t.Errorf("two connections share client_id %v", a.info["client_id"])
		}
	})
}

// TestWirePingPong: PING is answered with PONG, even before CONNECT when no authentication is
// required; an unsolicited PONG is ignored.
func TestWirePingPong(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.pingPong()
		w.send("CONNECT {\"verbose\":false}\r\nPONG\r\nPING\r\nPING\r\n")
		w.expect("PONG", "PONG")
	})
}

// TestWireConnectDefaultsVerbose: a CONNECT that does not mention verbose leaves it on, as it
// is before CONNECT: the server acknowledges it and every later operation with +OK.
func TestWireConnectDefaultsVerbose(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.send("CONNECT {}\r\n")
		w.expect("+OK")
		w.send("SUB a 1\r\n")
		w.expect("+OK")
		w.pingPong()
	})
}

// TestWireVerbose: with verbose on, CONNECT, SUB, PUB and UNSUB (even of an unknown sid) are each
// acknowledged with +OK; PING only with PONG; the +OK for a PUB comes before the MSG it causes.
func TestWireVerbose(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.send("CONNECT {\"verbose\":true}\r\n")
		w.expect("+OK")
		w.send("PING\r\n")
		w.expect("PONG")
		w.send("SUB v 1\r\n")
		w.expect("+OK")
		w.pub("v", "", "hi")
		w.expect("+OK", "MSG v 1 2", "hi")
		w.send("UNSUB 1\r\n")
		w.expect("+OK")
		w.send("UNSUB 99\r\n")
		w.expect("+OK")
		w.send("PING\r\n")
		w.expect("PONG")
	})
}

// TestWireMsgFormat: MSG carries subject, sid, reply subject when there is one, and size.
func TestWireMsgFormat(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB foo.* 42\r\n")
		w.pub("foo.bar", "", "hello")
		w.pub("foo.baz", "reply.to", "")
		w.pub("foo.baz", "", "a b\r\nc")
		w.expect("MSG foo.bar 42 5", "hello", "MSG foo.baz 42 reply.to 0", "")
		if m := w.msg(); m != (wireMsg{op: "MSG", subject: "foo.baz", sid: "42", payload: "a b\r\nc"}) {
			t.Errorf("got %+v", m)
		}
		w.pingPong()
	})
}

// TestWireQueueSub: SUB with a queue group; the message arrives with the member's sid.
func TestWireQueueSub(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB jobs workers 7\r\n")
		w.pub("jobs", "", "j1")
		w.expect("MSG jobs 7 2", "j1")
		w.pingPong()
	})
}

// TestWireSeveralSids: one connection, several subscriptions that match: one MSG per sid.
func TestWireSeveralSids(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB x 1\r\nSUB > 2\r\nSUB x g 3\r\n")
		w.pub("x", "", "p")
		var sids []string
		for range 3 {
			m := w.msg()
			if m.subject != "x" || m.payload != "p" {
				t.Errorf("got %+v", m)
			}
			sids = append(sids, m.sid)
		}
		slices.Sort(sids)
		if !slices.Equal(sids, []string{"1", "2", "3"}) {
			t.Errorf("sids %v, want 1 2 3", sids)
		}
		w.pingPong()
	})
}

// TestWireDuplicateSid: a second SUB with a sid already in use is ignored: the first
// subscription stays as it was, and a message arrives once.
func TestWireDuplicateSid(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB a 1\r\nSUB b 1\r\n")
		w.pub("b", "", "b")
		w.pub("a", "", "a")
		w.expect("MSG a 1 1", "a")
		w.pingPong()
	})
}

// TestWireHeaders: HPUB is delivered as HMSG to a client that supports headers, with the header
// block byte for byte as published, repeated keys and all, and both sizes.
func TestWireHeaders(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true}`)
		w.send("SUB h 1\r\n")
		hdr := "NATS/1.0\r\nA: b\r\nA: c\r\nlower: x\r\n\r\n"
		w.hpub("h", "r", hdr, "hello")
		w.expect(fmt.Sprintf("HMSG h 1 r %d %d", len(hdr), len(hdr)+5))
		if got := w.bytes(len(hdr) + 5); got != hdr+"hello" {
			t.Errorf("body %q", got)
		}
		w.hpub("h", "", "NATS/1.0\r\n\r\n", "")
		w.expect("HMSG h 1 12 12", "NATS/1.0", "", "")
		w.pingPong()
	})
}

// TestWireHeadersStrippedForOldClient: a subscriber that did not declare headers support gets
// a plain MSG with the payload alone.
func TestWireHeadersStrippedForOldClient(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		old := dialWire(t, env)
		old.handshake(`{"verbose":false,"headers":false}`)
		old.send("SUB h 1\r\n")
		old.pingPong()
		pub := dialWire(t, env)
		pub.handshake(`{"verbose":false,"headers":true}`)
		pub.hpub("h", "", "NATS/1.0\r\nK: v\r\n\r\n", "body")
		pub.hpub("h", "", "NATS/1.0\r\nK: v\r\n\r\n", "")
		pub.pingPong()
		old.expect("MSG h 1 4", "body", "MSG h 1 0", "")
		old.pingPong()
	})
}

// TestWireInvalidSubjectSub: a SUB on a malformed subject is answered with
// -ERR 'Invalid Subject'; the connection stays open and the subscription does not exist.
func TestWireInvalidSubjectSub(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		for i, s := range []string{"foo.>.bar", "foo..bar", ".foo", "foo.", ">.>"} {
			w.send(fmt.Sprintf("SUB %s %d\r\nPING\r\n", s, i+1))
			w.expect("-ERR 'Invalid Subject'", "PONG")
		}
		w.pub("foo.bar", "", "x")
		w.pingPong()
	})
}

// TestWirePubInvalidSubjectDropped: PUB on a subject with empty tokens is dropped without an
// error when the connection is not pedantic; nobody receives it, not even a ">" subscriber.
func TestWirePubInvalidSubjectDropped(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"pedantic":false}`)
		w.send("SUB > 1\r\n")
		for _, s := range []string{"foo..bar", ".foo", "foo.", "."} {
			w.pub(s, "", s)
		}
		w.pub("ok", "", "ok")
		w.expect("MSG ok 1 2", "ok")
		w.pingPong()
	})
}

// TestWirePedanticPublish: on a pedantic connection, PUB on a wildcard subject is answered with
// -ERR 'Invalid Publish Subject', yet the message is still routed (to the subscriptions whose
// patterns match it), and the connection stays open.
func TestWirePedanticPublish(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"pedantic":true}`)
		w.send("SUB foo.* 1\r\n")
		w.pub("foo.*", "", "a")
		w.expect("-ERR 'Invalid Publish Subject'", "MSG foo.* 1 1", "a")
		w.pub("foo.b", "", "b")
		w.expect("MSG foo.b 1 1", "b")
		w.pingPong()
	})
}

// TestWireMaxPayloadViolation: a PUB announcing more than the maximum payload is answered with
// -ERR 'Maximum Payload Violation' and the connection is closed, before the payload is read.
func TestWireMaxPayloadViolation(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("PUB foo 1048577\r\n")
		w.expect("-ERR 'Maximum Payload Violation'")
		w.closed()
	})
}

// TestWireMaxPayloadConfigured: with a configured maximum, a payload of exactly the maximum is
// delivered, and an HPUB whose headers and payload together exceed it is a violation.
func TestWireMaxPayloadConfigured(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true}`)
		w.send("SUB p 1\r\n")
		full := strings.Repeat("x", 100)
		w.pub("p", "", full)
		w.expect("MSG p 1 100", full)
		hdr := "NATS/1.0\r\n\r\n"
		w.hpub("p", "", hdr, full[len(hdr):])
		w.expect(fmt.Sprintf("HMSG p 1 %d 100", len(hdr)))
		w.bytes(100)
		w.hpub("p", "", hdr, full[len(hdr)-1:])
		w.expect("-ERR 'Maximum Payload Violation'")
		w.closed()
	}, natstest.WithMaxPayload(100))
}

// TestWireUnknownOp: an unknown operation is answered with -ERR 'Unknown Protocol Operation'
// and the connection is closed.
func TestWireUnknownOp(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("FOO bar\r\n")
		w.expect("-ERR 'Unknown Protocol Operation'")
		w.closed()
	})
}

// TestWireMalformedCloses: a malformed PUB, HPUB or SUB (missing or bad size or sid, a header
// longer than the message), a CONNECT that is not JSON, or an HPUB from a client that did not
// declare headers, is a protocol violation: the server closes the connection without a word.
func TestWireMalformedCloses(t *testing.T) {
	cases := []struct{ name, connect, send string }{
		{"PUB without size", `{"verbose":false}`, "PUB foo\r\n"},
		{"PUB negative size", `{"verbose":false}`, "PUB foo -1\r\n"},
		{"PUB size not a number", `{"verbose":false}`, "PUB foo x\r\n"},
		{"HPUB header larger than message", `{"verbose":false,"headers":true}`, "HPUB foo 10 5\r\n"},
		{"HPUB without headers declared", `{"verbose":false,"headers":false}`, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"},
		{"SUB without sid", `{"verbose":false}`, "SUB foo\r\n"},
		{"SUB without subject", `{"verbose":false}`, "SUB  3\r\n"},
		{"CONNECT not JSON", "", "CONNECT {bad\r\n"},
	}
	each(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := dialWire(t, env)
				if c.connect != "" {
					w.handshake(c.connect)
				}
				w.send(c.send + "PING\r\n")
				w.closed()
			})
		}
	})
}

// TestWireUnknownOpCases: what the server reads as an unknown operation, answered with
// -ERR 'Unknown Protocol Operation' before it closes the connection: a MSG sent by a client,
// an UNSUB without a sid, a payload not followed by CRLF.
func TestWireUnknownOpCases(t *testing.T) {
	cases := []struct{ name, send string }{
		{"MSG from a client", "MSG foo 1 2\r\nhi\r\n"},
		{"UNSUB without sid", "UNSUB\r\n"},
		{"payload without CRLF", "PUB foo 2\r\nhiXXPING\r\n"},
	}
	each(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := dialWire(t, env)
				w.handshake(`{"verbose":false}`)
				w.send(c.send)
				w.expect("-ERR 'Unknown Protocol Operation'")
				w.closed()
			})
		}
	})
}

// TestWireSeparators: arguments may be separated by tabs or runs of spaces.
func TestWireSeparators(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB\tfoo\t1\r\nPUB\tfoo\t2\r\nhi\r\nPUB  foo   r \t 2\r\nho\r\n")
		w.expect("MSG foo 1 2", "hi", "MSG foo 1 r 2", "ho")
		w.pingPong()
	})
}

// TestWireUncheckedNames: the server does not check the syntax of a reply subject or a queue
// name: a reply with wildcards or empty tokens is passed on as it is, and a queue group named
// "q.*" is an ordinary group.
func TestWireUncheckedNames(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB foo q.* 1\r\nPING\r\n")
		w.expect("PONG")
		w.pub("foo", "a.*", "a")
		w.pub("foo", "a..b", "b")
		w.expect("MSG foo 1 a.* 1", "a", "MSG foo 1 a..b 1", "b")
		w.pingPong()
	})
}

// TestWireSecondConnect: a second CONNECT replaces the options of the first: verbose turned on
// late is acknowledged from then on.
func TestWireSecondConnect(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.send("CONNECT {\"verbose\":false}\r\nCONNECT {\"verbose\":true}\r\nPING\r\n")
		w.expect("+OK", "PONG")
		w.send("SUB x 1\r\n")
		w.expect("+OK")
	})
}

// TestWireMaxControlLine: a protocol line longer than 4096 bytes is answered with
// -ERR 'maximum control line exceeded' (in lower case) and the connection is closed.
func TestWireMaxControlLine(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB " + strings.Repeat("a", 5000) + " 1\r\n")
		w.expect("-ERR 'maximum control line exceeded'")
		w.closed()
	})
}

// TestWireUnsubMax: UNSUB with a maximum delivers that many more messages and then removes the
// subscription; an UNSUB whose maximum is already reached removes it at once.
func TestWireUnsubMax(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB foo 1\r\nUNSUB 1 2\r\n")
		for _, d := range []string{"a", "b", "c"} {
			w.pub("foo", "", d)
		}
		w.expect("MSG foo 1 1", "a", "MSG foo 1 1", "b")
		w.pingPong()
		w.send("SUB foo 2\r\n")
		w.pub("foo", "", "d")
		w.send("UNSUB 2 1\r\n")
		w.pub("foo", "", "e")
		w.expect("MSG foo 2 1", "d")
		w.pingPong()
	})
}

// TestWireLowercaseOps: operation names are case insensitive.
func TestWireLowercaseOps(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.send("connect {\"verbose\":false}\r\nping\r\n")
		w.expect("PONG")
		w.send("sub low 1\r\npub low 2\r\nhi\r\nPiNg\r\n")
		w.expect("MSG low 1 2", "hi", "PONG")
		w.send("unsub 1\r\npub low 2\r\nhi\r\n")
		w.pingPong()
	})
}

// TestWireSplitWrites: the server reassembles operations however the bytes are split across
// writes, down to one byte at a time.
func TestWireSplitWrites(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true}`)
		w.send("SUB split 1\r\n")
		w.pingPong()
		stream := pubLine("split", "r", "one\r\ntwo") + "HPUB split 12 15\r\nNATS/1.0\r\n\r\nabc\r\n" + "PING\r\n"
		for i := range len(stream) {
			w.send(stream[i : i+1])
		}
		w.expect("MSG split 1 r 8", "one", "two", "HMSG split 1 12 15", "NATS/1.0", "", "abc", "PONG")
	})
}

// TestWireEchoFalse: a connection that asked for echo:false receives none of its own messages,
// on plain or queue subscriptions.
func TestWireEchoFalse(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"echo":false}`)
		w.send("SUB e 1\r\nSUB e q 2\r\n")
		w.pub("e", "", "self")
		w.pingPong()
		other := dialWire(t, env)
		other.handshake(`{"verbose":false}`)
		other.pub("e", "", "x")
		other.pingPong()
		for range 2 {
			if m := w.msg(); m.payload != "x" {
				t.Errorf("got %+v", m)
			}
		}
		w.pingPong()
	})
}

// TestWireNoResponders: a publish with a reply subject that nobody receives, from a client that
// asked for no_responders and subscribes to the reply subject itself, is answered on that
// subscription with a header-only message: status 503 and a Nats-Subject header naming the
// subject published to.
func TestWireNoResponders(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true,"no_responders":true}`)
		w.send("SUB _INBOX.> 9\r\n")
		w.pub("nobody.home", "_INBOX.abc", "ping?")
		hdr := "NATS/1.0 503\r\nNats-Subject: nobody.home\r\n\r\n"
		w.expect(fmt.Sprintf("HMSG _INBOX.abc 9 %d %d", len(hdr), len(hdr)))
		if got := w.bytes(len(hdr)); got != hdr {
			t.Errorf("header block %q, want %q", got, hdr)
		}
		w.pingPong()
	})
}

// TestWireNoRespondersOnlyToOwnSubscription: the 503 goes only to a subscription of the
// publisher's own connection on the reply subject: if nobody, or only another connection,
// subscribes to the reply subject, nothing is sent; a request that has a responder gets no 503.
func TestWireNoRespondersOnlyToOwnSubscription(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		other := dialWire(t, env)
		other.handshake(`{"verbose":false,"headers":true}`)
		other.send("SUB elsewhere.> 1\r\nSUB svc 2\r\n")
		other.pingPong()
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true,"no_responders":true}`)
		w.send("SUB mine.> 5\r\n")
		w.pub("nobody", "elsewhere.x", "")
		w.pub("nobody", "unsubscribed.x", "")
		w.pub("svc", "mine.x", "q")
		w.pingPong()
		other.expect("MSG svc 2 mine.x 1", "q")
		other.pingPong()
	})
}

// TestWireNoRespondersNotAsked: without no_responders in CONNECT, no 503 is sent.
func TestWireNoRespondersNotAsked(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true}`)
		w.send("SUB _INBOX.> 1\r\n")
		w.pub("nobody", "_INBOX.x", "")
		w.pingPong()
	})
}

// TestWireNoRespondersRequiresHeaders: asking for no_responders without headers is refused with
// -ERR 'no responders requires headers support' and the connection is closed.
func TestWireNoRespondersRequiresHeaders(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.send("CONNECT {\"verbose\":false,\"headers\":false,\"no_responders\":true}\r\nPING\r\n")
		w.expect("-ERR 'no responders requires headers support'")
		w.closed()
	})
}

// TestWireAuthViolation: when authentication is required, a CONNECT with a wrong password or
// none, or any other operation before CONNECT, is answered with -ERR 'Authorization Violation'
// and the connection is closed; the right password is accepted.
func TestWireAuthViolation(t *testing.T) {
	cases := []struct{ name, send string }{
		{"wrong password", "CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"wrong\"}\r\nPING\r\n"},
		{"no credentials", "CONNECT {\"verbose\":false}\r\nPING\r\n"},
		{"PING before CONNECT", "PING\r\n"},
		{"SUB before CONNECT", "SUB foo 1\r\n"},
	}
	each(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := dialWire(t, env)
				w.send(c.send)
				w.expect("-ERR 'Authorization Violation'")
				w.closed()
			})
		}
		ok := dialWire(t, env)
		ok.handshake(`{"verbose":false,"user":"alice","pass":"pw"}`)
	}, natstest.WithUsers(fake.User{Name: "alice", Password: "pw"}))
}

// TestWirePermissionViolation: a PUB or SUB the user may not make is answered with an -ERR that
// names it, in the server's capitalisation; the connection stays open and nothing is routed.
func TestWirePermissionViolation(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"user":"bob","pass":"pw"}`)
		w.send("SUB ok 1\r\nSUB secret 2\r\n")
		w.expect(`-ERR 'Permissions Violation for Subscription to "secret"'`)
		w.send("SUB ok q 3\r\n")
		w.pub("secret", "", "s")
		w.expect(`-ERR 'Permissions Violation for Publish to "secret"'`)
		w.pub("ok", "", "fine")
		m1, m2 := w.msg(), w.msg()
		if sids := []string{m1.sid, m2.sid}; !slices.Contains(sids, "1") || !slices.Contains(sids, "3") || m1.payload != "fine" || m2.payload != "fine" {
			t.Errorf("got %+v and %+v", m1, m2)
		}
		w.pingPong()
	}, natstest.WithUsers(fake.User{Name: "bob", Password: "pw", Permissions: &fake.Permissions{
		Publish:   &fake.SubjectPermission{Allow: []string{"ok"}},
		Subscribe: &fake.SubjectPermission{Allow: []string{"ok"}},
	}}))
}
