package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's pause scenarios: a pause runs out on the server's clock (in the fake's bubble,
// the bubble's), and the consumer delivers again by itself, announcing it.

// tpPausedPull is stream S with n messages and pull consumer C created paused until d from now;
// it returns the consumer, when the pause was set and when it ends.
func tpPausedPull(t *testing.T, env *natstest.Env, n int, d time.Duration) (jetstream.Consumer, time.Time, time.Time) {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	spPubN(t, env, "s.a", "m", n)
	start := time.Now()
	until := start.Add(d)
	c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, PauseUntil: &until})
	return c, start, until
}

// tpRequest sends a raw pull request for consumer C of stream S and returns the inbox it answers.
func tpRequest(t *testing.T, env *natstest.Env, body string) *nats.Subscription {
	t.Helper()
	nc := env.Connect()
	inbox := nats.NewInbox()
	sub := subSync(t, nc, inbox)
	publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.C", Reply: inbox, Data: []byte(body)})
	flush(t, nc)
	return sub
}

// A pull consumer created paused: a request waiting through the pause is served when it runs
// out, no earlier; the resume is announced (paused false, with the time it was paused until),
// and the info says running.
func TestTimedPauseRunsOutPull(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		d := tm.d(time.Hour, time.Second)
		next := tcAdvisory(t, env, pzAdvisories)
		c, start, until := tpPausedPull(t, env, 2, d)
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
		pzWantPaused(t, spCInfo(t, c), until)
		msgs, _ := timedFetch(t, c, 2, tm.within(d))
		tm.due(t, "the messages after the pause", time.Since(start), d)
		if got := spStreamSeqs(t, msgs); len(got) != 2 {
			t.Errorf("after the pause: %v, want 1 2", got)
		}
		pzWantAdvisory(t, pzNext(t, next), false, pzUTC(until))
		pzWantRunning(t, spCInfo(t, c))
	})
}

// A push consumer created paused delivers nothing until the pause runs out, then everything.
func TestTimedPauseRunsOutPush(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		d := tm.d(time.Hour, time.Second)
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		spPubN(t, env, "s.a", "m", 2)
		sub := subSync(t, env.Conn(), "push")
		flush(t, env.Conn())
		start := time.Now()
		until := start.Add(d)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "push", AckPolicy: jetstream.AckNonePolicy, PauseUntil: &until})
		m := nextWithin(t, sub, tm.within(d))
		tm.due(t, "the first push delivery", time.Since(start), d)
		if string(m.Data) != "m0" || nextData(t, sub) != "m1" {
			t.Errorf("after the pause: %q, want m0 then m1", m.Data)
		}
	})
}

// A paused push consumer's idle heartbeats go on through the pause.
func TestTimedPausePushHeartbeats(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		hb := tm.d(5*time.Second, 200*time.Millisecond)
		d := 5 * hb
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		spPub(t, env, "s.a", "m0")
		sub := subSync(t, env.Conn(), "push")
		flush(t, env.Conn())
		start := time.Now()
		until := start.Add(d)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "push", AckPolicy: jetstream.AckNonePolicy,
			IdleHeartbeat: hb, PauseUntil: &until})
		beats := 0
		for {
			m := nextWithin(t, sub, tm.within(d))
			if m.Header.Get("Status") == "100" {
				beats++
				continue
			}
			tm.due(t, "the delivery after the pause", time.Since(start), d)
			if string(m.Data) != "m0" {
				t.Errorf("delivered %q, want m0", m.Data)
			}
			break
		}
		if beats < 2 {
			t.Errorf("%d heartbeats through a pause of %v with heartbeats every %v, want at least 2", beats, d, hb)
		}
	})
}

// A pull request with an idle heartbeat gets heartbeats while the consumer is paused.
func TestTimedPausePullHeartbeats(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		hb := tm.d(5*time.Second, 200*time.Millisecond)
		d := 10 * hb
		_, start, _ := tpPausedPull(t, env, 1, d)
		sub := tpRequest(t, env, fmt.Sprintf(`{"batch":1,"expires":%d,"idle_heartbeat":%d}`, 4*hb, hb))
		for n := 1; n <= 3; n++ {
			spStatus(t, nextWithin(t, sub, tm.within(hb)), "100", "Idle Heartbeat",
				map[string]string{"Nats-Last-Consumer": "0", "Nats-Last-Stream": "0"})
		}
		spStatus(t, nextWithin(t, sub, tm.within(hb)), "408", "Request Timeout",
			map[string]string{"Nats-Pending-Messages": "1", "Nats-Pending-Bytes": "0"})
		atLeast(t, "the paused request's end", time.Since(start), 4*hb)
	})
}

// A resume through the API does not wake the consumer: a waiting request with an idle heartbeat
// gets its message at its next heartbeat, no earlier, after the heartbeat.
func TestTimedPauseResumeAtNextHeartbeat(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		hb := tm.d(5*time.Second, 300*time.Millisecond)
		c, _, _ := tpPausedPull(t, env, 1, time.Hour)
		start := time.Now()
		sub := tpRequest(t, env, fmt.Sprintf(`{"batch":1,"expires":%d,"idle_heartbeat":%d}`, 10*hb, hb))
		spWantCounts(t, c, spCounts{Waiting: 1, NumPending: 1})
		pzResume(t, env)
		spStatus(t, nextWithin(t, sub, tm.within(hb)), "100", "Idle Heartbeat",
			map[string]string{"Nats-Last-Consumer": "0", "Nats-Last-Stream": "0"})
		m := nextWithin(t, sub, tm.within(hb))
		atLeast(t, "the message after the resume", time.Since(start), hb)
		if string(m.Data) != "m0" {
			t.Errorf("after the resume: %q %v, want m0", m.Data, m.Header)
		}
	})
}

// An ack wait that runs out during the pause redelivers nothing until the pause ends.
func TestTimedPauseHoldsRedelivery(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		wait := tm.d(30*time.Second, 300*time.Millisecond)
		d := 4 * wait
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		spPub(t, env, "s.a", "m0")
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, AckWait: wait})
		spTake(t, c, 1)
		start := time.Now()
		pzPause(t, env, start.Add(d))
		msgs, _ := timedFetch(t, c, 1, tm.within(d))
		tm.due(t, "the redelivery after the pause", time.Since(start), d)
		if got := spDeliveries(t, msgs); len(got) != 1 || got[0].Delivered != 2 {
			t.Errorf("after the pause: %+v, want the redelivery", got)
		}
	})
}

// A pause moved later through the API runs out at the new time; the first time passes unnoticed.
func TestTimedPauseMovedLater(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		d := tm.d(time.Hour, 500*time.Millisecond)
		next := tcAdvisory(t, env, pzAdvisories)
		c, start, until := tpPausedPull(t, env, 1, d)
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
		later := until.Add(d)
		pzPause(t, env, later)
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(later))
		msgs, _ := timedFetch(t, c, 1, tm.within(2*d))
		tm.due(t, "the message after the moved pause", time.Since(start), 2*d)
		if len(msgs) != 1 {
			t.Errorf("after the pause: %d messages", len(msgs))
		}
		pzWantAdvisory(t, pzNext(t, next), false, pzUTC(later))
	})
}

// A paused consumer that is deleted is still announced resumed when its pause runs out, as
// nats-server leaves the timer running; a new consumer of the same name is not affected.
func TestTimedPauseDeletedStillAnnounced(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		d := tm.d(time.Hour, 300*time.Millisecond)
		next := tcAdvisory(t, env, pzAdvisories)
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		start := time.Now()
		until := start.Add(d)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", PauseUntil: &until})
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
		if err := s.DeleteConsumer(waitCtx(t), "C"); err != nil {
			t.Fatal(err)
		}
		later := start.Add(time.Hour + d)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", PauseUntil: &later})
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(later))
		tm.pass(d)
		pzWantAdvisory(t, pzNext(t, next), false, pzUTC(until))
		pzWantPaused(t, spCInfo(t, c), later)
	})
}
