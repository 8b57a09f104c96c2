package conformance

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A stream's RePublish: each message the stream stores is published again, on the subject the
// republish transform makes of its stored subject, with headers that say where it was stored.
// Helpers of this file start with "rp".

// rpCreate creates a stream, returning the error.
func rpCreate(t *testing.T, env *natstest.Env, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	t.Helper()
	return env.JetStream().CreateStream(waitCtx(t), cfg)
}

// rpAPIErr wants err to be the API error code / err_code / description.
func rpAPIErr(t *testing.T, err error, code, errCode int, desc string) {
	t.Helper()
	var e *jetstream.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want API error %d %d %q", err, code, errCode, desc)
	}
	if e.Code != code || int(e.ErrorCode) != errCode || e.Description != desc {
		t.Errorf("error %d %d %q, want %d %d %q", e.Code, e.ErrorCode, e.Description, code, errCode, desc)
	}
}

// rpHeaders checks the republish headers of m against the stored message seq of stream s.
func rpHeaders(t *testing.T, s jetstream.Stream, m *nats.Msg, subj string, seq, last uint64) {
	t.Helper()
	stored, err := s.GetMsg(waitCtx(t), seq)
	if err != nil {
		t.Fatalf("get %d: %v", seq, err)
	}
	want := map[string]string{
		"Nats-Stream":        s.CachedInfo().Config.Name,
		"Nats-Subject":       subj,
		"Nats-Sequence":      strconv.FormatUint(seq, 10),
		"Nats-Last-Sequence": strconv.FormatUint(last, 10),
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("republished %s: %s %q, want %q", m.Subject, k, got, v)
		}
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Header.Get("Nats-Time-Stamp"))
	if err != nil || !ts.Equal(stored.Time) {
		t.Errorf("Nats-Time-Stamp %q (%v), want the stored time %v", m.Header.Get("Nats-Time-Stamp"), err, stored.Time)
	}
}

// rpKeys is the sorted header keys of m.
func rpKeys(m *nats.Msg) []string {
	var keys []string
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestJSRePublishBasic(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Source: "p.>", Destination: "rp.>"}})
		spPub(t, env, "p.a", "hello")
		m := next(t, sub)
		if m.Subject != "rp.a" || string(m.Data) != "hello" {
			t.Errorf("republished %q %q, want rp.a hello", m.Subject, m.Data)
		}
		rpHeaders(t, s, m, "p.a", 1, 0)
		want := []string{"Nats-Last-Sequence", "Nats-Sequence", "Nats-Stream", "Nats-Subject", "Nats-Time-Stamp"}
		if d := cmp.Diff(want, rpKeys(m)); d != "" {
			t.Errorf("header keys (-want +got):\n%s", d)
		}
		nothingMore(t, sub)
	})
}

func TestJSRePublishLastSequencePerSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Destination: "rp.>"}})
		for _, subj := range []string{"p.a", "p.b", "p.a", "p.a"} {
			spPub(t, env, subj, "x")
		}
		want := []struct {
			subj      string
			seq, last uint64
		}{{"p.a", 1, 0}, {"p.b", 2, 0}, {"p.a", 3, 1}, {"p.a", 4, 3}}
		for _, w := range want {
			m := next(t, sub)
			if m.Subject != "rp."+w.subj {
				t.Errorf("republished on %q, want rp.%s", m.Subject, w.subj)
			}
			rpHeaders(t, s, m, w.subj, w.seq, w.last)
		}
	})
}

func TestJSRePublishHeadersOnly(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Source: ">", Destination: "rp.>", HeadersOnly: true}})
		spPub(t, env, "p.a", "twelve bytes")
		m := next(t, sub)
		if len(m.Data) != 0 || m.Header.Get("Nats-Msg-Size") != "12" {
			t.Errorf("headers-only republish: body %q, Nats-Msg-Size %q; want none and 12", m.Data, m.Header.Get("Nats-Msg-Size"))
		}
		rpHeaders(t, s, m, "p.a", 1, 0)
	})
}

func TestJSRePublishKeepsMessageHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Source: ">", Destination: "rp.>"}})
		msg := nats.NewMsg("p.h")
		msg.Header.Set("X-App", "one")
		msg.Data = []byte("body")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), msg, jetstream.WithMsgID("id-1")); err != nil {
			t.Fatal(err)
		}
		m := next(t, sub)
		if m.Header.Get("X-App") != "one" || m.Header.Get("Nats-Msg-Id") != "id-1" || string(m.Data) != "body" {
			t.Errorf("republished %v %q, want the message's own headers and body", m.Header, m.Data)
		}
		rpHeaders(t, s, m, "p.h", 1, 0)
		want := []string{"Nats-Last-Sequence", "Nats-Msg-Id", "Nats-Sequence", "Nats-Stream", "Nats-Subject", "Nats-Time-Stamp", "X-App"}
		if d := cmp.Diff(want, rpKeys(m)); d != "" {
			t.Errorf("header keys (-want +got):\n%s", d)
		}
	})
}

func TestJSRePublishSourceFilters(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Source: "p.a.*", Destination: "rp.$1"}})
		spPub(t, env, "p.b.x", "skip")
		spPub(t, env, "p.a.x", "take")
		spPub(t, env, "p.a.x.y", "skip")
		if m := next(t, sub); m.Subject != "rp.x" || string(m.Data) != "take" {
			t.Errorf("republished %q %q, want rp.x take", m.Subject, m.Data)
		}
		nothingMore(t, sub)
	})
}

func TestJSRePublishWildcardMapping(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.*.*"},
			RePublish: &jetstream.RePublish{Source: "p.*.*", Destination: "rp.{{wildcard(2)}}.$1.{{partition(4,1,2)}}"}})
		spPub(t, env, "p.eu.orders", "x")
		spPub(t, env, "p.us.orders", "y")
		got := []string{next(t, sub).Subject, next(t, sub).Subject}
		want := []string{"rp.orders.eu." + partitionOf(t, "euorders", 4), "rp.orders.us." + partitionOf(t, "usorders", 4)}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("republished subjects (-want +got):\n%s", d)
		}
	})
}

func TestJSRePublishDefaultSource(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Destination: "rp.>"}})
		if got := spInfo(t, s).Config.RePublish; got == nil || *got != (jetstream.RePublish{Source: ">", Destination: "rp.>"}) {
			t.Errorf("republish config %+v, want source > and destination rp.>", got)
		}
		spPub(t, env, "p.x.y", "z")
		if m := next(t, sub); m.Subject != "rp.p.x.y" {
			t.Errorf("republished on %q, want rp.p.x.y", m.Subject)
		}
	})
}

func TestJSRePublishCycle(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, rp := range []jetstream.RePublish{
			{Source: ">", Destination: "p.>"},
			{Source: "p.a", Destination: "p.b"},
			{Destination: "*.x"},
			{Source: ">", Destination: ">"},
		} {
			_, err := rpCreate(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, RePublish: &rp})
			rpAPIErr(t, err, 500, 10052, "stream configuration for republish destination forms a cycle")
		}
	})
}

func TestJSRePublishInvalidTransform(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, rp := range []jetstream.RePublish{
			{Source: "p.*", Destination: "rp.$2"},
			{Source: "p.*", Destination: "rp.{{nope(1)}}"},
			{Source: "p.>", Destination: "rp"},
			{Source: "p.a", Destination: "rp.*"},
			{Source: "p..a", Destination: "rp"},
			{Source: "p.*", Destination: "rp.{{left(1)}}"},
		} {
			_, err := rpCreate(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, RePublish: &rp})
			rpAPIErr(t, err, 500, 10052, "stream configuration for republish with transform from '"+rp.Source+"' to '"+rp.Destination+"' not valid")
		}
	})
}

func TestJSRePublishNotOnDuplicateOrRejected(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Destination: "rp.>"}})
		spPub(t, env, "p.a", "one", jetstream.WithMsgID("m1"))
		if ack := spPub(t, env, "p.a", "one", jetstream.WithMsgID("m1")); !ack.Duplicate {
			t.Errorf("second publish %+v, want a duplicate", ack)
		}
		if _, err := env.JetStream().Publish(waitCtx(t), "p.a", []byte("two"), jetstream.WithExpectLastSequence(7)); err == nil {
			t.Error("publish with a wrong expected last sequence stored")
		}
		spPub(t, env, "p.a", "three")
		got := datas(takeN(t, sub, 2))
		if d := cmp.Diff([]string{"one", "three"}, got); d != "" {
			t.Errorf("republished (-want +got):\n%s", d)
		}
		nothingMore(t, sub)
	})
}

// takeN is the next n messages of sub.
func takeN(t *testing.T, sub *nats.Subscription, n int) []*nats.Msg {
	t.Helper()
	out := make([]*nats.Msg, n)
	for i := range out {
		out[i] = next(t, sub)
	}
	return out
}

func TestJSRePublishUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		cfg := jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}}
		spStream(t, env, cfg)
		spPub(t, env, "p.a", "before")
		cfg.RePublish = &jetstream.RePublish{Source: "p.>", Destination: "rp.>"}
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "p.a", "during")
		cfg.RePublish = &jetstream.RePublish{Source: "p.>", Destination: "p.x"}
		_, err := env.JetStream().UpdateStream(waitCtx(t), cfg)
		rpAPIErr(t, err, 500, 10052, "stream configuration for republish destination forms a cycle")
		cfg.RePublish = nil
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "p.a", "after")
		m := next(t, sub)
		if string(m.Data) != "during" || m.Header.Get("Nats-Sequence") != "2" || m.Header.Get("Nats-Last-Sequence") != "1" {
			t.Errorf("republished %q %v, want during, sequence 2 after 1", m.Data, m.Header)
		}
		nothingMore(t, sub)
	})
}

func TestJSRePublishCapturedByAnotherStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Destination: "rp.>"}})
		q := spStream(t, env, jetstream.StreamConfig{Name: "Q", Subjects: []string{"rp.>"}})
		spPub(t, env, "p.a", "copied")
		c := spConsumer(t, q, jetstream.ConsumerConfig{Durable: "C"})
		m, err := c.Next(jetstream.FetchMaxWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject() != "rp.p.a" || string(m.Data()) != "copied" || m.Headers().Get("Nats-Stream") != "P" || m.Headers().Get("Nats-Subject") != "p.a" {
			t.Errorf("Q stored %q %q %v, want rp.p.a copied with P's republish headers", m.Subject(), m.Data(), m.Headers())
		}
	})
}

func TestJSRePublishSuppressedWhenSubjectInvalid(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.*"},
			RePublish: &jetstream.RePublish{Source: "p.*", Destination: "rp.{{split(1,-)}}"}})
		spPub(t, env, "p.-", "nothing left")
		spPub(t, env, "p.a-b", "two tokens")
		if m := next(t, sub); m.Subject != "rp.a.b" {
			t.Errorf("republished on %q, want rp.a.b (the first subject is invalid)", m.Subject)
		}
		nothingMore(t, sub)
	})
}

func TestJSRePublishKeyValue(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		if _, err := js.CreateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "UPD"}); err != nil {
			t.Fatal(err)
		}
		// The bucket exists with another config: creating it with a republish fails.
		if _, err := js.CreateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "UPD",
			RePublish: &jetstream.RePublish{Source: ">", Destination: "bar.>"}}); err == nil {
			t.Error("creating an existing bucket with a republish succeeded")
		}
		sub := subSync(t, env.Conn(), "bar.>")
		flush(t, env.Conn())
		kv, err := js.CreateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "TEST",
			RePublish: &jetstream.RePublish{Source: ">", Destination: "bar.>"}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if rp := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.RePublish; rp == nil || rp.Destination != "bar.>" {
			t.Errorf("bucket's republish %+v, want destination bar.>", rp)
		}
		if _, err := kv.Put(waitCtx(t), "foo", []byte("value")); err != nil {
			t.Fatal(err)
		}
		if err := kv.Delete(waitCtx(t), "foo"); err != nil {
			t.Fatal(err)
		}
		put, del := next(t, sub), next(t, sub)
		if put.Subject != "bar.$KV.TEST.foo" || string(put.Data) != "value" || put.Header.Get(jetstream.SubjectHeader) != "$KV.TEST.foo" {
			t.Errorf("put republished %q %q %v", put.Subject, put.Data, put.Header)
		}
		if del.Header.Get("KV-Operation") != "DEL" || del.Header.Get("Nats-Last-Sequence") != "1" || del.Header.Get("Nats-Sequence") != "2" {
			t.Errorf("delete republished %q %v, want KV-Operation DEL, sequence 2 after 1", del.Subject, del.Header)
		}
	})
}

// An empty destination republishes nothing on create; an update makes it ">", which
// republishes what the source's ">" matched.
func TestJSRePublishEmptyDestination(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "b")
		all := subSync(t, env.Conn(), "p.>")
		flush(t, env.Conn())
		cfg := jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, RePublish: &jetstream.RePublish{}}
		s := spStream(t, env, cfg)
		if got := spInfo(t, s).Config.RePublish; got == nil || *got != (jetstream.RePublish{Source: ">"}) {
			t.Errorf("republish config %+v, want source > and no destination", got)
		}
		spPub(t, env, "p.b", "x")
		cfg.RePublish = &jetstream.RePublish{Source: "p.>"}
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		if got := spInfo(t, s).Config.RePublish; got == nil || *got != (jetstream.RePublish{Source: "p.>", Destination: ">"}) {
			t.Errorf("republish config %+v, want p.> to >", got)
		}
		spPub(t, env, "p.b", "y")
		if m := next(t, sub); string(m.Data) != "y" || m.Header.Get("Nats-Sequence") != "2" {
			t.Errorf("republished %q %v, want y, sequence 2", m.Data, m.Header)
		}
		nothingMore(t, sub)
		if got := datas(takeQueued(t, all)); !cmp.Equal(got, []string{"x", "y"}) {
			t.Errorf("on p.>: %q, want only the two publishes", got)
		}
	})
}

// rpStamp matches the republish time stamp's value, which differs from run to run.
var rpStamp = regexp.MustCompile(`Nats-Time-Stamp: [^\r]+\r\n`)

// The header block as the client reads it on the wire: the message's own headers, then the
// republish headers in nats-server's order.
func TestJSRePublishWireHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"},
			RePublish: &jetstream.RePublish{Destination: "rp.>"}})
		spStream(t, env, jetstream.StreamConfig{Name: "H", Subjects: []string{"h.>"},
			RePublish: &jetstream.RePublish{Destination: "rh.>", HeadersOnly: true}})
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true}`)
		w.send("SUB rp.> 1\r\nSUB rh.> 2\r\n")
		w.pingPong()
		const stamp = "Nats-Time-Stamp: T\r\n"
		want := []wireMsg{
			{op: "HMSG", subject: "rp.p.a", sid: "1", payload: "plain",
				header: "NATS/1.0\r\nNats-Stream: P\r\nNats-Subject: p.a\r\nNats-Sequence: 1\r\n" + stamp + "Nats-Last-Sequence: 0\r\n\r\n"},
			{op: "HMSG", subject: "rp.p.a", sid: "1", payload: "with",
				header: "NATS/1.0\r\nX-A: 1\r\nNats-Stream: P\r\nNats-Subject: p.a\r\nNats-Sequence: 2\r\n" + stamp + "Nats-Last-Sequence: 1\r\n\r\n"},
			{op: "HMSG", subject: "rh.h.a", sid: "2",
				header: "NATS/1.0\r\nNats-Stream: H\r\nNats-Subject: h.a\r\nNats-Sequence: 1\r\n" + stamp + "Nats-Last-Sequence: 0\r\nNats-Msg-Size: 5\r\n\r\n"},
		}
		// One at a time: two streams republish in no set order between them.
		publish := []func(){
			func() { w.pub("p.a", "", "plain") },
			func() { w.hpub("p.a", "", "NATS/1.0\r\nX-A: 1\r\n\r\n", "with") },
			func() { w.pub("h.a", "", "sized") },
		}
		for i, wm := range want {
			publish[i]()
			m := w.msg()
			m.header = rpStamp.ReplaceAllString(m.header, stamp)
			if d := cmp.Diff(wm, m, cmp.AllowUnexported(wireMsg{})); d != "" {
				t.Errorf("republished (-want +got):\n%s", d)
			}
		}
		w.pingPong()
	})
}

// The marker a stream leaves when max age takes the last message on a subject is stored as a
// message is, so it is republished too.
func TestJSRePublishDeleteMarker(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		spStream(t, env, jetstream.StreamConfig{Name: "M", Subjects: []string{"mc.>"},
			MaxAge: time.Second, SubjectDeleteMarkerTTL: time.Second,
			RePublish: &jetstream.RePublish{Destination: "rp.>"}})
		spPub(t, env, "mc.a", "old")
		if m := next(t, sub); string(m.Data) != "old" {
			t.Fatalf("republished %q, want old", m.Data)
		}
		env.FastForward(time.Second)
		m := next(t, sub)
		want := map[string]string{"Nats-Marker-Reason": "MaxAge", "Nats-TTL": "1s", "Nats-Rollup": "sub",
			"Nats-Subject": "mc.a", "Nats-Sequence": "2", "Nats-Last-Sequence": "1"}
		for k, v := range want {
			if got := m.Header.Get(k); got != v {
				t.Errorf("republished marker %s %q, want %q", k, got, v)
			}
		}
		if m.Subject != "rp.mc.a" || len(m.Data) != 0 {
			t.Errorf("republished marker on %q with body %q, want rp.mc.a and none", m.Subject, m.Data)
		}
	})
}
