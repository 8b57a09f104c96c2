package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/natstest"
)

// TestJSStreamMaxMsgs: with max_msgs and discard old, the oldest messages go to make room.
func TestJSStreamMaxMsgs(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", MaxMsgs: 3})
		spPubN(t, env, "S", "m", 5)
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 3, LastSeq: 5, NumSubjects: 1})
		if got := spSeqs(t, s); !slices.Equal(got, []uint64{3, 4, 5}) {
			t.Errorf("left %v, want 3 4 5", got)
		}
	})
}

// TestJSStreamMaxBytes: with max_bytes and discard old, the oldest messages go until the rest
// fits.
func TestJSStreamMaxBytes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		// Each message on "S" with a 10-byte payload takes 27 bytes in memory.
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", MaxBytes: 90, Storage: jetstream.MemoryStorage})
		spPubN(t, env, "S", "payload-0", 5) // payloads payload-00 .. payload-04, 10 bytes each
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 3, LastSeq: 5, NumSubjects: 1})
		if got := spInfo(t, s).State.Bytes; got != 81 {
			t.Errorf("bytes = %d, want 81", got)
		}
	})
}

// TestJSStreamMaxAge: messages older than max_age are removed.
func TestJSStreamMaxAge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const age = 500 * time.Millisecond
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", MaxAge: age, Storage: jetstream.MemoryStorage})
		spPubN(t, env, "S", "m", 3)
		env.FastForward(age)
		spStreamUntil(t, s, "the aged messages are gone", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		spState(t, s, jetstream.StreamState{FirstSeq: 4, LastSeq: 3})
		if ack := spPub(t, env, "S", "fresh"); ack.Sequence != 4 {
			t.Errorf("seq %d, want 4", ack.Sequence)
		}
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 4, LastSeq: 4, NumSubjects: 1})
	})
}

// spStreamUntil polls the stream's state until cond holds, failing after patience.
func spStreamUntil(t *testing.T, s jetstream.Stream, what string, cond func(jetstream.StreamState) bool) {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		st := spInfo(t, s).State
		if cond(st) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %v until %s; state %+v", patience, what, st)
		case <-tick.C:
		}
	}
}

// TestJSStreamMaxMsgsPerSubject: only the newest max_msgs_per_subject messages of each
// subject are kept, even with discard new.
func TestJSStreamMaxMsgsPerSubject(t *testing.T) {
	for _, discard := range []jetstream.DiscardPolicy{jetstream.DiscardOld, jetstream.DiscardNew} {
		t.Run(discard.String(), func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"k.*"}, MaxMsgsPerSubject: 2, Discard: discard})
				for i, subj := range []string{"k.a", "k.a", "k.b", "k.a", "k.b", "k.b", "k.c"} {
					if ack := spPub(t, env, subj, fmt.Sprint(i)); ack.Sequence != uint64(i+1) {
						t.Errorf("publish %d: seq %d", i, ack.Sequence)
					}
				}
				if got := spSeqs(t, s); !slices.Equal(got, []uint64{2, 4, 5, 6, 7}) {
					t.Errorf("left %v, want 2 4 5 6 7", got)
				}
				spState(t, s, jetstream.StreamState{Msgs: 5, FirstSeq: 2, LastSeq: 7, NumSubjects: 3, NumDeleted: 1})
			})
		})
	}
}

// TestJSStreamDiscardNewPerSubject: with discard_new_per_subject a full subject refuses new
// messages instead, and other subjects still take them.
func TestJSStreamDiscardNewPerSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"k.*"}, MaxMsgsPerSubject: 1,
			Discard: jetstream.DiscardNew, DiscardNewPerSubject: true, MaxMsgs: 100})
		spPub(t, env, "k.a", "1")
		err := spPubErr(t, env, "k.a", "2")
		spAPIErr(t, err, jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages per subject exceeded"})
		spPub(t, env, "k.b", "3")
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 2, NumSubjects: 2})
	})
}

// TestJSStreamDiscardNew: a full stream with discard new refuses new messages and keeps the
// old ones.
func TestJSStreamDiscardNew(t *testing.T) {
	t.Run("max msgs", func(t *testing.T) {
		eachJS(t, func(t *testing.T, env *natstest.Env) {
			s := spStream(t, env, jetstream.StreamConfig{Name: "S", MaxMsgs: 2, Discard: jetstream.DiscardNew})
			spPubN(t, env, "S", "m", 2)
			err := spPubErr(t, env, "S", "m2")
			spAPIErr(t, err, jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages exceeded"})
			spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 2, NumSubjects: 1})
		})
	})
	t.Run("max bytes", func(t *testing.T) {
		eachJS(t, func(t *testing.T, env *natstest.Env) {
			s := spStream(t, env, jetstream.StreamConfig{Name: "S", MaxBytes: 60, Discard: jetstream.DiscardNew, Storage: jetstream.MemoryStorage})
			spPubN(t, env, "S", "payload-0", 2) // 27 bytes each
			err := spPubErr(t, env, "S", "payload-02")
			spAPIErr(t, err, jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum bytes exceeded"})
			spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 2, NumSubjects: 1})
		})
	})
}

// TestJSStreamMaxMsgSize: a message larger than max_msg_size is refused with 10054.
func TestJSStreamMaxMsgSize(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", MaxMsgSize: 8})
		spPub(t, env, "S", "12345678")
		err := spPubErr(t, env, "S", "123456789")
		if !errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum) {
			t.Errorf("error %v is not ErrStreamMessageExceedsMaximum", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10054, Description: "message size exceeds maximum allowed"})
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 1, LastSeq: 1, NumSubjects: 1})
	})
}

// TestJSStreamDenyDeleteAndPurge: deny_delete refuses message deletes, deny_purge purges.
func TestJSStreamDenyDeleteAndPurge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", DenyDelete: true, DenyPurge: true})
		spPubN(t, env, "S", "m", 2)
		// The client reports a refused delete as ErrMsgDeleteUnsuccessful with the server's
		// error in its text.
		err := s.DeleteMsg(waitCtx(t), 1)
		if !errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
			t.Errorf("delete: %v, want ErrMsgDeleteUnsuccessful", err)
		}
		wantErrText(t, err, "nats: message deletion unsuccessful: nats: API error: code=500 err_code=10057 description=message delete not permitted")
		spAPIErr(t, s.Purge(waitCtx(t)), jetstream.APIError{Code: 500, ErrorCode: 10110, Description: "stream purge not permitted"})
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 1, LastSeq: 2, NumSubjects: 1})
	})
}
