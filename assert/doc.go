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
//
// JetStream acks are messages on the deliveries' reply subjects, so a recording of "$JS.ACK.>"
// sees them on every backend; Acked, Naked, InProgress, Termed and Redelivered read it, and a
// failure shows the message's delivery history ("delivery 1: -NAK; delivery 2: +WPI").
// Recording "$JS.EVENT.ADVISORY.CONSUMER.>" too serves MaxDeliveriesReached; "_INBOX.>" shows
// deliveries nobody answered. ConsumerFigures and ConsumerDrained poll the consumer's Info.
// With a jetstream.Msg in hand, its Metadata gives the stream, consumer and stream sequence.
//
//	acks := env.Record("$JS.ACK.>", "$JS.EVENT.ADVISORY.CONSUMER.>")
//	worker.Run(ctx, cons) // the application's handler
//	assert.Acked(t, acks, "ORDERS", "billing", 1)
//	assert.Redelivered(t, acks, "ORDERS", "billing", 2, 1) // nak'd once, then acked
//	assert.MaxDeliveriesReached(t, acks, "ORDERS", "billing", 3)
//	assert.ConsumerDrained(t, cons)
//
// Key-Value and Object Store helpers use only the jetstream client API, so they mean the same on
// every backend. WatchUpdates reads a KeyWatcher and compares its updates, in order, with a list
// of KV (InitialValuesDone marks where the initial values end); WatchQuiet checks nothing more
// comes; ObjectWatchUpdates does the same for an ObjectWatcher. KeyValue and KeyDeleted, Object,
// ObjectMeta and ObjectDeleted wait for a key or an object to hold what is wanted, or to be gone.
//
//	assert.WatchUpdates(t, w, []assert.KV{{Key: "color", Value: "red"}, {Key: "color", Op: jetstream.KeyValueDelete}})
//	assert.KeyValue(t, kv, "limits", Limits{Max: 3})
//	assert.Object(t, obs, "report.csv", "id,total\n1,3\n")
package assert
