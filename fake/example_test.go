package fake_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
)

// A fake server, a client on it with no socket, and a look at the server's state.
func Example() {
	s, err := fake.NewServer(fake.WithoutListener())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.Name("greeter"))
	if err != nil {
		panic(err)
	}
	defer nc.Close()

	sub, _ := nc.SubscribeSync("greet.*")
	nc.Publish("greet.joe", []byte("hello"))
	m, _ := sub.NextMsg(time.Second)
	fmt.Printf("%s: %s\n", m.Subject, m.Data)

	c, _ := s.Client("greeter")
	fmt.Println(c.Name, "subscribes to", c.Subscriptions[0].Subject)
	// Output:
	// greet.joe: hello
	// greeter subscribes to greet.*
}

// Faults for the next messages on a subject: here a request refused as if nobody listened, then
// a message lost.
func ExampleServer_Inject() {
	s, _ := fake.NewServer(fake.WithoutListener())
	defer s.Close()
	nc, _ := nats.Connect("", nats.InProcessServer(s))
	defer nc.Close()
	nc.Subscribe("inventory.reserve", func(m *nats.Msg) { m.Respond([]byte("reserved")) })
	sub, _ := nc.SubscribeSync("audit")

	s.Inject(fake.Refuse("inventory.reserve", 1), fake.Drop("audit", 1))
	_, err := nc.Request("inventory.reserve", nil, time.Second)
	fmt.Println(errors.Is(err, nats.ErrNoResponders))
	r, _ := nc.Request("inventory.reserve", nil, time.Second)
	fmt.Println(string(r.Data))

	nc.Publish("audit", []byte("lost"))
	nc.Publish("audit", []byte("kept"))
	m, _ := sub.NextMsg(time.Second)
	fmt.Println(string(m.Data))
	// Output:
	// true
	// reserved
	// kept
}

// A consumer's 30-second ack wait passes in one call: the unacknowledged message comes back.
func ExampleServer_FastForward() {
	s, _ := fake.NewServer(fake.WithoutListener())
	defer s.Close()
	nc, _ := nats.Connect("", nats.InProcessServer(s))
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()

	stream, _ := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	js.Publish(ctx, "orders.new", []byte("order 1"))
	c, _ := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "billing", AckWait: 30 * time.Second})

	m, _ := c.Next() // delivered, never acknowledged
	s.FastForward(30 * time.Second)
	m, _ = c.Next()
	md, _ := m.Metadata()
	fmt.Printf("%s delivered %d times\n", m.Data(), md.NumDelivered)

	state, _ := s.Consumer("ORDERS", "billing")
	fmt.Println(state.Messages[0].Ack)
	// Output:
	// order 1 delivered 2 times
	// pending
}
