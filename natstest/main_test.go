package natstest

import (
	"testing"

	"go.uber.org/goleak"
)

// nats.go v1.55.0's async publisher (used by PublishAsync and the object store's Put) may start a
// goroutine that reads its status channel after the publisher has already dropped it; it then
// waits on a nil channel forever. It is the client's, and only a fast server makes it likely.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(ReuseContainers(m), goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}
