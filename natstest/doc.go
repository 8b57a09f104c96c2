// Package natstest gives a test a NATS server of its own, and the tools to watch it.
//
//	func TestOrderCreated(t *testing.T) {
//		env := natstest.New(t)                 // a server, connected; gone at the end of the test
//		rec := env.Record("orders.>")          // everything published on orders.>
//		orders.New(env.Conn()).Create(ctx, o)  // the code under test, on a real *nats.Conn
//		assert.Published(t, rec, "orders.created", wantOrder)
//	}
//
// The server runs on a Backend: Fake (the default) is the in-memory server of package fake,
// JetStream included; Embedded runs the real nats-server in the test process. WithBackend picks
// one, else the NATSTEST_BACKEND environment variable does, so a suite runs unchanged on another
// server; Each runs one test body on every backend, to prove they agree. Env.FastForward moves
// time: on the fake its clock jumps and due timers fire at once; on a real server it waits.
package natstest
