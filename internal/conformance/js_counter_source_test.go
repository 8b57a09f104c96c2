package conformance

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A counter stream that sources other counter streams adds up their totals: each sourced
// message adds what its origin's total grew by since the last one from there, and the origins'
// totals are kept in Nats-Counter-Sources. A sourced message without an increment is refused,
// and the source stops there.

// Helpers of this file start with "cs".

// csIncr increments subj by incr.
func csIncr(t *testing.T, env *natstest.Env, subj, incr string) {
	t.Helper()
	m := nats.NewMsg(subj)
	m.Header.Set("Nats-Incr", incr)
	if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
		t.Fatalf("increment %s by %s: %v", subj, incr, err)
	}
}

// TestJSCounterSources: AGG sources counters CA and CB under its own subjects; its total is
// the sum of theirs, its own increments add to it, and Nats-Counter-Sources holds each
// origin's last total.
func TestJSCounterSources(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, n := range []string{"CA", "CB"} {
			spStream(t, env, jetstream.StreamConfig{Name: n, Subjects: []string{map[string]string{"CA": "ca.>", "CB": "cb.>"}[n]}, AllowMsgCounter: true})
		}
		agg := spStream(t, env, jetstream.StreamConfig{Name: "AGG", Subjects: []string{"agg.>"}, AllowMsgCounter: true, AllowDirect: true,
			Sources: []*jetstream.StreamSource{
				{Name: "CA", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "ca.>", Destination: "agg.>"}}},
				{Name: "CB", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "cb.>", Destination: "agg.>"}}},
			}})
		csIncr(t, env, "ca.x", "2")
		miUntilLast(t, agg, 1)
		csIncr(t, env, "cb.x", "5")
		miUntilLast(t, agg, 2)
		csIncr(t, env, "ca.x", "3")
		miUntilLast(t, agg, 3)
		val, hdr := ctValue(t, agg, "agg.x")
		if val != "10" {
			t.Errorf("AGG's agg.x is %s, want 10 (5 from CA, 5 from CB)", val)
		}
		if got, want := hdr.Get("Nats-Counter-Sources"), `{"CA":{"ca.x":"5"},"CB":{"cb.x":"5"}}`; got != want {
			t.Errorf("Nats-Counter-Sources %q, want %q", got, want)
		}
		if got := hdr.Get("Nats-Incr"); got != "3" {
			t.Errorf("the last sourced message's Nats-Incr %q, want 3 (what CA grew by)", got)
		}
		csIncr(t, env, "agg.x", "-1")
		val, hdr = ctValue(t, agg, "agg.x")
		if val != "9" || hdr.Get("Nats-Counter-Sources") != `{"CA":{"ca.x":"5"},"CB":{"cb.x":"5"}}` {
			t.Errorf("after an increment of AGG's own: %s with sources %q, want 9 and the sources kept", val, hdr.Get("Nats-Counter-Sources"))
		}
	})
}

// TestJSCounterSourceNeedsIncrements: a counter stream sourcing a plain stream stores none of
// its messages, which carry no increment.
func TestJSCounterSourceNeedsIncrements(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "PLAIN", Subjects: []string{"plain.>"}})
		spStream(t, env, jetstream.StreamConfig{Name: "CA", Subjects: []string{"ca.>"}, AllowMsgCounter: true})
		agg := spStream(t, env, jetstream.StreamConfig{Name: "AGG", Subjects: []string{"agg.>"}, AllowMsgCounter: true,
			Sources: []*jetstream.StreamSource{{Name: "PLAIN"}, {Name: "CA"}}})
		spPub(t, env, "plain.x", "no increment")
		csIncr(t, env, "ca.x", "4")
		miUntilLast(t, agg, 1)
		if n := spInfo(t, agg).State.Msgs; n != 1 {
			t.Errorf("AGG holds %d messages, want 1: CA's increment only", n)
		}
	})
}
