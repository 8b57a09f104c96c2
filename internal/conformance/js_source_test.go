package conformance

import (
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A stream's sources: each origin's messages stored anew in the sourcing stream, under its own
// sequences, with a Nats-Stream-Source header naming where each came from. nats-server copies
// asynchronously, so every scenario waits for the copy. Helpers of this file start with "so".

// soHeader wants the Nats-Stream-Source of m to be "<origin> <seq> <filter> <dest> <subject>"
// followed by the origin's identity (a hash of its creation time).
func soHeader(t *testing.T, m *jetstream.RawStreamMsg, want string) {
	t.Helper()
	got := m.Header.Get("Nats-Stream-Source")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(want) + ` [0-9A-Za-z]{8}$`).MatchString(got) {
		t.Errorf("message %d: Nats-Stream-Source %q, want %q and the origin's identity", m.Sequence, got, want)
	}
}

// soSubjects is the subject of each of the stream's messages, first to last.
func soSubjects(t *testing.T, s jetstream.Stream, n uint64) []string {
	t.Helper()
	var out []string
	for k := uint64(1); k <= n; k++ {
		m, err := s.GetMsg(waitCtx(t), k)
		if err != nil {
			t.Fatalf("get %d: %v", k, err)
		}
		out = append(out, m.Subject)
	}
	return out
}

func soGet(t *testing.T, s jetstream.Stream, n uint64) *jetstream.RawStreamMsg {
	t.Helper()
	m, err := s.GetMsg(waitCtx(t), n)
	if err != nil {
		t.Fatalf("get %d: %v", n, err)
	}
	return m
}

func TestJSSourceCopiesWithHeader(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		o := miOrigin(t, env, "o.a", "o.b")
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O"}}})
		miUntilLast(t, s, 2)
		for n, subj := range []string{"o.a", "o.b"} {
			m := soGet(t, s, uint64(n+1))
			if m.Subject != subj || string(m.Data) != seq("m", 2)[n] {
				t.Errorf("sourced %d: %s %q", n+1, m.Subject, m.Data)
			}
			soHeader(t, m, "O "+[]string{"1", "2"}[n]+" > > "+subj)
			om := soGet(t, o, uint64(n+1))
			if !m.Time.After(om.Time) {
				t.Errorf("sourced %d stored at %v, not after the origin's %v", n+1, m.Time, om.Time)
			}
		}
		spPub(t, env, "o.c", "later")
		miUntilLast(t, s, 3)
		soHeader(t, soGet(t, s, 3), "O 3 > > o.c")
	})
}

func TestJSSourceConfigDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O"}}})
		cfg := s.CachedInfo().Config
		if len(cfg.Subjects) != 0 || cfg.Duplicates != 0 {
			t.Errorf("sourcing stream subjects %v duplicates %v, want none", cfg.Subjects, cfg.Duplicates)
		}
		src := s.CachedInfo().Sources
		if len(src) != 1 || src[0].Name != "O" || src[0].Active != -1 || src[0].Error != nil {
			t.Errorf("create's sources info %+v, want O never active", src)
		}
	})
}

func TestJSSourceSeveralOrigins(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b")
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		spPub(t, env, "p.a", "x")
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"},
			Sources: []*jetstream.StreamSource{{Name: "O"}, {Name: "P"}}})
		miUntilLast(t, s, 3)
		spPub(t, env, "s", "own")
		spPub(t, env, "p.b", "y")
		got := miUntilLast(t, s, 5)
		if got.Msgs != 5 {
			t.Errorf("state %+v, want 5 messages", got)
		}
		count := map[string]int{}
		for _, subj := range soSubjects(t, s, 5) {
			count[subj]++
		}
		if count["o.a"] != 1 || count["o.b"] != 1 || count["p.a"] != 1 || count["p.b"] != 1 || count["s"] != 1 {
			t.Errorf("subjects %v, want one of each", count)
		}
		info := spInfo(t, s)
		if len(info.Sources) != 2 {
			t.Fatalf("sources info %+v, want 2", info.Sources)
		}
		seqs := map[string]uint64{}
		for _, si := range info.Sources {
			seqs[si.Name] = si.Seq
			if si.Lag != 0 || si.Error != nil {
				t.Errorf("source %s: lag %d error %v, want none", si.Name, si.Lag, si.Error)
			}
		}
		if seqs["O"] != 2 || seqs["P"] != 2 {
			t.Errorf("sources' seq %v, want O 2 and P 2", seqs)
		}
	})
}

func TestJSSourceFilterSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b", "o.a", "o.b")
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O", FilterSubject: "o.a"}}})
		miUntilLast(t, s, 2)
		soHeader(t, soGet(t, s, 1), "O 1 o.a > o.a")
		soHeader(t, soGet(t, s, 2), "O 3 o.a > o.a")
		info := spInfo(t, s)
		if len(info.Sources) != 1 || info.Sources[0].FilterSubject != "o.a" || info.Sources[0].Seq != 3 {
			t.Errorf("sources info %+v, want O on o.a at 3", info.Sources)
		}
	})
}

func TestJSSourceSubjectTransforms(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b")
		trs := []jetstream.SubjectTransformConfig{{Source: "o.>", Destination: "t.>"}}
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O", SubjectTransforms: trs}}})
		miUntilLast(t, s, 2)
		if got := soSubjects(t, s, 2); got[0] != "t.a" || got[1] != "t.b" {
			t.Errorf("subjects %v, want t.a t.b", got)
		}
		soHeader(t, soGet(t, s, 1), "O 1 o.> t.> o.a")
		info := spInfo(t, s)
		if len(info.Sources) != 1 || len(info.Sources[0].SubjectTransforms) != 1 || info.Sources[0].SubjectTransforms[0] != trs[0] {
			t.Errorf("sources info %+v, want the transform", info.Sources)
		}
	})
}

func TestJSSourceStartSequenceAndTime(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		o := miOrigin(t, env, "o.a", "o.b", "o.c")
		at := soGet(t, o, 3).Time
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O", OptStartSeq: 2}}})
		miUntilLast(t, s, 2)
		if got := soSubjects(t, s, 2); got[0] != "o.b" || got[1] != "o.c" {
			t.Errorf("from sequence 2: %v, want o.b o.c", got)
		}
		st := spStream(t, env, jetstream.StreamConfig{Name: "ST", Sources: []*jetstream.StreamSource{{Name: "O", OptStartTime: &at}}})
		miUntilLast(t, st, 1)
		if got := soSubjects(t, st, 1); got[0] != "o.c" {
			t.Errorf("from the third's time: %v, want o.c", got)
		}
	})
}

func TestJSSourceDropsExpectedHeadersAndNearestSourceWins(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a")
		msg := nats.NewMsg("o.b")
		msg.Header.Set("Nats-Expected-Last-Sequence", "1")
		msg.Header.Set("X-Mine", "yes")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), msg); err != nil {
			t.Fatal(err)
		}
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O"}}})
		s2 := spStream(t, env, jetstream.StreamConfig{Name: "S2", Sources: []*jetstream.StreamSource{{Name: "S"}}})
		miUntilLast(t, s, 2)
		m := soGet(t, s, 2)
		if m.Header.Get("Nats-Expected-Last-Sequence") != "" || m.Header.Get("X-Mine") != "yes" {
			t.Errorf("sourced headers %v, want X-Mine without Nats-Expected-Last-Sequence", m.Header)
		}
		miUntilLast(t, s2, 2)
		m2 := soGet(t, s2, 2)
		soHeader(t, m2, "S 2 > > o.b")
		if len(m2.Header.Values("Nats-Stream-Source")) != 1 {
			t.Errorf("source of a source: %v, want one Nats-Stream-Source", m2.Header)
		}
	})
}

func TestJSSourceDeduplicatesInItsWindow(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		for _, subj := range []string{"o.a", "p.a"} {
			msg := nats.NewMsg(subj)
			msg.Header.Set("Nats-Msg-Id", "same")
			if _, err := env.JetStream().PublishMsg(waitCtx(t), msg); err != nil {
				t.Fatal(err)
			}
		}
		spPub(t, env, "p.b", "marker")
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Duplicates: time.Minute,
			Sources: []*jetstream.StreamSource{{Name: "O"}, {Name: "P"}}})
		spStreamUntil(t, s, "both origins are in", func(st jetstream.StreamState) bool { return st.NumSubjects == 2 })
		info := miInfoUntil(t, s, "the sources caught up", func(i *jetstream.StreamInfo) bool {
			for _, si := range i.Sources {
				if si.Name == "P" && si.Seq == 2 {
					return true
				}
			}
			return false
		})
		if info.State.Msgs != 2 {
			t.Errorf("state %+v, want the one copy of the duplicate and the marker", info.State)
		}
	})
}

func TestJSSourcePublishedHeaderRefused(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		msg := nats.NewMsg("o.a")
		msg.Header.Set("Nats-Stream-Source", "X 1 > > x")
		_, err := env.JetStream().PublishMsg(waitCtx(t), msg)
		rpAPIErr(t, err, 400, 10227, "message stream source header is not allowed")
	})
}

func TestJSSourceUpdateAddsAndRemoves(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a")
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		spPub(t, env, "p.a", "x")
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O"}}})
		miUntilLast(t, s, 1)
		if _, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S",
			Sources: []*jetstream.StreamSource{{Name: "O"}, {Name: "P"}}}); err != nil {
			t.Fatal(err)
		}
		miUntilLast(t, s, 2)
		if got := soSubjects(t, s, 2); got[1] != "p.a" {
			t.Errorf("subjects %v, want p.a added", got)
		}
		if _, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S",
			Sources: []*jetstream.StreamSource{{Name: "P"}}}); err != nil {
			t.Fatal(err)
		}
		info := spInfo(t, s)
		if len(info.Sources) != 1 || info.Sources[0].Name != "P" {
			t.Errorf("sources info %+v, want P only", info.Sources)
		}
	})
}

// TestJSSourceMissingAndExternal: as nats.go's TestStreamInfoSourceExternalAndError, a source of
// a stream that does not exist reports the server's error; an external one that nothing
// answers reports its prefixes.
func TestJSSourceMissingAndExternal(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "AGG", Sources: []*jetstream.StreamSource{
			{Name: "missing"},
			{Name: "ext", External: &jetstream.ExternalStream{APIPrefix: "$JS.ext.API", DeliverPrefix: "dlv"}},
		}})
		info := miInfoUntil(t, s, "the missing source reports its error", func(i *jetstream.StreamInfo) bool {
			return len(i.Sources) == 2 && i.Sources[0].Error != nil
		})
		missing, ext := info.Sources[0], info.Sources[1]
		if e := missing.Error; e.Code != 404 || e.ErrorCode != 10059 || e.Description != "stream not found" || missing.External != nil || missing.Active != -1 {
			t.Errorf("missing source %+v error %+v, want 404 10059 stream not found", missing, e)
		}
		if ext.Name != "ext" || ext.External == nil || ext.External.APIPrefix != "$JS.ext.API" || ext.External.DeliverPrefix != "dlv" ||
			ext.Error != nil || ext.Active != -1 {
			t.Errorf("external source %+v, want its prefixes, no error, never active", ext)
		}
	})
}

func TestJSSourceConfigErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big"}, MaxMsgSize: 1000})
		tr := func(src, dest string) jetstream.SubjectTransformConfig {
			return jetstream.SubjectTransformConfig{Source: src, Destination: dest}
		}
		for _, c := range []struct {
			name          string
			srcs          []*jetstream.StreamSource
			code, errCode int
			desc          string
		}{
			{"duplicate", []*jetstream.StreamSource{{Name: "O"}, {Name: "O"}}, 400, 10140, "duplicate source configuration detected"},
			{"no name", []*jetstream.StreamSource{{Name: ""}}, 400, 10141, "sourced stream name is invalid"},
			{"filter and transforms", []*jetstream.StreamSource{{Name: "O", FilterSubject: "o.a",
				SubjectTransforms: []jetstream.SubjectTransformConfig{tr("o.a", "b")}}},
				400, 10144, "source with multiple subject transforms cannot also have a single subject filter"},
			{"transform source", []*jetstream.StreamSource{{Name: "O", SubjectTransforms: []jetstream.SubjectTransformConfig{tr("a..b", "b")}}},
				400, 10145, "source transform source: invalid subject a..b"},
			{"transform destination", []*jetstream.StreamSource{{Name: "O", SubjectTransforms: []jetstream.SubjectTransformConfig{tr("a.*", "b.{{wildcard(2)}}")}}},
				400, 10146, "source transform: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]"},
			{"overlapping transforms", []*jetstream.StreamSource{{Name: "O", SubjectTransforms: []jetstream.SubjectTransformConfig{tr("o.>", "x.>"), tr("o.a", "y")}}},
				400, 10147, "source filters can not overlap"},
			{"filter", []*jetstream.StreamSource{{Name: "O", FilterSubject: "a..b"}}, 500, 10049, "subject filter 'a..b' for the source: invalid subject"},
			{"itself", []*jetstream.StreamSource{{Name: "S"}}, 500, 10052, "detected cycle"},
			{"api prefix", []*jetstream.StreamSource{{Name: "X", External: &jetstream.ExternalStream{APIPrefix: "$JS.API"}}},
				400, 10021, "stream external api prefix $JS.API must not overlap with $JS.API"},
		} {
			t.Run(c.name, func(t *testing.T) {
				miCreateErr(t, env, jetstream.StreamConfig{Name: "S", Sources: c.srcs}, c.code, c.errCode, c.desc)
			})
		}
		t.Run("max msg size", func(t *testing.T) {
			miCreateErr(t, env, jetstream.StreamConfig{Name: "S", MaxMsgSize: 10, Sources: []*jetstream.StreamSource{{Name: "BIG"}}},
				400, 10046, "stream source must have max message size >= target")
		})
	})
}

func TestJSSourceCycleThroughAnother(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "A", Subjects: []string{"a"}})
		spStream(t, env, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}, Sources: []*jetstream.StreamSource{{Name: "A"}}})
		_, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "A", Subjects: []string{"a"},
			Sources: []*jetstream.StreamSource{{Name: "B"}}})
		rpAPIErr(t, err, 500, 10052, "detected cycle")
	})
}
