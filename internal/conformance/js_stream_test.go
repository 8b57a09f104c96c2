package conformance

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// spStream creates a stream, failing the test if it cannot.
func spStream(t *testing.T, env *natstest.Env, cfg jetstream.StreamConfig) jetstream.Stream {
	t.Helper()
	s, err := env.JetStream().CreateStream(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("create stream %s: %v", cfg.Name, err)
	}
	return s
}

// spPub publishes data on subj through JetStream and returns the server's ack.
func spPub(t *testing.T, env *natstest.Env, subj, data string, opts ...jetstream.PublishOpt) *jetstream.PubAck {
	t.Helper()
	ack, err := env.JetStream().Publish(waitCtx(t), subj, []byte(data), opts...)
	if err != nil {
		t.Fatalf("publish %q on %s: %v", data, subj, err)
	}
	return ack
}

// spPubN publishes n messages, data prefix0 to prefix<n-1>, on subj.
func spPubN(t *testing.T, env *natstest.Env, subj, prefix string, n int) {
	t.Helper()
	for _, d := range seq(prefix, n) {
		spPub(t, env, subj, d)
	}
}

// spPubErr publishes on subj and returns the error, which must be set.
func spPubErr(t *testing.T, env *natstest.Env, subj, data string, opts ...jetstream.PublishOpt) error {
	t.Helper()
	ack, err := env.JetStream().Publish(waitCtx(t), subj, []byte(data), opts...)
	if err == nil {
		t.Fatalf("publish %q on %s: got ack %+v, want an error", data, subj, ack)
	}
	return err
}

// spInfo is the stream's current info.
func spInfo(t *testing.T, s jetstream.Stream, opts ...jetstream.StreamInfoOpt) *jetstream.StreamInfo {
	t.Helper()
	info, err := s.Info(waitCtx(t), opts...)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info
}

// spState compares the stream's state with want, leaving out the time stamps and the byte count
// (which scenarios about bytes check on their own).
func spState(t *testing.T, s jetstream.Stream, want jetstream.StreamState, opts ...jetstream.StreamInfoOpt) {
	t.Helper()
	got := spInfo(t, s, opts...).State
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(jetstream.StreamState{}, "FirstTime", "LastTime", "Bytes")); d != "" {
		t.Errorf("stream state (-want +got):\n%s", d)
	}
}

// spAPIErr checks that err carries the JetStream API error want: status code, error code and
// description.
func spAPIErr(t *testing.T, err error, want jetstream.APIError) {
	t.Helper()
	var got *jetstream.APIError
	if !errors.As(err, &got) {
		t.Errorf("error %v (%T) carries no API error, want %+v", err, err, want)
		return
	}
	if d := cmp.Diff(want, *got); d != "" {
		t.Errorf("API error (-want +got):\n%s", d)
	}
}

// spServerMetadata reports metadata keys the server adds on its own ("_nats.ver", "_nats.level",
// "_nats.req.level"). They name the server's version and API level, which servers may
// legitimately report differently: the named looser comparison spNoServerMetadata leaves them
// out.
func spServerMetadata(k string) bool { return strings.HasPrefix(k, "_nats.") }

// spNoServerMetadata is m without the server's own keys, nil if nothing is left.
func spNoServerMetadata(m map[string]string) map[string]string {
	out := maps.Clone(m)
	maps.DeleteFunc(out, func(k, _ string) bool { return spServerMetadata(k) })
	if len(out) == 0 {
		return nil
	}
	return out
}

// spStreamConfig compares a stream's configuration with want, without the server's metadata.
func spStreamConfig(t *testing.T, want, got jetstream.StreamConfig) {
	t.Helper()
	if d := cmp.Diff(want, got, cmp.Transformer("spNoServerMetadata", spNoServerMetadata)); d != "" {
		t.Errorf("stream config (-want +got):\n%s", d)
	}
}

// spDefaultStream is the configuration the server reports for a stream created with only a
// name and, if given, subjects.
func spDefaultStream(name string, subjects ...string) jetstream.StreamConfig {
	if len(subjects) == 0 {
		subjects = []string{name}
	}
	return jetstream.StreamConfig{
		Name:              name,
		Subjects:          subjects,
		Retention:         jetstream.LimitsPolicy,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: -1,
		MaxMsgSize:        -1,
		Storage:           jetstream.FileStorage,
		Replicas:          1,
		Duplicates:        2 * time.Minute,
		Compression:       jetstream.NoCompression,
	}
}

// spNames drains a name lister.
func spNames(t *testing.T, names <-chan string, errf func() error) []string {
	t.Helper()
	var out []string
	for n := range names {
		out = append(out, n)
	}
	if err := errf(); err != nil {
		t.Fatalf("list: %v", err)
	}
	return out
}

// spStreamNames is the names StreamNames returns, in its order.
func spStreamNames(t *testing.T, env *natstest.Env, opts ...jetstream.StreamListOpt) []string {
	t.Helper()
	l := env.JetStream().StreamNames(waitCtx(t), opts...)
	return spNames(t, l.Name(), l.Err)
}

// TestJSStreamCreateDefaults: a stream created with only a name is echoed with the server's
// normalised configuration: its name as its only subject, -1 for every unset limit, one
// replica, a two-minute duplicate window, file storage, no compression.
func TestJSStreamCreateDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "ORDERS"})
		spStreamConfig(t, spDefaultStream("ORDERS"), s.CachedInfo().Config)
		spStreamConfig(t, spDefaultStream("ORDERS"), spInfo(t, s).Config)
		if d := cmp.Diff(jetstream.StreamState{}, s.CachedInfo().State); d != "" {
			t.Errorf("state of a new stream (-want +got):\n%s", d)
		}
		if s.CachedInfo().Created.IsZero() {
			t.Error("created time is zero")
		}
	})
}

// TestJSStreamCreateEchoesConfig: what the client sets is echoed as sent; only the duplicate
// window, unset, becomes max_age when that is shorter than two minutes.
func TestJSStreamCreateEchoesConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.StreamConfig{
			Name:              "EVENTS",
			Description:       "all events",
			Subjects:          []string{"events.>", "audit.*"},
			Retention:         jetstream.LimitsPolicy,
			MaxConsumers:      10,
			MaxMsgs:           1000,
			MaxBytes:          1 << 20,
			Discard:           jetstream.DiscardNew,
			MaxAge:            30 * time.Second,
			MaxMsgsPerSubject: 5,
			MaxMsgSize:        4096,
			Storage:           jetstream.MemoryStorage,
			Replicas:          1,
			AllowRollup:       true,
			DenyDelete:        true,
			AllowDirect:       true,
			Compression:       jetstream.NoCompression,
			Metadata:          map[string]string{"owner": "team-a"},
		}
		s := spStream(t, env, cfg)
		want := cfg
		want.Duplicates = 30 * time.Second
		spStreamConfig(t, want, s.CachedInfo().Config)
		if got := s.CachedInfo().Config.Metadata["owner"]; got != "team-a" {
			t.Errorf("metadata owner = %q, want team-a", got)
		}
	})
}

// TestJSStreamCreateIdempotent: creating a stream again with the same configuration succeeds
// and returns the existing stream, messages and creation time included.
func TestJSStreamCreateIdempotent(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}
		first := spStream(t, env, cfg)
		spPub(t, env, "s.1", "one")
		again := spStream(t, env, cfg)
		if !again.CachedInfo().Created.Equal(first.CachedInfo().Created) {
			t.Errorf("created %v, then %v", first.CachedInfo().Created, again.CachedInfo().Created)
		}
		if got := again.CachedInfo().State.Msgs; got != 1 {
			t.Errorf("messages after the second create = %d, want 1", got)
		}
		// The normalised configuration, as sent, is identical too.
		norm := spDefaultStream("S", "s.>")
		norm.Storage = jetstream.MemoryStorage
		spStream(t, env, norm)
	})
}

// TestJSStreamCreateDifferentConfig: creating an existing stream with another configuration
// fails with 10058, and leaves the stream as it was.
func TestJSStreamCreateDifferentConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		_, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxMsgs: 5})
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			t.Errorf("error %v is not ErrStreamNameAlreadyInUse", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10058, Description: "stream name already in use"})
		if got := spInfo(t, s).Config.MaxMsgs; got != -1 {
			t.Errorf("max msgs after the refused create = %d, want -1", got)
		}
	})
}

// TestJSStreamSubjectsOverlap: a stream whose subjects overlap another stream's is refused
// with 10065.
func TestJSStreamSubjectsOverlap(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "A", Subjects: []string{"orders.*"}})
		_, err := env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "B", Subjects: []string{"orders.new"}})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10065, Description: "subjects overlap with an existing stream"})
		_, err = env.JetStream().CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "C", Subjects: []string{"orders.>"}})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10065, Description: "subjects overlap with an existing stream"})
		if got := spStreamNames(t, env); !slices.Equal(got, []string{"A"}) {
			t.Errorf("streams = %q, want only A", got)
		}
	})
}

// TestJSStreamUpdate: an update replaces the configuration, applies a lower limit at once, and
// replies with the new configuration.
func TestJSStreamUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"a"}})
		spPubN(t, env, "a", "m", 5)
		u, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"a", "b"}, MaxMsgs: 2})
		if err != nil {
			t.Fatal(err)
		}
		want := spDefaultStream("S", "a", "b")
		want.MaxMsgs = 2
		spStreamConfig(t, want, u.CachedInfo().Config)
		spState(t, s, jetstream.StreamState{Msgs: 2, FirstSeq: 4, LastSeq: 5, NumSubjects: 1})
		if ack := spPub(t, env, "b", "new subject"); ack.Sequence != 6 {
			t.Errorf("publish on the added subject: seq %d, want 6", ack.Sequence)
		}
	})
}

// TestJSStreamUpdateMissing: updating a stream that does not exist fails with 10059.
func TestJSStreamUpdateMissing(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "NOPE"})
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("error %v is not ErrStreamNotFound", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"})
	})
}

// TestJSStreamUpdateStorageRefused: a stream's storage type cannot change.
func TestJSStreamUpdateStorageRefused(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "S", Storage: jetstream.FileStorage})
		_, err := env.JetStream().UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Storage: jetstream.MemoryStorage})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "stream configuration update can not change storage type"})
	})
}

// TestJSStreamCreateOrUpdate: CreateOrUpdateStream creates a missing stream and updates an
// existing one.
func TestJSStreamCreateOrUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		s, err := js.CreateOrUpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S"})
		if err != nil {
			t.Fatal(err)
		}
		spStreamConfig(t, spDefaultStream("S"), s.CachedInfo().Config)
		s, err = js.CreateOrUpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Description: "now described"})
		if err != nil {
			t.Fatal(err)
		}
		want := spDefaultStream("S")
		want.Description = "now described"
		spStreamConfig(t, want, s.CachedInfo().Config)
	})
}

// TestJSStreamMissing: every call on a stream that does not exist fails with 10059.
func TestJSStreamMissing(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		want := jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"}
		_, err := js.Stream(waitCtx(t), "NOPE")
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("Stream: error %v is not ErrStreamNotFound", err)
		}
		spAPIErr(t, err, want)
		err = js.DeleteStream(waitCtx(t), "NOPE")
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("DeleteStream: error %v is not ErrStreamNotFound", err)
		}
		_, err = js.CreateConsumer(waitCtx(t), "NOPE", jetstream.ConsumerConfig{Durable: "d"})
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("CreateConsumer: error %v is not ErrStreamNotFound", err)
		}
	})
}

// TestJSStreamDelete: a deleted stream is gone with its consumers; it no longer captures its
// subjects, so a JetStream publish finds no stream.
func TestJSStreamDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
		spPub(t, env, "s", "x")
		if _, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d"}); err != nil {
			t.Fatal(err)
		}
		if err := js.DeleteStream(waitCtx(t), "S"); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Stream(waitCtx(t), "S"); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("Stream after delete: %v, want ErrStreamNotFound", err)
		}
		if _, err := js.Consumer(waitCtx(t), "S", "d"); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("Consumer after delete: %v, want ErrStreamNotFound", err)
		}
		err := spPubErr(t, env, "s", "y", jetstream.WithRetryAttempts(0))
		if !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Errorf("publish after delete: %v, want ErrNoStreamResponse", err)
		}
		// A stream of the same name starts again from sequence 1.
		spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
		if ack := spPub(t, env, "s", "z"); ack.Sequence != 1 {
			t.Errorf("first publish into the new stream: seq %d, want 1", ack.Sequence)
		}
	})
}

// TestJSStreamStateFigures: the state counts messages, subjects and deleted sequences as
// messages are stored and deleted, and counts consumers.
func TestJSStreamStateFigures(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}})
		for i, subj := range []string{"s.a", "s.b", "s.a", "s.c", "s.a", "s.b"} {
			spPub(t, env, subj, fmt.Sprint(i))
		}
		spState(t, s, jetstream.StreamState{Msgs: 6, FirstSeq: 1, LastSeq: 6, NumSubjects: 3})
		for _, n := range []uint64{1, 4} {
			if err := s.DeleteMsg(waitCtx(t), n); err != nil {
				t.Fatalf("delete %d: %v", n, err)
			}
		}
		// Deleting the first message moves first_seq; deleting one inside counts as deleted.
		spState(t, s, jetstream.StreamState{Msgs: 4, FirstSeq: 2, LastSeq: 6, NumSubjects: 2, NumDeleted: 1})
		for _, name := range []string{"c1", "c2"} {
			if _, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: name}); err != nil {
				t.Fatal(err)
			}
		}
		spState(t, s, jetstream.StreamState{Msgs: 4, FirstSeq: 2, LastSeq: 6, NumSubjects: 2, NumDeleted: 1, Consumers: 2})
		info := spInfo(t, s)
		if info.State.FirstTime.IsZero() || info.State.LastTime.Before(info.State.FirstTime) {
			t.Errorf("first_ts %v, last_ts %v", info.State.FirstTime, info.State.LastTime)
		}
	})
}

// TestJSStreamBytes: the byte count of a stream is the server's stored size of each message:
// subject, headers and payload plus a fixed overhead, which differs between file and memory
// storage.
func TestJSStreamBytes(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"bytes.>"}, Storage: storage})
				spPub(t, env, "bytes.a", "0123456789")
				first := spInfo(t, s).State.Bytes
				m := nats.NewMsg("bytes.b")
				m.Header.Set("K", "v")
				m.Data = []byte("xy")
				if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
					t.Fatal(err)
				}
				total := spInfo(t, s).State.Bytes
				want := map[jetstream.StorageType][2]uint64{
					jetstream.FileStorage:   {47, 47 + 61},
					jetstream.MemoryStorage: {33, 33 + 43},
				}[storage]
				wantFirst, wantTotal := want[0], want[1]
				if first != wantFirst || total != wantTotal {
					t.Errorf("bytes = %d then %d, want %d then %d", first, total, wantFirst, wantTotal)
				}
			})
		})
	}
}

// TestJSStreamFirstSeq: a stream configured with first_seq numbers its first message so.
func TestJSStreamFirstSeq(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", FirstSeq: 100})
		spState(t, s, jetstream.StreamState{FirstSeq: 100, LastSeq: 99})
		if ack := spPub(t, env, "S", "x"); ack.Sequence != 100 {
			t.Errorf("first seq %d, want 100", ack.Sequence)
		}
		spState(t, s, jetstream.StreamState{Msgs: 1, FirstSeq: 100, LastSeq: 100, NumSubjects: 1})
	})
}

// spPurgeStream is a stream with messages on p.a (seqs 1, 3, 5), p.b (2, 6) and p.c.x (4).
func spPurgeStream(t *testing.T, env *natstest.Env) jetstream.Stream {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
	for i, subj := range []string{"p.a", "p.b", "p.a", "p.c.x", "p.a", "p.b"} {
		spPub(t, env, subj, fmt.Sprint(i+1))
	}
	return s
}

// spSeqs is the stream's message sequences, read one by one with GetMsg.
func spSeqs(t *testing.T, s jetstream.Stream) []uint64 {
	t.Helper()
	info := spInfo(t, s)
	var out []uint64
	for n := info.State.FirstSeq; n <= info.State.LastSeq && n > 0; n++ {
		_, err := s.GetMsg(waitCtx(t), n)
		switch {
		case err == nil:
			out = append(out, n)
		case !errors.Is(err, jetstream.ErrMsgNotFound):
			t.Fatalf("get %d: %v", n, err)
		}
	}
	return out
}

// TestJSStreamPurge: purge removes everything, only some subjects (a wildcard filter too),
// keeps the newest n, or everything below a sequence. Sequences are never reused.
func TestJSStreamPurge(t *testing.T) {
	rows := []struct {
		name  string
		opts  []jetstream.StreamPurgeOpt
		left  []uint64
		state jetstream.StreamState
	}{
		{"all", nil, nil, jetstream.StreamState{FirstSeq: 7, LastSeq: 6}},
		{"subject", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject("p.a")}, []uint64{2, 4, 6},
			jetstream.StreamState{Msgs: 3, FirstSeq: 2, LastSeq: 6, NumSubjects: 2, NumDeleted: 2}},
		{"wildcard", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject("p.*")}, []uint64{4},
			jetstream.StreamState{Msgs: 1, FirstSeq: 4, LastSeq: 6, NumSubjects: 1, NumDeleted: 2}},
		{"full wildcard", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject("p.>")}, nil,
			jetstream.StreamState{FirstSeq: 7, LastSeq: 6}},
		{"keep", []jetstream.StreamPurgeOpt{jetstream.WithPurgeKeep(2)}, []uint64{5, 6},
			jetstream.StreamState{Msgs: 2, FirstSeq: 5, LastSeq: 6, NumSubjects: 2}},
		{"keep more than there are", []jetstream.StreamPurgeOpt{jetstream.WithPurgeKeep(10)}, []uint64{1, 2, 3, 4, 5, 6},
			jetstream.StreamState{Msgs: 6, FirstSeq: 1, LastSeq: 6, NumSubjects: 3}},
		{"subject and keep", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject("p.a"), jetstream.WithPurgeKeep(1)}, []uint64{2, 4, 5, 6},
			jetstream.StreamState{Msgs: 4, FirstSeq: 2, LastSeq: 6, NumSubjects: 3, NumDeleted: 1}},
		{"sequence", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSequence(4)}, []uint64{4, 5, 6},
			jetstream.StreamState{Msgs: 3, FirstSeq: 4, LastSeq: 6, NumSubjects: 3}},
		{"subject below sequence", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject("p.a"), jetstream.WithPurgeSequence(5)}, []uint64{2, 4, 5, 6},
			jetstream.StreamState{Msgs: 4, FirstSeq: 2, LastSeq: 6, NumSubjects: 3, NumDeleted: 1}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spPurgeStream(t, env)
				if err := s.Purge(waitCtx(t), row.opts...); err != nil {
					t.Fatal(err)
				}
				spState(t, s, row.state)
				if got := spSeqs(t, s); !slices.Equal(got, row.left) {
					t.Errorf("left %v, want %v", got, row.left)
				}
				if ack := spPub(t, env, "p.a", "after"); ack.Sequence != 7 {
					t.Errorf("publish after the purge: seq %d, want 7", ack.Sequence)
				}
			})
		})
	}
}

// TestJSStreamPurgeEmptyStream: purging an empty stream succeeds, and the first message is
// still sequence 1.
func TestJSStreamPurgeEmptyStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		if err := s.Purge(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		// Purging an empty stream moves first_seq past last_seq, as every purge does.
		spState(t, s, jetstream.StreamState{FirstSeq: 1})
		if ack := spPub(t, env, "S", "x"); ack.Sequence != 1 {
			t.Errorf("seq %d, want 1", ack.Sequence)
		}
	})
}

// TestJSStreamNames: StreamNames and ListStreams list every stream; with a subject, those with
// a subject that some subject matches along with it, wildcards on both sides.
func TestJSStreamNames(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for name, subj := range map[string]string{"C": "c.x", "A": "a.>", "B": "b.*", "D": "d"} {
			spStream(t, env, jetstream.StreamConfig{Name: name, Subjects: []string{subj}})
		}
		rows := []struct {
			subject string
			want    []string
		}{
			{"", []string{"A", "B", "C", "D"}},
			{">", []string{"A", "B", "C", "D"}},
			{"*.x", []string{"A", "B", "C"}},
			{"a.one.two", []string{"A"}},
			{"b.>", []string{"B"}},
			{"b.q.r", nil},
			{"d", []string{"D"}},
			{"nothing", nil},
		}
		for _, row := range rows {
			var opts []jetstream.StreamListOpt
			if row.subject != "" {
				opts = append(opts, jetstream.WithStreamListSubject(row.subject))
			}
			got := spStreamNames(t, env, opts...)
			slices.Sort(got)
			if !slices.Equal(got, row.want) {
				t.Errorf("stream names for subject %q: %q, want %q", row.subject, got, row.want)
			}
			l := env.JetStream().ListStreams(waitCtx(t), opts...)
			var listed []string
			for info := range l.Info() {
				listed = append(listed, info.Config.Name)
			}
			if err := l.Err(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(listed)
			if !slices.Equal(listed, row.want) {
				t.Errorf("streams listed for subject %q: %q, want %q", row.subject, listed, row.want)
			}
		}
		js := env.JetStream()
		if name, err := js.StreamNameBySubject(waitCtx(t), "b.q"); err != nil || name != "B" {
			t.Errorf("StreamNameBySubject(b.q) = %q, %v, want B", name, err)
		}
		if _, err := js.StreamNameBySubject(waitCtx(t), "zzz"); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("StreamNameBySubject(zzz): %v, want ErrStreamNotFound", err)
		}
	})
}

// TestJSStreamListPaged: ListStreams returns every stream's info though there are more than
// fit in one page of the server's reply (256).
func TestJSStreamListPaged(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const n = 260
		var want []string
		for i := range n {
			name := fmt.Sprintf("S%03d", i)
			want = append(want, name)
			spStream(t, env, jetstream.StreamConfig{Name: name, Storage: jetstream.MemoryStorage})
		}
		l := env.JetStream().ListStreams(waitCtx(t))
		var got []string
		for info := range l.Info() {
			got = append(got, info.Config.Name)
			if len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != info.Config.Name {
				t.Errorf("stream %s: subjects %q", info.Config.Name, info.Config.Subjects)
			}
		}
		if err := l.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("listed %d streams, want %d: %q", len(got), len(want), got)
		}
		if names := spStreamNames(t, env); len(names) != n {
			t.Errorf("StreamNames: %d names, want %d", len(names), n)
		}
	})
}

// TestJSStreamInfoSubjects: with a subject filter, the info's state counts messages per
// matching subject; without one it has no subjects map.
func TestJSStreamInfoSubjects(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		for _, subj := range []string{"s.a.1", "s.a.1", "s.a.2", "s.b.1", "s.a.1", "s.c"} {
			spPub(t, env, subj, "x")
		}
		rows := []struct {
			filter string
			want   map[string]uint64
		}{
			{"", nil},
			{">", map[string]uint64{"s.a.1": 3, "s.a.2": 1, "s.b.1": 1, "s.c": 1}},
			{"s.a.*", map[string]uint64{"s.a.1": 3, "s.a.2": 1}},
			{"s.*.1", map[string]uint64{"s.a.1": 3, "s.b.1": 1}},
			{"s.c", map[string]uint64{"s.c": 1}},
			{"s.d", nil},
		}
		for _, row := range rows {
			var opts []jetstream.StreamInfoOpt
			if row.filter != "" {
				opts = append(opts, jetstream.WithSubjectFilter(row.filter))
			}
			got := spInfo(t, s, opts...).State
			if d := cmp.Diff(row.want, got.Subjects, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("subjects for filter %q (-want +got):\n%s", row.filter, d)
			}
			if got.NumSubjects != 4 || got.Msgs != 6 {
				t.Errorf("filter %q: num_subjects %d messages %d, want 4 and 6", row.filter, got.NumSubjects, got.Msgs)
			}
		}
	})
}

// TestJSStreamInfoDeletedDetails: with deleted details the info lists the deleted sequences
// inside the stream; without, only their number.
func TestJSStreamInfoDeletedDetails(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPubN(t, env, "S", "m", 6)
		for _, n := range []uint64{2, 4, 5} {
			if err := s.DeleteMsg(waitCtx(t), n); err != nil {
				t.Fatal(err)
			}
		}
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 6, NumSubjects: 1, NumDeleted: 3})
		spState(t, s, jetstream.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 6, NumSubjects: 1, NumDeleted: 3, Deleted: []uint64{2, 4, 5}},
			jetstream.WithDeletedDetails(true))
	})
}

// spDeleteErrors are the server's errors for deleting sequence 2, deleted already, and 9,
// past the end, of a stream of 4.
var spDeleteErrors = map[jetstream.StorageType]map[uint64]string{
	jetstream.FileStorage: {
		2: "nats: API error: code=400 err_code=10043 description=sequence 2 not found",
		9: "nats: API error: code=500 err_code=10057 description=stream store EOF",
	},
	jetstream.MemoryStorage: {
		2: "nats: API error: code=400 err_code=10043 description=sequence 2 not found",
		9: "nats: API error: code=400 err_code=10043 description=sequence 9 not found",
	},
}
