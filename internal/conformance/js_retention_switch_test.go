package conformance

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A stream's retention can change between limits and interest (not to or from work queue):
// to interest, what its consumers have acknowledged goes, and without consumers everything
// does; back to limits, nothing moves.

// Helpers of this file start with "rs".

// rsUpdate changes stream P's retention.
func rsUpdate(t *testing.T, env *natstest.Env, s jetstream.Stream, r jetstream.RetentionPolicy) {
	t.Helper()
	cfg := spInfo(t, s).Config
	cfg.Retention = r
	if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
		t.Fatalf("update P to %v: %v", r, err)
	}
}

// rsWantSeqs waits until stream P holds exactly the messages seqs.
func rsWantSeqs(t *testing.T, s jetstream.Stream, seqs ...uint64) {
	t.Helper()
	spStreamUntil(t, s, fmt.Sprint("the stream holds messages ", seqs), func(st jetstream.StreamState) bool {
		return st.Msgs == uint64(len(seqs)) && (len(seqs) == 0 || st.FirstSeq == seqs[0])
	})
	if got := spSeqs(t, s); !slices.Equal(got, seqs) {
		t.Fatalf("stream holds %v, want %v", got, seqs)
	}
}

// TestJSRetentionToInterestWithoutConsumers: a limits stream without consumers changed to
// interest loses every message and goes on from its last sequence; what is published next, with
// no consumer, is not kept. Back to limits, messages are kept again.
func TestJSRetentionToInterestWithoutConsumers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		spPubN(t, env, "p.a", "m", 3)
		rsUpdate(t, env, s, jetstream.InterestPolicy)
		spState(t, s, jetstream.StreamState{Msgs: 0, FirstSeq: 4, LastSeq: 3})
		if a := spPub(t, env, "p.a", "gone"); a.Sequence != 4 {
			t.Fatalf("publish after the change: sequence %d, want 4", a.Sequence)
		}
		spState(t, s, jetstream.StreamState{Msgs: 0, FirstSeq: 5, LastSeq: 4})
		rsUpdate(t, env, s, jetstream.LimitsPolicy)
		spPub(t, env, "p.a", "kept")
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 5, LastSeq: 5, NumSubjects: 1})
	})
}

// TestJSRetentionToInterestWithConsumers: changed to interest, a message goes once every
// consumer whose filter takes it has acknowledged it; one still pending, one not yet delivered
// to a consumer and one no consumer's filter takes stay. Acks after the change remove as on any
// interest stream; back to limits, what is left stays.
func TestJSRetentionToInterestWithConsumers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		for _, subj := range []string{"p.a", "p.a", "p.b", "p.a"} {
			spPub(t, env, subj, subj)
		}
		a := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "A", FilterSubject: "p.a", AckPolicy: jetstream.AckExplicitPolicy})
		b := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "B", FilterSubject: "p.a", AckPolicy: jetstream.AckExplicitPolicy})
		fromA := spTake(t, a, 2) // 1 and 2
		if err := fromA[0].DoubleAck(waitCtx(t)); err != nil {
			t.Fatalf("ack 1 on A: %v", err)
		}
		for _, m := range spTake(t, b, 3) { // 1, 2 and 4
			if err := m.DoubleAck(waitCtx(t)); err != nil {
				t.Fatalf("ack on B: %v", err)
			}
		}
		rsWantSeqs(t, s, 1, 2, 3, 4)

		rsUpdate(t, env, s, jetstream.InterestPolicy)
		rsWantSeqs(t, s, 2, 3, 4)
		if err := fromA[1].DoubleAck(waitCtx(t)); err != nil {
			t.Fatalf("ack 2 on A: %v", err)
		}
		rsWantSeqs(t, s, 3, 4)

		rsUpdate(t, env, s, jetstream.LimitsPolicy)
		for _, m := range spTake(t, a, 1) { // 4
			if err := m.DoubleAck(waitCtx(t)); err != nil {
				t.Fatalf("ack 4 on A: %v", err)
			}
		}
		spPub(t, env, "p.c", "kept")
		rsWantSeqs(t, s, 3, 4, 5)
	})
}

// TestJSRetentionWorkQueueFixed: to or from work queue, retention cannot change.
func TestJSRetentionWorkQueueFixed(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		want := jetstream.APIError{Code: 500, ErrorCode: 10052,
			Description: "stream configuration update can not change retention policy to/from workqueue"}
		for _, c := range []struct{ from, to jetstream.RetentionPolicy }{
			{jetstream.LimitsPolicy, jetstream.WorkQueuePolicy},
			{jetstream.InterestPolicy, jetstream.WorkQueuePolicy},
			{jetstream.WorkQueuePolicy, jetstream.InterestPolicy},
		} {
			s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Retention: c.from})
			cfg := spInfo(t, s).Config
			cfg.Retention = c.to
			_, err := env.JetStream().UpdateStream(waitCtx(t), cfg)
			spAPIErr(t, err, want)
			if err := env.JetStream().DeleteStream(waitCtx(t), "P"); err != nil {
				t.Fatal(err)
			}
		}
	})
}
