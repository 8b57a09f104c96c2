package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's replay scenarios for pull consumers: with replay "original", a message that
// has a request to go to first waits the time between its own timestamp and the previous
// delivered message's, on the server's clock. Helpers start with "tr".

// trStream is stream S with one message on s.<i> for each gap, stored the gap after the one
// before (the first at once).
func trStream(t *testing.T, env *natstest.Env, tm timing, gaps ...time.Duration) jetstream.Stream {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	for i, g := range gaps {
		tm.pass(g)
		spPub(t, env, fmt.Sprint("s.", i), "x")
	}
	return s
}

// A pull consumer replaying "original": one fetch gets the messages spaced as they were stored;
// once caught up, a new message comes at once, however long after the last. (The gaps stay
// under the fetch's missed-heartbeat limit: nats-server sends no heartbeat while it waits one.)
func TestTimedReplayOriginalPull(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		gaps := []time.Duration{0, tm.d(3*time.Second, 300*time.Millisecond), tm.d(6*time.Second, 600*time.Millisecond)}
		s := trStream(t, env, tm, gaps...)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckNonePolicy, ReplayPolicy: jetstream.ReplayOriginalPolicy})
		if got := spCInfo(t, c).Config.ReplayPolicy; got != jetstream.ReplayOriginalPolicy {
			t.Errorf("replay policy %v", got)
		}
		total := gaps[1] + gaps[2]
		b, err := c.Fetch(3, jetstream.FetchMaxWait(tm.within(total)))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var at []time.Duration
		for m := range b.Messages() {
			if want := fmt.Sprint("s.", len(at)); m.Subject() != want {
				t.Errorf("delivery %d: %s, want %s", len(at)+1, m.Subject(), want)
			}
			at = append(at, time.Since(start))
		}
		if err := b.Error(); err != nil || len(at) != 3 {
			t.Fatalf("fetched %d messages, error %v", len(at), err)
		}
		tm.due(t, "the first message", at[0], 0)
		atLeast(t, "the second message after the first", at[1]-at[0], gaps[1])
		atLeast(t, "the third message after the second", at[2]-at[1], gaps[2])
		tm.due(t, "the third message", at[2], total)
		tm.pass(tm.d(time.Hour, time.Second))
		spPub(t, env, "s.new", "x")
		m, took := timedTake(t, c, tm.within(0))
		if m.Subject() != "s.new" {
			t.Errorf("after catching up: %s", m.Subject())
		}
		tm.due(t, "a message after catching up", took, 0)
	})
}

// The wait is each message's gap from the one delivered before it, counted from when a request
// takes it: a fetch that comes later still waits the whole gap, and nothing else goes meanwhile.
func TestTimedReplayOriginalPullLaterFetch(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		gap := tm.d(8*time.Second, 600*time.Millisecond)
		s := trStream(t, env, tm, 0, gap, 0)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckNonePolicy, ReplayPolicy: jetstream.ReplayOriginalPolicy})
		m, took := timedTake(t, c, tm.within(0))
		if m.Subject() != "s.0" {
			t.Errorf("first: %s", m.Subject())
		}
		tm.due(t, "the first message", took, 0)
		tm.pass(gap / 2)
		msgs, took := timedFetch(t, c, 2, tm.within(gap))
		if got := spStreamSeqs(t, msgs); len(got) != 2 || got[0] != 2 || got[1] != 3 {
			t.Errorf("later fetch: %v, want 2 3", got)
		}
		tm.due(t, "the later fetch", took, gap)
	})
}
