package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's message schedules: a schedule fires on the server's clock (in the fake's
// bubble, the bubble's) and the stream stores its message on the target. The messages are
// watched through a push consumer on the target, which delivers each as it is stored. Helpers
// of this file start with "tsch".

// tschWatch is a push consumer on stream S delivering what is stored on filter, and the
// subscription it delivers to.
func tschWatch(t *testing.T, env *natstest.Env, s jetstream.Stream, filter string) *nats.Subscription {
	t.Helper()
	inbox := nats.NewInbox()
	sub := subSync(t, env.Conn(), inbox)
	flush(t, env.Conn())
	spConsumer(t, s, jetstream.ConsumerConfig{DeliverSubject: inbox, FilterSubject: filter, AckPolicy: jetstream.AckNonePolicy})
	return sub
}

// tschAt is an "@at" pattern for d from now, in whole seconds (which the pattern counts in),
// and the time it names.
func tschAt(d time.Duration) (string, time.Time) {
	at := time.Now().Add(d).Truncate(time.Second)
	if at.Before(time.Now().Add(d)) {
		at = at.Add(time.Second)
	}
	return "@at " + at.UTC().Format(time.RFC3339), at
}

// tschStored is when the delivered message was stored.
func tschStored(t *testing.T, m *nats.Msg) time.Time {
	t.Helper()
	md, err := m.Metadata()
	if err != nil {
		t.Fatalf("metadata of %s: %v", m.Subject, err)
	}
	return md.Timestamp
}

// tschNext is the message's Nats-Schedule-Next as a time.
func tschNext(t *testing.T, m *nats.Msg) time.Time {
	t.Helper()
	v := m.Header.Get("Nats-Schedule-Next")
	next, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("Nats-Schedule-Next %q: %v", v, err)
	}
	return next
}

// tschHeaders wants m's headers to be want exactly.
func tschHeaders(t *testing.T, m *nats.Msg, want nats.Header) {
	t.Helper()
	if fmt.Sprint(m.Header) != fmt.Sprint(want) {
		t.Errorf("headers %v, want %v", m.Header, want)
	}
}

// tschQuiet lets d pass and wants nothing delivered on sub meanwhile.
func tschQuiet(t *testing.T, tm timing, sub *nats.Subscription, d time.Duration) {
	t.Helper()
	tm.pass(d)
	if n := queued(t, sub); n != 0 {
		t.Errorf("%d messages delivered, want none", n)
	}
}

// An "@at" schedule fires once, at its time: the message on the target is the schedule's
// data with Nats-Scheduler and Nats-Schedule-Next: purge, and the schedule is purged.
func TestTimedScheduleAt(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		start := time.Now()
		pattern, at := tschAt(tm.d(time.Hour, 2*time.Second))
		scPub(t, env, "s.sched", "hello", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out")
		m := nextWithin(t, sub, tm.within(at.Sub(start)))
		tm.due(t, "the scheduled message", time.Since(start), at.Sub(start))
		if string(m.Data) != "hello" {
			t.Errorf("data %q, want hello", m.Data)
		}
		tschHeaders(t, m, nats.Header{"Nats-Scheduler": {"s.sched"}, "Nats-Schedule-Next": {"purge"}})
		if stored := tschStored(t, m); stored.Before(at) {
			t.Errorf("stored at %v, before its time %v", stored, at)
		}
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 2, LastSeq: 2, NumSubjects: 1, Consumers: 1})
		tschQuiet(t, tm, sub, tm.d(time.Hour, time.Second))
	})
}

// An "@at" schedule already past fires at once, which for nats-server's scheduler is a
// quarter of a second.
func TestTimedScheduleAtPast(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		start := time.Now()
		scPub(t, env, "s.sched", "late", "Nats-Schedule", "@at 1999-01-01T00:00:00Z", "Nats-Schedule-Target", "s.out")
		m := nextWithin(t, sub, tm.within(0))
		tm.due(t, "the late message", time.Since(start), 250*time.Millisecond)
		if string(m.Data) != "late" || m.Header.Get("Nats-Schedule-Next") != "purge" {
			t.Errorf("got %q with %v", m.Data, m.Header)
		}
	})
}

// An "@every" schedule fires each period from its (rounded) publish time, and each message
// says when the next comes; the schedule stays.
func TestTimedScheduleEvery(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		period := tm.d(time.Hour, time.Second)
		ack := scPub(t, env, "s.sched", "tick", "Nats-Schedule", fmt.Sprintf("@every %v", period), "Nats-Schedule-Target", "s.out")
		sm, err := s.GetMsg(waitCtx(t), ack.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		due := sm.Time.UTC().Round(time.Second).Add(period)
		for i := range 3 {
			m := nextWithin(t, sub, tm.within(period))
			if stored := tschStored(t, m); stored.Before(due) || tm.virtual && !stored.Equal(due) {
				t.Errorf("message %d stored at %v, due %v", i, stored, due)
			}
			if next := tschNext(t, m); !next.Equal(due.Add(period)) {
				t.Errorf("message %d: Nats-Schedule-Next %v, want %v", i, next, due.Add(period))
			}
			if m.Header.Get("Nats-Scheduler") != "s.sched" || string(m.Data) != "tick" {
				t.Errorf("message %d: %q with %v", i, m.Data, m.Header)
			}
			due = due.Add(period)
		}
		if _, err := s.GetLastMsgForSubject(waitCtx(t), "s.sched"); err != nil {
			t.Errorf("the schedule is gone: %v", err)
		}
	})
}

// A cron schedule without a time zone fires in UTC, and its next time is given in UTC.
func TestTimedScheduleCron(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		pattern, period := "0 0 * * * *", time.Hour // on the hour
		if !tm.virtual {
			pattern, period = "* * * * * *", time.Second
		}
		start := time.Now()
		scPub(t, env, "s.sched", "cron", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out")
		first := start.UTC().Truncate(period).Add(period)
		m := nextWithin(t, sub, tm.within(first.Sub(start)))
		tm.due(t, "the first cron message", time.Since(start), first.Sub(start))
		next := tschNext(t, m)
		if next.Location() != time.UTC || next.Sub(tschStored(t, m).Truncate(period)) != period {
			t.Errorf("Nats-Schedule-Next %q, stored %v: want the next %v in UTC", m.Header.Get("Nats-Schedule-Next"), tschStored(t, m), period)
		}
		m2 := nextWithin(t, sub, tm.within(period))
		if got := tschStored(t, m2); got.Before(next) {
			t.Errorf("the second message stored at %v, before %v", got, next)
		}
		if tschNext(t, m2).Sub(next) != period {
			t.Errorf("the second message's next %v, want %v after %v", tschNext(t, m2), period, next)
		}
	})
}

// A cron schedule in a time zone fires at the zone's wall time; its next time carries the
// zone's offset.
func TestTimedScheduleCronTimeZone(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		zone, pattern := "America/New_York", "0 0 9 * * *" // nine in the morning
		if !tm.virtual {
			zone, pattern = "Asia/Kolkata", "*/2 * * * * *"
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skipf("no time zone data: %v", err)
		}
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		start := time.Now()
		scPub(t, env, "s.sched", "tz", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", zone)
		var first time.Time
		if tm.virtual {
			local := start.In(loc)
			first = time.Date(local.Year(), local.Month(), local.Day(), 9, 0, 0, 0, loc)
			if !first.After(start) {
				first = first.AddDate(0, 0, 1)
			}
		} else {
			first = start.Truncate(2 * time.Second).Add(2 * time.Second)
		}
		m := nextWithin(t, sub, tm.within(first.Sub(start)))
		tm.due(t, "the first message", time.Since(start), first.Sub(start))
		v := m.Header.Get("Nats-Schedule-Next")
		next := tschNext(t, m)
		if want := next.In(loc).Format(time.RFC3339Nano); v != want {
			t.Errorf("Nats-Schedule-Next %q, want it in %s: %q", v, zone, want)
		}
		if tm.virtual && !next.Equal(first.AddDate(0, 0, 1)) {
			t.Errorf("next %v, want a day after %v", next, first)
		}
	})
}

// A schedule with a source stores the last message on the source (its data and headers)
// when it fires, and its own data while the source has none.
func TestTimedScheduleSource(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		period := tm.d(time.Hour, time.Second)
		scPub(t, env, "s.sched", "own", "Nats-Schedule", fmt.Sprintf("@every %v", period), "Nats-Schedule-Target", "s.out", "Nats-Schedule-Source", "s.src")
		m := nextWithin(t, sub, tm.within(period+time.Second))
		if string(m.Data) != "own" {
			t.Errorf("without a source message: %q, want own", m.Data)
		}
		scPub(t, env, "s.src", "v1", "X-Src", "1", "Nats-Msg-Id", "id1", "Nats-Expected-Stream", "S")
		scPub(t, env, "s.src", "v2", "X-Src", "2", "Nats-Msg-Id", "id2")
		m = nextWithin(t, sub, tm.within(period))
		if string(m.Data) != "v2" {
			t.Errorf("with a source message: %q, want v2", m.Data)
		}
		tschHeaders(t, m, nats.Header{"X-Src": {"2"}, "Nats-Scheduler": {"s.sched"}, "Nats-Schedule-Next": {m.Header.Get("Nats-Schedule-Next")}})
	})
}

// The scheduled message keeps the schedule's own headers but for those of the schedule,
// the expectations, its id, TTL and rollup.
func TestTimedScheduleHeaders(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		start := time.Now()
		pattern, at := tschAt(tm.d(time.Hour, 2*time.Second))
		scPub(t, env, "s.sched", "h", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out",
			"X-App", "a", "Nats-Msg-Id", "m1", "Nats-Expected-Stream", "S", "Nats-Expected-Last-Subject-Sequence", "0",
			"Nats-TTL", "1h", "X-Other", "b")
		m := nextWithin(t, sub, tm.within(at.Sub(start)))
		tschHeaders(t, m, nats.Header{"X-App": {"a"}, "X-Other": {"b"}, "Nats-Scheduler": {"s.sched"}, "Nats-Schedule-Next": {"purge"}})
	})
}

// A schedule's TTL is the TTL of the message it stores, which then expires.
func TestTimedScheduleTTL(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		ttl := tm.d(time.Hour, time.Second)
		start := time.Now()
		pattern, at := tschAt(tm.d(time.Hour, 2*time.Second))
		scPub(t, env, "s.sched", "x", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out", "Nats-Schedule-TTL", ttl.String())
		m := nextWithin(t, sub, tm.within(at.Sub(start)))
		if got := m.Header.Get("Nats-TTL"); got != ttl.String() {
			t.Errorf("Nats-TTL %q, want %q", got, ttl.String())
		}
		stored := time.Now()
		tm.until(t, "the scheduled message to expire", ttl, func() bool { return streamState(t, s).Msgs == 0 })
		atLeast(t, "the expiry", time.Since(stored), ttl-time.Millisecond)
	})
}

// A schedule's rollup makes each message it stores the only one on the target.
func TestTimedScheduleRollup(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		period := tm.d(time.Hour, time.Second)
		scPub(t, env, "s.sched", "r", "Nats-Schedule", fmt.Sprintf("@every %v", period), "Nats-Schedule-Target", "s.out", "Nats-Schedule-Rollup", "sub")
		scPub(t, env, "s.plain", "p", "Nats-Schedule", fmt.Sprintf("@every %v", period), "Nats-Schedule-Target", "s.keep")
		var last *nats.Msg
		for range 3 {
			last = nextWithin(t, sub, tm.within(period+time.Second))
		}
		if last.Header.Get("Nats-Rollup") != "sub" {
			t.Errorf("Nats-Rollup %q, want sub", last.Header.Get("Nats-Rollup"))
		}
		info := spInfo(t, s, jetstream.WithSubjectFilter("s.>"))
		if got := info.State.Subjects["s.out"]; got != 1 {
			t.Errorf("%d messages on the target, want 1", got)
		}
		if got := info.State.Subjects["s.keep"]; got < 2 {
			t.Errorf("%d messages on the target without a rollup, want them all", got)
		}
	})
}

// A second schedule on the subject replaces the first, which does not fire.
func TestTimedScheduleReplaced(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		start := time.Now()
		p1, _ := tschAt(tm.d(time.Hour, 2*time.Second))
		p2, at2 := tschAt(tm.d(2*time.Hour, 4*time.Second))
		scPub(t, env, "s.sched", "one", "Nats-Schedule", p1, "Nats-Schedule-Target", "s.out")
		scPub(t, env, "s.sched", "two", "Nats-Schedule", p2, "Nats-Schedule-Target", "s.out")
		m := nextWithin(t, sub, tm.within(at2.Sub(start)))
		tm.due(t, "the replacing schedule's message", time.Since(start), at2.Sub(start))
		if string(m.Data) != "two" {
			t.Errorf("got %q, want two", m.Data)
		}
	})
}

// tschCancelled publishes an "@at" schedule, cancels it with cancel, and wants nothing
// stored on the target past its time.
func tschCancelled(t *testing.T, env *natstest.Env, tm timing, cancel func(s jetstream.Stream, seq uint64)) jetstream.Stream {
	t.Helper()
	s := scStream(t, env)
	sub := tschWatch(t, env, s, "s.out")
	pattern, at := tschAt(tm.d(time.Hour, 2*time.Second))
	ack := scPub(t, env, "s.sched", "x", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out")
	cancel(s, ack.Sequence)
	tschQuiet(t, tm, sub, time.Until(at)+tm.d(time.Hour, time.Second))
	return s
}

// A schedule whose message is deleted does not fire.
func TestTimedScheduleDeleted(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		tschCancelled(t, env, tm, func(s jetstream.Stream, seq uint64) {
			if err := s.DeleteMsg(waitCtx(t), seq); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// A schedule whose subject is purged does not fire.
func TestTimedSchedulePurged(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		tschCancelled(t, env, tm, func(s jetstream.Stream, _ uint64) {
			if err := s.Purge(waitCtx(t), jetstream.WithPurgeSubject("s.sched")); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// A message without a schedule on the schedule's subject ends it.
func TestTimedScheduleOverwritten(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := tschCancelled(t, env, tm, func(s jetstream.Stream, _ uint64) {
			scPub(t, env, "s.sched", "plain")
		})
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 2, NumSubjects: 1, Consumers: 1})
	})
}

// A client's purge of the schedule (Nats-Schedule-Next: purge, naming it) ends it.
func TestTimedScheduleClientPurge(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := tschCancelled(t, env, tm, func(s jetstream.Stream, _ uint64) {
			scPub(t, env, "s.ctl", "", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.sched")
		})
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 2, LastSeq: 2, NumSubjects: 1, Consumers: 1})
	})
}

// Schedules due together store their messages in the order the schedules were stored.
func TestTimedScheduleOrder(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		pattern, at := tschAt(tm.d(time.Hour, 2*time.Second))
		start := time.Now()
		for _, subj := range []string{"s.z", "s.m", "s.a"} {
			scPub(t, env, subj, subj, "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out")
		}
		var got []string
		for range 3 {
			got = append(got, string(nextWithin(t, sub, tm.within(at.Sub(start))).Data))
		}
		if fmt.Sprint(got) != "[s.z s.m s.a]" {
			t.Errorf("order %v, want s.z s.m s.a", got)
		}
	})
}

// A schedule's message goes through the stream's republish like any other.
func TestTimedScheduleRepublished(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		rp := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		scStream(t, env, func(c *jetstream.StreamConfig) {
			c.RePublish = &jetstream.RePublish{Source: "s.out", Destination: "rp.out"}
		})
		start := time.Now()
		pattern, at := tschAt(tm.d(time.Hour, 2*time.Second))
		scPub(t, env, "s.sched", "x", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out")
		m := nextWithin(t, rp, tm.within(at.Sub(start)))
		if m.Header.Get("Nats-Subject") != "s.out" || m.Header.Get("Nats-Scheduler") != "s.sched" || m.Header.Get("Nats-Sequence") != "2" {
			t.Errorf("republished with %v", m.Header)
		}
	})
}

// A schedule whose own message expires (its Nats-TTL) before its time does not fire.
func TestTimedScheduleExpired(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		s := scStream(t, env)
		sub := tschWatch(t, env, s, "s.out")
		ttl := tm.d(time.Hour, time.Second)
		pattern, at := tschAt(tm.d(2*time.Hour, 3*time.Second))
		scPub(t, env, "s.sched", "x", "Nats-Schedule", pattern, "Nats-Schedule-Target", "s.out", "Nats-TTL", ttl.String())
		tschQuiet(t, tm, sub, time.Until(at)+tm.d(time.Hour, time.Second))
		spState(t, s, jetstream.StreamState{FirstSeq: 2, LastSeq: 1, Consumers: 1})
	})
}

// A schedule whose message the stream cannot store (here the last message on its source,
// too large with the headers the scheduler adds) stops: nothing is stored, and the schedule
// stays.
func TestTimedScheduleNotStored(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		period := tm.d(time.Hour, time.Second)
		s := scStream(t, env, func(c *jetstream.StreamConfig) { c.MaxMsgSize = 250 })
		sub := tschWatch(t, env, s, "s.out")
		scPub(t, env, "s.src", string(make([]byte, 200)))
		scPub(t, env, "s.sched", string(make([]byte, 100)), "Nats-Schedule", fmt.Sprintf("@every %v", period),
			"Nats-Schedule-Target", "s.out", "Nats-Schedule-Source", "s.src")
		tschQuiet(t, tm, sub, 3*period+tm.d(time.Minute, 500*time.Millisecond))
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 2, NumSubjects: 2, Consumers: 1})
	})
}
