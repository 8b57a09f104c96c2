package conformance

import (
	"hash/fnv"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A stream's SubjectTransform: a message the stream takes is stored under the subject the
// transform makes of the subject it was published on (unchanged if the transform's source does
// not match it). Helpers of this file start with "tr".

// partitionOf is the partition nats-server's {{partition(n,...)}} gives the joined tokens key.
func partitionOf(t *testing.T, key string, n uint32) string {
	t.Helper()
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return strconv.FormatUint(uint64(h.Sum32()%n), 10)
}

// trStored is the subjects of the stream's messages 1 to n.
func trStored(t *testing.T, s jetstream.Stream, n int) []string {
	t.Helper()
	var out []string
	for i := 1; i <= n; i++ {
		m, err := s.GetMsg(waitCtx(t), uint64(i))
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		out = append(out, m.Subject)
	}
	return out
}

// trCase publishes on each subject of a stream taking subjects with the transform src -> dest,
// and wants the stored subjects.
func trCase(t *testing.T, env *natstest.Env, subjects []string, src, dest string, pubs, want []string) {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "T", Subjects: subjects,
		SubjectTransform: &jetstream.SubjectTransformConfig{Source: src, Destination: dest}})
	for _, p := range pubs {
		if ack := spPub(t, env, p, "x"); ack.Stream != "T" {
			t.Errorf("publish on %s: ack %+v", p, ack)
		}
	}
	if d := cmp.Diff(want, trStored(t, s, len(pubs))); d != "" {
		t.Errorf("%s -> %s: stored subjects (-want +got):\n%s", src, dest, d)
	}
}

func TestJSSubjectTransformStored(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		trCase(t, env, []string{"t.>"}, "t.>", "moved.>", []string{"t.a", "t.b.c"}, []string{"moved.a", "moved.b.c"})
	})
}

func TestJSSubjectTransformUnmatchedUnchanged(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		trCase(t, env, []string{"t.>"}, "t.a.*", "x.$1", []string{"t.a.1", "t.b.1", "t.a.1.2"}, []string{"x.1", "t.b.1", "t.a.1.2"})
	})
}

func TestJSSubjectTransformEmptySource(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		trCase(t, env, []string{"t.*"}, "", "all.>", []string{"t.a"}, []string{"all.t.a"})
	})
}

func TestJSSubjectTransformWildcardsReordered(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		trCase(t, env, []string{"t.*.*"}, "t.*.*", "o.{{wildcard(2)}}.$1", []string{"t.eu.1"}, []string{"o.1.eu"})
	})
}

func TestJSSubjectTransformPartition(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		var pubs, want []string
		for _, id := range []string{"a", "b", "c", "order-17", "order-18"} {
			pubs = append(pubs, "t."+id)
			want = append(want, "p."+partitionOf(t, id, 5)+"."+id)
		}
		pubs = append(pubs, "t.whole")
		want = append(want, "p."+partitionOf(t, "whole", 5)+".whole")
		trCase(t, env, []string{"t.*"}, "t.*", "p.{{partition(5,1)}}.{{wildcard(1)}}", pubs, want)
	})
}

func TestJSSubjectTransformPartitionWholeSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		trCase(t, env, []string{"t.*"}, "t.*", "p.{{partition(7)}}.$1", []string{"t.abc"}, []string{"p." + partitionOf(t, "t.abc", 7) + ".abc"})
	})
}

func TestJSSubjectTransformSplitAndSlice(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		dest := "o.{{splitFromLeft(1,2)}}.{{splitFromRight(1,2)}}.{{sliceFromLeft(1,3)}}.{{sliceFromRight(1,3)}}"
		trCase(t, env, []string{"t.*"}, "t.*", dest, []string{"t.abcdefg", "t.a"},
			[]string{"o.ab.cdefg.abcde.fg.abc.def.g.a.bcd.efg", "o.a.a.a.a"})
	})
}

func TestJSSubjectTransformSplitLeftRight(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		dest := "o.{{split(1,-)}}.{{left(2,2)}}.{{right(2,3)}}"
		trCase(t, env, []string{"t.*.*"}, "t.*.*", dest, []string{"t.a-b--c.wxyz", "t.-x-.w"},
			[]string{"o.a.b.c.wx.xyz", "o.x.w.w"})
	})
}

func TestJSSubjectTransformInvalidSource(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, src := range []string{"t..a", "t.>.a", "t a"} {
			_, err := rpCreate(t, env, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"},
				SubjectTransform: &jetstream.SubjectTransformConfig{Source: src, Destination: "x.>"}})
			rpAPIErr(t, err, 400, 10155, "stream transform source: invalid subject "+src)
		}
	})
}

func TestJSSubjectTransformInvalidDestination(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cases := []struct{ src, dest, err string }{
			{"t.*", "x.{{unknown(1)}}", "invalid mapping destination: unknown function in {{unknown(1)}}"},
			{"t.*", "x.$2", "invalid mapping destination: wildcard index out of range in $2: [2]"},
			{"t.a", "x.$1", "invalid mapping destination: wildcard index out of range in $1"},
			{"t.*", "x..y", "invalid mapping destination: invalid transform"},
			{"t.*", "x.>.y", "invalid mapping destination: invalid transform in y"},
			{"t.*", "x.{{wildcard()}}", "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}"},
			{"t.*", "x.{{left(1,2,3)}}", "invalid mapping destination: too many arguments passed to the function in {{left(1,2,3)}}"},
			{"t.*", "x.{{partition(a,1)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{partition(a,1)}}"},
			{"t.>", "x.*", "invalid subject"},
			{"t.*", "x.>", "invalid subject"},
			{"t.*", "a b", "invalid mapping destination: invalid transform"},
		}
		for _, c := range cases {
			_, err := rpCreate(t, env, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"},
				SubjectTransform: &jetstream.SubjectTransformConfig{Source: c.src, Destination: c.dest}})
			rpAPIErr(t, err, 400, 10156, "stream transform: "+c.err)
		}
	})
}

func TestJSSubjectTransformEmptyDestination(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		trCase(t, env, []string{"t.>"}, "t.>", "", []string{"t.a"}, []string{"t.a"})
	})
}

func TestJSSubjectTransformUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}
		s := spStream(t, env, cfg)
		spPub(t, env, "t.a", "1")
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "one.>"}
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "t.a", "2")
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "two.>"}
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "t.a", "3")
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "{{bad}}.>"}
		_, err := env.JetStream().UpdateStream(waitCtx(t), cfg)
		rpAPIErr(t, err, 400, 10156, "stream transform: invalid mapping destination: unknown function in {{bad}}")
		cfg.SubjectTransform = nil
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "t.a", "4")
		if d := cmp.Diff([]string{"t.a", "one.a", "two.a", "t.a"}, trStored(t, s, 4)); d != "" {
			t.Errorf("stored subjects (-want +got):\n%s", d)
		}
	})
}

func TestJSSubjectTransformConsumerAndLastBySubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"},
			SubjectTransform: &jetstream.SubjectTransformConfig{Source: "t.*", Destination: "k.$1"}})
		spPub(t, env, "t.a", "1")
		spPub(t, env, "t.a", "2")
		m, err := s.GetLastMsgForSubject(waitCtx(t), "k.a")
		if err != nil || string(m.Data) != "2" || m.Sequence != 2 {
			t.Errorf("last on k.a: %+v, %v; want 2 at sequence 2", m, err)
		}
		if _, err := s.GetLastMsgForSubject(waitCtx(t), "t.a"); err == nil {
			t.Error("a message stored under its published subject t.a")
		}
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", FilterSubject: "k.a"})
		msg, err := c.Next(jetstream.FetchMaxWait(patience))
		if err != nil || msg.Subject() != "k.a" || string(msg.Data()) != "1" {
			t.Fatalf("consumer on k.a: %v", err)
		}
		if got := spInfo(t, s).State.Msgs; got != 2 {
			t.Errorf("%d messages, want 2", got)
		}
	})
}

func TestJSSubjectTransformWithRePublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"},
			SubjectTransform: &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "k.>"},
			RePublish:        &jetstream.RePublish{Source: "k.>", Destination: "rp.>"}})
		spPub(t, env, "t.a", "v")
		m := next(t, sub)
		if m.Subject != "rp.a" {
			t.Errorf("republished on %q, want rp.a (from the stored subject k.a)", m.Subject)
		}
		rpHeaders(t, s, m, "k.a", 1, 0)
	})
}

func TestJSSubjectTransformImplicitRePublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "k.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"},
			SubjectTransform: &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "k.>"},
			RePublish:        &jetstream.RePublish{Source: ">", Destination: ">"}})
		if got := spInfo(t, s).Config.RePublish; got == nil || *got != (jetstream.RePublish{Source: "k.>", Destination: "k.>"}) {
			t.Errorf("republish config %+v, want k.> to k.>", got)
		}
		spPub(t, env, "t.a", "v")
		m := next(t, sub)
		if m.Subject != "k.a" || string(m.Data) != "v" {
			t.Errorf("republished %q %q, want k.a v", m.Subject, m.Data)
		}
		rpHeaders(t, s, m, "k.a", 1, 0)
	})
}

func TestJSSubjectTransformNoImplicitRePublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, cfg := range []jetstream.StreamConfig{
			{Name: "T", Subjects: []string{"t.>", "u.>"},
				SubjectTransform: &jetstream.SubjectTransformConfig{Source: "t.>", Destination: "k.>"}},
			{Name: "T", Subjects: []string{"t.>"},
				SubjectTransform: &jetstream.SubjectTransformConfig{Source: "t.*", Destination: "k.$1"}},
			{Name: "T", Subjects: []string{"t.>"}},
		} {
			cfg.RePublish = &jetstream.RePublish{Source: ">", Destination: ">"}
			_, err := rpCreate(t, env, cfg)
			rpAPIErr(t, err, 500, 10052, "stream configuration for republish destination forms a cycle")
		}
	})
}

// The config comes back as it was sent, with nats.go's own round trip (its
// TestStreamConfigMatches): the transform and republish unchanged.
func TestJSSubjectTransformConfigRoundTrip(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.MemoryStorage,
			SubjectTransform: &jetstream.SubjectTransformConfig{Source: ">", Destination: "transformed.>"},
			RePublish:        &jetstream.RePublish{Source: ">", Destination: "RP.>", HeadersOnly: true}}
		s := spStream(t, env, cfg)
		got := spInfo(t, s).Config
		if d := cmp.Diff(cfg.SubjectTransform, got.SubjectTransform); d != "" {
			t.Errorf("subject transform (-want +got):\n%s", d)
		}
		if d := cmp.Diff(cfg.RePublish, got.RePublish); d != "" {
			t.Errorf("republish (-want +got):\n%s", d)
		}
		// The same config again is the same stream; another transform is not.
		if _, err := env.JetStream().CreateStream(waitCtx(t), cfg); err != nil {
			t.Errorf("creating the same stream again: %v", err)
		}
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: ">", Destination: "other.>"}
		_, err := env.JetStream().CreateStream(waitCtx(t), cfg)
		rpAPIErr(t, err, 400, 10058, "stream name already in use")
	})
}
