package conformance

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's mirrors and sources: a link to a stream that does not exist yet fails, reports
// the origin missing, and tries again after nats-server's backoff (2s since the last attempt plus
// 10s for the first failure, plus up to 200ms of jitter), whatever the test's durations: the
// server's are fixed.

// miRetry is when a link that failed at its first attempt tries again, at the least.
const miRetry = 12 * time.Second

func TestTimedMirrorOfStreamMadeLater(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		start := time.Now()
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "LATER"}})
		tm.until(t, "the mirror reports its origin missing", time.Second, func() bool {
			mi := spInfo(t, m).Mirror
			return mi != nil && mi.Error != nil && mi.Error.ErrorCode == 10059
		})
		spStream(t, env, jetstream.StreamConfig{Name: "LATER", Subjects: []string{"later"}})
		spPub(t, env, "later", "one")
		tm.until(t, "the mirror takes the origin's message", miRetry, func() bool { return streamState(t, m).Msgs == 1 })
		atLeast(t, "the mirror retried", time.Since(start), miRetry)
		spPub(t, env, "later", "two")
		tm.until(t, "the next message flows on", time.Second, func() bool { return streamState(t, m).Msgs == 2 })
		if mi := spInfo(t, m).Mirror; mi == nil || mi.Error != nil {
			t.Errorf("mirror info %+v, want no error once connected", mi)
		}
	})
}

func TestTimedSourceOfStreamMadeLater(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		start := time.Now()
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"own"},
			Sources: []*jetstream.StreamSource{{Name: "LATER"}}})
		tm.until(t, "the source reports its origin missing", time.Second, func() bool {
			src := spInfo(t, s).Sources
			return len(src) == 1 && src[0].Error != nil && src[0].Error.ErrorCode == 10059
		})
		spStream(t, env, jetstream.StreamConfig{Name: "LATER", Subjects: []string{"later"}})
		spPub(t, env, "later", "one")
		tm.until(t, "the source takes the origin's message", miRetry, func() bool { return streamState(t, s).Msgs == 1 })
		atLeast(t, "the source retried", time.Since(start), miRetry)
	})
}
