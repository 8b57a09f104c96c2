package conformance

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier: scenarios whose subject is time (ack waits, back-offs, expiries, heartbeats,
// TTLs, timeouts, liveness). Each runs one body twice, with the same assertions:
//
//   - fake: the fake inside a testing/synctest bubble, where every clock (the client's timers,
//     the fake's, the test's own) is the bubble's. Durations are the realistic ones, seconds to
//     hours, and pass as soon as every goroutine of the bubble waits; virtual time is exact.
//   - embedded: an embedded nats-server in real time, with the durations made short (never below
//     what nats-server accepts).
//
// The body asks timing for each duration, names both values, and measures elapsed time with
// time.Now and time.Since: in the bubble that is virtual time, outside it wall time. Assertions
// on elapsed time are lower bounds (nothing happens before its time), which hold on both, and in
// the bubble, where nothing runs late, exact where the server adds no jitter (timing.due,
// schedule.next); upper bounds are the waits' deadlines.

// timedWall is how much wall time the fake's bubble may take, whatever the virtual time in it:
// a bubble's waits are on its own clock, so hours of it pass in moments.
const timedWall = 5 * time.Second

// timing is a scenario's clock: virtual in the fake's bubble, real on the embedded server.
type timing struct {
	backend natstest.Backend
	virtual bool // inside a bubble: time passes only when every goroutine of the bubble waits
}

// d is the duration to use: virtual in the bubble, real (short) on the embedded server.
func (tm timing) d(virtual, real time.Duration) time.Duration {
	if tm.virtual {
		return virtual
	}
	return real
}

// within is the deadline for something due after d: d, plus patience for the server and client
// to do it. In the bubble the patience is virtual, so it costs nothing.
func (tm timing) within(d time.Duration) time.Duration { return d + patience }

// pass lets d go by with nothing to wait for (an idle watcher, a consumer nobody pulls from). In
// the bubble time.Sleep is what moves the virtual clock: it returns once every other goroutine
// of the bubble waits and d of the bubble's time has passed. On the embedded server it lets d of
// real time pass, as natstest's FastForward does there.
func (tm timing) pass(d time.Duration) { time.Sleep(d) }

// env starts the scenario's Env on its backend, pinned whatever NATSTEST_BACKEND says: in the
// bubble it must be the fake, and the embedded subtest is the real-time oracle.
func (tm timing) env(t *testing.T, opts ...natstest.Option) *natstest.Env {
	t.Helper()
	return natstest.New(t, append(slices.Clone(opts), natstest.WithBackend(tm.backend))...)
}

// eachTiming runs body as subtest "fake", in a bubble with virtual time, and as subtest
// "embedded", in real time. The embedded backend runs wherever the test does (it is in the test
// binary), so natstest.Each never skips it, and neither does this; the container backend is left
// out: it cannot run in a bubble, and the embedded server is already the real-time oracle.
func eachTiming(t *testing.T, body func(t *testing.T, tm timing)) {
	t.Helper()
	bubbleOnly(t, body)
	t.Run(natstest.Embedded.String(), func(t *testing.T) {
		body(t, timing{backend: natstest.Embedded})
	})
}

// bubbleOnly runs body as subtest "fake" in a testing/synctest bubble, and fails it if the bubble
// took more than timedWall of wall time. eachTiming's first half; alone, for what only the fake
// can be made to do.
func bubbleOnly(t *testing.T, body func(t *testing.T, tm timing)) {
	t.Helper()
	t.Run(natstest.Fake.String(), func(t *testing.T) {
		start := time.Now()
		var virtual time.Duration
		synctest.Test(t, func(t *testing.T) {
			from := time.Now() // the bubble's clock
			t.Cleanup(func() { virtual = time.Since(from) })
			body(t, timing{backend: natstest.Fake, virtual: true})
		})
		wall := time.Since(start)
		t.Logf("%v of the bubble's time in %v of wall time", virtual, wall.Round(time.Millisecond))
		if wall > timedWall {
			t.Errorf("the bubble took %v of wall time, more than %v: something in it waits on the wall clock", wall, timedWall)
		}
	})
}

// eachTimed runs body on an Env made with opts (JetStream on, unless opts turn it off), on the
// fake in a bubble and on the embedded server in real time: see eachTiming.
func eachTimed(t *testing.T, body func(t *testing.T, env *natstest.Env, tm timing), opts ...natstest.Option) {
	t.Helper()
	eachTiming(t, func(t *testing.T, tm timing) {
		body(t, tm.env(t, opts...), tm)
	})
}

// due checks when something came: no earlier than want on both backends; in the bubble, where
// virtual time is exact and nothing runs late, exactly at want.
func (tm timing) due(t *testing.T, what string, elapsed, want time.Duration) {
	t.Helper()
	atLeast(t, what, elapsed, want)
	if tm.virtual && elapsed != want {
		t.Errorf("%s after %v of the bubble's time, want exactly %v", what, elapsed, want)
	}
}

// atLeast fails unless elapsed is at least want: what the scenario waited for came no earlier
// than its time.
func atLeast(t *testing.T, what string, elapsed, want time.Duration) {
	t.Helper()
	if elapsed < want {
		t.Errorf("%s after %v, want no earlier than %v", what, elapsed, want)
	}
}

// nextWithin is the subscription's next message, which must arrive within d.
func nextWithin(t *testing.T, sub *nats.Subscription, d time.Duration) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(d)
	if err != nil {
		t.Fatalf("next message on %q within %v: %v", sub.Subject, d, err)
	}
	return m
}

// awaitWithin waits up to d for ch to yield or close, failing with what.
func awaitWithin[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("waited %v for %s", d, what)
		var zero T
		return zero
	}
}

// timedFetch fetches up to n messages with a request that expires after maxWait, and returns
// them and how long the Fetch took to deliver them all.
func timedFetch(t *testing.T, c jetstream.Consumer, n int, maxWait time.Duration, opts ...jetstream.FetchOpt) ([]jetstream.Msg, time.Duration) {
	t.Helper()
	start := time.Now()
	b, err := c.Fetch(n, append([]jetstream.FetchOpt{jetstream.FetchMaxWait(maxWait)}, opts...)...)
	msgs := spBatch(t, b, err)
	return msgs, time.Since(start)
}

// timedTake fetches exactly one message, which must come within d, and returns it and how long
// it took.
func timedTake(t *testing.T, c jetstream.Consumer, d time.Duration) (jetstream.Msg, time.Duration) {
	t.Helper()
	msgs, took := timedFetch(t, c, 1, d)
	if len(msgs) != 1 {
		t.Fatalf("fetched %d messages within %v, want 1", len(msgs), d)
	}
	return msgs[0], took
}

// takeWithin takes n messages from ch, all within d.
func takeWithin(t *testing.T, ch <-chan jetstream.Msg, n int, d time.Duration) []jetstream.Msg {
	t.Helper()
	out := make([]jetstream.Msg, 0, n)
	deadline := time.After(d)
	for range n {
		select {
		case m := <-ch:
			out = append(out, m)
		case <-deadline:
			t.Fatalf("got %d of %d messages within %v", len(out), n, d)
		}
	}
	return out
}

// A schedule checks when the events of a series come (redeliveries, heartbeats, PINGs). The
// server times each from when it sent the one before, which the client sees a little later; so
// on a real server only the sum of the intervals since the start is a lower bound for each. In
// the bubble nothing is late, and each interval is exact.
type schedule struct {
	t           *testing.T
	tm          timing
	start, prev time.Time
	due         time.Duration // the sum of the intervals so far
}

// schedule starts a series now.
func (tm timing) schedule(t *testing.T) *schedule {
	now := time.Now()
	return &schedule{t: t, tm: tm, start: now, prev: now}
}

// next checks the event what, which came just now, gap after the one before (or the start). If
// jitter, the server adds a random delay to gap (in the bubble too): gap is then only a lower
// bound.
func (s *schedule) next(what string, gap time.Duration, jitter bool) {
	s.t.Helper()
	now := time.Now()
	s.due += gap
	atLeast(s.t, what, now.Sub(s.start), s.due)
	if s.tm.virtual && !jitter && now.Sub(s.prev) != gap {
		s.t.Errorf("%s %v after the one before in the bubble's time, want exactly %v", what, now.Sub(s.prev), gap)
	}
	s.prev = now
}
