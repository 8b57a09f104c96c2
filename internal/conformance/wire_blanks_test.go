package conformance

import (
	"strings"
	"testing"

	"github.com/natskit/natskit/natstest"
)

// TestWireBlanksAfterOpNotCounted: blanks between an op word and its arguments are skipped and
// do not count against the maximum control line, however many there are, sent in one write or
// in pieces; the line is then read as any other.
func TestWireBlanksAfterOpNotCounted(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false}`)
		w.send("SUB" + strings.Repeat(" \t", 10_000) + "blanks 1\r\n")
		w.send("PUB")
		for range 4 {
			w.send(strings.Repeat(" ", 50_000))
		}
		w.send("blanks 2\r\nhi\r\n")
		m := w.msg()
		if m.subject != "blanks" || m.payload != "hi" {
			t.Errorf("got %+v, want hi on blanks", m)
		}
		w.pingPong()
	})
}

// TestWireFormFeedInWildcardSubject: a form feed is not a blank on the protocol line, so it is
// part of a token: a wildcard subscription on "a\f.*" receives "a\f.x", and "b.*" receives
// "b.\fx", token for token.
func TestWireFormFeedInWildcardSubject(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"pedantic":false}`)
		w.send("SUB a\f.* 1\r\nSUB b.* 2\r\n")
		w.pingPong()
		w.pub("a\f.x", "", "hi")
		w.pub("b.\fx", "", "ho")
		w.expect("MSG a\f.x 1 2", "hi", "MSG b.\fx 2 2", "ho")
		w.pingPong()
	})
}
