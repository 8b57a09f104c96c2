package conformance

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's expiry scenarios: stream max age, per-message TTL, subject delete markers and
// their TTL, Key-Value key and bucket TTLs, and a watcher idle for hours. Removal from a stream
// is not announced, so these scenarios poll the stream's state (see until); what a watcher or
// consumer receives they wait for.

// until polls cond until it holds, and fails if it does not within tm.within(due) and one poll
// more. It polls a hundred times per due (at most every 10 ms), so that in the bubble an hour's
// expiry takes a hundred requests, not hundreds of thousands. It returns how long it waited.
func (tm timing) until(t *testing.T, what string, due time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	every := max(due/100, 10*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	limit := tm.within(due + every)
	deadline := time.After(limit)
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("waited %v for %s", limit, what)
		case <-tick.C:
		}
	}
	return time.Since(start)
}

// streamState is the stream's state, failing the test on an error.
func streamState(t *testing.T, s jetstream.Stream) jetstream.StreamState {
	t.Helper()
	info, err := s.Info(waitCtx(t))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State
}

// watchWithin is the watcher's next entry, which must come within d and not be the nil marker.
func watchWithin(t *testing.T, w jetstream.KeyWatcher, d time.Duration) kvEntry {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok {
			t.Fatal("watcher updates closed")
		}
		if e == nil {
			t.Fatal("got the nil marker, want a live entry")
		}
		en := kvOf(e)
		en.Delta = 0 // says how fast the test ran (see kvTake)
		return en
	case <-time.After(d):
		t.Fatalf("no watcher update within %v", d)
		return kvEntry{}
	}
}

// watchLong starts a watcher that lives until the end of the test (kvWatch's lives patience: the
// watcher ends with the context it was made with), stopped then.
func watchLong(t *testing.T, kv jetstream.KeyValue, keys []string, opts ...jetstream.WatchOpt) jetstream.KeyWatcher {
	t.Helper()
	w, err := kv.WatchFiltered(t.Context(), keys, opts...)
	if err != nil {
		t.Fatalf("watch %v: %v", keys, err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	return w
}

// TestTimedStreamMaxAge: a stream's messages are removed once they are max age old, not before;
// a message published later is still there then.
func TestTimedStreamMaxAge(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		age := tm.d(time.Hour, time.Second)
		s := spStream(t, env, jetstream.StreamConfig{Name: "AGE", Subjects: []string{"age.>"}, MaxAge: age})
		start := time.Now()
		pushPublish(t, env, "age.old", "old")
		// Nothing to wait for: half the max age passes before the next message.
		tm.pass(age / 2)
		pushPublish(t, env, "age.young", "young")
		tm.until(t, "the old message to age out", age/2, func() bool { return streamState(t, s).Msgs == 1 })
		atLeast(t, "the old message aged out", time.Since(start), age)
		if _, err := s.GetMsg(waitCtx(t), 1); err == nil {
			t.Error("the aged-out message is still there")
		}
		if m, err := s.GetMsg(waitCtx(t), 2); err != nil || string(m.Data) != "young" {
			t.Errorf("the younger message: %v, %v", m, err)
		}
		tm.until(t, "the young message to age out", age/2, func() bool { return streamState(t, s).Msgs == 0 })
		atLeast(t, "the young message aged out", time.Since(start), age/2+age)
	})
}

// TestTimedMsgTTL: a message published with a TTL (Nats-TTL) in a stream that allows it is
// removed once the TTL has passed, not before; a message without one stays.
func TestTimedMsgTTL(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl := tm.d(30*time.Minute, time.Second)
		s := spStream(t, env, jetstream.StreamConfig{Name: "TTL", Subjects: []string{"ttl.>"}, AllowMsgTTL: true})
		start := time.Now()
		if _, err := env.JetStream().Publish(waitCtx(t), "ttl.short", []byte("short"), jetstream.WithMsgTTL(ttl)); err != nil {
			t.Fatal(err)
		}
		pushPublish(t, env, "ttl.kept", "kept")
		if h := tsStoredHeader(t, s, 1); h.Get("Nats-TTL") == "" {
			t.Errorf("the stored message has no Nats-TTL: %v", h)
		}
		tm.until(t, "the message to expire", ttl, func() bool { return streamState(t, s).Msgs == 1 })
		atLeast(t, "the message expired", time.Since(start), ttl)
		_, err := s.GetMsg(waitCtx(t), 1)
		wantIs(t, err, jetstream.ErrMsgNotFound, "nats: API error: code=404 err_code=10037 description=message not found")
		if m, err := s.GetMsg(waitCtx(t), 2); err != nil || string(m.Data) != "kept" {
			t.Errorf("the message without a TTL: %v, %v", m, err)
		}
	})
}

// TestTimedSubjectDeleteMarker: in a stream with subject delete markers, a message aged out by
// max age is replaced by a marker (Nats-Marker-Reason: MaxAge, Nats-TTL the marker TTL), which a
// consumer receives no earlier than max age after the message; the marker is removed in turn
// once its TTL has passed.
func TestTimedSubjectDeleteMarker(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		age, markerTTL := tm.d(time.Hour, time.Second), tm.d(10*time.Minute, time.Second)
		s := tsMarkerStream(t, env, age, markerTTL)
		c, err := env.JetStream().OrderedConsumer(waitCtx(t), "MARK", jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		_, ch := orderedConsume(t, c)
		start := time.Now()
		spPub(t, env, "m.a", "old")
		kvDiff(t, "the message", []string{"m.a=old"}, orderedPairs(pushTake(t, ch, 1)))
		marker := takeWithin(t, ch, 1, tm.within(age))[0]
		tm.due(t, "the marker", time.Since(start), age)
		want := nats.Header{"Nats-Marker-Reason": {"MaxAge"}, "Nats-TTL": {markerTTL.String()}, "Nats-Rollup": {"sub"}}
		kvDiff(t, "marker headers", want, markerHeader(marker.Headers()))
		if marker.Subject() != "m.a" || len(marker.Data()) != 0 {
			t.Errorf("marker on %q with %q, want on m.a and empty", marker.Subject(), marker.Data())
		}
		tm.until(t, "the marker to expire", markerTTL, func() bool { return streamState(t, s).Msgs == 0 })
		atLeast(t, "the marker expired", time.Since(start), age+markerTTL)
		if st := streamState(t, s); st.LastSeq != 2 {
			t.Errorf("after the marker expired: last sequence %d, want 2 (no marker for a marker)", st.LastSeq)
		}
	})
}

// markerHeader is h without what a delivery adds to the stored headers.
func markerHeader(h nats.Header) nats.Header {
	out := nats.Header{}
	for k, v := range h {
		if k == "Nats-Marker-Reason" || k == "Nats-TTL" || k == "Nats-Rollup" {
			out[k] = v
		}
	}
	return out
}

// TestTimedKVKeyTTL: a key created with a TTL in a bucket with limit markers is replaced, once
// the TTL has passed and not before, by a MaxAge marker a watcher sees as a purge; Get then finds
// no key; the marker is removed once LimitMarkerTTL has passed, and the bucket goes on.
func TestTimedKVKeyTTL(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl, markerTTL := tm.d(time.Hour, time.Second), tm.d(15*time.Minute, time.Second)
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "ttl", LimitMarkerTTL: markerTTL})
		w := watchLong(t, kv, nil, jetstream.UpdatesOnly())
		start := time.Now()
		if _, err := kv.Create(waitCtx(t), "k", []byte("v"), jetstream.KeyTTL(ttl)); err != nil {
			t.Fatalf("create with TTL: %v", err)
		}
		kvPut(t, kv, "stays", "s")
		kvDiff(t, "created", []kvEntry{{Key: "k", Value: "v", Op: jetstream.KeyValuePut, Rev: 1}}, []kvEntry{watchWithin(t, w, patience)})
		kvDiff(t, "put", []kvEntry{{Key: "stays", Value: "s", Op: jetstream.KeyValuePut, Rev: 2}}, []kvEntry{watchWithin(t, w, patience)})
		kvDiff(t, "expiry marker", []kvEntry{{Key: "k", Op: jetstream.KeyValuePurge, Rev: 3}}, []kvEntry{watchWithin(t, w, tm.within(ttl))})
		tm.due(t, "the expiry marker", time.Since(start), ttl)
		_, err := kv.Get(waitCtx(t), "k")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		if e, err := kv.Get(waitCtx(t), "stays"); err != nil || string(e.Value()) != "s" {
			t.Errorf("the key without a TTL: %v, %v", e, err)
		}
		s, err := env.JetStream().Stream(waitCtx(t), "KV_ttl")
		if err != nil {
			t.Fatal(err)
		}
		tm.until(t, "the marker to expire", markerTTL, func() bool { return streamState(t, s).Msgs == 1 })
		atLeast(t, "the marker expired", time.Since(start), ttl+markerTTL)
		kvPut(t, kv, "k", "again")
		kvDiff(t, "after the marker expired", []kvEntry{{Key: "k", Value: "again", Op: jetstream.KeyValuePut, Rev: 4}}, []kvEntry{watchWithin(t, w, patience)})
	})
}

// TestTimedKVBucketTTL: a bucket's values expire once its TTL has passed, not before: Get then
// finds no key and the bucket counts no values; a put afterwards takes the next revision.
func TestTimedKVBucketTTL(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl := tm.d(24*time.Hour, time.Second)
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "day", TTL: ttl})
		start := time.Now()
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		tm.until(t, "the values to expire", ttl, func() bool {
			st, err := kv.Status(waitCtx(t))
			return err == nil && st.Values() == 0
		})
		atLeast(t, "the values expired", time.Since(start), ttl)
		_, err := kv.Get(waitCtx(t), "a")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		if rev := kvPut(t, kv, "a", "again"); rev != 3 {
			t.Errorf("revision after expiry = %d, want 3", rev)
		}
	})
}

// TestTimedKVBucketTTLMarkers: in a bucket with a TTL and limit markers, each value that ages
// out is replaced, no earlier than the TTL, by a MaxAge marker a watcher sees as a purge of its
// key; the markers go in turn once LimitMarkerTTL has passed.
func TestTimedKVBucketTTLMarkers(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		ttl, markerTTL := tm.d(2*time.Hour, time.Second), tm.d(30*time.Minute, time.Second)
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "aged", TTL: ttl, LimitMarkerTTL: markerTTL})
		w := watchLong(t, kv, nil, jetstream.UpdatesOnly())
		start := time.Now()
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		kvDiff(t, "puts", []kvEntry{{Key: "a", Value: "1", Op: jetstream.KeyValuePut, Rev: 1}, {Key: "b", Value: "2", Op: jetstream.KeyValuePut, Rev: 2}},
			[]kvEntry{watchWithin(t, w, patience), watchWithin(t, w, patience)})
		markers := []kvEntry{watchWithin(t, w, tm.within(ttl)), watchWithin(t, w, patience)}
		tm.due(t, "the markers", time.Since(start), ttl)
		kvDiff(t, "markers", []kvEntry{{Key: "a", Op: jetstream.KeyValuePurge, Rev: 3}, {Key: "b", Op: jetstream.KeyValuePurge, Rev: 4}}, markers)
		_, err := kv.Get(waitCtx(t), "a")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		s, err := env.JetStream().Stream(waitCtx(t), "KV_aged")
		if err != nil {
			t.Fatal(err)
		}
		tm.until(t, "the markers to expire", markerTTL, func() bool { return streamState(t, s).Msgs == 0 })
		atLeast(t, "the markers expired", time.Since(start), ttl+markerTTL)
		if st := streamState(t, s); st.LastSeq != 4 {
			t.Errorf("after the markers expired: last sequence %d, want 4 (no marker for a marker)", st.LastSeq)
		}
	})
}

// TestTimedKVWatchIdle: a watcher that hears nothing for a long time (hours in the bubble; its
// ordered consumer's heartbeats and the connections' pings go on all the while) still sees the
// next update at once, and only it.
func TestTimedKVWatchIdle(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "idle"})
		kvPut(t, kv, "k", "before")
		w := watchLong(t, kv, []string{"k"})
		kvDiff(t, "initial", []kvEntry{{Key: "k", Value: "before", Op: jetstream.KeyValuePut, Rev: 1}}, kvInitial(t, w))
		// Nothing to wait for: the watcher idles.
		tm.pass(tm.d(3*time.Hour, time.Second))
		kvPut(t, kv, "k", "after")
		kvDiff(t, "after idling", kvEntry{Key: "k", Value: "after", Op: jetstream.KeyValuePut, Rev: 2}, watchWithin(t, w, patience))
		kvPut(t, kv, "other", "x")
		kvPut(t, kv, "k", "last")
		kvDiff(t, "only the watched key", kvEntry{Key: "k", Value: "last", Op: jetstream.KeyValuePut, Rev: 4}, watchWithin(t, w, patience))
	})
}
