package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A stream's mirror: a copy of another stream's messages, with the origin's sequences, times
// and headers, made asynchronously by nats-server, so every scenario waits for it. Helpers of
// this file start with "mi".

// miOrigin creates stream O on o.> and publishes data on each subject in turn.
func miOrigin(t *testing.T, env *natstest.Env, subjects ...string) jetstream.Stream {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
	for i, subj := range subjects {
		spPub(t, env, subj, seq("m", len(subjects))[i])
	}
	return s
}

// miUntilLast waits until the stream's last sequence is last.
func miUntilLast(t *testing.T, s jetstream.Stream, last uint64) jetstream.StreamState {
	t.Helper()
	var got jetstream.StreamState
	spStreamUntil(t, s, "the copy reaches its last message", func(st jetstream.StreamState) bool {
		got = st
		return st.LastSeq >= last
	})
	return got
}

// miMsgs is the stream's messages by sequence, from first to last.
func miMsgs(t *testing.T, s jetstream.Stream, first, last uint64) map[uint64]*jetstream.RawStreamMsg {
	t.Helper()
	out := make(map[uint64]*jetstream.RawStreamMsg)
	for n := first; n <= last; n++ {
		m, err := s.GetMsg(waitCtx(t), n)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("get %d: %v", n, err)
		}
		out[n] = m
	}
	return out
}

// miCreateErr wants creating cfg to fail with the API error code / err_code / description.
func miCreateErr(t *testing.T, env *natstest.Env, cfg jetstream.StreamConfig, code, errCode int, desc string) {
	t.Helper()
	_, err := rpCreate(t, env, cfg)
	rpAPIErr(t, err, code, errCode, desc)
}

// miInfoUntil polls the stream's info until cond holds, failing after patience.
func miInfoUntil(t *testing.T, s jetstream.Stream, what string, cond func(*jetstream.StreamInfo) bool) *jetstream.StreamInfo {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		info := spInfo(t, s)
		if cond(info) {
			return info
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %v until %s; info %+v", patience, what, info)
		case <-tick.C:
		}
	}
}

func TestJSMirrorCopiesWithSequencesAndTimes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		o := miOrigin(t, env, "o.a", "o.b", "o.a", "o.c")
		if err := o.DeleteMsg(waitCtx(t), 2); err != nil {
			t.Fatal(err)
		}
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		got := miUntilLast(t, m, 4)
		if got.Msgs != 3 || got.FirstSeq != 1 {
			t.Errorf("mirror state %+v, want 3 messages from 1", got)
		}
		want := miMsgs(t, o, 1, 4)
		for n, gm := range miMsgs(t, m, 1, 4) {
			wm := want[n]
			if wm == nil {
				t.Errorf("mirror holds %d, which the origin does not", n)
				continue
			}
			if gm.Subject != wm.Subject || string(gm.Data) != string(wm.Data) || !gm.Time.Equal(wm.Time) {
				t.Errorf("mirror %d: %s %q %v, want %s %q %v", n, gm.Subject, gm.Data, gm.Time, wm.Subject, wm.Data, wm.Time)
			}
			if gm.Header.Get("Nats-Stream-Source") != "" {
				t.Errorf("mirror %d has a Nats-Stream-Source header", n)
			}
		}
	})
}

func TestJSMirrorMessagesFlowOn(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		miUntilLast(t, m, 1)
		spPub(t, env, "o.b", "later")
		miUntilLast(t, m, 2)
		got, err := m.GetMsg(waitCtx(t), 2)
		if err != nil || got.Subject != "o.b" || string(got.Data) != "later" {
			t.Errorf("mirror 2: %+v %v, want o.b later", got, err)
		}
	})
}

func TestJSMirrorKeepsHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		msg := nats.NewMsg("o.a")
		msg.Header.Set("Nats-Msg-Id", "one")
		msg.Header.Set("X-Mine", "yes")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), msg); err != nil {
			t.Fatal(err)
		}
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		miUntilLast(t, m, 1)
		got, err := m.GetMsg(waitCtx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Header.Get("Nats-Msg-Id") != "one" || got.Header.Get("X-Mine") != "yes" || len(got.Header) != 2 {
			t.Errorf("mirror headers %v, want the origin's two", got.Header)
		}
	})
}

func TestJSMirrorFilterSubjectKeepsSequences(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b", "o.a", "o.b", "o.a")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", FilterSubject: "o.a"}})
		got := miUntilLast(t, m, 5)
		if got.Msgs != 3 || got.FirstSeq != 1 {
			t.Errorf("state %+v, want 3 messages from 1", got)
		}
		for n, gm := range miMsgs(t, m, 1, 5) {
			if gm.Subject != "o.a" || n%2 == 0 {
				t.Errorf("mirror %d on %s, want only o.a at odd sequences", n, gm.Subject)
			}
		}
		info := spInfo(t, m)
		if info.Mirror == nil || info.Mirror.FilterSubject != "o.a" || info.Mirror.Name != "O" {
			t.Errorf("mirror info %+v, want O filtered on o.a", info.Mirror)
		}
	})
}

func TestJSMirrorSubjectTransforms(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b", "o.c")
		trs := []jetstream.SubjectTransformConfig{{Source: "o.a", Destination: "x.a"}, {Source: "o.b", Destination: ""}}
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", SubjectTransforms: trs}})
		miUntilLast(t, m, 2)
		msgs := miMsgs(t, m, 1, 3)
		if len(msgs) != 2 || msgs[1].Subject != "x.a" || msgs[2].Subject != "o.b" {
			t.Errorf("mirror holds %d: 1 %v 2 %v, want x.a and o.b", len(msgs), msgs[1], msgs[2])
		}
		info := spInfo(t, m)
		if info.Mirror == nil || len(info.Mirror.SubjectTransforms) != 2 || info.Mirror.SubjectTransforms[0] != trs[0] ||
			info.Mirror.SubjectTransforms[1] != trs[1] {
			t.Errorf("mirror info %+v, want transforms %v", info.Mirror, trs)
		}
	})
}

func TestJSMirrorStartSequence(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b", "o.c", "o.d")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", OptStartSeq: 3}})
		got := miUntilLast(t, m, 4)
		if got.Msgs != 2 || got.FirstSeq != 3 {
			t.Errorf("state %+v, want 2 messages from 3", got)
		}
	})
}

func TestJSMirrorStartTime(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		o := miOrigin(t, env, "o.a", "o.b", "o.c")
		second, err := o.GetMsg(waitCtx(t), 2)
		if err != nil {
			t.Fatal(err)
		}
		at := second.Time
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", OptStartTime: &at}})
		got := miUntilLast(t, m, 3)
		if got.Msgs != 2 || got.FirstSeq != 2 {
			t.Errorf("state %+v, want 2 messages from 2", got)
		}
	})
}

func TestJSMirrorLimits(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b", "o.c", "o.d")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", MaxMsgs: 2, Mirror: &jetstream.StreamSource{Name: "O"}})
		got := miUntilLast(t, m, 4)
		if got.Msgs != 2 || got.FirstSeq != 3 {
			t.Errorf("state %+v, want the last 2 messages, from 3", got)
		}
	})
}

func TestJSMirrorOfMirror(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b")
		spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		m2 := spStream(t, env, jetstream.StreamConfig{Name: "M2", Mirror: &jetstream.StreamSource{Name: "M"}})
		miUntilLast(t, m2, 2)
		spPub(t, env, "o.c", "x")
		miUntilLast(t, m2, 3)
	})
}

func TestJSMirrorInfo(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		miUntilLast(t, m, 1)
		info := spInfo(t, m)
		mi := info.Mirror
		if mi == nil || mi.Name != "O" || mi.Lag != 0 || mi.Error != nil || mi.Seq != 0 || mi.External != nil || len(info.Sources) != 0 {
			t.Errorf("mirror info %+v, sources %v; want O, no lag, error or seq", mi, info.Sources)
		}
		if len(info.Config.Subjects) != 0 || info.Config.Duplicates != 0 {
			t.Errorf("mirror config subjects %v duplicates %v, want none", info.Config.Subjects, info.Config.Duplicates)
		}
	})
}

func TestJSMirrorDirectFollowsOrigin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.>"}, AllowDirect: true})
		spStream(t, env, jetstream.StreamConfig{Name: "N", Subjects: []string{"n.>"}})
		md := spStream(t, env, jetstream.StreamConfig{Name: "MD", Mirror: &jetstream.StreamSource{Name: "D"}})
		mn := spStream(t, env, jetstream.StreamConfig{Name: "MN", Mirror: &jetstream.StreamSource{Name: "N"}})
		if !md.CachedInfo().Config.MirrorDirect || mn.CachedInfo().Config.MirrorDirect {
			t.Errorf("mirror_direct %v and %v, want the origins' allow_direct: true and false",
				md.CachedInfo().Config.MirrorDirect, mn.CachedInfo().Config.MirrorDirect)
		}
	})
}

func TestJSMirrorOfMissingStreamReportsError(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "NOPE"}})
		if mi := m.CachedInfo().Mirror; mi == nil || mi.Error != nil || mi.Active != -1 {
			t.Errorf("create's mirror info %+v, want no error yet and never active", mi)
		}
		info := miInfoUntil(t, m, "the mirror reports its error", func(i *jetstream.StreamInfo) bool {
			return i.Mirror != nil && i.Mirror.Error != nil
		})
		e := info.Mirror.Error
		if e.Code != 404 || e.ErrorCode != 10059 || e.Description != "stream not found" || info.Mirror.Active != -1 {
			t.Errorf("mirror error %d %d %q active %v, want 404 10059 stream not found, never active", e.Code, e.ErrorCode, e.Description, info.Mirror.Active)
		}
	})
}

func TestJSMirrorKeepsMessagesOfDeletedOrigin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		miUntilLast(t, m, 1)
		if err := env.JetStream().DeleteStream(waitCtx(t), "O"); err != nil {
			t.Fatal(err)
		}
		info := spInfo(t, m)
		if info.State.Msgs != 1 || info.Mirror == nil || info.Mirror.Name != "O" {
			t.Errorf("mirror %+v with %d messages, want O and the one message kept", info.Mirror, info.State.Msgs)
		}
	})
}

func TestJSMirrorUpdateCannotChangeMirror(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "O2", Subjects: []string{"o2"}})
		spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p"}})
		for _, cfg := range []jetstream.StreamConfig{
			{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", FilterSubject: "o.a"}},
			{Name: "M", Mirror: &jetstream.StreamSource{Name: "O2"}},
		} {
			_, err := env.JetStream().UpdateStream(waitCtx(t), cfg)
			rpAPIErr(t, err, 400, 10055, "stream mirror configuration can not be updated")
		}
		// Nor can a stream become a mirror.
		_, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "P", Mirror: &jetstream.StreamSource{Name: "O"}})
		rpAPIErr(t, err, 400, 10055, "stream mirror configuration can not be updated")
	})
}

func TestJSMirrorPromote(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env, "o.a", "o.b")
		m := spStream(t, env, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}})
		miUntilLast(t, m, 2)
		us, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "M"})
		if err != nil {
			t.Fatal(err)
		}
		info := us.CachedInfo()
		if info.Mirror != nil || info.Config.Mirror != nil || len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "M" ||
			info.Config.Duplicates != 2*time.Minute || info.State.Msgs != 2 {
			t.Errorf("promoted: mirror %v %v subjects %v duplicates %v messages %d; want no mirror, subject M, 2m, 2 messages",
				info.Mirror, info.Config.Mirror, info.Config.Subjects, info.Config.Duplicates, info.State.Msgs)
		}
		if ack := spPub(t, env, "M", "own"); ack.Stream != "M" || ack.Sequence != 3 {
			t.Errorf("publish to the promoted stream: %+v, want M 3", ack)
		}
		spPub(t, env, "o.c", "not copied")
		// The origin's new message does not come: a marker published after it is the last.
		spPub(t, env, "M", "marker")
		got := spInfo(t, m).State
		if got.LastSeq != 4 || got.Msgs != 4 {
			t.Errorf("promoted state %+v, want 4 messages, its own last", got)
		}
	})
}

func TestJSMirrorConfigErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		miOrigin(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big"}, MaxMsgSize: 1000})
		mirror := &jetstream.StreamSource{Name: "O"}
		overlap := []jetstream.SubjectTransformConfig{{Source: "o.>", Destination: "x.>"}, {Source: "o.a", Destination: "y"}}
		for _, c := range []struct {
			name          string
			cfg           jetstream.StreamConfig
			code, errCode int
			desc          string
		}{
			{"subjects", jetstream.StreamConfig{Subjects: []string{"m"}, Mirror: mirror}, 400, 10034, "stream mirrors can not contain subjects"},
			{"sources", jetstream.StreamConfig{Mirror: mirror, Sources: []*jetstream.StreamSource{{Name: "O"}}}, 400, 10031, "stream mirrors can not also contain other sources"},
			{"first seq", jetstream.StreamConfig{Mirror: mirror, FirstSeq: 5}, 400, 10143, "stream mirrors can not have first sequence configured"},
			{"counters", jetstream.StreamConfig{Mirror: mirror, AllowMsgCounter: true}, 400, 10173, "stream mirrors can not also calculate counters"},
			{"filter and transforms", jetstream.StreamConfig{Mirror: &jetstream.StreamSource{Name: "O", FilterSubject: "o.a",
				SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "o.a", Destination: "b"}}}},
				400, 10150, "mirror with multiple subject transforms cannot also have a single subject filter"},
			{"markers", jetstream.StreamConfig{Mirror: mirror, SubjectDeleteMarkerTTL: 5 * time.Second}, 500, 10052, "subject delete markers forbidden on mirrors"},
			{"transform source", jetstream.StreamConfig{Mirror: &jetstream.StreamSource{Name: "O",
				SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "a..b", Destination: "b"}}}},
				400, 10151, "mirror transform source: invalid subject a..b"},
			{"transform destination", jetstream.StreamConfig{Mirror: &jetstream.StreamSource{Name: "O",
				SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "a.*", Destination: "b.{{wildcard(2)}}"}}}},
				400, 10154, "mirror transform: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]"},
			{"overlapping transforms", jetstream.StreamConfig{Mirror: &jetstream.StreamSource{Name: "O", SubjectTransforms: overlap}},
				400, 10152, "mirror subject filters can not overlap"},
			{"origin name", jetstream.StreamConfig{Mirror: &jetstream.StreamSource{Name: "O.x"}}, 400, 10142, "mirrored stream name is invalid"},
			{"itself", jetstream.StreamConfig{Name: "SELF", Mirror: &jetstream.StreamSource{Name: "SELF"}}, 500, 10052, "detected cycle"},
			{"max msg size", jetstream.StreamConfig{MaxMsgSize: 10, Mirror: &jetstream.StreamSource{Name: "BIG"}}, 400, 10030, "stream mirror must have max message size >= source"},
			{"filter", jetstream.StreamConfig{Mirror: &jetstream.StreamSource{Name: "O", FilterSubject: "a..b"}}, 500, 10049, "subject filter 'a..b' for the mirror invalid subject"},
		} {
			if c.cfg.Name == "" {
				c.cfg.Name = "M"
			}
			t.Run(c.name, func(t *testing.T) {
				miCreateErr(t, env, c.cfg, c.code, c.errCode, c.desc)
			})
		}
	})
}
