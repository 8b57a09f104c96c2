package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Fast batch publish: on a stream with allow_batched, each message of a batch is stored as it
// comes and its reply subject, <prefix>.<id>.<flow>.<gap>.<seq>.<op>.$FI, tells the batch; the
// stream answers on it with flow acks, gaps, errors and the batch's ack. Helpers of this file
// start with "fb".

// fbStream is stream B on b.> with fast batch publishing and the given changes to its config.
func fbStream(t *testing.T, env *natstest.Env, change ...func(*jetstream.StreamConfig)) jetstream.Stream {
	t.Helper()
	return baStream(t, env, append([]func(*jetstream.StreamConfig){func(c *jetstream.StreamConfig) {
		c.AllowAtomicPublish, c.AllowBatchPublish = false, true
	}}, change...)...)
}

// fbBatch is one publisher's fast batch: its id, flow and gap mode, with a subscription for
// what the stream answers.
type fbBatch struct {
	t    *testing.T
	nc   *nats.Conn
	sub  *nats.Subscription
	id   string
	flow int
	gap  string
}

func fbNew(t *testing.T, env *natstest.Env, id string, flow int, gap string) *fbBatch {
	t.Helper()
	nc := env.Conn()
	sub := subSync(t, nc, "fb."+id+".>")
	flush(t, nc)
	return &fbBatch{t: t, nc: nc, sub: sub, id: id, flow: flow, gap: gap}
}

// send publishes a message of the batch at seq with operation op (0 start, 1 append, 2 commit,
// 3 end of batch, 4 ping).
func (b *fbBatch) send(subj, data string, seq, op int, hdr ...string) {
	b.t.Helper()
	m := nats.NewMsg(subj)
	m.Data = []byte(data)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	m.Reply = fmt.Sprintf("fb.%s.%d.%s.%d.%d.$FI", b.id, b.flow, b.gap, seq, op)
	publishMsg(b.t, b.nc, m)
}

// want checks the stream's next answers, as JSON objects.
func (b *fbBatch) want(answers ...string) {
	b.t.Helper()
	for _, want := range answers {
		m := next(b.t, b.sub)
		var got, w any
		if err := json.Unmarshal(m.Data, &got); err != nil {
			b.t.Fatalf("answer %q: %v", m.Data, err)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			b.t.Fatalf("want %q: %v", want, err)
		}
		if d := cmp.Diff(w, got); d != "" {
			b.t.Errorf("answer %q (-want +got):\n%s", m.Data, d)
		}
	}
}

// quiet checks the stream has answered nothing more, after a round trip to the server.
func (b *fbBatch) quiet() {
	b.t.Helper()
	flush(b.t, b.nc)
	nothingMore(b.t, b.sub)
}

// fbAck is the batch ack for stream B.
func fbAck(seq int, id string, count int) string {
	return fmt.Sprintf(`{"stream":"B","seq":%d,"batch":%q,"count":%d}`, seq, id, count)
}

// fbErr is an error answer for stream B.
func fbErr(code, errCode int, desc string) string {
	return fmt.Sprintf(`{"stream":"B","seq":0,"error":{"code":%d,"err_code":%d,"description":%q}}`, code, errCode, desc)
}

// TestJSFastBatchFlow: the first message is answered with the flow the stream grants, every
// flow-many stored messages with a flow ack naming the last, and the commit with the batch's ack.
func TestJSFastBatchFlow(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		b := fbNew(t, env, "F", 2, "fail")
		b.send("b.1", "m1", 1, 0)
		b.want(`{"type":"ack","seq":0,"msgs":2}`)
		for i := 2; i <= 5; i++ {
			b.send(fmt.Sprint("b.", i), fmt.Sprint("m", i), i, 1)
		}
		b.want(`{"type":"ack","seq":2,"msgs":2}`, `{"type":"ack","seq":4,"msgs":2}`)
		b.send("b.6", "m6", 6, 2)
		b.want(fbAck(6, "F", 6))
		b.quiet()
		if n := baMsgs(t, s); n != 6 {
			t.Errorf("%d messages, want 6", n)
		}
		m, err := s.GetMsg(waitCtx(t), 6)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Nats-Batch-Id") != "" || string(m.Data) != "m6" {
			t.Errorf("stored %q with %v", m.Data, m.Header)
		}
	})
}

// TestJSFastBatchEOB: an end-of-batch marker commits what was stored, and is not stored.
func TestJSFastBatchEOB(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		spPub(t, env, "b.0", "x")
		b := fbNew(t, env, "E", 10, "fail")
		b.send("b.1", "m1", 1, 0)
		b.send("b.2", "m2", 2, 1)
		b.send("b.eob", "", 3, 3)
		b.want(`{"type":"ack","seq":0,"msgs":10}`, fbAck(3, "E", 2))
		b.quiet()
		if n := baMsgs(t, s); n != 3 {
			t.Errorf("%d messages, want 3", n)
		}
	})
}

// TestJSFastBatchCommitFirst: a batch of one message is answered with its ack alone.
func TestJSFastBatchCommitFirst(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		fbStream(t, env)
		b := fbNew(t, env, "O", 10, "fail")
		b.send("b.1", "m1", 1, 2)
		b.want(fbAck(1, "O", 1))
		b.quiet()
	})
}

// TestJSFastBatchDisabled: a fast batch reply on a stream without allow_batched is refused, as
// is a malformed one on a stream with it, and nothing is stored.
func TestJSFastBatchDisabled(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		b := fbNew(t, env, "D", 10, "fail")
		b.send("b.1", "m1", 1, 0)
		b.want(fbErr(400, 10205, "batch publish is disabled"))
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages, want none", n)
		}
		fbStream(t, env, func(c *jetstream.StreamConfig) { c.Name, c.Subjects = "B2", []string{"b2.>"} })
		nc := env.Conn()
		sub := subSync(t, nc, "bad.>")
		for _, reply := range []string{"bad.x.$FI", "bad.D.10.maybe.1.0.$FI", "bad.D.10.fail.2.0.$FI", "bad.D.10.fail.1.1.$FI",
			"bad.D.10.fail.1.3.$FI", "bad.D.10.fail.0.1.$FI", "bad.D.10.fail.2.9.$FI", "bad.10.fail.1.0.$FI"} {
			publishMsg(t, nc, &nats.Msg{Subject: "b2.x", Reply: reply, Data: []byte("x")})
			var got baAck
			if err := json.Unmarshal(next(t, sub).Data, &got); err != nil {
				t.Fatal(err)
			}
			want := baAck{Stream: "B2", Error: &jetstream.APIError{Code: 400, ErrorCode: 10206, Description: "batch publish pattern is invalid"}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("reply %s (-want +got):\n%s", reply, d)
			}
		}
	})
}

// TestJSFastBatchUnknown: a batch message that does not start a batch, or a ping, for a batch
// the stream does not have is refused; so is an id longer than 64.
func TestJSFastBatchUnknown(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		fbStream(t, env)
		b := fbNew(t, env, "U", 10, "fail")
		b.send("b.2", "m", 2, 1)
		b.send("b.2", "m", 1, 4)
		b.send("b.2", "m", 3, 2)
		unknown := fbErr(400, 10208, "batch publish ID unknown")
		b.want(unknown, unknown, unknown)
		long := fbNew(t, env, strings.Repeat("l", 65), 10, "fail")
		long.send("b.1", "m", 1, 0)
		long.want(fbErr(400, 10207, "batch publish ID is invalid"))
	})
}

// TestJSFastBatchGapFail: with "gap: fail", a message out of sequence is reported as a gap and
// ends the batch with an ack for what was stored; later messages find no batch.
func TestJSFastBatchGapFail(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		b := fbNew(t, env, "G", 10, "fail")
		b.send("b.1", "m1", 1, 0)
		b.send("b.3", "m3", 3, 1)
		b.send("b.4", "m4", 4, 1)
		b.want(`{"type":"ack","seq":0,"msgs":10}`, `{"type":"gap","last_seq":2,"seq":3}`, fbAck(1, "G", 1),
			fbErr(400, 10208, "batch publish ID unknown"))
		if n := baMsgs(t, s); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
	})
}

// TestJSFastBatchGapOK: with "gap: ok", a gap is reported and the batch goes on; a repeated
// sequence ends it.
func TestJSFastBatchGapOK(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		b := fbNew(t, env, "K", 10, "ok")
		b.send("b.1", "m1", 1, 0)
		b.send("b.3", "m3", 3, 1)
		b.send("b.4", "m4", 4, 2)
		b.want(`{"type":"ack","seq":0,"msgs":10}`, `{"type":"gap","last_seq":2,"seq":3}`, fbAck(3, "K", 4))
		r := fbNew(t, env, "R", 10, "ok")
		r.send("b.1", "m1", 1, 0)
		r.send("b.2", "m2", 2, 1)
		r.send("b.2", "m2", 2, 1)
		r.want(`{"type":"ack","seq":0,"msgs":10}`, `{"type":"gap","last_seq":3,"seq":2}`, fbAck(5, "R", 2))
		if n := baMsgs(t, s); n != 5 {
			t.Errorf("%d messages, want 5", n)
		}
	})
}

// TestJSFastBatchErrors: a message the stream refuses is reported with its error; with "gap:
// fail" that ends the batch, and on the first message the answer is a publish's error ack.
func TestJSFastBatchErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		b := fbNew(t, env, "X", 10, "fail")
		b.send("b.1", "m1", 1, 0)
		b.send("b.2", "m2", 2, 1, "Nats-Expected-Last-Sequence", "9")
		b.want(`{"type":"ack","seq":0,"msgs":10}`,
			`{"type":"err","seq":2,"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 1"}}`, fbAck(1, "X", 1))
		f := fbNew(t, env, "Y", 10, "fail")
		f.send("b.1", "m1", 1, 0, "Nats-Expected-Stream", "other")
		f.want(`{"type":"ack","seq":0,"msgs":10}`, fbErr(400, 10060, "expected stream does not match"))
		k := fbNew(t, env, "Z", 10, "ok")
		k.send("b.1", "m1", 1, 0)
		k.send("b.2", "m2", 2, 1, "Nats-TTL", "1h")
		k.send("b.3", "m3", 3, 2)
		k.want(`{"type":"ack","seq":0,"msgs":10}`,
			`{"type":"err","seq":2,"error":{"code":400,"err_code":10166,"description":"per-message TTL is disabled"}}`, fbAck(3, "Z", 3))
		if n := baMsgs(t, s); n != 3 {
			t.Errorf("%d messages, want 3", n)
		}
	})
}

// TestJSFastBatchDuplicates: a duplicate is skipped without an answer; as the commit of a
// "gap: fail" batch of one it is answered with the duplicate's ack.
func TestJSFastBatchDuplicates(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		spPub(t, env, "b.0", "x", jetstream.WithMsgID("old"))
		b := fbNew(t, env, "D", 10, "fail")
		b.send("b.1", "m1", 1, 0)
		b.send("b.2", "m2", 2, 1, "Nats-Msg-Id", "old")
		b.send("b.3", "m3", 3, 2)
		b.want(`{"type":"ack","seq":0,"msgs":10}`, fbAck(3, "D", 3))
		f := fbNew(t, env, "F", 10, "fail")
		f.send("b.1", "m1", 1, 0, "Nats-Msg-Id", "old")
		f.want(`{"type":"ack","seq":0,"msgs":10}`)
		f.send("b.2", "m2", 2, 2)
		f.want(fbAck(4, "F", 2))
		c := fbNew(t, env, "C", 10, "fail")
		c.send("b.1", "m1", 1, 2, "Nats-Msg-Id", "old")
		c.want(`{"stream":"B","seq":1,"duplicate":true,"batch":"C","count":1}`)
		c.quiet()
		if n := baMsgs(t, s); n != 4 {
			t.Errorf("%d messages, want 4", n)
		}
	})
}

// TestJSFastBatchPing: a ping is answered with the last flow ack; a ping past what came is a
// gap, which with "gap: fail" ends the batch.
func TestJSFastBatchPing(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		fbStream(t, env)
		b := fbNew(t, env, "P", 2, "fail")
		b.send("b.1", "m1", 1, 0)
		b.send("b.2", "m2", 2, 1)
		b.send("b.3", "m3", 3, 1)
		b.send("b.3", "", 3, 4)
		b.want(`{"type":"ack","seq":0,"msgs":2}`, `{"type":"ack","seq":2,"msgs":2}`, `{"type":"ack","seq":2,"msgs":2}`)
		b.send("b.3", "", 5, 4)
		b.want(`{"type":"gap","last_seq":4,"seq":6}`, fbAck(3, "P", 3))
		b.quiet()
	})
}

// TestJSFastBatchFlowLimits: the stream grants at most 500 messages between acks; a second
// open batch starts at every message and doubles towards its flow (0 asks for the default 10).
func TestJSFastBatchFlowLimits(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		fbStream(t, env)
		b := fbNew(t, env, "L", 1000, "fail")
		b.send("b.1", "m1", 1, 0)
		b.want(`{"type":"ack","seq":0,"msgs":500}`)
		z := fbNew(t, env, "Z", 0, "fail")
		z.send("b.1", "m1", 1, 0)
		z.want(`{"type":"ack","seq":0,"msgs":1}`)
		b.send("b.2", "m2", 2, 3)
		z.send("b.2", "m2", 2, 3)
		b.want(fbAck(1, "L", 1))
		z.want(`{"type":"ack","seq":1,"msgs":2}`, fbAck(2, "Z", 1))
	})
}

// TestJSFastBatchConfig: fast batch publishing is kept in the config and asks for API level 4;
// a mirror cannot have it.
func TestJSFastBatchConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		cfg := s.CachedInfo().Config
		if !cfg.AllowBatchPublish || cfg.Metadata["_nats.req.level"] != "4" {
			t.Errorf("config: allow_batched %v, metadata %v", cfg.AllowBatchPublish, cfg.Metadata)
		}
		_, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "B"},
			AllowBatchPublish: true})
		wantErrText(t, err, "nats: API error: code=400 err_code=10209 description=stream mirrors can not also use batch publishing")
	})
}
