package natskit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
// FastForward moves the ack wait at once; on a real server it waits.
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
		Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second, MaxDeliver: 2})

	for range 2 {
		worker.Next(jetstream.FetchMaxWait(5 * time.Second)) // and forgets to ack
		env.FastForward(time.Second)                         // the ack wait runs out
	}
	// The worker asks again: the server finds the message has had its two deliveries.
	if batch, err := worker.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond)); err == nil {
		for range batch.Messages() {
		}
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

// A config watcher: did it see put, put, delete, in that order, and nothing after? What does the
// key hold now? In a test, pass t where this passes printTB{}.
func Example_keyValueWatch() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// History: the watcher sees every revision only if the bucket keeps them
	kv, _ := env.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "config", History: 5})
	w, _ := kv.Watch(ctx, "color")
	defer w.Stop()

	// the application under test
	kv.PutString(ctx, "color", "red")
	kv.PutString(ctx, "color", "blue")
	kv.Delete(ctx, "color")

	t := printTB{}
	ok := assert.WatchUpdates(t, w, []assert.KV{
		{Key: "color", Value: "red"},
		{Key: "color", Value: "blue"},
		{Key: "color", Op: jetstream.KeyValueDelete},
	})
	fmt.Println("put, put, delete:", ok)
	fmt.Println("then quiet:", assert.WatchQuiet(t, w))

	kv.PutString(ctx, "size", "L")
	fmt.Println("size is L:", assert.KeyValue(t, kv, "size", "L"))
	assert.KeyValue(t, kv, "color", "blue", assert.Within(50*time.Millisecond))
	// Output:
	// put, put, delete: true
	// then quiet: true
	// size is L: true
	// assert.KeyValue: waited 50ms for key "color" in bucket "config" to hold "blue"
	// the key was deleted (revision 3)
}

// An object's content and metadata, and a big object that differs in one byte: the report gives
// the sizes and the first difference, not a megabyte of diff.
func Example_objectStore() {
	env, err := natstest.Start()
	if err != nil {
		panic(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	obs, _ := env.JetStream().CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "files"})
	meta := jetstream.ObjectMeta{Name: "report.csv", Description: "monthly report", Metadata: map[string]string{"month": "2026-11"}}
	obs.Put(ctx, meta, strings.NewReader("id,total\n1,3\n"))

	t := printTB{}
	fmt.Println("content:", assert.Object(t, obs, "report.csv", "id,total\n1,3\n"))
	fmt.Println("metadata:", assert.ObjectMeta(t, obs, "report.csv", meta))
	obs.Delete(ctx, "report.csv")
	fmt.Println("deleted:", assert.ObjectDeleted(t, obs, "report.csv"))

	photo := bytes.Repeat([]byte{0xff, 0xd8, 0x00, 0x10}, 1<<18) // 1 MiB
	stored := bytes.Clone(photo)
	stored[1000] = 0
	obs.PutBytes(ctx, "photo.jpg", stored)
	assert.Object(t, obs, "photo.jpg", photo, assert.Within(50*time.Millisecond))
	// Output:
	// content: true
	// metadata: true
	// deleted: true
	// assert.Object: waited 50ms for object "photo.jpg" in bucket "files" to hold 1048576 bytes starting ff d8 00 10 ff d8 00 10 ff d8 00 10 ff d8 00 10...
	// content: both 1048576 bytes; first difference at byte 1000:
	// 	want ...ff d8 00 10 ff d8 00 10 ff d8 00 10 ff d8 00 10 [ff] d8 00 10 ff d8 00 10 ff d8 00 10 ff d8 00 10...
	// 	got  ...ff d8 00 10 ff d8 00 10 ff d8 00 10 ff d8 00 10 [00] d8 00 10 ff d8 00 10 ff d8 00 10 ff d8 00 10...
}
