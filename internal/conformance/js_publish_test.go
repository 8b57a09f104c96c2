package conformance

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// TestJSPublishAck: a JetStream publish is acknowledged with the stream's name and the
// message's sequence, counting from 1 in each stream.
func TestJSPublishAck(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}})
		spStream(t, env, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}})
		var got []jetstream.PubAck
		for _, subj := range []string{"a.1", "a.2", "b.1", "a.1"} {
			got = append(got, *spPub(t, env, subj, "x"))
		}
		want := []jetstream.PubAck{{Stream: "A", Sequence: 1}, {Stream: "A", Sequence: 2}, {Stream: "B", Sequence: 1}, {Stream: "A", Sequence: 3}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("acks (-want +got):\n%s", d)
		}
	})
}

// TestJSPublishAckOnTheWire: the ack is a plain message on the publish's reply subject, with
// the JSON {"stream":"S","seq":1}.
func TestJSPublishAckOnTheWire(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S"})
		r, err := env.Conn().Request("S", []byte("raw"), patience)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Data) != `{"stream":"S","seq":1}` || r.Header != nil {
			t.Errorf("ack %q header %v, want {\"stream\":\"S\",\"seq\":1}", r.Data, r.Header)
		}
	})
}

// TestJSPublishAckBytes: the ack's bytes as nats-server writes them: the stream's name quoted
// as Go quotes it (no JSON escapes for < and &), a duplicate with a space after its colon, a
// counter's value.
func TestJSPublishAckBytes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "Q<&", Subjects: []string{"q.>"}})
		spStream(t, env, jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true})
		send := func(subj string, hdr ...string) string {
			t.Helper()
			m := nats.NewMsg(subj)
			for i := 0; i+1 < len(hdr); i += 2 {
				m.Header.Set(hdr[i], hdr[i+1])
			}
			if len(hdr) == 0 || hdr[0] != "Nats-Incr" {
				m.Data = []byte("x")
			}
			r, err := env.Conn().RequestMsg(m, patience)
			if err != nil {
				t.Fatal(err)
			}
			return string(r.Data)
		}
		for _, tc := range []struct{ got, want string }{
			{send("q.1"), `{"stream":"Q<&","seq":1}`},
			{send("q.2", "Nats-Msg-Id", "d"), `{"stream":"Q<&","seq":2}`},
			{send("q.3", "Nats-Msg-Id", "d"), `{"stream":"Q<&","seq":2,"duplicate": true}`},
			{send("c.1", "Nats-Incr", "5"), `{"stream":"C","seq":1,"val":"5"}`},
		} {
			if tc.got != tc.want {
				t.Errorf("ack %s, want %s", tc.got, tc.want)
			}
		}
	})
}

// TestJSPublishCoreStored: a plain core publish, without a reply subject, into a stream's
// subject is stored as well, and core subscribers still get their copy.
func TestJSPublishCoreStored(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"core.>"}})
		sub := subSync(t, env.Connect(), "core.>")
		interest(t, env, "core.x", 1)
		nc := env.Conn()
		publish(t, nc, "core.x", "plain")
		m := nats.NewMsg("core.y")
		m.Header.Set("H", "v")
		m.Data = []byte("with header")
		publishMsg(t, nc, m)
		flush(t, nc)
		if got := datas([]*nats.Msg{next(t, sub), next(t, sub)}); !slices.Equal(got, []string{"plain", "with header"}) {
			t.Errorf("core subscriber got %q", got)
		}
		spStreamUntil(t, s, "both are stored", func(st jetstream.StreamState) bool { return st.Msgs == 2 })
		got, err := s.GetMsg(waitCtx(t), 2)
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != "core.y" || string(got.Data) != "with header" || got.Header.Get("H") != "v" {
			t.Errorf("stored message 2: subject %q data %q header %v", got.Subject, got.Data, got.Header)
		}
	})
}

// TestJSPublishNoStream: a JetStream publish on a subject no stream captures finds no
// responder, and the client reports ErrNoStreamResponse.
func TestJSPublishNoStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		err := spPubErr(t, env, "nostream.here", "x", jetstream.WithRetryAttempts(0))
		if !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Errorf("error %v is not ErrNoStreamResponse", err)
		}
		// On the wire it is the core no-responders status.
		if _, err := env.Conn().Request("nostream.here", []byte("x"), patience); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("core request: %v, want no responders", err)
		}
	})
}

// TestJSPublishDuplicate: a message whose Nats-Msg-Id was seen within the duplicate window is
// not stored again; the ack names the original sequence and says duplicate.
func TestJSPublishDuplicate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		got := []jetstream.PubAck{
			*spPub(t, env, "S", "a", jetstream.WithMsgID("id-1")),
			*spPub(t, env, "S", "b", jetstream.WithMsgID("id-2")),
			*spPub(t, env, "S", "a again", jetstream.WithMsgID("id-1")),
			*spPub(t, env, "S", "no id"),
			*spPub(t, env, "S", "b again", jetstream.WithMsgID("id-2")),
		}
		want := []jetstream.PubAck{
			{Stream: "S", Sequence: 1}, {Stream: "S", Sequence: 2}, {Stream: "S", Sequence: 1, Duplicate: true},
			{Stream: "S", Sequence: 3}, {Stream: "S", Sequence: 2, Duplicate: true},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("acks (-want +got):\n%s", d)
		}
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 3, NumSubjects: 1})
	})
}

// TestJSPublishDuplicateWindow: once the duplicate window has passed, a message id is new again.
func TestJSPublishDuplicateWindow(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const window = 300 * time.Millisecond
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Duplicates: window})
		if got := s.CachedInfo().Config.Duplicates; got != window {
			t.Errorf("duplicate window %v, want %v", got, window)
		}
		spPub(t, env, "S", "a", jetstream.WithMsgID("id-1"))
		if ack := spPub(t, env, "S", "a", jetstream.WithMsgID("id-1")); !ack.Duplicate {
			t.Errorf("within the window: %+v, want a duplicate", ack)
		}
		env.FastForward(window)
		ctx := waitCtx(t)
		for {
			ack := spPub(t, env, "S", "a", jetstream.WithMsgID("id-1"))
			if !ack.Duplicate {
				if ack.Sequence != 2 {
					t.Errorf("after the window: seq %d, want 2", ack.Sequence)
				}
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("still a duplicate %v after the window", patience)
			}
		}
	})
}

// TestJSPublishDuplicateWindowLongerThanMaxAge: a duplicate window longer than max_age is
// refused.
func TestJSPublishDuplicateWindowLongerThanMaxAge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", MaxAge: time.Second, Duplicates: time.Minute})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "duplicates window can not be larger then max age"})
	})
}

// TestJSPublishExpectLastSequence: Nats-Expected-Last-Sequence must equal the stream's last
// sequence, or the message is refused with 10071 naming the actual one.
func TestJSPublishExpectLastSequence(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"e.*"}})
		if ack := spPub(t, env, "e.a", "1", jetstream.WithExpectLastSequence(0)); ack.Sequence != 1 {
			t.Errorf("expect 0 on an empty stream: seq %d", ack.Sequence)
		}
		spPub(t, env, "e.b", "2", jetstream.WithExpectLastSequence(1))
		err := spPubErr(t, env, "e.a", "3", jetstream.WithExpectLastSequence(1))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 2"})
		err = spPubErr(t, env, "e.a", "3", jetstream.WithExpectLastSequence(99))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 2"})
		spPub(t, env, "e.a", "3", jetstream.WithExpectLastSequence(2))
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 3, NumSubjects: 2})
	})
}

// TestJSPublishExpectLastSequencePerSubject: Nats-Expected-Last-Subject-Sequence must equal
// the sequence of the subject's last message; 0 means the subject must have none.
func TestJSPublishExpectLastSequencePerSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"k.*"}})
		spPub(t, env, "k.a", "1", jetstream.WithExpectLastSequencePerSubject(0))
		spPub(t, env, "k.b", "2", jetstream.WithExpectLastSequencePerSubject(0))
		err := spPubErr(t, env, "k.a", "x", jetstream.WithExpectLastSequencePerSubject(0))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 1"})
		err = spPubErr(t, env, "k.a", "x", jetstream.WithExpectLastSequencePerSubject(2))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 1"})
		if ack := spPub(t, env, "k.a", "3", jetstream.WithExpectLastSequencePerSubject(1)); ack.Sequence != 3 {
			t.Errorf("seq %d, want 3", ack.Sequence)
		}
		spPub(t, env, "k.b", "4", jetstream.WithExpectLastSequencePerSubject(2))
		spState(t, s, jetstream.StreamState{Msgs: 4, FirstSeq: 1, LastSeq: 4, NumSubjects: 2})
	})
}

// TestJSPublishExpectLastSequenceForSubject: Nats-Expected-Last-Subject-Sequence-Subject names
// the subject, a wildcard too, whose last sequence is checked instead of the publish subject's.
func TestJSPublishExpectLastSequenceForSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"k.>"}})
		spPub(t, env, "k.a.1", "1")
		spPub(t, env, "k.b.1", "2")
		spPub(t, env, "k.a.2", "3")
		spPub(t, env, "k.a.1", "4", jetstream.WithExpectLastSequenceForSubject(3, "k.a.*"))
		err := spPubErr(t, env, "k.a.1", "x", jetstream.WithExpectLastSequenceForSubject(3, "k.a.*"))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence: 4"})
		spPub(t, env, "k.c", "5", jetstream.WithExpectLastSequenceForSubject(2, "k.b.1"))
	})
}

// TestJSPublishExpectLastMsgID: Nats-Expected-Last-Msg-Id must equal the message id of the
// stream's last message, or the message is refused with 10070 naming the actual one.
func TestJSPublishExpectLastMsgID(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPub(t, env, "S", "1", jetstream.WithMsgID("a"))
		spPub(t, env, "S", "2", jetstream.WithMsgID("b"), jetstream.WithExpectLastMsgID("a"))
		err := spPubErr(t, env, "S", "x", jetstream.WithExpectLastMsgID("a"))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10070, Description: "wrong last msg ID: b"})
		// A message without an id leaves the last id empty.
		spPub(t, env, "S", "3")
		err = spPubErr(t, env, "S", "x", jetstream.WithExpectLastMsgID("b"))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10070, Description: "wrong last msg ID: "})
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 3, NumSubjects: 1})
	})
}

// TestJSPublishExpectStream: Nats-Expected-Stream must name the stream that captures the
// subject, or the message is refused with 10060.
func TestJSPublishExpectStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPub(t, env, "S", "1", jetstream.WithExpectStream("S"))
		err := spPubErr(t, env, "S", "x", jetstream.WithExpectStream("OTHER"))
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10060, Description: "expected stream does not match"})
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 1, LastSeq: 1, NumSubjects: 1})
	})
}

// TestJSPublishHeadersStored: every header of a published message is stored as sent, the
// Nats-Msg-Id and Nats-Expected-* headers included.
func TestJSPublishHeadersStored(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"h"}})
		m := nats.NewMsg("h")
		m.Header.Add("X-Order", "1")
		m.Header.Add("X-Order", "2")
		m.Header.Set("lower-case", "kept")
		m.Data = []byte("body")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), m, jetstream.WithMsgID("m1"), jetstream.WithExpectLastSequence(0),
			jetstream.WithExpectLastSequencePerSubject(0), jetstream.WithExpectStream("S")); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetMsg(waitCtx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		want := nats.Header{
			"X-Order": {"1", "2"}, "lower-case": {"kept"}, "Nats-Msg-Id": {"m1"}, "Nats-Expected-Last-Sequence": {"0"},
			"Nats-Expected-Last-Subject-Sequence": {"0"}, "Nats-Expected-Stream": {"S"},
		}
		if d := cmp.Diff(want, got.Header); d != "" {
			t.Errorf("stored header (-want +got):\n%s", d)
		}
	})
}

// TestJSPublishRollup: Nats-Rollup "sub" leaves only the new message on its subject, "all"
// only the new message in the stream.
func TestJSPublishRollup(t *testing.T) {
	rows := []struct {
		rollup string
		left   []uint64
		state  jetstream.StreamState
	}{
		{"sub", []uint64{1, 3, 5}, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 5, NumSubjects: 2, NumDeleted: 2}},
		{"all", []uint64{5}, jetstream.StreamState{Msgs: 1, FirstSeq: 5, LastSeq: 5, NumSubjects: 1}},
	}
	for _, row := range rows {
		t.Run(row.rollup, func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"r.*"}, AllowRollup: true})
				for _, subj := range []string{"r.a", "r.b", "r.a", "r.b"} {
					spPub(t, env, subj, "old")
				}
				m := nats.NewMsg("r.b")
				m.Header.Set("Nats-Rollup", row.rollup)
				m.Data = []byte("rolled")
				ack, err := env.JetStream().PublishMsg(waitCtx(t), m)
				if err != nil {
					t.Fatal(err)
				}
				if ack.Sequence != 5 {
					t.Errorf("rollup seq %d, want 5", ack.Sequence)
				}
				if got := spSeqs(t, s); !slices.Equal(got, row.left) {
					t.Errorf("left %v, want %v", got, row.left)
				}
				spState(t, s, row.state)
				last, err := s.GetLastMsgForSubject(waitCtx(t), "r.b")
				if err != nil {
					t.Fatal(err)
				}
				if last.Header.Get("Nats-Rollup") != row.rollup {
					t.Errorf("stored header %v, want Nats-Rollup kept", last.Header)
				}
			})
		})
	}
}

// TestJSPublishRollupNotAllowed: without allow_rollup_hdrs a rollup is refused with 10111 and
// nothing is removed.
func TestJSPublishRollupNotAllowed(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"r.*"}})
		spPub(t, env, "r.a", "old")
		m := nats.NewMsg("r.a")
		m.Header.Set("Nats-Rollup", "sub")
		_, err := env.JetStream().PublishMsg(waitCtx(t), m)
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10111, Description: "rollup not permitted"})
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 1, LastSeq: 1, NumSubjects: 1})
	})
}

// TestJSPublishRollupInvalid: a Nats-Rollup value other than sub or all is refused, with the
// same error code as a rollup that is not permitted.
func TestJSPublishRollupInvalid(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", AllowRollup: true})
		m := nats.NewMsg("S")
		m.Header.Set("Nats-Rollup", "everything")
		_, err := env.JetStream().PublishMsg(waitCtx(t), m)
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10111, Description: `rollup value invalid: "everything"`})
	})
}

// TestJSPublishAsync: many asynchronous publishes are all acknowledged, in order, each with
// its own sequence.
func TestJSPublishAsync(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"async.>"}})
		js := env.JetStream()
		const n = 500
		futures := make([]jetstream.PubAckFuture, n)
		for i := range futures {
			f, err := js.PublishAsync(fmt.Sprintf("async.%d", i%7), []byte(fmt.Sprint(i)))
			if err != nil {
				t.Fatal(err)
			}
			futures[i] = f
		}
		await(t, js.PublishAsyncComplete(), "every async publish acknowledged")
		seqs := make([]uint64, n)
		for i, f := range futures {
			select {
			case ack := <-f.Ok():
				if ack.Stream != "S" {
					t.Errorf("ack %d: stream %q", i, ack.Stream)
				}
				seqs[i] = ack.Sequence
			case err := <-f.Err():
				t.Fatalf("publish %d: %v", i, err)
			}
		}
		for i, n := range seqs {
			if n != uint64(i+1) {
				t.Fatalf("publish %d got seq %d, want %d", i, n, i+1)
			}
		}
		spState(t, s, jetstream.StreamState{Msgs: n, FirstSeq: 1, LastSeq: n, NumSubjects: 7})
	})
}

// TestJSPublishConcurrent: messages from several concurrent publishers are each stored exactly
// once with distinct, contiguous sequences.
func TestJSPublishConcurrent(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"c.*"}})
		const publishers, perPub = 4, 50
		acks := make([][]uint64, publishers)
		var wg sync.WaitGroup
		errs := make(chan error, publishers)
		for p := range publishers {
			js, err := jetstream.New(env.Connect())
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				for i := range perPub {
					ack, err := js.Publish(waitCtx(t), fmt.Sprintf("c.%d", p), []byte(fmt.Sprintf("%d/%d", p, i)))
					if err != nil {
						errs <- err
						return
					}
					acks[p] = append(acks[p], ack.Sequence)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var all []uint64
		for _, a := range acks {
			if !slices.IsSorted(a) {
				t.Errorf("one publisher's sequences out of order: %v", a)
			}
			all = append(all, a...)
		}
		slices.Sort(all)
		for i, n := range all {
			if n != uint64(i+1) {
				t.Fatalf("sequences %v are not 1 to %d, each once", all, publishers*perPub)
			}
		}
		spState(t, s, jetstream.StreamState{Msgs: publishers * perPub, FirstSeq: 1, LastSeq: publishers * perPub, NumSubjects: publishers})
		// Every stored message is where its ack said.
		for p := range publishers {
			for i, n := range acks[p] {
				m, err := s.GetMsg(waitCtx(t), n)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("%d/%d", p, i); string(m.Data) != want || m.Subject != fmt.Sprintf("c.%d", p) {
					t.Fatalf("seq %d holds %q on %s, want %q", n, m.Data, m.Subject, want)
				}
			}
		}
	})
}

// TestJSPublishSequenceNotReused: deleting the last message does not give its sequence to the
// next one: last_seq stays, and the deleted last message counts as deleted.
func TestJSPublishSequenceNotReused(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPubN(t, env, "S", "m", 3)
		if err := s.DeleteMsg(waitCtx(t), 3); err != nil {
			t.Fatal(err)
		}
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 3, NumSubjects: 1, NumDeleted: 1})
		if ack := spPub(t, env, "S", "next"); ack.Sequence != 4 {
			t.Errorf("seq %d, want 4", ack.Sequence)
		}
	})
}
