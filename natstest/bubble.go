package natstest

import (
	"errors"
	"fmt"

	"github.com/natskit/natskit/internal/bubble"
)

// A testing/synctest bubble gives the goroutines in it a clock of their own that starts at
// midnight UTC 2000-01-01 and moves only when every goroutine of the bubble is durably blocked.
// Only the fake can live in one: it is pure Go and reached in process, so nothing of it waits on
// a socket. A real server's goroutines wait on sockets and real timers, so in a bubble time would
// never move and the test would hang until the binary's timeout; natstest refuses them at once.

// inBubble reports whether the calling goroutine runs in a testing/synctest bubble.
func inBubble() bool { return bubble.In() }

// errBubble is the error of a backend that cannot run in a bubble.
var errBubble = errors.New("runs inside a testing/synctest bubble")

// bubbleCheck refuses what cannot run in a bubble, if the caller is in one: a backend other than
// the fake, or a fake that listens on TCP (WithAddr, WithProxy).
func (c *config) bubbleCheck(b Backend) error {
	if !inBubble() {
		return nil
	}
	switch {
	case b != Fake:
		return fmt.Errorf("natstest: the %s backend cannot run inside a testing/synctest bubble: a real server waits on sockets and real timers, so the bubble's clock would never move; use the fake (WithBackend(natstest.Fake)), or run this test outside synctest.Test: %w", b, errBubble)
	case c.addr != "" || c.proxy:
		return fmt.Errorf("natstest: WithAddr and WithProxy listen on TCP, which a testing/synctest bubble cannot wait on (its clock would never move); in a bubble the fake is reached in process: leave them out: %w", errBubble)
	}
	return nil
}
