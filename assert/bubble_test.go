package assert_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// The assertions wait on timers and channels, so in a testing/synctest bubble they wait on the
// bubble's clock: a NotPublished's whole window, a KeyValue that never comes true, pass in no
// wall time.
func TestAssertionsInABubble(t *testing.T) {
	start := time.Now()
	synctest.Test(t, func(t *testing.T) {
		env := natstest.New(t, natstest.WithBackend(natstest.Fake))
		rec := env.Record("orders.>")
		sub, err := env.Conn().SubscribeSync("orders.created")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Conn().Flush(); err != nil { // the server has the SUB before the PUB
			t.Fatal(err)
		}
		if err := env.Connect().Publish("orders.created", []byte(tea)); err != nil {
			t.Fatal(err)
		}
		assert.Published(t, rec, "orders.created", Order{ID: 42, Item: "tea", Total: 3})
		assert.Received(t, sub, Order{ID: 42, Item: "tea", Total: 3})
		assert.NotPublished(t, rec, "orders.failed", assert.Within(time.Minute))

		ctx := context.Background()
		kv, err := env.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.PutString(ctx, "mode", "on"); err != nil {
			t.Fatal(err)
		}
		assert.KeyValue(t, kv, "mode", "on")
		ft := &failTB{TB: t}
		before := time.Now()
		assert.KeyValue(ft, kv, "mode", "off", assert.Within(time.Hour))
		if !ft.failed {
			t.Error("KeyValue(off) passed with the key on")
		}
		if waited := time.Since(before); waited < time.Hour {
			t.Errorf("KeyValue(off) gave up after %v of the bubble's time, want an hour", waited)
		}
	})
	if wall := time.Since(start); wall > 5*time.Second {
		t.Errorf("the bubble took %v of wall time", wall)
	}
}

// failTB records a failure instead of failing the test.
type failTB struct {
	testing.TB
	failed bool
}

func (f *failTB) Helper()                   {}
func (f *failTB) Errorf(string, ...any)     { f.failed = true }
func (f *failTB) Error(...any)              { f.failed = true }
func (f *failTB) Fatalf(s string, a ...any) { f.failed = true }
