package conformance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Scenarios on consumer pause and resume as nats-server v2.15.2 does them: the pause_until
// config field, the CONSUMER.PAUSE endpoint and its answers, what a paused consumer does with
// pull requests and push subscribers, and the pause advisories. Scenarios where time must pass
// (the pause running out) are in timed_pause_test.go.

// Helpers of this file start with "pz".

const pzAdvisories = "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.>"

// pzSetup is stream S (subjects s.>) with n messages and durable pull consumer C.
func pzSetup(t *testing.T, env *natstest.Env, n int) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	spPubN(t, env, "s.a", "m", n)
	c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	return s, c
}

// pzPause pauses consumer C of stream S until until, failing the test on an error.
func pzPause(t *testing.T, env *natstest.Env, until time.Time) *jetstream.ConsumerPauseResponse {
	t.Helper()
	resp, err := env.JetStream().PauseConsumer(waitCtx(t), "S", "C", until)
	if err != nil {
		t.Fatalf("pause until %v: %v", until, err)
	}
	return resp
}

// pzResume resumes consumer C of stream S.
func pzResume(t *testing.T, env *natstest.Env) *jetstream.ConsumerPauseResponse {
	t.Helper()
	resp, err := env.JetStream().ResumeConsumer(waitCtx(t), "S", "C")
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	return resp
}

// pzWantPaused checks a consumer's info says it is paused until until, with time left.
func pzWantPaused(t *testing.T, info *jetstream.ConsumerInfo, until time.Time) {
	t.Helper()
	if !info.Paused || info.PauseRemaining <= 0 || info.PauseRemaining > time.Until(until)+time.Second {
		t.Errorf("info paused %v, remaining %v; want paused with up to %v left", info.Paused, info.PauseRemaining, time.Until(until))
	}
	if info.Config.PauseUntil == nil || !info.Config.PauseUntil.Equal(until) {
		t.Errorf("config pause_until %v, want %v", info.Config.PauseUntil, until)
	}
}

// pzWantRunning checks a consumer's info says it is not paused.
func pzWantRunning(t *testing.T, info *jetstream.ConsumerInfo) {
	t.Helper()
	if info.Paused || info.PauseRemaining != 0 {
		t.Errorf("info paused %v, remaining %v; want not paused", info.Paused, info.PauseRemaining)
	}
}

// pzAdvisory is a pause advisory's fields.
type pzAdvisory struct {
	Subject    string
	Type       string
	Stream     string
	Consumer   string
	Paused     bool
	PauseUntil string
}

// pzNext is the next pause advisory from next (a tcAdvisory).
func pzNext(t *testing.T, next func() (string, map[string]any, time.Time)) pzAdvisory {
	t.Helper()
	subj, adv, _ := next()
	a := pzAdvisory{Subject: subj}
	a.Type, _ = adv["type"].(string)
	a.Stream, _ = adv["stream"].(string)
	a.Consumer, _ = adv["consumer"].(string)
	a.Paused, _ = adv["paused"].(bool)
	a.PauseUntil, _ = adv["pause_until"].(string)
	return a
}

// pzWantAdvisory checks a pause advisory for consumer C of stream S.
func pzWantAdvisory(t *testing.T, got pzAdvisory, paused bool, until string) {
	t.Helper()
	want := pzAdvisory{Subject: "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.C", Type: "io.nats.jetstream.advisory.v1.consumer_pause",
		Stream: "S", Consumer: "C", Paused: paused, PauseUntil: until}
	if got != want {
		t.Errorf("pause advisory %+v, want %+v", got, want)
	}
}

// pzUTC is how the server writes a time in JSON.
func pzUTC(at time.Time) string { return at.UTC().Format(time.RFC3339Nano) }

// pzRaw sends body to CONSUMER.PAUSE.<stream>.<consumer> and returns the decoded answer.
func pzRaw(t *testing.T, env *natstest.Env, stream, consumer, body string) covAPI {
	t.Helper()
	return covRequest(t, env, "$JS.API.CONSUMER.PAUSE."+stream+"."+consumer, body)
}

// Pausing and resuming through nats.go, as its TestJetStreamPauseAndResumeConsumer does: the
// answers, and the consumer's info between them.
func TestJSPauseAndResume(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := pzSetup(t, env, 0)
		until := time.Now().Add(time.Minute)
		resp := pzPause(t, env, until)
		if !resp.Paused || !resp.PauseUntil.Equal(until) || resp.PauseRemaining <= 0 || resp.PauseRemaining > time.Minute {
			t.Errorf("pause: %+v, want paused until %v with up to a minute left", resp, until)
		}
		pzWantPaused(t, spCInfo(t, c), until)
		resp = pzResume(t, env)
		if resp.Paused || !resp.PauseUntil.IsZero() || resp.PauseRemaining != 0 {
			t.Errorf("resume: %+v, want not paused", resp)
		}
		info := spCInfo(t, c)
		pzWantRunning(t, info)
		if info.Config.PauseUntil != nil {
			t.Errorf("config pause_until after resume %v, want none", info.Config.PauseUntil)
		}
	})
}

// The pause answer on the wire: paused, the time in UTC, and the time left in nanoseconds; a
// resume answers the zero time and leaves the time left out.
func TestJSPauseAnswerOnTheWire(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pzSetup(t, env, 0)
		until := time.Date(2999, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
		a := pzRaw(t, env, "S", "C", `{"pause_until":"2999-01-02T03:04:05.000000006+01:00"}`)
		var resp struct {
			Paused         bool            `json:"paused"`
			PauseUntil     string          `json:"pause_until"`
			PauseRemaining json.RawMessage `json:"pause_remaining"`
		}
		if err := json.Unmarshal(a.raw, &resp); err != nil || a.Error != nil {
			t.Fatalf("pause: %s, %v", a.raw, err)
		}
		if a.Type != "io.nats.jetstream.api.v1.consumer_pause_response" || !resp.Paused || resp.PauseUntil != pzUTC(until) || len(resp.PauseRemaining) == 0 {
			t.Errorf("pause answer %s, want paused until %s with the time left", a.raw, pzUTC(until))
		}
		a = pzRaw(t, env, "S", "C", `{}`)
		if a.Error != nil || !strings.Contains(string(a.raw), `"paused":false,"pause_until":"0001-01-01T00:00:00Z"}`) {
			t.Errorf("resume answer %s, want not paused, the zero time and no time left", a.raw)
		}
	})
}

// Pausing a consumer that is not there: the stream is looked for first, then the consumer; an
// empty request is a resume of a missing consumer and gets the same error. The request is read
// before either is looked for.
func TestJSPauseMissing(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pzSetup(t, env, 0)
		until := time.Now().Add(time.Hour)
		_, err := env.JetStream().PauseConsumer(waitCtx(t), "X", "Y", until)
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("pause on a missing stream: %v, want stream not found", err)
		}
		_, err = env.JetStream().PauseConsumer(waitCtx(t), "S", "Y", until)
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("pause of a missing consumer: %v, want consumer not found", err)
		}
		spAPIErr(t, err, covConsumerMissing)
		_, err = env.JetStream().ResumeConsumer(waitCtx(t), "S", "Y")
		spAPIErr(t, err, covConsumerMissing)
		covErr(t, pzRaw(t, env, "X", "Y", ""), "consumer_pause_response", covStreamNotFound)
		covErr(t, pzRaw(t, env, "S", "Y", ""), "consumer_pause_response", covConsumerMissing)
		// An error answer carries the fields of a pause answer too.
		if a := pzRaw(t, env, "S", "Y", ""); !strings.Contains(string(a.raw), `"paused":false,"pause_until":"0001-01-01T00:00:00Z"`) {
			t.Errorf("error answer %s, want paused false and the zero time", a.raw)
		}
	})
}

// A request that is not valid JSON is refused before the stream is looked for, with the
// decoder's words; one that is not a JSON object or array is not read at all, and resumes.
func TestJSPauseBadRequest(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := pzSetup(t, env, 0)
		const typ = "consumer_pause_response"
		bad := func(desc string) jetstream.APIError {
			return jetstream.APIError{Code: 400, ErrorCode: 10025, Description: "invalid JSON: " + desc}
		}
		covErr(t, pzRaw(t, env, "X", "Y", `{"pause_until":"x"}`), typ,
			bad(`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`))
		covErr(t, pzRaw(t, env, "S", "C", `{"pause_until":1}`), typ,
			bad(`Time.UnmarshalJSON: input is not a JSON string`))
		covErr(t, pzRaw(t, env, "S", "C", `{"until":"2999-01-01T00:00:00Z"}`), typ, bad(`json: unknown field "until"`))
		covErr(t, pzRaw(t, env, "S", "C", `[1]`), typ,
			bad(`json: cannot unmarshal array into Go value of type server.JSApiConsumerPauseRequest`))
		covErr(t, pzRaw(t, env, "S", "C", `{`), typ, bad(`unexpected EOF`))
		pzPause(t, env, time.Now().Add(time.Hour))
		a := pzRaw(t, env, "S", "C", `"2999-01-01T00:00:00Z"`)
		if a.Error != nil || !strings.Contains(string(a.raw), `"paused":false`) {
			t.Errorf("a JSON string: %s, want a resume", a.raw)
		}
		pzWantRunning(t, spCInfo(t, c))
	})
}

// nats.go checks the names before it asks: an empty stream name or a consumer name with a dot
// never reaches the server.
func TestJSPauseClientChecksNames(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, _ := pzSetup(t, env, 0)
		if _, err := env.JetStream().PauseConsumer(waitCtx(t), "", "C", time.Now()); !errors.Is(err, jetstream.ErrStreamNameRequired) {
			t.Errorf("pause with no stream name: %v", err)
		}
		if _, err := env.JetStream().ResumeConsumer(waitCtx(t), "", "C"); !errors.Is(err, jetstream.ErrStreamNameRequired) {
			t.Errorf("resume with no stream name: %v", err)
		}
		if _, err := s.PauseConsumer(waitCtx(t), "a.b", time.Now()); !errors.Is(err, jetstream.ErrInvalidConsumerName) {
			t.Errorf("pause of consumer a.b: %v", err)
		}
	})
}

// A consumer created paused, as nats.go's TestPauseConsumer creates one: its info says paused
// with time left, its config keeps the time, and its metadata asks for API level 1.
func TestJSPauseCreatePaused(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		until := time.Now().Add(time.Minute)
		c, err := s.CreateOrUpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckAllPolicy,
			Description: "desc", PauseUntil: &until})
		if err != nil {
			t.Fatal(err)
		}
		pzWantPaused(t, c.CachedInfo(), until)
		info := spCInfo(t, c)
		pzWantPaused(t, info, until)
		if lvl := info.Config.Metadata["_nats.req.level"]; lvl != "1" {
			t.Errorf("required API level %q, want 1", lvl)
		}
		resp := pzResume(t, env)
		if resp.Paused || resp.PauseRemaining != 0 {
			t.Errorf("resume: %+v", resp)
		}
		if lvl := spCInfo(t, c).Config.Metadata["_nats.req.level"]; lvl != "0" {
			t.Errorf("required API level after resume %q, want 0", lvl)
		}
	})
}

// A pause time already past pauses nothing: the answer and the info say not paused, but the
// config keeps the time, on create and through the endpoint.
func TestJSPauseInThePast(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, c := pzSetup(t, env, 1)
		past := time.Now().Add(-time.Hour).UTC()
		resp := pzPause(t, env, past)
		if resp.Paused || !resp.PauseUntil.Equal(past) || resp.PauseRemaining != 0 {
			t.Errorf("pause in the past: %+v, want not paused, until %v", resp, past)
		}
		info := spCInfo(t, c)
		pzWantRunning(t, info)
		if info.Config.PauseUntil == nil || !info.Config.PauseUntil.Equal(past) {
			t.Errorf("config pause_until %v, want %v", info.Config.PauseUntil, past)
		}
		if got := spStreamSeqs(t, spNoWait(t, c, 1)); len(got) != 1 {
			t.Errorf("fetched %v, want the message", got)
		}
		d := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "D", PauseUntil: &past})
		pzWantRunning(t, d.CachedInfo())
		if p := d.CachedInfo().Config.PauseUntil; p == nil || !p.Equal(past) {
			t.Errorf("created with a past pause: config pause_until %v, want %v", p, past)
		}
	})
}

// A paused consumer delivers nothing to a pull request: a no-wait request ends at once with no
// messages (404), a request with an expiry waits, and counts as waiting, until it expires (408),
// whether or not it is a no-wait request.
func TestJSPausePullRequestsWait(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := pzSetup(t, env, 2)
		pzPause(t, env, time.Now().Add(time.Hour))
		if got := spNoWait(t, c, 1); len(got) != 0 {
			t.Errorf("no-wait fetch from a paused consumer: %d messages, want none", len(got))
		}
		m, err := env.Conn().Request("$JS.API.CONSUMER.MSG.NEXT.S.C", []byte(`{"batch":1,"no_wait":true}`), patience)
		if err != nil || m.Header.Get("Status") != "404" || m.Header.Get("Description") != "No Messages" {
			t.Errorf("no-wait request: %v %v, want 404 No Messages", m, err)
		}
		inbox := nats.NewInbox()
		sub := subSync(t, env.Conn(), inbox)
		req := `{"batch":2,"expires":300000000}`
		if err := env.Conn().PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(req)); err != nil {
			t.Fatal(err)
		}
		spWantCounts(t, c, spCounts{Waiting: 1, NumPending: 2})
		m = next(t, sub)
		if m.Header.Get("Status") != "408" || m.Header.Get("Nats-Pending-Messages") != "2" || m.Header.Get("Nats-Pending-Bytes") != "0" {
			t.Errorf("paused request's end: %q %v, want 408 with 2 messages pending", m.Data, m.Header)
		}
		spWantCounts(t, c, spCounts{NumPending: 2})
		// A no-wait request with an expiry waits for it too.
		if err := env.Conn().PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":1,"no_wait":true,"expires":300000000}`)); err != nil {
			t.Fatal(err)
		}
		if m = next(t, sub); m.Header.Get("Status") != "408" || m.Header.Get("Nats-Pending-Messages") != "1" {
			t.Errorf("paused no-wait request with an expiry: %q %v, want 408 with 1 message pending", m.Data, m.Header)
		}
	})
}

// A paused push consumer delivers nothing; resumed, it delivers what it holds once something
// wakes it: here a new message.
func TestJSPausePushHolds(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		sub := subSync(t, env.Conn(), "push")
		flush(t, env.Conn())
		until := time.Now().Add(time.Hour)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", DeliverSubject: "push", AckPolicy: jetstream.AckExplicitPolicy, PauseUntil: &until})
		spPubN(t, env, "s.a", "m", 2)
		spWantCounts(t, c, spCounts{NumPending: 2})
		if n := queued(t, sub); n != 0 {
			t.Errorf("a paused push consumer delivered %d messages", n)
		}
		pzResume(t, env)
		spPub(t, env, "s.a", "m2")
		if got := []string{nextData(t, sub), nextData(t, sub), nextData(t, sub)}; strings.Join(got, ",") != "m0,m1,m2" {
			t.Errorf("after resume: %v, want m0 m1 m2", got)
		}
	})
}

// A resumed pull consumer serves the next request at once.
func TestJSPauseResumeServesNextRequest(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := pzSetup(t, env, 3)
		pzPause(t, env, time.Now().Add(time.Hour))
		if got := spNoWait(t, c, 3); len(got) != 0 {
			t.Fatalf("paused: %d messages", len(got))
		}
		pzResume(t, env)
		if got := spStreamSeqs(t, spTake(t, c, 3)); len(got) != 3 || got[0] != 1 || got[2] != 3 {
			t.Errorf("after resume: %v, want 1 2 3", got)
		}
	})
}

// Acks still count while paused, and a paused consumer's info and list entry say it is paused.
func TestJSPauseAcksAndInfo(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, c := pzSetup(t, env, 3)
		msgs := spTake(t, c, 2)
		until := time.Now().Add(time.Hour)
		pzPause(t, env, until)
		spDoubleAck(t, msgs...)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckFloor: [2]uint64{2, 2}, NumPending: 1})
		l := s.ListConsumers(waitCtx(t))
		n := 0
		for info := range l.Info() {
			n++
			pzWantPaused(t, info, until)
		}
		if l.Err() != nil || n != 1 {
			t.Errorf("listed %d consumers, %v", n, l.Err())
		}
	})
}

// The pause advisories: one for each change of the pause (paused, with the time; resumed, with
// the zero time), none when the pause does not change.
func TestJSPauseAdvisories(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		pzSetup(t, env, 0)
		next := tcAdvisory(t, env, pzAdvisories)
		until := time.Now().Add(time.Hour).UTC()
		pzResume(t, env) // not paused: no change, no advisory
		pzPause(t, env, until)
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
		pzPause(t, env, until) // the same time: no advisory
		later := until.Add(time.Minute)
		pzPause(t, env, later)
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(later))
		pzResume(t, env)
		pzWantAdvisory(t, pzNext(t, next), false, "0001-01-01T00:00:00Z")
		past := time.Now().Add(-time.Hour).UTC()
		pzPause(t, env, past)
		pzWantAdvisory(t, pzNext(t, next), false, pzUTC(past))
	})
}

// A consumer created paused is announced paused after it is created; one created with a past
// pause time is not.
func TestJSPauseAdvisoryOnCreate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		next := tcAdvisory(t, env, pzAdvisories)
		past := time.Now().Add(-time.Hour)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "P", PauseUntil: &past})
		until := time.Now().Add(time.Hour).UTC()
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", PauseUntil: &until})
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
	})
}

// An update keeps the consumer's pause whatever the new config says (only the endpoint changes
// it), and announces the pause again; creating with the config it has, but another pause time,
// is not a different config.
func TestJSPauseUpdateKeepsPause(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		until := time.Now().Add(time.Hour).UTC()
		cfg := jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, PauseUntil: &until}
		spConsumer(t, s, cfg)
		next := tcAdvisory(t, env, pzAdvisories)
		cfg.PauseUntil, cfg.Description = nil, "updated"
		c, err := s.UpdateConsumer(waitCtx(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		pzWantPaused(t, c.CachedInfo(), until)
		if c.CachedInfo().Config.Description != "updated" {
			t.Errorf("update not applied: %+v", c.CachedInfo().Config)
		}
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
		other := until.Add(time.Hour)
		cfg.PauseUntil = &other
		c, err = s.CreateConsumer(waitCtx(t), cfg)
		if err != nil {
			t.Fatalf("create with another pause time: %v", err)
		}
		pzWantPaused(t, c.CachedInfo(), until)
		pzWantAdvisory(t, pzNext(t, next), true, pzUTC(until))
	})
}

// A paused consumer that is deleted is gone: pausing it is consumer not found.
func TestJSPauseDeleted(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, _ := pzSetup(t, env, 0)
		pzPause(t, env, time.Now().Add(time.Hour))
		if err := s.DeleteConsumer(waitCtx(t), "C"); err != nil {
			t.Fatal(err)
		}
		_, err := env.JetStream().PauseConsumer(waitCtx(t), "S", "C", time.Now().Add(time.Hour))
		spAPIErr(t, err, covConsumerMissing)
	})
}

// A resume through the API does not wake the consumer, on nats-server: a request that waited
// through the pause gets nothing and expires (408, its message still pending); the next request
// is served.
func TestJSPauseResumeDoesNotWakeWaiting(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := pzSetup(t, env, 2)
		pzPause(t, env, time.Now().Add(time.Hour))
		inbox := nats.NewInbox()
		sub := subSync(t, env.Conn(), inbox)
		if err := env.Conn().PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":1,"expires":300000000}`)); err != nil {
			t.Fatal(err)
		}
		spWantCounts(t, c, spCounts{Waiting: 1, NumPending: 2})
		pzResume(t, env)
		if m := next(t, sub); m.Header.Get("Status") != "408" || m.Header.Get("Nats-Pending-Messages") != "1" {
			t.Errorf("the request that waited: %q %v, want 408 with its message pending", m.Data, m.Header)
		}
		if got := spStreamSeqs(t, spTake(t, c, 1)); len(got) != 1 || got[0] != 1 {
			t.Errorf("the next request: %v, want message 1", got)
		}
	})
}
