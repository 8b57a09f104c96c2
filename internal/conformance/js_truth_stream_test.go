package conformance

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The helpers of these scenarios (stream markers, stream updates, direct gets, deleted details)
// start with "ts".

// tsUntil asks for the stream's state until cond holds, failing the test after patience. The
// asking is paced so that a real server is not flooded while its timers run.
func tsUntil(t *testing.T, s jetstream.Stream, what string, cond func(jetstream.StreamState) bool) jetstream.StreamState {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := s.Info(ctx, jetstream.WithDeletedDetails(true))
		if err == nil && cond(info.State) {
			return info.State
		}
		select {
		case <-ctx.Done():
			if err != nil {
				t.Fatalf("waited %v for %s: %v", patience, what, err)
			}
			t.Fatalf("waited %v for %s; state %+v", patience, what, info.State)
		case <-tick.C:
		}
	}
}

// tsStoredHeader is the header the stream stored with the message at seq, without those a
// direct get adds (a bucket's stream allows direct gets).
func tsStoredHeader(t *testing.T, s jetstream.Stream, seq uint64) nats.Header {
	t.Helper()
	m, err := s.GetMsg(waitCtx(t), seq)
	if err != nil {
		t.Fatalf("get message %d: %v", seq, err)
	}
	for _, k := range []string{"Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp"} {
		delete(m.Header, k)
	}
	return m.Header
}

// tsMarkerStream is a stream that leaves subject delete markers living markerTTL.
func tsMarkerStream(t *testing.T, env *natstest.Env, maxAge, markerTTL time.Duration) jetstream.Stream {
	t.Helper()
	return spStream(t, env, jetstream.StreamConfig{
		Name: "MARK", Subjects: []string{"m.>"}, MaxAge: maxAge,
		AllowMsgTTL: true, AllowRollup: true, SubjectDeleteMarkerTTL: markerTTL,
	})
}

// TestJSTruthMarkerFromMsgTTLExpires: when the last message on a subject passes its Nats-TTL,
// nats-server replaces it with a marker whose headers are exactly Nats-Marker-Reason: MaxAge,
// Nats-TTL (the stream's marker TTL) and Nats-Rollup: sub; when the marker's own TTL passes, the
// marker goes and no new marker takes its place.
func TestJSTruthMarkerFromMsgTTLExpires(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tsMarkerStream(t, env, 0, time.Second)
		spPub(t, env, "m.a", "short", jetstream.WithMsgTTL(time.Second))
		env.FastForward(time.Second)
		tsUntil(t, s, "the marker", func(st jetstream.StreamState) bool { return st.LastSeq == 2 && st.Msgs == 1 })
		want := nats.Header{"Nats-Marker-Reason": {"MaxAge"}, "Nats-TTL": {"1s"}, "Nats-Rollup": {"sub"}}
		if d := cmp.Diff(want, tsStoredHeader(t, s, 2)); d != "" {
			t.Errorf("marker headers (-want +got):\n%s", d)
		}
		env.FastForward(time.Second)
		st := tsUntil(t, s, "the marker to expire", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		if st.LastSeq != 2 || st.FirstSeq != 3 {
			t.Errorf("after the marker expired: first %d last %d, want 3 and 2 (no new marker)", st.FirstSeq, st.LastSeq)
		}
	})
}

// TestJSTruthMarkerFromMaxAgeExpires: a message aged out by MaxAge leaves a marker (Nats-TTL as
// the stream's marker TTL, in whole seconds); the marker ages out by MaxAge in turn, and
// nats-server leaves no marker for a marker.
func TestJSTruthMarkerFromMaxAgeExpires(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tsMarkerStream(t, env, time.Second, time.Hour)
		spPub(t, env, "m.a", "old")
		env.FastForward(time.Second)
		tsUntil(t, s, "the marker", func(st jetstream.StreamState) bool { return st.LastSeq == 2 && st.Msgs == 1 })
		want := nats.Header{"Nats-Marker-Reason": {"MaxAge"}, "Nats-TTL": {"1h0m0s"}, "Nats-Rollup": {"sub"}}
		if d := cmp.Diff(want, tsStoredHeader(t, s, 2)); d != "" {
			t.Errorf("marker headers (-want +got):\n%s", d)
		}
		env.FastForward(time.Second)
		st := tsUntil(t, s, "the marker to age out", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		if st.LastSeq != 2 {
			t.Errorf("after the marker aged out: last %d, want 2 (no new marker)", st.LastSeq)
		}
	})
}

// TestJSTruthKVPurgeMarkerExpires: a KV purge with PurgeTTL stores a purge marker (KV-Operation:
// PURGE, Nats-Rollup: sub, Nats-TTL); when its TTL passes nats-server removes it and writes
// nothing new: the bucket's stream is empty and a watcher sees nothing more.
func TestJSTruthKVPurgeMarkerExpires(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "pm", LimitMarkerTTL: time.Second})
		kvPut(t, kv, "k", "v")
		if err := kv.Purge(waitCtx(t), "k", jetstream.PurgeTTL(time.Second)); err != nil {
			t.Fatalf("purge: %v", err)
		}
		s, err := env.JetStream().Stream(waitCtx(t), "KV_pm")
		if err != nil {
			t.Fatal(err)
		}
		want := nats.Header{"KV-Operation": {"PURGE"}, "Nats-Rollup": {"sub"}, "Nats-TTL": {"1s"}}
		if d := cmp.Diff(want, tsStoredHeader(t, s, 2)); d != "" {
			t.Errorf("purge marker headers (-want +got):\n%s", d)
		}
		env.FastForward(time.Second)
		st := tsUntil(t, s, "the purge marker to expire", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		if st.LastSeq != 2 {
			t.Errorf("after the purge marker expired: last %d, want 2 (no new marker)", st.LastSeq)
		}
		if _, err := kv.Get(waitCtx(t), "k"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("get after the marker expired: %v, want key not found", err)
		}
	})
}

// TestJSTruthKVKeyTTLMarkerExpires: a key created with a TTL in a bucket with limit markers is
// replaced at expiry by a MaxAge marker that lives LimitMarkerTTL; nats-server then removes the
// marker too, and a watcher sees one purge and nothing after it.
func TestJSTruthKVKeyTTLMarkerExpires(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "km", LimitMarkerTTL: time.Second})
		w := kvWatch(t, kv, nil, jetstream.UpdatesOnly())
		if _, err := kv.Create(waitCtx(t), "k", []byte("v"), jetstream.KeyTTL(time.Second)); err != nil {
			t.Fatalf("create with TTL: %v", err)
		}
		kvDiff(t, "create", []kvEntry{{Key: "k", Value: "v", Op: kvPutOp, Rev: 1}}, kvTake(t, w, 1))
		env.FastForward(time.Second)
		kvDiff(t, "expiry marker", []kvEntry{{Key: "k", Op: kvPurgeOp, Rev: 2}}, kvTake(t, w, 1))
		s, err := env.JetStream().Stream(waitCtx(t), "KV_km")
		if err != nil {
			t.Fatal(err)
		}
		env.FastForward(time.Second)
		st := tsUntil(t, s, "the marker to expire", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		if st.LastSeq != 2 {
			t.Errorf("after the marker expired: last %d, want 2 (no new marker)", st.LastSeq)
		}
		kvPut(t, kv, "after", "x")
		kvDiff(t, "after the marker expired", []kvEntry{{Key: "after", Value: "x", Op: kvPutOp, Rev: 3}}, kvTake(t, w, 1))
	})
}

// tsPublishers are the goroutines that publish during the updates, each on its own connection.
const tsPublishers = 4

// tsGapRun calls publish on tsPublishers goroutines while update runs 200 times, and reports how
// many publishes got no responders, and the first other error.
func tsGapRun(t *testing.T, env *natstest.Env, publish func(nc *nats.Conn) func() error, update func(i int) error) (int, error) {
	t.Helper()
	var (
		mu           sync.Mutex
		wg           sync.WaitGroup
		noResponders int
		other        error
	)
	done := make(chan struct{})
	for range tsPublishers {
		pub := publish(env.Connect())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				err := pub()
				mu.Lock()
				switch {
				case err == nil:
				case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoStreamResponse):
					noResponders++
				case other == nil:
					other = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 200 {
		if err := update(i); err != nil {
			t.Errorf("update %d: %v", i, err)
			break
		}
	}
	close(done)
	wg.Wait()
	return noResponders, other
}

// TestJSTruthUpdateSubjectsNoGap: while a stream's subjects are updated 200 times between [a, b]
// and [a, c], publishes on a (always in the stream) with the client's retries off are all
// stored: nats-server never leaves a moment with no responder for a subject the stream keeps.
func TestJSTruthUpdateSubjectsNoGap(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.StreamConfig{Name: "GAP", Subjects: []string{"gap.a", "gap.b"}, Storage: jetstream.MemoryStorage}
		spStream(t, env, cfg)
		publish := func(nc *nats.Conn) func() error {
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := js.Publish(waitCtx(t), "gap.a", []byte("x"), jetstream.WithRetryAttempts(0))
				return err
			}
		}
		update := func(i int) error {
			cfg.Subjects = []string{"gap.a", []string{"gap.c", "gap.b"}[i%2]}
			_, err := env.JetStream().UpdateStream(waitCtx(t), cfg)
			return err
		}
		if n, err := tsGapRun(t, env, publish, update); n != 0 || err != nil {
			t.Errorf("during 200 subject updates: %d publishes got no responders, other error %v", n, err)
		}
	})
}

// TestJSTruthUpdateSubjectsLegacyNoGap is the same through the legacy API, RetryAttempts(0).
func TestJSTruthUpdateSubjectsLegacyNoGap(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js, err := env.Conn().JetStream()
		if err != nil {
			t.Fatal(err)
		}
		cfg := &nats.StreamConfig{Name: "LGAP", Subjects: []string{"lgap.a", "lgap.b"}, Storage: nats.MemoryStorage}
		if _, err := js.AddStream(cfg); err != nil {
			t.Fatal(err)
		}
		publish := func(nc *nats.Conn) func() error {
			pjs, err := nc.JetStream()
			if err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := pjs.Publish("lgap.a", []byte("x"), nats.RetryAttempts(0))
				return err
			}
		}
		update := func(i int) error {
			cfg.Subjects = []string{"lgap.a", []string{"lgap.c", "lgap.b"}[i%2]}
			_, err := js.UpdateStream(cfg)
			return err
		}
		if n, err := tsGapRun(t, env, publish, update); n != 0 || err != nil {
			t.Errorf("during 200 subject updates: %d publishes got no responders, other error %v", n, err)
		}
	})
}

// tsDeleted checks the stream's deleted details (count and list) and its first and last.
func tsDeleted(t *testing.T, s jetstream.Stream, first, last uint64, deleted []uint64) {
	t.Helper()
	st := spInfo(t, s, jetstream.WithDeletedDetails(true)).State
	got := struct {
		First, Last uint64
		NumDeleted  int
		Deleted     []uint64
	}{st.FirstSeq, st.LastSeq, st.NumDeleted, st.Deleted}
	want := got
	want.First, want.Last, want.NumDeleted, want.Deleted = first, last, len(deleted), deleted
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("deleted details (-want +got):\n%s", d)
	}
}

// tsDelete deletes the messages at seqs.
func tsDelete(t *testing.T, s jetstream.Stream, seqs ...uint64) {
	t.Helper()
	for _, seq := range seqs {
		if err := s.DeleteMsg(waitCtx(t), seq); err != nil {
			t.Fatalf("delete %d: %v", seq, err)
		}
	}
}

// TestJSTruthDeletedLastMessage: deleting the stream's last message leaves the last sequence
// where it was, and nats-server lists that sequence as deleted (also to the legacy API).
func TestJSTruthDeletedLastMessage(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "DEL", Subjects: []string{"d.>"}})
		spPubN(t, env, "d.x", "m", 3)
		tsDelete(t, s, 3)
		tsDeleted(t, s, 1, 3, []uint64{3})
		js, err := env.Conn().JetStream()
		if err != nil {
			t.Fatal(err)
		}
		info, err := js.StreamInfo("DEL", &nats.StreamInfoRequest{DeletedDetails: true})
		if err != nil {
			t.Fatal(err)
		}
		if info.State.NumDeleted != 1 || !cmp.Equal(info.State.Deleted, []uint64{3}) {
			t.Errorf("legacy stream info: %d deleted %v, want 1 [3]", info.State.NumDeleted, info.State.Deleted)
		}
	})
}

// TestJSTruthDeletedInteriorAndTail: deletes inside the stream and at its tail are all listed.
func TestJSTruthDeletedInteriorAndTail(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "DEL", Subjects: []string{"d.>"}, Storage: jetstream.MemoryStorage})
		spPubN(t, env, "d.x", "m", 6)
		tsDelete(t, s, 2, 4, 5, 6)
		tsDeleted(t, s, 1, 6, []uint64{2, 4, 5, 6})
	})
}

// TestJSTruthDeletedPurgeSubjectTail: a purge of one subject that held the newest messages
// leaves them listed as deleted, up to the last sequence.
func TestJSTruthDeletedPurgeSubjectTail(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "DEL", Subjects: []string{"d.>"}})
		for _, subj := range []string{"d.x", "d.y", "d.x", "d.y", "d.y"} {
			spPub(t, env, subj, "m")
		}
		if err := s.Purge(waitCtx(t), jetstream.WithPurgeSubject("d.y")); err != nil {
			t.Fatal(err)
		}
		tsDeleted(t, s, 1, 5, []uint64{2, 4, 5})
	})
}

// TestJSTruthDeletedPerSubjectLimitTail: MaxMsgsPerSubject removes an older message on the
// newest subject's behalf, and a delete of the newest message joins it in the list.
func TestJSTruthDeletedPerSubjectLimitTail(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "DEL", Subjects: []string{"d.>"}, MaxMsgsPerSubject: 1})
		for _, subj := range []string{"d.a", "d.b", "d.a", "d.c", "d.b"} {
			spPub(t, env, subj, "m")
		}
		tsDelete(t, s, 5)
		tsDeleted(t, s, 3, 5, []uint64{5})
	})
}

// TestJSTruthDeletedTTLTail: a message at the stream's tail that passes its TTL is listed as
// deleted, below the last sequence it leaves in place.
func TestJSTruthDeletedTTLTail(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "DEL", Subjects: []string{"d.>"}, AllowMsgTTL: true})
		spPub(t, env, "d.x", "stays")
		spPub(t, env, "d.y", "goes", jetstream.WithMsgTTL(time.Second))
		env.FastForward(time.Second)
		tsUntil(t, s, "the TTL to pass", func(st jetstream.StreamState) bool { return st.Msgs == 1 })
		tsDeleted(t, s, 1, 2, []uint64{2})
	})
}

// TestJSTruthMarkerStreamConfig: a stream asking for subject delete markers without message
// TTLs or rollups is accepted by nats-server (not pedantic), which turns both on, since every
// marker carries Nats-TTL and Nats-Rollup: sub; its markers then come as on any other stream.
func TestJSTruthMarkerStreamConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "MCFG", Subjects: []string{"mc.>"}, SubjectDeleteMarkerTTL: time.Second, MaxAge: time.Second})
		cfg := spInfo(t, s).Config
		if !cfg.AllowMsgTTL || !cfg.AllowRollup || cfg.DenyPurge {
			t.Errorf("config: allow msg TTL %v, allow rollup %v, deny purge %v; want true, true, false", cfg.AllowMsgTTL, cfg.AllowRollup, cfg.DenyPurge)
		}
		spPub(t, env, "mc.a", "old")
		env.FastForward(time.Second)
		tsUntil(t, s, "the marker", func(st jetstream.StreamState) bool { return st.LastSeq == 2 && st.Msgs == 1 })
		want := nats.Header{"Nats-Marker-Reason": {"MaxAge"}, "Nats-TTL": {"1s"}, "Nats-Rollup": {"sub"}}
		if d := cmp.Diff(want, tsStoredHeader(t, s, 2)); d != "" {
			t.Errorf("marker headers (-want +got):\n%s", d)
		}
	})
}

// TestJSTruthMaxAgeSparesTTLNever: a message published with Nats-TTL: never outlives the
// stream's MaxAge on nats-server, while the messages around it age out.
func TestJSTruthMaxAgeSparesTTLNever(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "NEVER", Subjects: []string{"nv.>"}, MaxAge: time.Second, AllowMsgTTL: true})
		spPub(t, env, "nv.a", "goes")
		m := &nats.Msg{Subject: "nv.b", Data: []byte("stays"), Header: nats.Header{"Nats-TTL": {"never"}}}
		if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
			t.Fatalf("publish with TTL never: %v", err)
		}
		spPub(t, env, "nv.c", "goes too")
		env.FastForward(time.Second)
		st := tsUntil(t, s, "MaxAge to pass", func(st jetstream.StreamState) bool { return st.Msgs == 1 })
		if st.FirstSeq != 2 || st.LastSeq != 3 {
			t.Errorf("after MaxAge: first %d last %d, want 2 and 3 (the message that never expires)", st.FirstSeq, st.LastSeq)
		}
	})
}

// TestJSTruthMsgTTLRaisedToMarkerTTL: on a stream with markers, nats-server raises a message TTL
// below the marker TTL to it (so that no marker is missed), rewriting the stored Nats-TTL in
// whole seconds; the message outlives its own TTL and then makes way for a marker.
func TestJSTruthMsgTTLRaisedToMarkerTTL(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := tsMarkerStream(t, env, 0, 2*time.Second)
		spPub(t, env, "m.a", "short", jetstream.WithMsgTTL(time.Second), jetstream.WithMsgID("id1"))
		want := nats.Header{"Nats-Msg-Id": {"id1"}, "Nats-TTL": {"2"}}
		if d := cmp.Diff(want, tsStoredHeader(t, s, 1)); d != "" {
			t.Errorf("stored headers (-want +got):\n%s", d)
		}
		env.FastForward(time.Second)
		if st := spInfo(t, s).State; st.Msgs != 1 || st.LastSeq != 1 {
			t.Errorf("after the message's own TTL: %d messages, last %d; want 1 and 1", st.Msgs, st.LastSeq)
		}
		env.FastForward(time.Second)
		tsUntil(t, s, "the marker", func(st jetstream.StreamState) bool { return st.LastSeq == 2 && st.Msgs == 1 })
	})
}

// TestJSTruthKVPurgeMarkerMaxAge: in a bucket whose entries age out (TTL) and that leaves limit
// markers, a purge marker without a TTL of its own ages out too; nats-server leaves no marker for
// it, so the bucket's stream ends up empty.
func TestJSTruthKVPurgeMarkerMaxAge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "pa", TTL: time.Second, LimitMarkerTTL: time.Second})
		kvPut(t, kv, "k", "v")
		if err := kv.Purge(waitCtx(t), "k"); err != nil {
			t.Fatalf("purge: %v", err)
		}
		s, err := env.JetStream().Stream(waitCtx(t), "KV_pa")
		if err != nil {
			t.Fatal(err)
		}
		want := nats.Header{"KV-Operation": {"PURGE"}, "Nats-Rollup": {"sub"}}
		if d := cmp.Diff(want, tsStoredHeader(t, s, 2)); d != "" {
			t.Errorf("purge marker headers (-want +got):\n%s", d)
		}
		env.FastForward(time.Second)
		st := tsUntil(t, s, "the purge marker to age out", func(st jetstream.StreamState) bool { return st.Msgs == 0 })
		if st.LastSeq != 2 {
			t.Errorf("after the purge marker aged out: last %d, want 2 (no new marker)", st.LastSeq)
		}
	})
}

// TestJSTruthMsgTTLKeptWithOnePerSubject: a stream that keeps one message per subject is exempt
// from raising message TTLs to the marker TTL on nats-server: the stored Nats-TTL is the one
// published.
func TestJSTruthMsgTTLKeptWithOnePerSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{
			Name: "ONE", Subjects: []string{"one.>"}, MaxMsgsPerSubject: 1,
			AllowMsgTTL: true, AllowRollup: true, SubjectDeleteMarkerTTL: 5 * time.Second,
		})
		spPub(t, env, "one.a", "v", jetstream.WithMsgTTL(time.Second))
		if d := cmp.Diff(nats.Header{"Nats-TTL": {"1s"}}, tsStoredHeader(t, s, 1)); d != "" {
			t.Errorf("stored headers (-want +got):\n%s", d)
		}
	})
}
