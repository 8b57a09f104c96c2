package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/natstest"
)

// TestJSStreamGetMsg: GetMsg reads a stored message by sequence through the STREAM.MSG.GET API:
// subject, sequence, headers as published and payload, and reports a missing sequence with
// ErrMsgNotFound.
func TestJSStreamGetMsg(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"g.>"}})
		spPub(t, env, "g.a", "first")
		m := nats.NewMsg("g.b")
		m.Header.Add("Trace", "t1")
		m.Header.Add("Multi", "1")
		m.Header.Add("Multi", "2")
		m.Data = []byte("second")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), m, jetstream.WithMsgID("id-2")); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetMsg(waitCtx(t), 2)
		if err != nil {
			t.Fatal(err)
		}
		want := &jetstream.RawStreamMsg{Subject: "g.b", Sequence: 2, Data: []byte("second"),
			Header: nats.Header{"Trace": {"t1"}, "Multi": {"1", "2"}, "Nats-Msg-Id": {"id-2"}}}
		if d := cmp.Diff(want, got, cmpopts.IgnoreFields(jetstream.RawStreamMsg{}, "Time")); d != "" {
			t.Errorf("message 2 (-want +got):\n%s", d)
		}
		first, err := s.GetMsg(waitCtx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		if first.Header != nil || string(first.Data) != "first" || first.Time.After(got.Time) || first.Time.IsZero() {
			t.Errorf("message 1: header %v data %q time %v (message 2 at %v)", first.Header, first.Data, first.Time, got.Time)
		}
		_, err = s.GetMsg(waitCtx(t), 3)
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Errorf("missing message: %v, want ErrMsgNotFound", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 404, ErrorCode: 10037, Description: "message not found"})
	})
}

// TestJSStreamGetLastMsgForSubject: the last message of a subject, or of the subjects a
// wildcard matches, is the one with the highest sequence among them.
func TestJSStreamGetLastMsgForSubject(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprint("direct=", direct), func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"l.>"}, AllowDirect: direct})
				for i, subj := range []string{"l.a.1", "l.b.1", "l.a.2", "l.a.1", "l.b.2"} {
					spPub(t, env, subj, fmt.Sprint(i+1))
				}
				rows := []struct {
					subject string
					seq     uint64
					msgSubj string
				}{
					{"l.a.1", 4, "l.a.1"},
					{"l.a.2", 3, "l.a.2"},
					{"l.a.*", 4, "l.a.1"},
					{"l.*.2", 5, "l.b.2"},
					{"l.>", 5, "l.b.2"},
					{"l.b.>", 5, "l.b.2"},
				}
				for _, row := range rows {
					got, err := s.GetLastMsgForSubject(waitCtx(t), row.subject)
					if err != nil {
						t.Errorf("last for %q: %v", row.subject, err)
						continue
					}
					if got.Sequence != row.seq || got.Subject != row.msgSubj || string(got.Data) != fmt.Sprint(row.seq) {
						t.Errorf("last for %q: seq %d subject %q data %q, want %d %q", row.subject, got.Sequence, got.Subject, got.Data, row.seq, row.msgSubj)
					}
				}
				if _, err := s.GetLastMsgForSubject(waitCtx(t), "l.c"); !errors.Is(err, jetstream.ErrMsgNotFound) {
					t.Errorf("last for l.c: %v, want ErrMsgNotFound", err)
				}
			})
		})
	}
}

// TestJSStreamDirectGet: with allow_direct, GetMsg is answered by the stored message itself,
// its headers followed by Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp.
func TestJSStreamDirectGet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.>"}, AllowDirect: true})
		spPub(t, env, "d.a", "one")
		m := nats.NewMsg("d.b")
		m.Header.Set("Foo", "Bar")
		m.Data = []byte("two")
		if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
			t.Fatal(err)
		}
		for _, get := range []struct {
			name string
			f    func() (*jetstream.RawStreamMsg, error)
		}{
			{"by sequence", func() (*jetstream.RawStreamMsg, error) { return s.GetMsg(waitCtx(t), 2) }},
			{"last by subject", func() (*jetstream.RawStreamMsg, error) { return s.GetLastMsgForSubject(waitCtx(t), "d.b") }},
			{"next by subject", func() (*jetstream.RawStreamMsg, error) {
				return s.GetMsg(waitCtx(t), 1, jetstream.WithGetMsgSubject("d.b"))
			}},
		} {
			got, err := get.f()
			if err != nil {
				t.Errorf("%s: %v", get.name, err)
				continue
			}
			ts := got.Header.Get("Nats-Time-Stamp")
			if parsed, err := time.Parse(time.RFC3339Nano, ts); err != nil || !parsed.Equal(got.Time) {
				t.Errorf("%s: Nats-Time-Stamp %q, time %v", get.name, ts, got.Time)
			}
			want := &jetstream.RawStreamMsg{Subject: "d.b", Sequence: 2, Data: []byte("two"), Header: nats.Header{
				"Foo": {"Bar"}, "Nats-Stream": {"D"}, "Nats-Subject": {"d.b"}, "Nats-Sequence": {"2"}, "Nats-Time-Stamp": {ts},
			}}
			if d := cmp.Diff(want, got, cmpopts.IgnoreFields(jetstream.RawStreamMsg{}, "Time")); d != "" {
				t.Errorf("%s (-want +got):\n%s", get.name, d)
			}
		}
		for _, n := range []uint64{3, 50} {
			if _, err := s.GetMsg(waitCtx(t), n); !errors.Is(err, jetstream.ErrMsgNotFound) {
				t.Errorf("direct get %d: %v, want ErrMsgNotFound", n, err)
			}
		}
	})
}

// TestJSStreamDirectGetRaw: the DIRECT.GET API on the wire: the subject form with an empty
// body returns the last message matching a wildcard, a missing sequence returns a 404 status,
// and a stream without allow_direct has no responder.
func TestJSStreamDirectGetRaw(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.>"}, AllowDirect: true})
		spStream(t, env, jetstream.StreamConfig{Name: "N", Subjects: []string{"n.>"}})
		for _, subj := range []string{"d.x.1", "d.y.1", "d.x.2", "d.y.2", "d.x.1"} {
			spPub(t, env, subj, subj)
		}
		spPub(t, env, "n.a", "n")
		nc := env.Conn()
		r, err := nc.Request("$JS.API.DIRECT.GET.D.d.y.*", nil, patience)
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Nats-Sequence") != "4" || r.Header.Get("Nats-Subject") != "d.y.2" || string(r.Data) != "d.y.2" {
			t.Errorf("last of d.y.*: header %v data %q, want sequence 4 d.y.2", r.Header, r.Data)
		}
		r, err = nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":50}`), patience)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Header.Get("Status") + " " + r.Header.Get("Description"); got != "404 Message Not Found" || len(r.Data) != 0 {
			t.Errorf("missing sequence: status %q data %q, want 404 Message Not Found", got, r.Data)
		}
		r, err = nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":1,"next_by_subj":"d.x.2"}`), patience)
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Nats-Sequence") != "3" {
			t.Errorf("next of d.x.2 from 1: header %v, want sequence 3", r.Header)
		}
		r, err = nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"last_by_subj":"d.x.1"}`), patience)
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Nats-Sequence") != "5" {
			t.Errorf("last_by_subj d.x.1: header %v, want sequence 5", r.Header)
		}
		if _, err := nc.Request("$JS.API.DIRECT.GET.N", []byte(`{"seq":1}`), patience); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("direct get without allow_direct: %v, want no responders", err)
		}
		if _, err := nc.Request("$JS.API.DIRECT.GET.MISSING", []byte(`{"seq":1}`), patience); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("direct get on a missing stream: %v, want no responders", err)
		}
	})
}

// TestJSStreamDeleteMsg: DeleteMsg and SecureDeleteMsg remove one message. Deleting it again,
// or a sequence past the end, fails: the client reports ErrMsgDeleteUnsuccessful with the
// server's error in its text, which differs between file and memory storage.
func TestJSStreamDeleteMsg(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "S", Storage: storage})
				spPubN(t, env, "S", "m", 4)
				if err := s.DeleteMsg(waitCtx(t), 2); err != nil {
					t.Fatal(err)
				}
				if err := s.SecureDeleteMsg(waitCtx(t), 3); err != nil {
					t.Fatal(err)
				}
				for _, n := range []uint64{2, 3} {
					if _, err := s.GetMsg(waitCtx(t), n); !errors.Is(err, jetstream.ErrMsgNotFound) {
						t.Errorf("get deleted %d: %v, want ErrMsgNotFound", n, err)
					}
				}
				spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 4, NumSubjects: 1, NumDeleted: 2})
				for n, text := range spDeleteErrors[storage] {
					err := s.DeleteMsg(waitCtx(t), n)
					if !errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
						t.Errorf("delete %d: %v, want ErrMsgDeleteUnsuccessful", n, err)
					}
					wantErrText(t, err, "nats: message deletion unsuccessful: "+text)
				}
			})
		})
	}
}
