package conformance

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Atomic batch publish: on a stream with allow_atomic, publishes carrying Nats-Batch-Id and
// Nats-Batch-Sequence are staged and answered with an empty message; the one with
// Nats-Batch-Commit stores all of them or none and is answered with the batch's ack. Helpers of
// this file start with "ba".

// baAck is a batch publish's answer as it comes on the wire.
type baAck struct {
	Stream    string              `json:"stream"`
	Seq       uint64              `json:"seq"`
	Batch     string              `json:"batch,omitempty"`
	Count     uint64              `json:"count,omitempty"`
	Duplicate bool                `json:"duplicate,omitempty"`
	Val       string              `json:"val,omitempty"`
	Error     *jetstream.APIError `json:"error,omitempty"`
}

// baStream is stream B on b.> with atomic publishing and the given changes to its config.
func baStream(t *testing.T, env *natstest.Env, change ...func(*jetstream.StreamConfig)) jetstream.Stream {
	t.Helper()
	cfg := jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}, AllowAtomicPublish: true, AllowDirect: true}
	for _, c := range change {
		c(&cfg)
	}
	return spStream(t, env, cfg)
}

// baMsg is a message of batch id at seq on subj, with the extra headers as name, value pairs.
func baMsg(subj, data, id string, seq int, hdr ...string) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = []byte(data)
	if id != "" {
		m.Header.Set("Nats-Batch-Id", id)
	}
	if seq > 0 {
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(seq))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	return m
}

// baSend publishes m as a request and returns the raw answer.
func baSend(t *testing.T, env *natstest.Env, m *nats.Msg) []byte {
	t.Helper()
	r, err := env.Conn().RequestMsg(m, patience)
	if err != nil {
		t.Fatalf("publish on %s with %v: %v", m.Subject, m.Header, err)
	}
	return r.Data
}

// baStage publishes a message of a batch that is not its commit: the answer is empty.
func baStage(t *testing.T, env *natstest.Env, m *nats.Msg) {
	t.Helper()
	if r := baSend(t, env, m); len(r) != 0 {
		t.Fatalf("staging %v: answer %q, want an empty one", m.Header, r)
	}
}

// baAnswer publishes m and decodes its ack.
func baAnswer(t *testing.T, env *natstest.Env, m *nats.Msg) baAck {
	t.Helper()
	r := baSend(t, env, m)
	var a baAck
	if err := json.Unmarshal(r, &a); err != nil {
		t.Fatalf("publish with %v: ack %q: %v", m.Header, r, err)
	}
	return a
}

// baWantErr publishes m and checks the answer is error want for stream B.
func baWantErr(t *testing.T, env *natstest.Env, m *nats.Msg, want jetstream.APIError) {
	t.Helper()
	a := baAnswer(t, env, m)
	if d := cmp.Diff(baAck{Stream: "B", Error: &want}, a); d != "" {
		t.Errorf("publish with %v (-want +got):\n%s", m.Header, d)
	}
}

// baWantAck checks an ack is the batch's: stream B, the last sequence, the id and the size.
func baWantAck(t *testing.T, a baAck, seq uint64, id string, count uint64) {
	t.Helper()
	if d := cmp.Diff(baAck{Stream: "B", Seq: seq, Batch: id, Count: count}, a); d != "" {
		t.Errorf("batch ack (-want +got):\n%s", d)
	}
}

// baMsgs is how many messages stream B holds.
func baMsgs(t *testing.T, s jetstream.Stream) uint64 {
	t.Helper()
	return spInfo(t, s).State.Msgs
}

// baStageN stages messages 1..n of batch id on b.<i>.
func baStageN(t *testing.T, env *natstest.Env, id string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		baStage(t, env, baMsg("b."+strconv.Itoa(i), "m"+strconv.Itoa(i), id, i))
	}
}

func baAPIErr(code, errCode int, desc string) jetstream.APIError {
	return jetstream.APIError{Code: code, ErrorCode: jetstream.ErrorCode(errCode), Description: desc}
}

var (
	baDisabled     = baAPIErr(400, 10174, "atomic publish is disabled")
	baMissingSeq   = baAPIErr(400, 10175, "atomic publish sequence is missing")
	baIncomplete   = baAPIErr(400, 10176, "atomic publish batch is incomplete")
	baInvalidID    = baAPIErr(400, 10179, "atomic publish batch ID is invalid")
	baTooLarge     = baAPIErr(400, 10199, "atomic publish batch is too large: 1000")
	baBadCommit    = baAPIErr(400, 10200, "atomic publish batch commit is invalid")
	baDuplicate    = baAPIErr(400, 10201, "atomic publish batch contains duplicate message id")
	baTooMany      = baAPIErr(429, 10210, "atomic publish too many inflight")
	baWrongLastSeq = baAPIErr(400, 10164, "wrong last sequence")
)

// TestJSBatchCommit: staged messages are answered with an empty message and not stored; the
// commit stores them all, in order, and its ack names the last sequence, the batch and its size.
// The stored messages keep their batch headers.
func TestJSBatchCommit(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		spPub(t, env, "b.x", "before")
		baStageN(t, env, "A", 2)
		if n := baMsgs(t, s); n != 1 {
			t.Fatalf("%d messages before the commit, want 1", n)
		}
		baWantAck(t, baAnswer(t, env, baMsg("b.3", "m3", "A", 3, "Nats-Batch-Commit", "1")), 4, "A", 3)
		for seq, want := range map[uint64]string{2: "m1", 3: "m2", 4: "m3"} {
			m, err := s.GetMsg(waitCtx(t), seq)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != want || m.Header.Get("Nats-Batch-Id") != "A" ||
				m.Header.Get("Nats-Batch-Sequence") != strconv.FormatUint(seq-1, 10) {
				t.Errorf("message %d: %q with %v", seq, m.Data, m.Header)
			}
			if c := m.Header.Get("Nats-Batch-Commit"); (seq == 4) != (c == "1") {
				t.Errorf("message %d: Nats-Batch-Commit %q", seq, c)
			}
		}
	})
}

// TestJSBatchCommitEOB: a commit of "eob" ends the batch without being stored itself; the last
// message stored gets Nats-Batch-Commit: 1 and the ack counts the messages before the marker.
func TestJSBatchCommitEOB(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		baStageN(t, env, "E", 2)
		baWantAck(t, baAnswer(t, env, baMsg("b.eob", "", "E", 3, "Nats-Batch-Commit", "eob")), 2, "E", 2)
		if n := baMsgs(t, s); n != 2 {
			t.Errorf("%d messages, want 2", n)
		}
		m, err := s.GetMsg(waitCtx(t), 2)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "b.2" || m.Header.Get("Nats-Batch-Commit") != "1" {
			t.Errorf("last message %s with %v", m.Subject, m.Header)
		}
	})
}

// TestJSBatchSingle: a batch of one message commits at once.
func TestJSBatchSingle(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		baWantAck(t, baAnswer(t, env, baMsg("b.one", "x", "S1", 1, "Nats-Batch-Commit", "1")), 1, "S1", 1)
	})
}

// TestJSBatchDisabled: a batch message on a stream without allow_atomic is refused, and nothing
// is stored.
func TestJSBatchDisabled(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env, func(c *jetstream.StreamConfig) { c.AllowAtomicPublish = false })
		baWantErr(t, env, baMsg("b.1", "x", "D", 1), baDisabled)
		baWantErr(t, env, baMsg("b.1", "x", "D", 1, "Nats-Batch-Commit", "1"), baDisabled)
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages stored, want none", n)
		}
	})
}

// TestJSBatchMissingSequence: a batch message without a sequence, or with one that is not a
// number, is refused.
func TestJSBatchMissingSequence(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		baWantErr(t, env, baMsg("b.1", "x", "M", 0), baMissingSeq)
		baWantErr(t, env, baMsg("b.1", "x", "M", 0, "Nats-Batch-Sequence", "one"), baMissingSeq)
	})
}

// TestJSBatchInvalidID: a batch id longer than 64 characters is refused; 64 are fine.
func TestJSBatchInvalidID(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		baWantErr(t, env, baMsg("b.1", "x", strings.Repeat("i", 65), 1), baInvalidID)
		id := strings.Repeat("i", 64)
		baWantAck(t, baAnswer(t, env, baMsg("b.1", "x", id, 1, "Nats-Batch-Commit", "1")), 1, id, 1)
	})
}

// TestJSBatchIDQuotedAsGo: the commit's ack quotes the batch id as Go's %q does, as nats-server
// writes it: a byte that is not UTF-8 comes out as \xff, which is not JSON, and a quote as \".
func TestJSBatchIDQuotedAsGo(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		got := baSend(t, env, baMsg("b.1", "x", "q\xff\"b", 1, "Nats-Batch-Commit", "1"))
		if want := `{"stream":"B","seq":1,"batch":"q\xff\"b","count":1}`; string(got) != want {
			t.Errorf("ack %q, want %q", got, want)
		}
	})
}

// TestJSBatchGap: a message whose sequence does not follow drops the batch with a
// BATCH_ABANDONED advisory ("incomplete"); its later messages find no batch.
func TestJSBatchGap(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		adv := spAdvisory(t, env, "$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.B")
		baStageN(t, env, "G", 1)
		baWantErr(t, env, baMsg("b.3", "x", "G", 3), baIncomplete)
		got := adv()
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.stream_batch_abandoned", "stream": "B", "batch": "G", "reason": "incomplete"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("advisory (-want +got):\n%s", d)
		}
		baWantErr(t, env, baMsg("b.4", "x", "G", 4, "Nats-Batch-Commit", "1"), baIncomplete)
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages stored, want none", n)
		}
	})
}

// TestJSBatchStartsAtOne: a batch that does not start at sequence 1 is incomplete, a start
// beyond the largest batch too large; a repeated sequence is a gap.
func TestJSBatchStartsAtOne(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		baWantErr(t, env, baMsg("b.1", "x", "N", 2), baIncomplete)
		baWantErr(t, env, baMsg("b.1", "x", "N", 1001), baTooLarge)
		baWantErr(t, env, baMsg("b.1", "x", "N", 1001, "Nats-Batch-Commit", "eob"), baIncomplete)
		baWantErr(t, env, baMsg("b.1", "x", "N", 1002, "Nats-Batch-Commit", "eob"), baTooLarge)
		baStageN(t, env, "R", 1)
		baWantErr(t, env, baMsg("b.1", "x", "R", 1), baIncomplete)
	})
}

// TestJSBatchInvalidCommit: a commit that is neither "1" nor "eob" is refused and drops the
// batch; an end-of-batch marker cannot be the first message.
func TestJSBatchInvalidCommit(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		baStageN(t, env, "C", 1)
		baWantErr(t, env, baMsg("b.2", "x", "C", 2, "Nats-Batch-Commit", "yes"), baBadCommit)
		baWantErr(t, env, baMsg("b.3", "x", "C", 3, "Nats-Batch-Commit", "1"), baIncomplete)
		baWantErr(t, env, baMsg("b.1", "x", "C1", 1, "Nats-Batch-Commit", "eob"), baIncomplete)
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages stored, want none", n)
		}
	})
}

// TestJSBatchUnsupportedHeader: Nats-Expected-Last-Msg-Id has no meaning in a batch: the commit
// is refused naming it, and nothing is stored.
func TestJSBatchUnsupportedHeader(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		baStage(t, env, baMsg("b.1", "x", "U", 1, "Nats-Expected-Last-Msg-Id", "z"))
		baWantErr(t, env, baMsg("b.2", "x", "U", 2, "Nats-Batch-Commit", "1"),
			baAPIErr(400, 10177, "atomic publish unsupported header used: Nats-Expected-Last-Msg-Id"))
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages stored, want none", n)
		}
	})
}

// TestJSBatchDuplicateIDs: a message id twice in one batch, or one the duplicate window holds,
// fails the whole batch.
func TestJSBatchDuplicateIDs(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		baStage(t, env, baMsg("b.1", "x", "D1", 1, "Nats-Msg-Id", "m"))
		baWantErr(t, env, baMsg("b.2", "x", "D1", 2, "Nats-Msg-Id", "m", "Nats-Batch-Commit", "1"), baDuplicate)
		spPub(t, env, "b.0", "x", jetstream.WithMsgID("old"))
		baStage(t, env, baMsg("b.1", "x", "D2", 1, "Nats-Msg-Id", "new"))
		baWantErr(t, env, baMsg("b.2", "x", "D2", 2, "Nats-Msg-Id", "old", "Nats-Batch-Commit", "1"), baDuplicate)
		if n := baMsgs(t, s); n != 1 {
			t.Errorf("%d messages stored, want 1", n)
		}
		// distinct ids are stored, and remembered
		baStage(t, env, baMsg("b.1", "x", "D3", 1, "Nats-Msg-Id", "a"))
		baWantAck(t, baAnswer(t, env, baMsg("b.2", "x", "D3", 2, "Nats-Msg-Id", "b", "Nats-Batch-Commit", "1")), 3, "D3", 2)
		if a := spPub(t, env, "b.1", "x", jetstream.WithMsgID("a")); !a.Duplicate || a.Sequence != 2 {
			t.Errorf("republished id: ack %+v, want a duplicate of 2", a)
		}
	})
}

// TestJSBatchExpectedLastSequence: only the first message of a batch may expect the stream's
// last sequence.
func TestJSBatchExpectedLastSequence(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		spPub(t, env, "b.0", "x")
		baStage(t, env, baMsg("b.1", "x", "L1", 1, "Nats-Expected-Last-Sequence", "1"))
		baWantAck(t, baAnswer(t, env, baMsg("b.2", "x", "L1", 2, "Nats-Batch-Commit", "1")), 3, "L1", 2)
		baStage(t, env, baMsg("b.1", "x", "L2", 1, "Nats-Expected-Last-Sequence", "2"))
		baWantErr(t, env, baMsg("b.2", "x", "L2", 2, "Nats-Batch-Commit", "1"), baAPIErr(400, 10071, "wrong last sequence: 3"))
		baStageN(t, env, "L3", 1)
		baWantErr(t, env, baMsg("b.2", "x", "L3", 2, "Nats-Expected-Last-Sequence", "4", "Nats-Batch-Commit", "1"), baWrongLastSeq)
		baStageN(t, env, "L4", 1)
		baWantErr(t, env, baMsg("b.2", "x", "L4", 2, "Nats-Expected-Last-Sequence", "3", "Nats-Batch-Commit", "1"),
			baAPIErr(400, 10071, "wrong last sequence: 4"))
		if n := baMsgs(t, s); n != 3 {
			t.Errorf("%d messages stored, want 3", n)
		}
	})
}

// TestJSBatchExpectedSubjectSequence: a message may expect its subject's last sequence only if
// no earlier message of the batch wrote the subject; a subject override needs a sequence.
func TestJSBatchExpectedSubjectSequence(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		spPub(t, env, "b.a", "x")
		baStage(t, env, baMsg("b.a", "x", "P1", 1, "Nats-Expected-Last-Subject-Sequence", "1"))
		baStage(t, env, baMsg("b.b", "x", "P1", 2, "Nats-Expected-Last-Subject-Sequence", "0"))
		baWantAck(t, baAnswer(t, env, baMsg("b.c", "x", "P1", 3, "Nats-Expected-Last-Subject-Sequence", "0",
			"Nats-Expected-Last-Subject-Sequence-Subject", "b.none", "Nats-Batch-Commit", "1")), 4, "P1", 3)
		baStage(t, env, baMsg("b.a", "x", "P2", 1))
		baWantErr(t, env, baMsg("b.a", "x", "P2", 2, "Nats-Expected-Last-Subject-Sequence", "2", "Nats-Batch-Commit", "1"), baWrongLastSeq)
		baStage(t, env, baMsg("b.z", "x", "P3", 1, "Nats-Expected-Last-Subject-Sequence", "5"))
		baWantErr(t, env, baMsg("b.y", "x", "P3", 2, "Nats-Batch-Commit", "1"), baAPIErr(400, 10071, "wrong last sequence: 0"))
		baStage(t, env, baMsg("b.y", "x", "P5", 1))
		baWantErr(t, env, baMsg("b.z", "x", "P5", 2, "Nats-Expected-Last-Subject-Sequence", "0",
			"Nats-Expected-Last-Subject-Sequence-Subject", "b.y", "Nats-Batch-Commit", "1"), baWrongLastSeq)
		baStageN(t, env, "P4", 1)
		baWantErr(t, env, baMsg("b.z", "x", "P4", 2, "Nats-Expected-Last-Subject-Sequence-Subject", "b.a", "Nats-Batch-Commit", "1"),
			baAPIErr(400, 10193, "missing sequence for expected last sequence per subject"))
		if n := baMsgs(t, s); n != 4 {
			t.Errorf("%d messages stored, want 4", n)
		}
	})
}

// TestJSBatchRollups: a rollup of the stream only as a batch's first message, of a subject only
// at the subject's first message in the batch.
func TestJSBatchRollups(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env, func(c *jetstream.StreamConfig) { c.AllowRollup = true })
		spPub(t, env, "b.a", "old")
		spPub(t, env, "b.b", "old")
		baStageN(t, env, "R1", 1)
		baWantErr(t, env, baMsg("b.2", "x", "R1", 2, "Nats-Rollup", "all", "Nats-Batch-Commit", "1"),
			baAPIErr(500, 10111, "batch rollup all invalid"))
		baStage(t, env, baMsg("b.a", "x", "R2", 1))
		baWantErr(t, env, baMsg("b.a", "x", "R2", 2, "Nats-Rollup", "sub", "Nats-Batch-Commit", "1"),
			baAPIErr(500, 10111, "batch rollup sub invalid"))
		baStage(t, env, baMsg("b.a", "new", "R3", 1, "Nats-Rollup", "sub"))
		baWantAck(t, baAnswer(t, env, baMsg("b.c", "x", "R3", 2, "Nats-Batch-Commit", "1")), 4, "R3", 2)
		if n := baMsgs(t, s); n != 3 {
			t.Errorf("%d messages after a subject rollup, want 3", n)
		}
		baStage(t, env, baMsg("b.d", "x", "R4", 1, "Nats-Rollup", "all"))
		baWantAck(t, baAnswer(t, env, baMsg("b.e", "x", "R4", 2, "Nats-Batch-Commit", "1")), 6, "R4", 2)
		if n := baMsgs(t, s); n != 2 {
			t.Errorf("%d messages after a stream rollup, want 2", n)
		}
	})
}

// TestJSBatchDiscardNew: a batch that would take a discard-new stream past its limits is
// refused whole.
func TestJSBatchDiscardNew(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env, func(c *jetstream.StreamConfig) {
			c.Discard, c.MaxMsgs, c.MaxMsgsPerSubject, c.DiscardNewPerSubject = jetstream.DiscardNew, 3, 1, true
		})
		spPub(t, env, "b.0", "x")
		baStage(t, env, baMsg("b.1", "x", "N1", 1))
		baStage(t, env, baMsg("b.2", "x", "N1", 2))
		baWantErr(t, env, baMsg("b.3", "x", "N1", 3, "Nats-Batch-Commit", "1"), baAPIErr(503, 10077, "maximum messages exceeded"))
		baStage(t, env, baMsg("b.1", "x", "N2", 1))
		baWantErr(t, env, baMsg("b.1", "x", "N2", 2, "Nats-Batch-Commit", "1"), baAPIErr(503, 10077, "maximum messages per subject exceeded"))
		if n := baMsgs(t, s); n != 1 {
			t.Errorf("%d messages stored, want 1", n)
		}
	})
}

// TestJSBatchCounters: increments in a batch add up message by message; the commit's ack
// carries no total.
func TestJSBatchCounters(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env, func(c *jetstream.StreamConfig) { c.AllowMsgCounter = true })
		baStage(t, env, baMsg("b.c", "", "K", 1, "Nats-Incr", "2"))
		baStage(t, env, baMsg("b.c", "", "K", 2, "Nats-Incr", "3"))
		baWantAck(t, baAnswer(t, env, baMsg("b.d", "", "K", 3, "Nats-Incr", "1", "Nats-Batch-Commit", "1")), 3, "K", 3)
		for seq, want := range map[uint64]string{1: `{"val":"2"}`, 2: `{"val":"5"}`, 3: `{"val":"1"}`} {
			m, err := s.GetMsg(waitCtx(t), seq)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != want {
				t.Errorf("message %d: %s, want %s", seq, m.Data, want)
			}
		}
		baStage(t, env, baMsg("b.c", "", "K2", 1, "Nats-Incr", "1"))
		baWantErr(t, env, baMsg("b.c", "x", "K2", 2, "Nats-Batch-Commit", "1"), baAPIErr(400, 10169, "message counter increment is missing"))
	})
}

// TestJSBatchHeaderChecks: the publish header checks run at the commit, for every message, and
// fail the batch: the expected stream, TTLs where the stream has none, the source header.
func TestJSBatchHeaderChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		for name, c := range map[string]struct {
			hdr  []string
			want jetstream.APIError
		}{
			"expected stream": {[]string{"Nats-Expected-Stream", "X"}, baAPIErr(400, 10060, "expected stream does not match")},
			"ttl":             {[]string{"Nats-TTL", "1m"}, baAPIErr(400, 10166, "per-message TTL is disabled")},
			"source":          {[]string{"Nats-Stream-Source", "X 1"}, baAPIErr(400, 10227, "message stream source header is not allowed")},
		} {
			baStage(t, env, baMsg("b.1", "x", name, 1, c.hdr...))
			baWantErr(t, env, baMsg("b.2", "x", name, 2, "Nats-Batch-Commit", "1"), c.want)
		}
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages stored, want none", n)
		}
	})
}

// TestJSBatchInterleaved: batches of several publishers stage side by side and each commits
// its own messages.
func TestJSBatchInterleaved(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		baStage(t, env, baMsg("b.x", "x1", "X", 1))
		baStage(t, env, baMsg("b.y", "y1", "Y", 1))
		baStage(t, env, baMsg("b.x", "x2", "X", 2))
		baWantAck(t, baAnswer(t, env, baMsg("b.y", "y2", "Y", 2, "Nats-Batch-Commit", "1")), 2, "Y", 2)
		baWantAck(t, baAnswer(t, env, baMsg("b.x", "x3", "X", 3, "Nats-Batch-Commit", "1")), 5, "X", 3)
		var got []string
		for seq := uint64(1); seq <= 5; seq++ {
			m, err := s.GetMsg(waitCtx(t), seq)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(m.Data))
		}
		if d := cmp.Diff([]string{"y1", "y2", "x1", "x2", "x3"}, got); d != "" {
			t.Errorf("stored (-want +got):\n%s", d)
		}
	})
}

// TestJSBatchTooManyInflight: a stream holds 50 open batches; the 51st is refused until one ends.
func TestJSBatchTooManyInflight(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		for i := range 50 {
			baStage(t, env, baMsg("b.1", "x", "I"+strconv.Itoa(i), 1))
		}
		baWantErr(t, env, baMsg("b.1", "x", "I50", 1), baTooMany)
		baWantAck(t, baAnswer(t, env, baMsg("b.2", "x", "I0", 2, "Nats-Batch-Commit", "1")), 2, "I0", 2)
		baStage(t, env, baMsg("b.1", "x", "I50", 1))
	})
}

// TestJSBatchDisabledByUpdate: turning atomic publishing off drops the open batches.
func TestJSBatchDisabledByUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		baStageN(t, env, "O", 1)
		cfg := spInfo(t, s).Config
		cfg.AllowAtomicPublish = false
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		baWantErr(t, env, baMsg("b.2", "x", "O", 2, "Nats-Batch-Commit", "1"), baDisabled)
		cfg.AllowAtomicPublish = true
		if _, err := env.JetStream().UpdateStream(waitCtx(t), cfg); err != nil {
			t.Fatal(err)
		}
		baWantErr(t, env, baMsg("b.2", "x", "O", 2, "Nats-Batch-Commit", "1"), baIncomplete)
	})
}

// TestJSBatchRequiredAPILevel: a batch message that requires a later API level drops the
// batch, with an advisory ("unsupported").
func TestJSBatchRequiredAPILevel(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		adv := spAdvisory(t, env, "$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.B")
		baStageN(t, env, "V", 1)
		baWantErr(t, env, baMsg("b.2", "x", "V", 2, "Nats-Required-Api-Level", "99"), baAPIErr(412, 10185, "JetStream minimum api level required"))
		if got := adv(); got["reason"] != "unsupported" || got["batch"] != "V" {
			t.Errorf("advisory %v", got)
		}
		baStage(t, env, baMsg("b.1", "x", "V2", 1, "Nats-Required-Api-Level", "1"))
		baWantAck(t, baAnswer(t, env, baMsg("b.2", "x", "V2", 2, "Nats-Batch-Commit", "1")), 2, "V2", 2)
		m, err := s.GetMsg(waitCtx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		if v := m.Header.Get("Nats-Required-Api-Level"); v != "" {
			t.Errorf("stored with Nats-Required-Api-Level %q", v)
		}
	})
}

// TestJSBatchRepublish: a batch is republished as it is stored, at the commit.
func TestJSBatchRepublish(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env, func(c *jetstream.StreamConfig) {
			c.RePublish = &jetstream.RePublish{Source: "b.>", Destination: "rp.>"}
		})
		sub := subSync(t, env.Conn(), "rp.>")
		flush(t, env.Conn())
		baStageN(t, env, "P", 2)
		if n := queued(t, sub); n != 0 {
			t.Errorf("%d republished before the commit", n)
		}
		baWantAck(t, baAnswer(t, env, baMsg("b.3", "m3", "P", 3, "Nats-Batch-Commit", "1")), 3, "P", 3)
		for i := 1; i <= 3; i++ {
			m := next(t, sub)
			if m.Subject != "rp."+strconv.Itoa(i) || m.Header.Get("Nats-Sequence") != strconv.Itoa(i) {
				t.Errorf("republished %s with %v", m.Subject, m.Header)
			}
		}
	})
}

// TestJSBatchConfig: atomic publishing is kept in the config and asks for API level 2; with
// asynchronous persistence or a mirror it is refused.
func TestJSBatchConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		cfg := s.CachedInfo().Config
		if !cfg.AllowAtomicPublish || cfg.Metadata["_nats.req.level"] != "2" {
			t.Errorf("config: allow_atomic %v, metadata %v", cfg.AllowAtomicPublish, cfg.Metadata)
		}
		_, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "A", Subjects: []string{"a"},
			AllowAtomicPublish: true, PersistMode: jetstream.AsyncPersistMode})
		wantErrText(t, err, "nats: API error: code=500 err_code=10052 description=async persist mode is not supported with atomic batch publish")
		_, err = env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "B"},
			AllowAtomicPublish: true})
		wantErrText(t, err, "nats: API error: code=400 err_code=10198 description=stream mirrors can not also use atomic publishing")
	})
}

// TestJSBatchNoAck: on a stream without acks nothing is answered, and the batch still commits.
func TestJSBatchNoAck(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env, func(c *jetstream.StreamConfig) { c.NoAck = true })
		nc := env.Conn()
		inbox := subSync(t, nc, "ans.>")
		for i := 1; i <= 2; i++ {
			m := baMsg("b.x", "x", "Q", i)
			if i == 2 {
				m.Header.Set("Nats-Batch-Commit", "1")
			}
			m.Reply = "ans." + strconv.Itoa(i)
			publishMsg(t, nc, m)
		}
		spStreamUntil(t, s, "the batch is stored", func(st jetstream.StreamState) bool { return st.Msgs == 2 })
		marker(t, nc, "ans.marker", inbox)
	})
}
