// Package fake is an in-memory NATS server that speaks the client protocol, over TCP on
// 127.0.0.1 and in process, so an application's real *nats.Conn, its jetstream.JetStream, and the
// client's Key-Value and Object Store work on it unmodified.
//
//	s := fake.Run(t)
//	nc, err := nats.Connect("", nats.InProcessServer(s))
//
// It starts in microseconds, and a test can read its state (Clients, Subscriptions, Stats;
// Streams, Stream, Consumers, Consumer with each message's ack state, KeyValue), seed it without
// a client (Publish, CreateStream, StoreMsg, CreateKeyValue, PutKeyValue), wait for subscribers
// (WaitForInterest), inject faults (Drop, Delay, Duplicate, Refuse, FailJetStream; Disconnect,
// RefuseConnections; Stop, a restart) and move its clock: FastForward runs every timer that falls due (ack wait,
// back-off, nak delay, max age, TTLs, pinned-client TTLs, pull expiries, heartbeats, PINGs)
// before it returns.
//
// Inside a testing/synctest bubble the server's clock is the bubble's, and so are the client's
// timers: a whole test, request timeouts and the application's own time.Sleep included, runs on
// virtual time.
//
//	synctest.Test(t, func(t *testing.T) {
//		s := fake.Run(t, fake.WithoutListener()) // nothing waits on a socket
//		nc, err := nats.Connect("", nats.InProcessServer(s))
//		...
//		time.Sleep(time.Hour) // ack waits, TTLs and max ages fall due, in no wall time
//	})
//
// Random choices (queue-group picks, PING jitter) follow a seed: WithSeed repeats them, and Run
// logs the seed when the test fails.
package fake
