package conformance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Counters: a stream with allow_msg_counter takes publishes that carry a Nats-Incr header and
// no payload, stores each subject's running total as {"val":"<total>"} and acknowledges it with
// the total in val. Helpers of this file start with "ct".

// ctAck is a publish ack as it comes on the wire, error and all.
type ctAck struct {
	Stream    string              `json:"stream"`
	Seq       uint64              `json:"seq"`
	Val       string              `json:"val,omitempty"`
	Duplicate bool                `json:"duplicate,omitempty"`
	Error     *jetstream.APIError `json:"error,omitempty"`
}

// ctPub publishes data on subj with headers given as name, value pairs, and returns the raw ack.
func ctPub(t *testing.T, env *natstest.Env, subj, data string, hdr ...string) ctAck {
	t.Helper()
	m := nats.NewMsg(subj)
	m.Data = []byte(data)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Add(hdr[i], hdr[i+1])
	}
	r, err := env.Conn().RequestMsg(m, patience)
	if err != nil {
		t.Fatalf("publish on %s with %v: %v", subj, hdr, err)
	}
	var a ctAck
	if err := json.Unmarshal(r.Data, &a); err != nil {
		t.Fatalf("publish on %s: ack %q: %v", subj, r.Data, err)
	}
	return a
}

// ctIncr adds incr to the counter on subj and checks the ack carries want as the total.
func ctIncr(t *testing.T, env *natstest.Env, subj, incr, want string) ctAck {
	t.Helper()
	a := ctPub(t, env, subj, "", "Nats-Incr", incr)
	if a.Error != nil || a.Val != want {
		t.Errorf("increment %s on %s: ack %+v, want total %s", incr, subj, a, want)
	}
	return a
}

// ctErr checks an ack is the error want for stream name.
func ctErr(t *testing.T, what string, a ctAck, stream string, want jetstream.APIError) {
	t.Helper()
	if d := cmp.Diff(ctAck{Stream: stream, Error: &want}, a); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// ctStream is counter stream C on c.> with direct gets on.
func ctStream(t *testing.T, env *natstest.Env) jetstream.Stream {
	t.Helper()
	return spStream(t, env, jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true, AllowDirect: true})
}

// ctValue is the total stored on subj, read by a direct get of the last message.
func ctValue(t *testing.T, s jetstream.Stream, subj string) (string, nats.Header) {
	t.Helper()
	m, err := s.GetLastMsgForSubject(waitCtx(t), subj)
	if err != nil {
		t.Fatalf("last on %s: %v", subj, err)
	}
	var v struct {
		Val string `json:"val"`
	}
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("last on %s: payload %q: %v", subj, m.Data, err)
	}
	return v.Val, m.Header
}

var (
	ctIncrInvalid  = jetstream.APIError{Code: 400, ErrorCode: 10171, Description: "message counter increment is invalid"}
	ctIncrMissing  = jetstream.APIError{Code: 400, ErrorCode: 10169, Description: "message counter increment is missing"}
	ctIncrPayload  = jetstream.APIError{Code: 400, ErrorCode: 10170, Description: "message counter has payload"}
	ctIncrDisabled = jetstream.APIError{Code: 400, ErrorCode: 10168, Description: "message counters is disabled"}
	ctBroken       = jetstream.APIError{Code: 400, ErrorCode: 10172, Description: "message counter is broken"}
)

// TestJSCounterIncrements: each increment adds to the subject's total, the ack carries it and
// the stream stores it as the payload, with the Nats-Incr header the publish sent.
func TestJSCounterIncrements(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		for i, c := range []struct{ incr, want string }{{"1", "1"}, {"2", "3"}, {"-5", "-2"}, {"0", "-2"}, {"+7", "5"}} {
			a := ctIncr(t, env, "c.a", c.incr, c.want)
			if a.Stream != "C" || a.Seq != uint64(i+1) {
				t.Errorf("increment %s: ack %+v, want stream C seq %d", c.incr, a, i+1)
			}
		}
		val, h := ctValue(t, s, "c.a")
		if val != "5" || h.Get("Nats-Incr") != "+7" {
			t.Errorf("stored total %s, Nats-Incr %q; want 5 and +7", val, h.Get("Nats-Incr"))
		}
	})
}

// TestJSCounterBigIntegers: increments and totals are integers of any size.
func TestJSCounterBigIntegers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		big := "123456789012345678901234567890123456789"
		ctIncr(t, env, "c.big", big, big)
		ctIncr(t, env, "c.big", big, "246913578024691357802469135780246913578")
		ctIncr(t, env, "c.big", "-9223372036854775808", "246913578024691357793245763743392137770")
		ctIncr(t, env, "c.big", "-246913578024691357793245763743392137771", "-1")
		if val, _ := ctValue(t, s, "c.big"); val != "-1" {
			t.Errorf("stored total %s, want -1", val)
		}
	})
}

// TestJSCounterPerSubject: each subject counts on its own.
func TestJSCounterPerSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		ctIncr(t, env, "c.a", "1", "1")
		ctIncr(t, env, "c.b", "10", "10")
		ctIncr(t, env, "c.a", "1", "2")
		ctIncr(t, env, "c.b.x", "100", "100")
		ctIncr(t, env, "c.b", "10", "20")
		for subj, want := range map[string]string{"c.a": "2", "c.b": "20", "c.b.x": "100"} {
			if val, _ := ctValue(t, s, subj); val != want {
				t.Errorf("%s: total %s, want %s", subj, val, want)
			}
		}
		if n := spInfo(t, s).State.Msgs; n != 5 {
			t.Errorf("stream holds %d messages, want 5: every increment is stored", n)
		}
	})
}

// TestJSCounterInvalidIncrement: an increment that is not a decimal integer is refused.
func TestJSCounterInvalidIncrement(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		// (nats.go trims the spaces around a header's value before it sends it.)
		for _, incr := range []string{"abc", "1.5", "0x10", "1e3", "1_000", "--1", "+", "12a", "1 2"} {
			ctErr(t, "Nats-Incr "+incr, ctPub(t, env, "c.a", "", "Nats-Incr", incr), "C", ctIncrInvalid)
		}
		ctIncr(t, env, "c.a", "1", "1") // nothing was stored before
		ctIncr(t, env, "c.a", "  2", "3")
	})
}

// TestJSCounterMissingIncrement: on a counter stream a publish without Nats-Incr (or with an
// empty one) is refused.
func TestJSCounterMissingIncrement(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		ctErr(t, "no headers", ctPub(t, env, "c.a", ""), "C", ctIncrMissing)
		ctErr(t, "a payload, no increment", ctPub(t, env, "c.a", "5"), "C", ctIncrMissing)
		ctErr(t, "other headers", ctPub(t, env, "c.a", "", "X", "y"), "C", ctIncrMissing)
		ctErr(t, "an empty increment", ctPub(t, env, "c.a", "", "Nats-Incr", ""), "C", ctIncrMissing)
		spAPIErr(t, spPubErr(t, env, "c.a", "1"), ctIncrMissing)
	})
}

// TestJSCounterPayload: an increment comes without a payload.
func TestJSCounterPayload(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		ctErr(t, "payload", ctPub(t, env, "c.a", "x", "Nats-Incr", "1"), "C", ctIncrPayload)
		ctErr(t, "payload and a bad increment", ctPub(t, env, "c.a", "x", "Nats-Incr", "x"), "C", ctIncrInvalid)
	})
}

// TestJSCounterDisabled: Nats-Incr on a stream without counters is refused; an invalid one
// is invalid first.
func TestJSCounterDisabled(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		ctErr(t, "increment", ctPub(t, env, "p.a", "", "Nats-Incr", "1"), "P", ctIncrDisabled)
		ctErr(t, "bad increment", ctPub(t, env, "p.a", "", "Nats-Incr", "one"), "P", ctIncrInvalid)
		if a := ctPub(t, env, "p.a", "plain", "Nats-Incr", ""); a.Error != nil || a.Seq != 1 || a.Val != "" {
			t.Errorf("an empty Nats-Incr on a plain stream: ack %+v, want seq 1 stored", a)
		}
	})
}

// TestJSCounterIncompatibleHeaders: an increment cannot roll up or expect anything.
func TestJSCounterIncompatibleHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		ctIncr(t, env, "c.a", "1", "1")
		for _, h := range [][]string{
			{"Nats-Rollup", "sub"},
			{"Nats-Expected-Stream", "C"},
			{"Nats-Expected-Last-Msg-Id", "x"},
			{"Nats-Expected-Last-Sequence", "1"},
			{"Nats-Expected-Last-Subject-Sequence", "1"},
			{"Nats-Expected-Last-Subject-Sequence-Subject", "c.a"},
		} {
			ctErr(t, h[0], ctPub(t, env, "c.a", "", "Nats-Incr", "1", h[0], h[1]), "C", ctIncrInvalid)
		}
		ctIncr(t, env, "c.a", "1", "2")
	})
}

// TestJSCounterOtherHeaderChecks: without an increment the stream's other header checks come
// first; a message TTL is refused, since a counter stream has none.
func TestJSCounterOtherHeaderChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		ctErr(t, "expected stream, no increment", ctPub(t, env, "c.a", "", "Nats-Expected-Stream", "X"), "C",
			jetstream.APIError{Code: 400, ErrorCode: 10060, Description: "expected stream does not match"})
		ttlOff := jetstream.APIError{Code: 400, ErrorCode: 10166, Description: "per-message TTL is disabled"}
		ctErr(t, "TTL and increment", ctPub(t, env, "c.a", "", "Nats-Incr", "1", "Nats-TTL", "10s"), "C", ttlOff)
		ctErr(t, "TTL, no increment", ctPub(t, env, "c.a", "", "Nats-TTL", "10s"), "C", ttlOff)
	})
}

// TestJSCounterDuplicate: a duplicate increment is acknowledged as a duplicate, without a
// total, and counts once.
func TestJSCounterDuplicate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		ctPub(t, env, "c.a", "", "Nats-Incr", "5", "Nats-Msg-Id", "one")
		a := ctPub(t, env, "c.a", "", "Nats-Incr", "5", "Nats-Msg-Id", "one")
		if d := cmp.Diff(ctAck{Stream: "C", Seq: 1, Duplicate: true}, a); d != "" {
			t.Errorf("duplicate (-want +got):\n%s", d)
		}
		// The id is known before the increment is found missing.
		a = ctPub(t, env, "c.a", "", "Nats-Msg-Id", "one")
		if d := cmp.Diff(ctAck{Stream: "C", Seq: 1, Duplicate: true}, a); d != "" {
			t.Errorf("duplicate without an increment (-want +got):\n%s", d)
		}
		if val, _ := ctValue(t, s, "c.a"); val != "5" {
			t.Errorf("total %s, want 5", val)
		}
	})
}

// TestJSCounterConfigChecks: a counter stream cannot discard new messages, have message TTLs
// or schedules, or retain by anything but limits.
func TestJSCounterConfigChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range []struct {
			set  func(*jetstream.StreamConfig)
			want string
		}{
			{func(c *jetstream.StreamConfig) { c.Discard = jetstream.DiscardNew }, "counter stream cannot use discard new"},
			{func(c *jetstream.StreamConfig) { c.AllowMsgTTL = true }, "counter stream cannot use message TTLs"},
			{func(c *jetstream.StreamConfig) { c.AllowMsgSchedules = true }, "counter stream cannot use message schedules"},
			{func(c *jetstream.StreamConfig) { c.Retention = jetstream.InterestPolicy }, "counter stream can only use limits retention"},
			{func(c *jetstream.StreamConfig) { c.Retention = jetstream.WorkQueuePolicy }, "counter stream can only use limits retention"},
			// The first rule broken is the one named.
			{func(c *jetstream.StreamConfig) { c.AllowMsgTTL, c.Retention = true, jetstream.InterestPolicy }, "counter stream cannot use message TTLs"},
		} {
			cfg := jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true}
			c.set(&cfg)
			_, err := env.JetStream().CreateStream(waitCtx(t), cfg)
			spAPIErr(t, err, cfgInvalid(c.want))
		}
	})
}

// TestJSCounterMirror: a mirror cannot count.
func TestJSCounterMirror(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
		_, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}, AllowMsgCounter: true})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10173, Description: "stream mirrors can not also calculate counters"})
	})
}

// TestJSCounterUpdate: an update can neither turn counting on nor off.
func TestJSCounterUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		want := cfgInvalid("stream configuration update can not change message counter setting")
		_, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowDirect: true})
		spAPIErr(t, err, want)
		_, err = env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, AllowMsgCounter: true})
		spAPIErr(t, err, want)
		// An update that keeps it is taken.
		if _, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>", "d"}, AllowMsgCounter: true, AllowDirect: true}); err != nil {
			t.Fatalf("update keeping counters: %v", err)
		}
		ctIncr(t, env, "d", "3", "3")
	})
}

// TestJSCounterConfigReported: the stream reports allow_msg_counter and the API level counters
// need (2).
func TestJSCounterConfigReported(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		cfg := spInfo(t, s).Config
		if !cfg.AllowMsgCounter || cfg.Metadata["_nats.req.level"] != "2" {
			t.Errorf("config: allow_msg_counter %v, required level %q; want true and 2", cfg.AllowMsgCounter, cfg.Metadata["_nats.req.level"])
		}
		// Creating it again with the same config is idempotent.
		if _, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true, AllowDirect: true}); err != nil {
			t.Errorf("create again: %v", err)
		}
	})
}

// TestJSCounterMsgGet: the message get API reads a counter back, header and payload.
func TestJSCounterMsgGet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		ctIncr(t, env, "c.a", "40", "40")
		ctPub(t, env, "c.a", "", "Nats-Incr", "2", "Trace", "t1")
		a := covRequest(t, env, "$JS.API.STREAM.MSG.GET.C", `{"last_by_subj":"c.a"}`)
		var r struct {
			Message struct {
				Subject string `json:"subject"`
				Seq     uint64 `json:"seq"`
				Hdrs    []byte `json:"hdrs"`
				Data    []byte `json:"data"`
			} `json:"message"`
		}
		if err := json.Unmarshal(a.raw, &r); err != nil {
			t.Fatal(err)
		}
		if got, want := string(r.Message.Data), `{"val":"42"}`; got != want || r.Message.Seq != 2 {
			t.Errorf("message get: seq %d data %s, want 2 %s", r.Message.Seq, got, want)
		}
		// The client writes its headers in no fixed order: the stored block is either.
		if got := string(r.Message.Hdrs); got != "NATS/1.0\r\nNats-Incr: 2\r\nTrace: t1\r\n\r\n" &&
			got != "NATS/1.0\r\nTrace: t1\r\nNats-Incr: 2\r\n\r\n" {
			t.Errorf("message get: headers %q, want the publish's Nats-Incr and Trace", got)
		}
	})
}

// TestJSCounterDirectGetMulti: the totals of many counters in one direct get (what a counters
// client's GetMultiple asks for).
func TestJSCounterDirectGetMulti(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		ctIncr(t, env, "c.a", "1", "1")
		ctIncr(t, env, "c.b", "2", "2")
		ctIncr(t, env, "c.a", "3", "4")
		got := tsDirectAll(t, env, "$JS.API.DIRECT.GET.C", `{"multi_last":["c.*"]}`, true)
		want := []string{
			`  seq=2 np=1 last=0 upto= hdrs=7 data={"val":"2"}`,
			`  seq=3 np=0 last=2 upto= hdrs=7 data={"val":"4"}`,
			"204 EOB seq= np=0 last=3 upto=3 hdrs=5 data=",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("multi_last over counters (-want +got):\n%s", d)
		}
	})
}

// TestJSCounterSourcesHeader: without sources, a Nats-Counter-Sources header a publish sends is
// kept as it is, and carried forward (re-encoded) by the increments after it; one that is no
// JSON breaks the counter.
func TestJSCounterSourcesHeader(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		ctPub(t, env, "c.a", "", "Nats-Incr", "1", "Nats-Counter-Sources", `{ "S": {"s.a": "5"} }`)
		if _, h := ctValue(t, s, "c.a"); h.Get("Nats-Counter-Sources") != `{ "S": {"s.a": "5"} }` {
			t.Errorf("sources header %q, want it as published", h.Get("Nats-Counter-Sources"))
		}
		ctIncr(t, env, "c.a", "1", "2")
		if _, h := ctValue(t, s, "c.a"); h.Get("Nats-Counter-Sources") != `{"S":{"s.a":"5"}}` {
			t.Errorf("sources header %q, want it carried forward", h.Get("Nats-Counter-Sources"))
		}
		ctPub(t, env, "c.b", "", "Nats-Incr", "1", "Nats-Counter-Sources", "nope")
		ctErr(t, "after a broken sources header", ctPub(t, env, "c.b", "", "Nats-Incr", "1"), "C", ctBroken)
	})
}

// TestJSCounterResetByPurgeAndDelete: a counter counts from its last stored message: purged, it
// starts again at zero; with its last message deleted, it goes on from the one before.
func TestJSCounterResetByPurgeAndDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		ctIncr(t, env, "c.a", "5", "5")
		ctIncr(t, env, "c.a", "5", "10")
		ctIncr(t, env, "c.b", "7", "7")
		if err := s.DeleteMsg(waitCtx(t), 2); err != nil {
			t.Fatal(err)
		}
		ctIncr(t, env, "c.a", "1", "6")
		if err := s.Purge(waitCtx(t), jetstream.WithPurgeSubject("c.a")); err != nil {
			t.Fatal(err)
		}
		ctIncr(t, env, "c.a", "1", "1")
		ctIncr(t, env, "c.b", "1", "8")
	})
}

// TestJSCounterLimits: limits hold counters as other messages; one message per subject keeps
// each total.
func TestJSCounterLimits(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true, MaxMsgsPerSubject: 1})
		for i := 0; i < 3; i++ {
			ctIncr(t, env, "c.a", "2", []string{"2", "4", "6"}[i])
		}
		ctIncr(t, env, "c.b", "1", "1")
		if st := spInfo(t, s).State; st.Msgs != 2 || st.LastSeq != 4 {
			t.Errorf("state %d msgs last %d, want 2 msgs last 4", st.Msgs, st.LastSeq)
		}
		ctIncr(t, env, "c.a", "2", "8")
	})
}

// TestJSCounterMaxMsgSize: the stored message, with its total, must fit the stream's maximum
// message size, checked again after the total is made.
func TestJSCounterMaxMsgSize(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true, MaxMsgSize: 40})
		ctIncr(t, env, "c.a", "1", "1")
		// The publish's headers fit; with the total's payload the message does not.
		ctErr(t, "too big", ctPub(t, env, "c.b", "", "Nats-Incr", "1234567890"), "C",
			jetstream.APIError{Code: 400, ErrorCode: 10054, Description: "message size exceeds maximum allowed"})
		ctIncr(t, env, "c.a", "1", "2")
	})
}

// TestJSCounterConsumer: a consumer reads each increment's total, in order.
func TestJSCounterConsumer(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		ctIncr(t, env, "c.a", "1", "1")
		ctIncr(t, env, "c.a", "10", "11")
		c := spConsumer(t, s, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
		b, err := c.Fetch(2, jetstream.FetchMaxWait(patience))
		var got []string
		for _, m := range spBatch(t, b, err) {
			got = append(got, string(m.Data())+" "+m.Headers().Get("Nats-Incr"))
		}
		if d := cmp.Diff([]string{`{"val":"1"} 1`, `{"val":"11"} 10`}, got); d != "" {
			t.Errorf("consumed (-want +got):\n%s", d)
		}
	})
}

// TestJSCounterJetStreamPublish: nats.go's Publish with a Nats-Incr header works on a counter
// stream, its ack's Value the total.
func TestJSCounterJetStreamPublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := ctStream(t, env)
		m := nats.NewMsg("c.a")
		m.Header.Set("Nats-Incr", "21")
		for i, want := range []string{"21", "42"} {
			ack, err := env.JetStream().PublishMsg(waitCtx(t), m)
			if err != nil {
				t.Fatal(err)
			}
			if ack.Value != want || ack.Sequence != uint64(i+1) {
				t.Errorf("ack %+v, want seq %d value %s", ack, i+1, want)
			}
		}
		if val, _ := ctValue(t, s, "c.a"); val != "42" {
			t.Errorf("total %s, want 42", val)
		}
	})
}

// TestJSCounterRawHeader: over the raw protocol, as nats.go would not send them, nats-server
// skips the spaces after Nats-Incr's colon and nothing else: a tab or a trailing space makes
// the increment invalid.
func TestJSCounterRawHeader(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		ctStream(t, env)
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"pedantic":false,"headers":true,"no_responders":true}`)
		w.send("SUB ack 1\r\n")
		for _, c := range []struct{ hdr, want string }{
			{"NATS/1.0\r\nNats-Incr:    7\r\n\r\n", `"val":"7"`},
			{"NATS/1.0\r\nNats-Incr:5\r\n\r\n", `"val":"12"`},
			{"NATS/1.0\r\nNats-Incr: 5 \r\n\r\n", `"err_code":10171`},
			{"NATS/1.0\r\nNats-Incr:\t5\r\n\r\n", `"err_code":10171`},
			{"NATS/1.0\r\nNats-Incr: \r\n\r\n", `"err_code":10169`},
			{"NATS/1.0\r\nX-Nats-Incr: 5\r\n\r\n", `"err_code":10169`},
		} {
			w.hpub("c.raw", "ack", c.hdr, "")
			if m := w.msg(); !strings.Contains(m.payload, c.want) {
				t.Errorf("%q: ack %s, want %s", c.hdr, m.payload, c.want)
			}
		}
	})
}
