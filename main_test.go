package natskit_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/natskit/natskit/natstest"
)

// nats.go v1.55.0's async publisher (used by PublishAsync and the object store's Put) may start a
// goroutine that reads its status channel after the publisher has already dropped it; it then
// waits on a nil channel forever. It is the client's, and only a fast server makes it likely.
//
// Envs on the container backend (NATSTEST_BACKEND=container) share containers.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(natstest.ReuseContainers(m), goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}
