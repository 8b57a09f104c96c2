package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// The application: orders arrive on a work-queue stream; the fulfilment service takes each from
// the durable consumer "fulfil", acks an order it can read and naks one it cannot, which the
// consumer gives up on after three deliveries.
type order struct {
	ID   int    `json:"id"`
	Item string `json:"item"`
}

type fulfilment struct {
	cons      jetstream.Consumer
	forgetAck bool // the bug of the broken variant
}

func setUpOrders(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "ORDERS", Subjects: []string{"orders.>"}, Retention: jetstream.WorkQueuePolicy,
	})
	if err != nil {
		return nil, err
	}
	return s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "fulfil", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 3, AckWait: 30 * time.Second,
	})
}

func (f fulfilment) run() (stop func(), err error) {
	cc, err := f.cons.Consume(func(m jetstream.Msg) {
		var o order
		if json.Unmarshal(m.Data(), &o) != nil {
			m.Nak()
			return
		}
		if !f.forgetAck {
			m.Ack()
		}
	})
	if err != nil {
		return nil, err
	}
	return cc.Stop, nil
}

// publishOrders publishes good orders and one it cannot read, and returns their stream
// sequences: the good ones, then the poison message's.
func publishOrders(t *testing.T, js jetstream.JetStream, good int) ([]uint64, uint64) {
	t.Helper()
	ctx := waitCtx(t)
	var seqs []uint64
	for i := 1; i <= good; i++ {
		b, _ := json.Marshal(order{ID: i, Item: "tea"})
		ack, err := js.Publish(ctx, fmt.Sprintf("orders.%d", i), b)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Sequence)
	}
	ack, err := js.Publish(ctx, "orders.poison", []byte("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	return seqs, ack.Sequence
}

// Every readable order is acked once; the poison message is nak'd three times and given up on,
// with the server's max-deliveries advisory; then nothing is left for the consumer.
func TestOrderPipeline(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		rec := env.Record("$JS.ACK.>", "$JS.EVENT.ADVISORY.CONSUMER.>")
		cons, err := setUpOrders(waitCtx(t), env.JetStream())
		if err != nil {
			t.Fatal(err)
		}
		stop, err := fulfilment{cons: cons}.run()
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		good, poison := publishOrders(t, env.JetStream(), 3)
		for _, seq := range good {
			assert.Acked(t, rec, "ORDERS", "fulfil", seq)
			assert.Redelivered(t, rec, "ORDERS", "fulfil", seq, 0)
		}
		assert.Naked(t, rec, "ORDERS", "fulfil", poison, assert.OnDelivery(3))
		assert.MaxDeliveriesReached(t, rec, "ORDERS", "fulfil", poison)
		assert.ConsumerDrained(t, cons)
	})
}

// Broken: the service handles every order but never acks: the failure shows the delivery
// nobody answered.
func TestOrderPipelineBroken(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		rec := env.Record("$JS.ACK.>", "$JS.EVENT.ADVISORY.CONSUMER.>", "_INBOX.>")
		cons, err := setUpOrders(waitCtx(t), env.JetStream())
		if err != nil {
			t.Fatal(err)
		}
		stop, err := fulfilment{cons: cons, forgetAck: true}.run()
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		good, _ := publishOrders(t, env.JetStream(), 1)
		tb := &reportTB{}
		tb.failedWith(t, assert.Acked(tb, rec, "ORDERS", "fulfil", good[0], assert.Within(300*time.Millisecond), assert.WithInfo(cons)),
			"assert.Acked: waited 300ms for +ACK of stream seq 1 on consumer ORDERS > fulfil",
			"stream seq 1: delivery 1: no ack", "1 ack pending")
	})
}
