// Package assert checks what a test's NATS traffic did: messages published, messages received,
// and which subjects a subscription gets. Each helper waits for its condition with a deadline,
// reports a go-cmp (-want +got) diff through t.Errorf, and returns whether it held.
//
//	rec := env.Record("orders.>")
//	orders.New(env.Conn()).Create(ctx, order)
//	assert.Published(t, rec, "orders.*.created", Order{ID: 42, Item: "tea"})
//	assert.NotPublished(t, rec, "orders.*.failed")
//
// It imports neither nats-server nor any container library.
package assert
