package assert_test

import (
	"testing"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

var _ assert.Recording = (*natstest.Recorder)(nil)

// The assertions on a real recorder: what the environment's connections publish is seen
// without any flush in the test, and the failure text names what did arrive.
func TestOnNatstestRecorder(t *testing.T) {
	env := natstest.New(t)
	rec := env.Record("orders.>")
	if err := env.Conn().Publish("orders.created", []byte(`{"id":42,"item":"tea","total":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := env.Connect().Publish("orders.failed", []byte("no stock")); err != nil {
		t.Fatal(err)
	}
	assert.Published(t, rec, "orders.created", Order{ID: 42, Item: "tea", Total: 3})
	assert.NotPublished(t, rec, "orders.paid")

	tb := &recTB{}
	r := tb.failed(t, assert.NotPublished(tb, rec, "orders.failed"))
	contains(t, r, `assert.NotPublished: 1 message on "orders.failed":`, `orders.failed payload "no stock"`)

	tb = &recTB{}
	r = tb.failed(t, assert.Published(tb, rec.Filter("orders.created"), "orders.*", Order{ID: 42, Item: "tea", Total: 4}, short))
	diffLine(t, r, "-", "Total", "4")
	diffLine(t, r, "+", "Total", "3")
	contains(t, r, "recorded 1 message on 1 subject: orders.created ×1")
}
