package conformance

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// TestJSPullBodyNotNumber: a pull request whose body is neither JSON nor a number asks for one
// message, as nats-server reads it; it is not refused.
func TestJSPullBodyNotNumber(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spPullSetup(t, env, 3, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
		nc := env.Connect()
		inbox := nc.NewInbox()
		sub := subSync(t, nc, inbox)
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.d", inbox, []byte("foo")); err != nil {
			t.Fatal(err)
		}
		if got, want := tcNextMsgs(t, sub, 1), []string{"m0 1/1/1"}; !slices.Equal(got, want) {
			t.Errorf("pull with body foo got %v, want %v", got, want)
		}
		nothingMore(t, sub)
	})
}

// TestJSAckNextNotNumber: +NXT followed by something that is neither JSON nor a number acks the
// message and asks for one more.
func TestJSAckNextNotNumber(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
		sub := tcNext(t, env, spTake(t, c, 1)[0], "+NXT foo")
		if got, want := tcNextMsgs(t, sub, 1), []string{"m1 2/2/1"}; !slices.Equal(got, want) {
			t.Errorf("after +NXT foo got %v, want %v", got, want)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckFloor: [2]uint64{1, 1}, AckPending: 1, NumPending: 1})
	})
}
