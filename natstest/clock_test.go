package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A 30-second ack wait redelivers the unacknowledged message. On the fake (the default) the test
// takes milliseconds: FastForward moves the server's clock. With NATSTEST_BACKEND=embedded the
// same test runs against nats-server and FastForward waits the 30 seconds.
func TestAckWaitRedelivery(t *testing.T) {
	env := New(t)
	ctx := ctxT(t)
	js := env.JetStream()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "jobs.1", []byte("resize")); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckWait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	env.FastForward(30 * time.Second)
	// the real server checks ack deadlines on its own schedule: wait for the redelivery, within
	// the client's own deadline
	again, err := c.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("no redelivery after the ack wait: %v", err)
	}
	md1, _ := first.Metadata()
	md2, _ := again.Metadata()
	if md2.Sequence.Stream != md1.Sequence.Stream || md2.NumDelivered != 2 || string(again.Data()) != "resize" {
		t.Fatalf("got stream seq %d delivery %d %q, want seq %d delivery 2 \"resize\"",
			md2.Sequence.Stream, md2.NumDelivered, again.Data(), md1.Sequence.Stream)
	}
	ctx = ctxT(t) // the first one may have run out while real time passed
	if err := again.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumRedelivered != 0 || info.AckFloor.Stream != 1 {
		t.Fatalf("after the ack: %d pending, %d redelivered, ack floor %d", info.NumAckPending, info.NumRedelivered, info.AckFloor.Stream)
	}
}
