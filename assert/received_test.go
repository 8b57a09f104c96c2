package assert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/assert"
)

func TestReceivedPasses(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.SubscribeSync("orders.>")
	if err != nil {
		t.Fatal(err)
	}
	pub := func(subj, data string, header ...string) {
		t.Helper()
		if err := nc.PublishMsg(msg(subj, data, header...)); err != nil {
			t.Fatal(err)
		}
	}
	pub("orders.1", tea, "Trace", "abc")
	tb := &recTB{}
	tb.passed(t, assert.Received(tb, sub, Order{ID: 42, Item: "tea", Total: 3}, assert.WithHeader("Trace", "abc")))

	pub("orders.2", "skipped")
	pub("orders.3", "wanted")
	pub("orders.4", "left")
	tb.passed(t, assert.Received(tb, sub, "wanted"))
	next, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("next message after Received: %v", err)
	}
	if string(next.Data) != "left" {
		t.Errorf("after Received, the next message is %q, want %q: the ones before the match are consumed, the ones after are not", next.Data, "left")
	}
}

func TestReceivedLaterMessage(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.SubscribeSync("late")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	start, done := make(chan struct{}), make(chan error, 1)
	go func() {
		<-start
		done <- nc.Publish("late", []byte("hi"))
	}()
	close(start)
	tb := &recTB{}
	tb.passed(t, assert.Received(tb, sub, []byte("hi"), assert.Within(time.Minute)))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReceivedWrongPayload(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.QueueSubscribeSync("orders.*", "workers")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`{"id":42,"item":"tea","total":4}`, "not json"} {
		if err := nc.Publish("orders.1", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	tb := &recTB{}
	r := tb.failed(t, assert.Received(tb, sub, Order{ID: 42, Item: "tea", Total: 3}, assert.Within(100*time.Millisecond)))
	contains(t, r, `assert.Received: waited 100ms on subscription on "orders.*" (queue "workers") for a message with assert_test.Order {ID:42 Item:tea Total:3}`,
		"read 2 messages, none equal: orders.1 ×2; closest:", "message 1, orders.1: payload (-want +got):",
		"message 2, orders.1:", "payload does not decode as assert_test.Order")
	diffLine(t, r, "-", "Total", "3")
	diffLine(t, r, "+", "Total", "4")
	if n, _, _ := sub.Pending(); n != 0 {
		t.Errorf("%d messages still pending after Received, want them consumed", n)
	}
}

func TestReceivedHeader(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.SubscribeSync("a")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishMsg(msg("a", "x", "Trace", "abc")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil { // the message is queued before the short wait starts
		t.Fatal(err)
	}
	tb := &recTB{}
	r := tb.failed(t, assert.Received(tb, sub, "x", assert.WithHeader("Trace", "xyz"), assert.Within(100*time.Millisecond)))
	contains(t, r, `for a message with "x", header "Trace": "xyz"`, "message 1, a: payload equal", `header "Trace": want "xyz", got ["abc"]`)
}

func TestReceivedNothing(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.SubscribeSync("quiet")
	if err != nil {
		t.Fatal(err)
	}
	tb := &recTB{}
	r := tb.failed(t, assert.Received(tb, sub, nil, assert.Within(10*time.Millisecond)))
	contains(t, r, `assert.Received: waited 10ms on subscription on "quiet" for a message with any payload`, "no message arrived")
	if strings.Contains(r, "queue") {
		t.Error("report names a queue for a plain subscription")
	}
}

func TestReceivedWithinZeroReadsWhatIsQueued(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.SubscribeSync("q")
	if err != nil {
		t.Fatal(err)
	}
	probe, err := nc.SubscribeSync("q.end")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c"} {
		if err := nc.Publish("q", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Publish("q.end", nil); err != nil {
		t.Fatal(err)
	}
	// The connection reads its messages in order, so once q.end is in, so are the three on q.
	if _, err := probe.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("waiting for q.end: %v", err)
	}
	tb := &recTB{}
	tb.passed(t, assert.Received(tb, sub, "c", assert.Within(0)))
}

func TestReceivedNotSync(t *testing.T) {
	nc := runServer(t)
	async, err := nc.Subscribe("a", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *nats.Msg, 1)
	chanSub, err := nc.ChanQueueSubscribe("b", "g", ch)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sub    *nats.Subscription
		want   string
		reason string
	}{
		{async, `assert.Received: subscription on "a" is an async subscription (Subscribe with a handler); Received reads with NextMsg, which needs SubscribeSync or QueueSubscribeSync`, "handler"},
		{chanSub, `assert.Received: subscription on "b" (queue "g") is a channel subscription (ChanSubscribe)`, "channel"},
		{nil, "assert.Received: nil subscription", "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			tb := &recTB{}
			contains(t, tb.failed(t, assert.Received(tb, tt.sub, nil, assert.Within(time.Minute))), tt.want)
		})
	}
}

func TestReceivedClosedSubscription(t *testing.T) {
	nc := runServer(t)
	sub, err := nc.SubscribeSync("a")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	tb := &recTB{}
	r := tb.failed(t, assert.Received(tb, sub, nil, assert.Within(time.Minute)))
	contains(t, r, `assert.Received: reading subscription on "a" for any payload: nats: invalid subscription`)
}
