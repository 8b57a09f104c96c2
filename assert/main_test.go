package assert_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/natskit/natskit/natstest"
)

// Envs on the container backend share containers. nats.go v1.55.0's async publisher (used by
// the Object Store's Put) may leave a goroutine waiting on a nil channel (see natstest's TestMain).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(natstest.ReuseContainers(m), goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}
