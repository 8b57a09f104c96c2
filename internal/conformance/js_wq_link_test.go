package conformance

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A mirror or source takes its origin's messages through a consumer that acks none: on a work
// queue what it takes is gone from the origin, and on an interest stream it is interest of its
// own, so what it takes is kept until it has it, and then gone.

// TestJSMirrorOfWorkQueueTakesMessages: what a work queue held and what comes after goes to the
// mirror and leaves the queue, whose sequences go on.
func TestJSMirrorOfWorkQueueTakesMessages(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		w := spStream(t, env, jetstream.StreamConfig{Name: "W", Subjects: []string{"w.>"}, Retention: jetstream.WorkQueuePolicy})
		spPub(t, env, "w.a", "1")
		spPub(t, env, "w.b", "2")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "W"}})
		miUntilLast(t, m, 2)
		spPub(t, env, "w.c", "3")
		miUntilLast(t, m, 3)
		spStreamUntil(t, w, "the work queue is empty", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		if st := spInfo(t, w).State; st.LastSeq != 3 || st.FirstSeq != 4 {
			t.Errorf("work queue state %+v, want first 4, last 3", st)
		}
	})
}

// TestJSSourceOfWorkQueueTakesMessages: a source of a work queue leaves nothing for a consumer
// of the queue's own.
func TestJSSourceOfWorkQueueTakesMessages(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		w := spStream(t, env, jetstream.StreamConfig{Name: "W", Subjects: []string{"w.>"}, Retention: jetstream.WorkQueuePolicy})
		spPub(t, env, "w.a", "1")
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Sources: []*jetstream.StreamSource{{Name: "W"}}})
		miUntilLast(t, s, 1)
		spStreamUntil(t, w, "the work queue is empty", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		// a consumer of the work queue's own now has nothing
		c := spConsumer(t, w, jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("the work queue's consumer got %d messages, want none", len(got))
		}
	})
}

// TestJSMirrorOfInterestStream: with no consumer of its own, an interest stream keeps a message
// for its mirror, which then has it while the origin does not.
func TestJSMirrorOfInterestStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		o := spStream(t, env, jetstream.StreamConfig{Name: "I", Subjects: []string{"i.>"}, Retention: jetstream.InterestPolicy})
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "I"}})
		spStreamUntil(t, m, "the mirror is connected", func(jetstream.StreamState) bool {
			mi := spInfo(t, m).Mirror
			return mi != nil && mi.Active >= 0
		})
		spPub(t, env, "i.a", "1")
		miUntilLast(t, m, 1)
		spStreamUntil(t, o, "the interest stream is empty", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
	})
}
