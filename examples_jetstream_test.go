package natskit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// A worker that fails the first time and succeeds on the redelivery: the recording of
// "$JS.ACK.>" holds every ack any client sends, and the assertions read it. In a test, pass t.
func Example_acks() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	acks := env.Record("$JS.ACK.>")
	js := env.JetStream()
	stream, _ := js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}})
	ack, _ := js.Publish(ctx, "jobs.resize", []byte("photo.jpg"))
	worker, _ := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy})

	for range 2 { // the application's handler: nak the first delivery, ack the next
		m, _ := worker.Next(jetstream.FetchMaxWait(5 * time.Second))
		if md, _ := m.Metadata(); md.NumDelivered == 1 {
			m.Nak()
		} else {
			m.Ack()
		}
	}

	t := printTB{}
	seq := ack.Sequence
	fmt.Println(assert.Naked(t, acks, "JOBS", "worker", seq, assert.OnDelivery(1)))
	fmt.Println(assert.Acked(t, acks, "JOBS", "worker", seq, assert.OnDelivery(2)))
	fmt.Println(assert.Redelivered(t, acks, "JOBS", "worker", seq, 1))
	fmt.Println(assert.ConsumerDrained(t, worker))

	// a failure shows the message's delivery history
	assert.Termed(t, acks, "JOBS", "worker", seq, assert.Within(0))
	// Output:
	// true
	// true
	// true
	// true
	// assert.Termed: waited 0s for +TERM of stream seq 1 on consumer JOBS > worker
	// stream seq 1: delivery 1: -NAK; delivery 2: +ACK
	// recorded for JOBS > worker: nothing else
	// (a delivery nobody answered shows only if the recording has its subject too, such as "_INBOX.>" for pull consumers)
}

// A handler that never acks, on a consumer that gives up after two deliveries: the server's
// advisory says so, and the consumer's figures show nothing left to do. On the fake,
// FastForward moves the 30-second ack wait at once.
func Example_maxDeliveries() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	rec := env.Record("$JS.ACK.>", "$JS.EVENT.ADVISORY.CONSUMER.>", "_INBOX.>")
	js := env.JetStream()
	stream, _ := js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}})
	js.Publish(ctx, "jobs.resize", []byte("photo.jpg"))
	worker, _ := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: 2})

	for range 2 {
		worker.Next(jetstream.FetchMaxWait(5 * time.Second)) // and forgets to ack
		env.FastForward(30 * time.Second)
	}

	t := printTB{}
	fmt.Println(assert.MaxDeliveriesReached(t, rec, "JOBS", "worker", 1))
	fmt.Println(assert.ConsumerFigures(t, worker, assert.Figures{AckPending: new(0), Delivered: new(uint64(1))}))

	assert.Acked(t, rec, "JOBS", "worker", 1, assert.Within(0))
	// Output:
	// true
	// true
	// assert.Acked: waited 0s for +ACK of stream seq 1 on consumer JOBS > worker
	// stream seq 1: delivery 1: no ack; delivery 2: no ack; max deliveries reached after 2
	// recorded for JOBS > worker: nothing else
}
