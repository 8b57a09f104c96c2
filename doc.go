// Package natskit is a testing toolkit for Go applications that use NATS: a real server for
// every test, recorders of what was published, and assertions that wait instead of sleeping.
//
//	import (
//		"github.com/natskit/natskit/assert"
//		"github.com/natskit/natskit/natstest"
//	)
//
//	func TestOrderCreated(t *testing.T) {
//		env := natstest.New(t)                 // the in-memory fake (JetStream on), connected
//		rec := env.Record("orders.>")          // records everything published on orders.>
//		orders.New(env.Conn()).Create(ctx, o)  // the application code, untouched: a real *nats.Conn
//		assert.Published(t, rec, "orders.created", wantOrder) // waits, then a go-cmp diff on failure
//	}
//
// The packages:
//
//   - natstest: the harness. New gives a test a server and connections, released in t.Cleanup;
//     Record, WaitForInterest, Each (one test body on every backend); NATSTEST_BACKEND picks
//     the server a whole suite runs on.
//   - assert: assertions on published and received messages and on subjects, with go-cmp diffs.
//     It imports neither nats-server nor Docker libraries.
//   - fake: the in-memory server: core NATS and JetStream, with a clock the test moves, faults,
//     and its state open to the test.
//   - cmd/natstest: serves a server on a port for clients in any language.
package natskit
