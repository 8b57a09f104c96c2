package conformance

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/natskit/natskit/natstest"
)

// nats.go v1.55.0's async publisher (used by PublishAsync and the object store's Put) may start a
// goroutine that reads its status channel after the publisher has already dropped it; it then
// waits on a nil channel forever. It is the client's, and only a fast server makes it likely.
//
// The embedded nats-server waits up to 30s for the answer to a source's consumer create (one
// of another account or domain that nothing answers) in a goroutine its shutdown does not end.
//
// Envs on the container backend share containers (natstest.ReuseContainers): the suite would
// otherwise start one for each of its hundreds of scenarios.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(natstest.ReuseContainers(m), goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"),
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*stream).trySetupSourceConsumer.func3"))
}
