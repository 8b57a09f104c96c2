package conformance

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A consumer whose filter takes in all of its stream's subjects still takes only what its filter
// matches once the stream holds more: subjects added by an update, messages from sources.

// TestJSFilterAfterSubjectsAdded: a consumer filtered on a stream's only subject takes none of
// the messages on a subject an update adds.
func TestJSFilterAfterSubjectsAdded(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"a.>"}})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", FilterSubject: "a.>", AckPolicy: jetstream.AckExplicitPolicy})
		cfg := spInfo(t, s).Config
		cfg.Subjects = []string{"a.>", "b.>"}
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "b.x", "b")
		spPub(t, env, "a.x", "a")
		got := spTake(t, c, 1)
		if got[0].Subject() != "a.x" {
			t.Errorf("consumer on a.> took %s first, want a.x", got[0].Subject())
		}
		if info := spCInfo(t, c); info.NumPending != 0 {
			t.Errorf("num pending %d after a.x, want 0", info.NumPending)
		}
	})
}

// TestJSFilterOnSourcedStream: on a stream with subjects of its own and a source, a consumer
// filtered on its own subjects takes none of the sourced messages.
func TestJSFilterOnSourcedStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
		spPub(t, env, "o.x", "sourced")
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			Sources: []*jetstream.StreamSource{{Name: "O"}}})
		miUntilLast(t, s, 1)
		spPub(t, env, "p.x", "own")
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", FilterSubject: "p.>", AckPolicy: jetstream.AckExplicitPolicy})
		if info := spCInfo(t, c); info.NumPending != 1 {
			t.Errorf("num pending %d, want 1 (p.x only)", info.NumPending)
		}
		got := spTake(t, c, 1)
		if got[0].Subject() != "p.x" {
			t.Errorf("consumer on p.> took %s first, want p.x", got[0].Subject())
		}
	})
}
