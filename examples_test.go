package natskit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// Order is what the example application publishes.
type Order struct {
	ID    int    `json:"id"`
	Item  string `json:"item"`
	Total int    `json:"total"`
}

// createOrder is the application code under test: it takes a real *nats.Conn.
func createOrder(nc *nats.Conn, o Order) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return nc.Publish(fmt.Sprintf("orders.%d.created", o.ID), data)
}

// A handler test: the recorder keeps everything published on orders.>, in order.
// In a test, natstest.New(t) replaces Start and Close.
func Example() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()

	rec := env.Record("orders.>")
	if err := createOrder(env.Conn(), Order{ID: 42, Item: "tea", Total: 3}); err != nil {
		panic(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := rec.Wait(ctx, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(msgs[0].Subject, string(msgs[0].Data))
	// Output: orders.42.created {"id":42,"item":"tea","total":3}
}

// Request and reply: WaitForInterest returns once the responder's subscription is live, so the
// request cannot race it.
func ExampleEnv_WaitForInterest() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()

	go func() {
		responder := env.Connect(nats.Name("pricing"))
		_, _ = responder.Subscribe("price.get", func(m *nats.Msg) {
			_ = m.Respond([]byte("price of " + string(m.Data) + ": 3"))
		})
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := env.WaitForInterest(ctx, "price.get", 1); err != nil {
		panic(err)
	}
	reply, err := env.Conn().RequestWithContext(ctx, "price.get", []byte("tea"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(reply.Data))
	// Output: price of tea: 3
}

// JetStream: a stream, a publish acknowledged by the server, and a fetch from a durable consumer.
func ExampleEnv_JetStream() {
	env, err := natstest.Start() // the fake; NATSTEST_BACKEND=embedded runs it on nats-server

	if err != nil {
		panic(err)
	}
	defer env.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js := env.JetStream()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	if err != nil {
		panic(err)
	}
	ack, err := js.Publish(ctx, "orders.1.created", []byte("tea"))
	if err != nil {
		panic(err)
	}
	fmt.Println("stored as", ack.Stream, ack.Sequence)

	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "billing", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		panic(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		panic(err)
	}
	for m := range batch.Messages() {
		fmt.Println("fetched", m.Subject(), string(m.Data()))
		if err := m.DoubleAck(ctx); err != nil {
			panic(err)
		}
	}
	info, err := cons.Info(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("pending acks", info.NumAckPending)
	// Output:
	// stored as ORDERS 1
	// fetched orders.1.created tea
	// pending acks 0
}

// A consumer's 30-second ack wait, without waiting 30 seconds: on the fake, FastForward moves the
// server's clock and the unacknowledged message is redelivered at once. On a real server
// (NATSTEST_BACKEND=embedded) FastForward waits the 30 seconds.
func ExampleEnv_FastForward() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()
	ctx := context.Background()
	js := env.JetStream()
	stream, _ := js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}})
	js.Publish(ctx, "jobs.resize", []byte("photo.jpg"))
	worker, _ := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckWait: 30 * time.Second})

	m, _ := worker.Next() // the worker dies without acking
	env.FastForward(30 * time.Second)
	m, _ = worker.Next(jetstream.FetchMaxWait(5 * time.Second))
	md, _ := m.Metadata()
	fmt.Printf("%s redelivered: delivery %d\n", m.Data(), md.NumDelivered)
	// Output: photo.jpg redelivered: delivery 2
}

// printTB stands in for a test's *testing.T in the examples: it prints what an assertion reports.
type printTB struct{}

func (printTB) Helper()                           {}
func (printTB) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// A worker pool on a queue group: did every job reach exactly one worker, and did they all work?
// WithProxy lets the Env see which connection got which message, on every backend; this example
// pins the fake and its round-robin queue policy so that its output is always the same. In a
// test, pass t where this passes printTB{}.
func Example_queueGroup() {
	env, err := natstest.Start(natstest.WithProxy(), natstest.WithBackend(natstest.Fake),
		natstest.WithFakeOptions(fake.WithQueuePolicy(fake.QueueRoundRobin)))
	if err != nil {
		panic(err)
	}
	defer env.Close()
	rec := env.Record("jobs.>")
	for _, name := range []string{"worker-1", "worker-2", "worker-3"} {
		worker := env.Connect(nats.Name(name))
		worker.QueueSubscribe("jobs.*", "workers", func(*nats.Msg) {})
		if name == "worker-3" { // a bug: it also takes every job outside the group
			worker.Subscribe("jobs.*", func(*nats.Msg) {})
		}
	}
	env.WaitForInterest(context.Background(), "jobs.resize", 4)
	for i := range 3 {
		env.Conn().Publish("jobs.resize", fmt.Appendf(nil, "image-%d", i))
	}
	assert.QueueGroup(printTB{}, rec, env, "jobs.*", "workers", assert.Members("worker-1", "worker-2", "worker-3"))
	// Output:
	// assert.QueueGroup: queue group "workers" on "jobs.*":
	//   outside the group: worker-3 also got jobs.resize payload "image-0" on its subscription to "jobs.*" (sid 2), which is in no queue group
	//   outside the group: worker-3 also got jobs.resize payload "image-1" on its subscription to "jobs.*" (sid 2), which is in no queue group
	//   outside the group: worker-3 also got jobs.resize payload "image-2" on its subscription to "jobs.*" (sid 2), which is in no queue group
	//   shares: worker-1 1, worker-2 1, worker-3 1 (of 3)
}
