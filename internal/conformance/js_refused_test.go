package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Config and request fields nats-server honours and the fake does not implement yet are
// refused by the fake with its "not supported" error naming the field, never accepted and
// ignored. Each scenario shows briefly what the server does with the field, and that the fake
// refuses it. What a single nats-server refuses itself gets the same error on both.

// Helpers of this file start with "ref".

// refStream tries to create a stream and returns the error.
func refStream(t *testing.T, env *natstest.Env, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	t.Helper()
	return env.JetStream().CreateStream(waitCtx(t), cfg)
}

// refConsumer tries to create a consumer on a fresh stream R (subjects r.>) and returns it.
func refConsumer(t *testing.T, env *natstest.Env, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	t.Helper()
	s, err := env.JetStream().Stream(waitCtx(t), "R")
	if err != nil {
		s = spStream(t, env, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.>"}})
	}
	return s.CreateConsumer(waitCtx(t), cfg)
}

// A stream's RePublish: nats-server publishes each stored message again on the destination;
// the fake refuses the field.
func TestJSRefusedRePublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		_, err := refStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Source: "p.>", Destination: "rp.>"}})
		if covFake(env) {
			covNotSupported(t, err, "republish")
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "p.a", "hello")
		if m := next(t, sub); m.Subject != "rp.a" || string(m.Data) != "hello" {
			t.Errorf("republished %q %q, want rp.a hello", m.Subject, m.Data)
		}
	})
}

// A stream's SubjectTransform: nats-server stores messages under the transformed subject.
func TestJSRefusedSubjectTransform(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, err := refStream(t, env, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"},
			SubjectTransform: &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "moved.>"}})
		if covFake(env) {
			covNotSupported(t, err, "subject_transform")
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "t.a", "x")
		m, err := s.GetMsg(waitCtx(t), 1)
		if err != nil || m.Subject != "moved.a" {
			t.Errorf("stored %+v, %v; want subject moved.a", m, err)
		}
	})
}

// Mirrors and sources: nats-server copies the origin's messages; the fake refuses both.
func TestJSRefusedMirrorAndSources(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
		spPub(t, env, "o.a", "x")
		for _, c := range []struct {
			name, field string
			cfg         jetstream.StreamConfig
		}{
			{"M", "mirror", jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}}},
			{"SRC", "sources", jetstream.StreamConfig{Name: "SRC", Subjects: []string{"src.>"}, Sources: []*jetstream.StreamSource{{Name: "O"}}}},
		} {
			s, err := refStream(t, env, c.cfg)
			if covFake(env) {
				covNotSupported(t, err, c.field)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			// The copy is asynchronous: a consumer on the copy waits for it.
			c2 := spConsumer(t, s, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
			m, err := c2.Next(jetstream.FetchMaxWait(patience))
			if err != nil || m.Subject() != "o.a" {
				t.Errorf("%s: %v, %v; want the origin's o.a", c.field, m, err)
			}
			if err := env.JetStream().DeleteStream(waitCtx(t), c.name); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Atomic and batched publishing and schedules: nats-server takes them into the
// stream's config; the fake refuses each, naming it.
func TestJSRefusedStreamFeatures(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for field, set := range map[string]func(*jetstream.StreamConfig){
			"allow_atomic":        func(c *jetstream.StreamConfig) { c.AllowAtomicPublish = true },
			"allow_batched":       func(c *jetstream.StreamConfig) { c.AllowBatchPublish = true },
			"allow_msg_schedules": func(c *jetstream.StreamConfig) { c.AllowMsgSchedules = true },
		} {
			cfg := jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}}
			set(&cfg)
			s, err := refStream(t, env, cfg)
			if covFake(env) {
				covNotSupported(t, err, field)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			got := s.CachedInfo().Config
			if got.AllowAtomicPublish != cfg.AllowAtomicPublish ||
				got.AllowBatchPublish != cfg.AllowBatchPublish || got.AllowMsgSchedules != cfg.AllowMsgSchedules {
				t.Errorf("%s: config %+v does not keep it", field, got)
			}
			if err := env.JetStream().DeleteStream(waitCtx(t), "F"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// What a single nats-server refuses in a stream config itself, the fake refuses alike:
// replicas, mirror direct without a mirror, the old template owner, asynchronous persistence
// of a memory stream.
func TestJSRefusedStreamFieldsServerErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range []struct {
			set  func(*jetstream.StreamConfig)
			want jetstream.APIError
		}{
			{func(c *jetstream.StreamConfig) { c.Replicas = 3 },
				jetstream.APIError{Code: 500, ErrorCode: 10074, Description: "replicas > 1 not supported in non-clustered mode"}},
			{func(c *jetstream.StreamConfig) { c.MirrorDirect = true },
				jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "stream has no mirror but does have mirror direct"}},
			{func(c *jetstream.StreamConfig) { c.Template = "T" },
				jetstream.APIError{Code: 400, ErrorCode: 10025, Description: `invalid JSON: json: unknown field "template_owner"`}},
			{func(c *jetstream.StreamConfig) {
				c.Storage, c.PersistMode = jetstream.MemoryStorage, jetstream.AsyncPersistMode
			},
				jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "async persist mode is only supported on file storage"}},
		} {
			cfg := jetstream.StreamConfig{Name: "E", Subjects: []string{"e.>"}}
			c.set(&cfg)
			_, err := refStream(t, env, cfg)
			spAPIErr(t, err, c.want)
		}
	})
}

// A push consumer's RateLimit: nats-server keeps it (and paces delivery by it); the fake
// refuses it. On a pull consumer the server refuses it with its own error, and so does the fake.
func TestJSRefusedRateLimit(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "P", RateLimit: 1 << 20})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10086, Description: "consumer in pull mode can not have rate limit set"})
		c, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "Q", DeliverSubject: "q", RateLimit: 1 << 20})
		if covFake(env) {
			covNotSupported(t, err, "rate_limit_bps")
			return
		}
		if err != nil || c.CachedInfo().Config.RateLimit != 1<<20 {
			t.Fatalf("push consumer with a rate limit: %v", err)
		}
	})
}

// ReplayOriginal: nats-server keeps the messages' original spacing; the fake refuses it.
// Replay instant is honoured on both.
func TestJSRefusedReplayOriginal(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		if _, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "I", ReplayPolicy: jetstream.ReplayInstantPolicy}); err != nil {
			t.Fatal(err)
		}
		c, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "O", ReplayPolicy: jetstream.ReplayOriginalPolicy})
		if covFake(env) {
			covNotSupported(t, err, "replay_policy")
			return
		}
		if err != nil || c.CachedInfo().Config.ReplayPolicy != jetstream.ReplayOriginalPolicy {
			t.Fatalf("replay original: %v", err)
		}
	})
}

// SampleFrequency: nats-server samples acks into advisories; the fake refuses it. A sampling
// that does not parse is the server's error on both.
func TestJSRefusedSampleFrequency(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "B", SampleFrequency: "abc"})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10095,
			Description: `failed to parse consumer sampling configuration: strconv.Atoi: parsing "abc": invalid syntax`})
		c, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "S", AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100%"})
		if covFake(env) {
			covNotSupported(t, err, "sample_freq")
			return
		}
		if err != nil || c.CachedInfo().Config.SampleFrequency != "100%" {
			t.Fatalf("sampled consumer: %v", err)
		}
	})
}

// A consumer created paused: nats-server reports it paused; the fake refuses pause_until.
func TestJSRefusedPauseUntil(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		until := time.Now().Add(time.Hour)
		c, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "P", PauseUntil: &until})
		if covFake(env) {
			covNotSupported(t, err, "pause_until")
			return
		}
		if err != nil || !c.CachedInfo().Paused {
			t.Fatalf("paused consumer: %+v, %v; want paused", c, err)
		}
	})
}

// Priority groups: nats-server's own checks of policy, groups and pinned TTL come first, on
// both; then the server takes a valid set and the fake refuses it, naming the fields.
func TestJSRefusedPriorityGroups(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range []struct {
			cfg  jetstream.ConsumerConfig
			want jetstream.APIError
		}{
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyOverflow},
				jetstream.APIError{Code: 400, ErrorCode: 10159, Description: "Setting PriorityPolicy requires at least one PriorityGroup to be set"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityGroups: []string{"g"}},
				jetstream.APIError{Code: 400, ErrorCode: 10196, Description: "consumer can not have priority groups when policy is none"}},
			{jetstream.ConsumerConfig{Durable: "A", PinnedTTL: time.Minute},
				jetstream.APIError{Code: 400, ErrorCode: 10197, Description: "PinnedTTL cannot be set when PriorityPolicy is none"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"g"}, DeliverSubject: "d"},
				jetstream.APIError{Code: 400, ErrorCode: 10178, Description: "priority groups can not be used with push consumers"}},
		} {
			_, err := refConsumer(t, env, c.cfg)
			spAPIErr(t, err, c.want)
		}
		c, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "G", AckPolicy: jetstream.AckExplicitPolicy,
			PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"g"}, PinnedTTL: time.Minute})
		if covFake(env) {
			covNotSupported(t, err, "priority_groups")
			return
		}
		if err != nil || len(c.CachedInfo().Config.PriorityGroups) != 1 {
			t.Fatalf("pinned consumer: %v", err)
		}
	})
}

// Consumer replicas on a single server: the server's own error on both.
func TestJSRefusedConsumerReplicas(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "R", Replicas: 3})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10074, Description: "replicas > 1 not supported in non-clustered mode"})
	})
}

// A pull request's overflow and pinned fields on a consumer without a priority policy are
// nats-server's bad requests, on both; a group or a priority alone is ignored.
func TestJSRefusedPullPriorityFields(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		if _, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "r.a", "x")
		for body, want := range map[string]string{
			`{"batch":1,"no_wait":true,"min_pending":1}`:     "Bad Request - Not a Overflow Priority consumer",
			`{"batch":1,"no_wait":true,"min_ack_pending":1}`: "Bad Request - Not a Overflow Priority consumer",
			`{"batch":1,"no_wait":true,"id":"pin"}`:          "Bad Request - Not a Pinned Client Priority consumer",
			`{"batch":1,"no_wait":true,"priority":10}`:       "Bad Request - Priority must be between 0 and 9",
		} {
			m, err := env.Conn().Request("$JS.API.CONSUMER.MSG.NEXT.R.C", []byte(body), patience)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if m.Header.Get("Status") != "400" || m.Header.Get("Description") != want {
				t.Errorf("%s: %s %q, want 400 %q", body, m.Header.Get("Status"), m.Header.Get("Description"), want)
			}
		}
		m, err := env.Conn().Request("$JS.API.CONSUMER.MSG.NEXT.R.C", []byte(`{"batch":1,"expires":4000000000,"group":"g","priority":3}`), patience)
		if err != nil || string(m.Data) != "x" {
			t.Errorf("group and priority on a plain consumer: %v %v, want the message", m, err)
		}
	})
}

// The JSON message get: a batch is nats-server's bad request, on both; a start time is
// honoured, on both.
func TestJSMsgGetFields(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "G", Subjects: []string{"g.>"}})
		spPub(t, env, "g.a", "1")
		const typ = "stream_msg_get_response"
		covErr(t, covRequest(t, env, "$JS.API.STREAM.MSG.GET.G", `{"seq":1,"batch":2}`), typ, covBadRequest)
		covErr(t, covRequest(t, env, "$JS.API.STREAM.MSG.GET.X", `{"seq":1,"max_bytes":2}`), typ, covBadRequest)
		a := covRequest(t, env, "$JS.API.STREAM.MSG.GET.G", `{"start_time":"2000-01-01T00:00:00Z"}`)
		if a.Error != nil || !strings.Contains(string(a.raw), `"subject":"g.a"`) {
			t.Errorf("get by start time: %s, want g.a", a.raw)
		}
	})
}
