package conformance

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Message schedules (allow_msg_schedules): a message with a Nats-Schedule header is a schedule
// that the stream fires on its own, storing a message on the schedule's target. These scenarios
// are the config rules, the checks of the schedule headers and what is stored; the firing itself
// is in timed_schedule_test.go. Helpers of this file start with "sc".

// scStream creates stream S on s.> with schedules and message TTLs, changed by set.
func scStream(t *testing.T, env *natstest.Env, set ...func(*jetstream.StreamConfig)) jetstream.Stream {
	t.Helper()
	cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowMsgSchedules: true, AllowMsgTTL: true}
	for _, f := range set {
		f(&cfg)
	}
	return spStream(t, env, cfg)
}

// scMsg is a message on subj with data and the headers kv (key, value, ...).
func scMsg(subj, data string, kv ...string) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = []byte(data)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Header.Add(kv[i], kv[i+1])
	}
	return m
}

// scPub publishes through JetStream and returns the ack, failing on an error.
func scPub(t *testing.T, env *natstest.Env, subj, data string, kv ...string) *jetstream.PubAck {
	t.Helper()
	ack, err := env.JetStream().PublishMsg(waitCtx(t), scMsg(subj, data, kv...))
	if err != nil {
		t.Fatalf("publish on %s with %v: %v", subj, kv, err)
	}
	return ack
}

// scPubErr publishes and wants the API error want.
func scPubErr(t *testing.T, env *natstest.Env, want jetstream.APIError, subj, data string, kv ...string) {
	t.Helper()
	ack, err := env.JetStream().PublishMsg(waitCtx(t), scMsg(subj, data, kv...))
	if err == nil {
		t.Errorf("publish on %s with %v: ack %+v, want %d %q", subj, kv, ack, want.ErrorCode, want.Description)
		return
	}
	spAPIErr(t, err, want)
}

// scZone is the time zone name to use: on the container backend the UTC, since nats-server's
// image has no time zone database (every other zone is invalid there), elsewhere name.
func scZone(env *natstest.Env, name string) string {
	if env.Backend() == natstest.Container {
		return "UTC"
	}
	return name
}

// The server's errors for schedules.
var (
	scDisabled   = jetstream.APIError{Code: 400, ErrorCode: 10188, Description: "message schedules is disabled"}
	scPattern    = jetstream.APIError{Code: 400, ErrorCode: 10189, Description: "message schedules pattern is invalid"}
	scTarget     = jetstream.APIError{Code: 400, ErrorCode: 10190, Description: "message schedules target is invalid"}
	scTTL        = jetstream.APIError{Code: 400, ErrorCode: 10191, Description: "message schedules invalid per-message TTL"}
	scRollup     = jetstream.APIError{Code: 400, ErrorCode: 10192, Description: "message schedules invalid rollup"}
	scSource     = jetstream.APIError{Code: 400, ErrorCode: 10203, Description: "message schedules source is invalid"}
	scScheduler  = jetstream.APIError{Code: 400, ErrorCode: 10212, Description: "message schedules invalid scheduler"}
	scTimeZone   = jetstream.APIError{Code: 400, ErrorCode: 10223, Description: "message schedules time zone is invalid"}
	scTTLOff     = jetstream.APIError{Code: 400, ErrorCode: 10166, Description: "per-message TTL is disabled"}
	scMsgTTLBad  = jetstream.APIError{Code: 400, ErrorCode: 10165, Description: "invalid per-message TTL"}
	scWrongLast  = jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 0"}
	scFarFuture  = "@at 2099-01-01T00:00:00Z"
	scFarFuture2 = "@at 2098-01-01T00:00:00Z"
)

// A stream with schedules: rollups are turned on (and purges allowed) since each schedule is
// stored with a subject rollup, and the stream asks for API level 2.
func TestJSScheduleConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowMsgSchedules: true, DenyPurge: true})
		cfg := spInfo(t, s).Config
		if !cfg.AllowMsgSchedules || !cfg.AllowRollup || cfg.DenyPurge || cfg.AllowMsgTTL {
			t.Errorf("config: schedules %v, rollup %v, deny purge %v, TTL %v; want true true false false",
				cfg.AllowMsgSchedules, cfg.AllowRollup, cfg.DenyPurge, cfg.AllowMsgTTL)
		}
		if got := cfg.Metadata["_nats.req.level"]; got != "2" {
			t.Errorf("_nats.req.level %q, want 2", got)
		}
	})
}

// What a stream with schedules cannot be: one that discards new messages, a counter, a mirror
// or one with sources.
func TestJSScheduleConfigChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
		for _, c := range []struct {
			cfg  jetstream.StreamConfig
			want jetstream.APIError
		}{
			{jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowMsgSchedules: true, Discard: jetstream.DiscardNew},
				cfgInvalid("message scheduling cannot use discard new")},
			{jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowMsgSchedules: true, AllowMsgCounter: true},
				cfgInvalid("counter stream cannot use message schedules")},
			{jetstream.StreamConfig{Name: "S", AllowMsgSchedules: true, Mirror: &jetstream.StreamSource{Name: "O"}},
				jetstream.APIError{Code: 400, ErrorCode: 10186, Description: "stream mirrors can not also schedule messages"}},
			{jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowMsgSchedules: true, Sources: []*jetstream.StreamSource{{Name: "O"}}},
				jetstream.APIError{Code: 400, ErrorCode: 10187, Description: "stream source can not also schedule messages"}},
		} {
			_, err := env.JetStream().CreateStream(waitCtx(t), c.cfg)
			spAPIErr(t, err, c.want)
		}
	})
}

// An update may turn schedules on, and then the stream takes schedules; it cannot turn them off.
func TestJSScheduleUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}
		spStream(t, env, cfg)
		scPubErr(t, env, scDisabled, "s.sched", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out")
		cfg.AllowMsgSchedules = true
		s, err := env.JetStream().UpdateStream(waitCtx(t), cfg)
		if err != nil {
			t.Fatalf("turning schedules on: %v", err)
		}
		if got := s.CachedInfo().Config; !got.AllowRollup || got.Metadata["_nats.req.level"] != "2" {
			t.Errorf("after the update: rollup %v, level %q; want true, 2", got.AllowRollup, got.Metadata["_nats.req.level"])
		}
		scPub(t, env, "s.sched", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out")
		cfg.AllowMsgSchedules = false
		_, err = env.JetStream().UpdateStream(waitCtx(t), cfg)
		spAPIErr(t, err, cfgInvalid("message schedules can not be disabled"))
	})
}

// Without schedules on the stream, any schedule is refused as disabled, a broken one too; a
// client's Nats-Schedule-Next other than purge is an invalid scheduler either way.
func TestJSScheduleDisabled(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowMsgTTL: true})
		for _, kv := range [][]string{
			{"Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out"},
			{"Nats-Schedule", "@every 1s"},
			{"Nats-Schedule", "not a schedule"},
			{"Nats-Schedule", "* * * * * *", "Nats-Schedule-Time-Zone", "Nowhere/Special"},
			{"Nats-Schedule-Time-Zone", ""},
			{"Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.sched"},
		} {
			scPubErr(t, env, scDisabled, "s.a", "x", kv...)
		}
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Schedule-Next", "2099-01-01T00:00:00Z", "Nats-Scheduler", "s.sched")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Scheduler", "s.sched")
		// A time zone alone, that exists, is no schedule: the message is stored.
		scPub(t, env, "s.a", "x", "Nats-Schedule-Time-Zone", scZone(env, "Europe/Amsterdam"))
	})
}

// The patterns the server takes and those it refuses.
func TestJSSchedulePatterns(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		valid := []string{
			scFarFuture, "@at 2099-01-01T00:00:00+02:00", "@at 2099-01-01T00:00:00.5Z", "@every 1s", "@every 1h30m",
			"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
			"0 0 0 1 1 *", "*/5 * * * * *", "0 30 9 * * mon-fri", "0 0 12 1,15 * ?", "0 0 0 29 2 *",
			"0 0 0 * JAN-Mar SUN", "5/15 * * * * *",
		}
		invalid := []string{
			"@at 2099-01-01", "@at tomorrow", "@at ", "@every 999ms", "@every 0s", "@every -1s", "@every x",
			"@every", "@reboot", "* * * * *", "* * * * * * *", "60 * * * * *", "* * 24 * * *", "* * * 0 * *",
			"* * * * 13 *", "* * * * * 7", "5-1 * * * * *", "*/0 * * * * *", "1-2-3 * * * * *",
			"0 0 0 30 2 *", "0 0 0 31 4 *", "-1 * * * * *", "x * * * * *",
		}
		for i, p := range valid {
			scPub(t, env, fmt.Sprintf("s.valid.%d", i), "x", "Nats-Schedule", p, "Nats-Schedule-Target", fmt.Sprintf("s.out.%d", i))
		}
		for i, p := range invalid {
			scPubErr(t, env, scPattern, fmt.Sprintf("s.invalid.%d", i), "x", "Nats-Schedule", p, "Nats-Schedule-Target", "s.out")
		}
	})
}

// A schedule's time zone: one that does not exist, or an empty one, is refused; "@at" and
// "@every" take none; a cron pattern does.
func TestJSScheduleTimeZone(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		scPubErr(t, env, scTimeZone, "s.a", "x", "Nats-Schedule", "0 0 9 * * *", "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", "Nowhere/Special")
		scPubErr(t, env, scTimeZone, "s.a", "x", "Nats-Schedule", "0 0 9 * * *", "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", "")
		scPubErr(t, env, scTimeZone, "s.a", "x", "Nats-Schedule-Time-Zone", "Nowhere/Special")
		scPubErr(t, env, scPattern, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", "UTC")
		scPubErr(t, env, scPattern, "s.a", "x", "Nats-Schedule", "@every 1m", "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", "UTC")
		scPub(t, env, "s.a", "x", "Nats-Schedule", "0 0 9 * * *", "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", scZone(env, "America/New_York"))
		scPub(t, env, "s.b", "x", "Nats-Schedule", "@daily", "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", scZone(env, "Asia/Kolkata"))
		scPub(t, env, "s.c", "x", "Nats-Schedule", "@hourly", "Nats-Schedule-Target", "s.out", "Nats-Schedule-Time-Zone", "UTC")
	})
}

// A schedule's target must be a subject without wildcards, of the stream, other than its own.
func TestJSScheduleTargetErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		for _, target := range []string{"", "s.*", "s.>", "s.a", "other.out", "s..x"} {
			kv := []string{"Nats-Schedule", scFarFuture}
			if target != "" {
				kv = append(kv, "Nats-Schedule-Target", target)
			}
			scPubErr(t, env, scTarget, "s.a", "x", kv...)
		}
	})
}

// A schedule's source must be a subject without wildcards, of the stream, neither its own
// nor the target.
func TestJSScheduleSourceErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		for _, source := range []string{"s.out", "s.a", "s.*", "other.src"} {
			scPubErr(t, env, scSource, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Source", source)
		}
		scPub(t, env, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Source", "s.src")
	})
}

// A schedule's TTL is a message TTL, which the stream must allow.
func TestJSScheduleTTLErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		for _, ttl := range []string{"1ms", "0", "0s", "abc", "-5", "+5", "1.5"} {
			scPubErr(t, env, scTTL, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-TTL", ttl)
		}
		for i, ttl := range []string{"5s", "1.5s", "60", "never", "NEVER"} {
			scPub(t, env, fmt.Sprintf("s.ok.%d", i), "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-TTL", ttl)
		}
		spStream(t, env, jetstream.StreamConfig{Name: "N", Subjects: []string{"n.>"}, AllowMsgSchedules: true})
		scPubErr(t, env, scTTLOff, "n.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "n.out", "Nats-Schedule-TTL", "5s")
		// The TTL is checked before the target.
		scPubErr(t, env, scTTL, "n.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-TTL", "1ms")
		// The schedule message's own TTL is checked first of all.
		scPubErr(t, env, scTTLOff, "n.a", "x", "Nats-Schedule", "@every 0s", "Nats-TTL", "5s")
	})
}

// A schedule's rollup may only be "sub", and so may the schedule message's own.
func TestJSScheduleRollupErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		scPubErr(t, env, scRollup, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Rollup", "all")
		scPubErr(t, env, scRollup, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Rollup", "all")
		scPubErr(t, env, scRollup, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Rollup", "x")
		// The rollups come before the target.
		scPubErr(t, env, scRollup, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Rollup", "all")
		scPub(t, env, "s.a", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Rollup", "sub", "Nats-Rollup", "sub")
	})
}

// The expected-sequence checks come before the schedule's.
func TestJSScheduleCheckOrder(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		scPub(t, env, "s.x", "x")
		scPubErr(t, env, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 1"},
			"s.a", "x", "Nats-Schedule", "bad", "Nats-Expected-Last-Sequence", "7")
		scPubErr(t, env, scWrongLast, "s.a", "x", "Nats-Schedule", "bad", "Nats-Expected-Last-Subject-Sequence", "7")
		scPubErr(t, env, jetstream.APIError{Code: 400, ErrorCode: 10060, Description: "expected stream does not match"},
			"s.a", "x", "Nats-Schedule", "bad", "Nats-Expected-Stream", "T")
		// An invalid schedule is refused before its headers are looked at.
		scPubErr(t, env, scPattern, "s.a", "x", "Nats-Schedule", "bad", "Nats-Schedule-TTL", "1ms", "Nats-Schedule-Rollup", "all")
	})
}

// A schedule is stored as published, with a subject rollup added: a second schedule on its
// subject replaces the first.
func TestJSScheduleStored(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := scStream(t, env)
		scPub(t, env, "s.sched", "one", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "X-App", "a")
		m, err := s.GetLastMsgForSubject(waitCtx(t), "s.sched")
		if err != nil {
			t.Fatal(err)
		}
		want := nats.Header{"Nats-Schedule": {scFarFuture}, "Nats-Schedule-Target": {"s.out"}, "X-App": {"a"}, "Nats-Rollup": {"sub"}}
		if fmt.Sprint(m.Header) != fmt.Sprint(want) {
			t.Errorf("stored headers %v, want %v", m.Header, want)
		}
		ack := scPub(t, env, "s.sched", "two", "Nats-Schedule", scFarFuture2, "Nats-Schedule-Target", "s.out")
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: ack.Sequence, LastSeq: ack.Sequence, NumSubjects: 1})
		// A schedule published with its own subject rollup keeps just the one.
		scPub(t, env, "s.sched2", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Rollup", "sub")
		m, err = s.GetLastMsgForSubject(waitCtx(t), "s.sched2")
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Values("Nats-Rollup"); len(got) != 1 || got[0] != "sub" {
			t.Errorf("Nats-Rollup %v, want just sub", got)
		}
	})
}

// A client's Nats-Scheduler and Nats-Schedule-Next: only together, to purge a schedule, naming
// a subject other than the message's whose last message (if any) is a schedule.
func TestJSScheduleClientPurge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := scStream(t, env)
		scPub(t, env, "s.plain", "x")
		scPub(t, env, "s.sched", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Scheduler", "s.sched")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Schedule-Next", "purge")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.a")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.*")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.plain")
		scPubErr(t, env, scScheduler, "s.a", "x", "Nats-Schedule-Next", "2099-01-01T00:00:00Z", "Nats-Scheduler", "s.sched")
		// A subject with nothing on it may be named.
		scPub(t, env, "s.a", "x", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.none")
		ack := scPub(t, env, "s.b", "x", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "s.sched")
		if _, err := s.GetLastMsgForSubject(waitCtx(t), "s.sched"); err == nil {
			t.Errorf("the schedule is still there after the purge")
		}
		m, err := s.GetMsg(waitCtx(t), ack.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Nats-Schedule-Next") != "purge" || m.Header.Get("Nats-Scheduler") != "s.sched" {
			t.Errorf("the purging message is stored with %v", m.Header)
		}
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 4, NumDeleted: 1, NumSubjects: 3})
	})
}

// A message's own TTL: one that does not parse (0 among them) is invalid whether or not the
// stream allows TTLs; a valid one needs them.
func TestJSScheduleMessageTTL(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "N", Subjects: []string{"n.>"}})
		scPubErr(t, env, scMsgTTLBad, "s.a", "x", "Nats-TTL", "1ms")
		scPubErr(t, env, scMsgTTLBad, "n.a", "x", "Nats-TTL", "abc")
		scPubErr(t, env, scMsgTTLBad, "n.a", "x", "Nats-TTL", "0")
		scPubErr(t, env, scTTLOff, "n.a", "x", "Nats-TTL", "5")
		scPubErr(t, env, scTTLOff, "n.a", "x", "Nats-TTL", "Never")
	})
}

// A duplicate is found after the expected-sequence and schedule checks, before the expected
// last message id.
func TestJSScheduleDuplicateOrder(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		scStream(t, env)
		scPub(t, env, "s.x", "x", "Nats-Msg-Id", "d1")
		scPubErr(t, env, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 1"},
			"s.x", "x", "Nats-Msg-Id", "d1", "Nats-Expected-Last-Sequence", "7")
		scPubErr(t, env, scPattern, "s.x", "x", "Nats-Msg-Id", "d1", "Nats-Schedule", "bad")
		ack := scPub(t, env, "s.x", "x", "Nats-Msg-Id", "d1", "Nats-Expected-Last-Msg-Id", "other")
		if !ack.Duplicate || ack.Sequence != 1 {
			t.Errorf("ack %+v, want the duplicate of 1", ack)
		}
	})
}

// A rollup is read in any case, and an empty one is none: a schedule may carry "SUB".
func TestJSScheduleRollupCase(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := scStream(t, env)
		scPub(t, env, "s.a", "1")
		ack := scPub(t, env, "s.a", "2", "Nats-Rollup", "SUB")
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: ack.Sequence, LastSeq: ack.Sequence, NumSubjects: 1})
		scPub(t, env, "s.b", "1", "Nats-Rollup", "")
		scPub(t, env, "s.b", "2", "Nats-Rollup", "")
		scPub(t, env, "s.sched", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Rollup", "Sub")
		scPubErr(t, env, scRollup, "s.sched", "x", "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out", "Nats-Schedule-Rollup", "SUB")
		spState(t, s, jetstream.StreamState{Msgs: 4, FirstSeq: ack.Sequence, LastSeq: 5, NumDeleted: 0, NumSubjects: 3})
	})
}

// The size limit holds for a message with the headers the stream adds: a schedule that fits
// without its subject rollup is refused with it.
func TestJSScheduleTooLarge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		data := string(make([]byte, 100))
		hdrLen := len("NATS/1.0\r\n\r\n") + len("Nats-Schedule: "+scFarFuture+"\r\n") + len("Nats-Schedule-Target: s.out\r\n")
		s := scStream(t, env, func(c *jetstream.StreamConfig) { c.MaxMsgSize = int32(hdrLen + len(data)) })
		scPubErr(t, env, jetstream.APIError{Code: 400, ErrorCode: 10054, Description: "message size exceeds maximum allowed"},
			"s.sched", data, "Nats-Schedule", scFarFuture, "Nats-Schedule-Target", "s.out")
		// As published it fits: a plain message of that size is stored.
		scPub(t, env, "s.plain", string(make([]byte, hdrLen+len(data))))
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 1, LastSeq: 1, NumSubjects: 1})
	})
}
