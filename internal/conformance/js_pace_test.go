package conformance

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A push consumer's pace: replay "original" and a rate limit.

// The config: a rate limit on a pull consumer is the server's error; on a push consumer it is
// kept, and so is replay "original".
func TestJSPaceConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "P", RateLimit: 1 << 20})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10086, Description: "consumer in pull mode can not have rate limit set"})
		c, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "Q", DeliverSubject: "q", RateLimit: 1 << 20, ReplayPolicy: jetstream.ReplayOriginalPolicy})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.CachedInfo().Config; got.RateLimit != 1<<20 || got.ReplayPolicy != jetstream.ReplayOriginalPolicy {
			t.Fatalf("config %+v", got)
		}
		s, err := env.JetStream().Stream(waitCtx(t), "R")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "Q", DeliverSubject: "q", RateLimit: 1 << 10})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10012, Description: "replay policy can not be updated"})
		u, err := s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "Q", DeliverSubject: "q", RateLimit: 1 << 10, ReplayPolicy: jetstream.ReplayOriginalPolicy})
		if err != nil || u.CachedInfo().Config.RateLimit != 1<<10 {
			t.Fatalf("rate limit update: %v", err)
		}
	})
}

// pushSub subscribes to deliver subject dlv, recording each message's arrival time.
type arrival struct {
	msg *nats.Msg
	at  time.Time
}

func pushSub(t *testing.T, env *natstest.Env, dlv string) <-chan arrival {
	t.Helper()
	ch := make(chan arrival, 100)
	sub, err := env.Conn().Subscribe(dlv, func(m *nats.Msg) { ch <- arrival{m, time.Now()} })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	flush(t, env.Conn())
	return ch
}

func arrive(t *testing.T, ch <-chan arrival, within time.Duration) arrival {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case a := <-ch:
		return a
	case <-timer.C:
		t.Fatalf("no delivery within %v", within)
		return arrival{}
	}
}

// Replay "original": the messages the stream held when the consumer was made come spaced as they
// were stored; once caught up, a new message comes at once, however long after the last.
func TestTimedReplayOriginal(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		gaps := []time.Duration{tm.d(10*time.Second, 300*time.Millisecond), tm.d(time.Minute, 600*time.Millisecond)}
		spPub(t, env, "s.0", "x")
		for i, g := range gaps {
			tm.pass(g)
			spPub(t, env, "s."+string(rune('1'+i)), "x")
		}
		ch := pushSub(t, env, "dlv")
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "dlv", AckPolicy: jetstream.AckNonePolicy, ReplayPolicy: jetstream.ReplayOriginalPolicy})
		// Measured from the first delivery, the replay's start: a delivery that reaches the
		// client a little late must not shorten the next gap as the client sees it.
		first := arrive(t, ch, tm.within(0))
		var since time.Duration
		for i, g := range gaps {
			a := arrive(t, ch, tm.within(g))
			if want := "s." + string(rune('1'+i)); a.msg.Subject != want {
				t.Fatalf("delivery %d: %q, want %q", i+2, a.msg.Subject, want)
			}
			since += g
			atLeast(t, "a replayed message after the first", a.at.Sub(first.at), since)
		}
		idle := tm.d(time.Hour, time.Second)
		tm.pass(idle)
		start := time.Now()
		spPub(t, env, "s.new", "x")
		a := arrive(t, ch, tm.within(0))
		if tm.virtual && a.at.Sub(start) != 0 {
			t.Errorf("a message after catching up came %v after it was stored, want at once", a.at.Sub(start))
		}
	})
}

// A rate limit: a bucket as deep as the stream's max message size fills at bps/8 bytes a second;
// each message takes its size (subject, ack subject, payload) from it, and waits until it can.
func TestTimedRateLimit(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		const burst = 300
		bytesPerSec := uint64(tm.d(100, 1000)) // bytes a second: 100 in the bubble, 1000 in real time
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxMsgSize: burst})
		payload := make([]byte, 100)
		for range 4 {
			if _, err := env.JetStream().Publish(waitCtx(t), "s.x", payload); err != nil {
				t.Fatal(err)
			}
		}
		ch := pushSub(t, env, "dlv")
		start := time.Now()
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "dlv", AckPolicy: jetstream.AckNonePolicy, RateLimit: bytesPerSec * 8})
		total := 0
		for i := range 4 {
			a := arrive(t, ch, tm.within(5*time.Second))
			total += len(a.msg.Subject) + len(a.msg.Reply) + len(a.msg.Data)
			want := time.Duration(0)
			if total > burst {
				want = time.Duration(float64(total-burst) / float64(bytesPerSec) * float64(time.Second))
			}
			atLeast(t, "delivery "+string(rune('1'+i)), a.at.Sub(start), want)
		}
	})
}
