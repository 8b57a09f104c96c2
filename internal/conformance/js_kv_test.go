package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// kvEntry is what a scenario compares of a jetstream.KeyValueEntry: the server decides each
// field (the revision is the stream sequence, the delta the ack token's pending count).
type kvEntry struct {
	Key   string
	Value string
	Op    jetstream.KeyValueOp
	Rev   uint64
	Delta uint64
}

func kvOf(e jetstream.KeyValueEntry) kvEntry {
	return kvEntry{Key: e.Key(), Value: string(e.Value()), Op: e.Operation(), Rev: e.Revision(), Delta: e.Delta()}
}

// kvEntries is kvOf of each entry.
func kvEntries(es []jetstream.KeyValueEntry) []kvEntry {
	out := make([]kvEntry, len(es))
	for i, e := range es {
		out[i] = kvOf(e)
	}
	return out
}

// kvBucket creates a bucket with cfg on the environment's JetStream.
func kvBucket(t *testing.T, env *natstest.Env, cfg jetstream.KeyValueConfig) jetstream.KeyValue {
	t.Helper()
	kv, err := env.JetStream().CreateKeyValue(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("create bucket %q: %v", cfg.Bucket, err)
	}
	return kv
}

// kvPut puts key=value and returns the revision.
func kvPut(t *testing.T, kv jetstream.KeyValue, key, value string) uint64 {
	t.Helper()
	rev, err := kv.PutString(waitCtx(t), key, value)
	if err != nil {
		t.Fatalf("put %s=%s: %v", key, value, err)
	}
	return rev
}

// kvDelete deletes key.
func kvDelete(t *testing.T, kv jetstream.KeyValue, key string) {
	t.Helper()
	if err := kv.Delete(waitCtx(t), key); err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
}

// kvWatch starts a watcher stopped at the end of the test.
func kvWatch(t *testing.T, kv jetstream.KeyValue, keys []string, opts ...jetstream.WatchOpt) jetstream.KeyWatcher {
	t.Helper()
	w, err := kv.WatchFiltered(waitCtx(t), keys, opts...)
	if err != nil {
		t.Fatalf("watch %v: %v", keys, err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	return w
}

// kvNextUpdate is the watcher's next entry (nil for the initial-values marker), which must come
// within patience.
func kvNextUpdate(t *testing.T, w jetstream.KeyWatcher) jetstream.KeyValueEntry {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok {
			t.Fatal("watcher updates closed")
		}
		return e
	case <-time.After(patience):
		t.Fatalf("no watcher update within %v", patience)
		return nil
	}
}

// kvInitial collects the watcher's entries up to the nil marker that ends the initial values.
func kvInitial(t *testing.T, w jetstream.KeyWatcher) []kvEntry {
	t.Helper()
	var got []kvEntry
	for {
		e := kvNextUpdate(t, w)
		if e == nil {
			return got
		}
		got = append(got, kvOf(e))
	}
}

// kvTake takes the watcher's next n entries, none of which may be the nil marker.
func kvTake(t *testing.T, w jetstream.KeyWatcher, n int) []kvEntry {
	t.Helper()
	var got []kvEntry
	for range n {
		e := kvNextUpdate(t, w)
		if e == nil {
			t.Fatalf("got the nil marker after %d live entries %v", len(got), got)
		}
		en := kvOf(e)
		// a live entry's delta counts the updates stored since: the real server may already have
		// the next one when it sends this one, so it says how fast the test ran, not what the
		// server does
		en.Delta = 0
		got = append(got, en)
	}
	return got
}

// kvNoUpdate fails if the watcher holds an entry. Callers first make a later update arrive.
func kvNoUpdate(t *testing.T, w jetstream.KeyWatcher) {
	t.Helper()
	select {
	case e := <-w.Updates():
		if e == nil {
			t.Error("unexpected nil marker")
		} else {
			t.Errorf("unexpected entry %+v", kvOf(e))
		}
	default:
	}
}

// kvDiff fails with a (-want +got) diff unless got equals want.
func kvDiff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// kvEventually waits, polling, until cond holds; fails after patience. It waits for a
// condition, never for time to pass.
func kvEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(patience)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("waited %v for %s", patience, what)
		case <-tick.C:
		}
	}
}

// kvKeys drains a KeyLister.
func kvKeys(t *testing.T, l jetstream.KeyLister) []string {
	t.Helper()
	var keys []string
	deadline := time.After(patience)
	for {
		select {
		case k, ok := <-l.Keys():
			if !ok {
				return keys
			}
			keys = append(keys, k)
		case <-deadline:
			t.Fatalf("key lister not done within %v, have %v", patience, keys)
		}
	}
}

const (
	kvPutOp   = jetstream.KeyValuePut
	kvDelOp   = jetstream.KeyValueDelete
	kvPurgeOp = jetstream.KeyValuePurge
)

// TestKVCreateBucketIdempotent: creating a bucket again with the same configuration succeeds
// (the server's STREAM.CREATE is idempotent) and keeps the values already stored.
func TestKVCreateBucketIdempotent(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.KeyValueConfig{Bucket: "cfg", History: 5}
		kv := kvBucket(t, env, cfg)
		kvPut(t, kv, "a", "1")
		again, err := env.JetStream().CreateKeyValue(waitCtx(t), cfg)
		if err != nil {
			t.Fatalf("second create: %v", err)
		}
		if again.Bucket() != "cfg" {
			t.Errorf("bucket = %q, want cfg", again.Bucket())
		}
		e, err := again.Get(waitCtx(t), "a")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "entry", kvEntry{Key: "a", Value: "1", Op: kvPutOp, Rev: 1}, kvOf(e))
	})
}

// TestKVCreateBucketConflict: creating an existing bucket with another configuration fails with
// ErrBucketExists, the server having refused the stream (10058, stream name already in use).
func TestKVCreateBucketConflict(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "cfg", History: 5})
		_, err := env.JetStream().CreateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "cfg", History: 2})
		if !errors.Is(err, jetstream.ErrBucketExists) || !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			t.Errorf("error = %v, want ErrBucketExists and ErrStreamNameAlreadyInUse", err)
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10058 || apiErr.Code != 400 {
			t.Errorf("API error = %+v, want code 400 err_code 10058", apiErr)
		}
	})
}

// TestKVBucketNotFound: opening a bucket that does not exist fails with ErrBucketNotFound
// (STREAM.INFO answered 10059), as does deleting it.
func TestKVBucketNotFound(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := env.JetStream().KeyValue(waitCtx(t), "missing")
		wantIs(t, err, jetstream.ErrBucketNotFound, "nats: bucket not found")
		err = env.JetStream().DeleteKeyValue(waitCtx(t), "missing")
		if !errors.Is(err, jetstream.ErrBucketNotFound) || !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete: error = %v, want ErrBucketNotFound and ErrStreamNotFound", err)
		}
	})
}

// TestKVPutGet: each Put's revision is the stream sequence, shared by every key of the bucket;
// Get returns the latest value of a key with its revision and a put operation.
func TestKVPutGet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "pg"})
		var revs []uint64
		for _, kvp := range [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c.d", "4"}} {
			revs = append(revs, kvPut(t, kv, kvp[0], kvp[1]))
		}
		kvDiff(t, "revisions", []uint64{1, 2, 3, 4}, revs)
		var got []kvEntry
		for _, k := range []string{"a", "b", "c.d"} {
			e, err := kv.Get(waitCtx(t), k)
			if err != nil {
				t.Fatalf("get %s: %v", k, err)
			}
			if e.Bucket() != "pg" {
				t.Errorf("bucket = %q, want pg", e.Bucket())
			}
			if e.Created().IsZero() {
				t.Errorf("%s: created time is zero", k)
			}
			got = append(got, kvOf(e))
		}
		kvDiff(t, "entries", []kvEntry{
			{Key: "a", Value: "3", Op: kvPutOp, Rev: 3},
			{Key: "b", Value: "2", Op: kvPutOp, Rev: 2},
			{Key: "c.d", Value: "4", Op: kvPutOp, Rev: 4},
		}, got)
	})
}

// TestKVGetMissingKey: Get of a key never written fails with ErrKeyNotFound (DIRECT.GET 404).
func TestKVGetMissingKey(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "gm"})
		kvPut(t, kv, "other", "x")
		_, err := kv.Get(waitCtx(t), "nope")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
	})
}

// TestKVCreateExistingKey: Create of a key that has a value fails with ErrKeyExists: the server
// refuses the publish expecting last subject sequence 0 with 10071, naming the key's revision.
func TestKVCreateExistingKey(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "ce"})
		kvPut(t, kv, "x", "0")
		rev, err := kv.Create(waitCtx(t), "k", []byte("v1"))
		if err != nil || rev != 2 {
			t.Fatalf("first create = %d, %v, want 2, nil", rev, err)
		}
		_, err = kv.Create(waitCtx(t), "k", []byte("v2"))
		wantIs(t, err, jetstream.ErrKeyExists, "nats: nats: API error: code=400 err_code=10071 description=wrong last sequence: 2: key exists")
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10071 || apiErr.Code != 400 {
			t.Errorf("API error = %+v, want code 400 err_code 10071", apiErr)
		}
		e, err := kv.Get(waitCtx(t), "k")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "entry", kvEntry{Key: "k", Value: "v1", Op: kvPutOp, Rev: 2}, kvOf(e))
	})
}

// TestKVCreateAfterDelete: after Delete or Purge, Create succeeds: the client sees the delete
// marker and publishes again expecting the marker's revision.
func TestKVCreateAfterDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "cad", History: 10})
		kvPut(t, kv, "d", "1")
		kvDelete(t, kv, "d")
		rev, err := kv.Create(waitCtx(t), "d", []byte("2"))
		if err != nil || rev != 3 {
			t.Fatalf("create after delete = %d, %v, want 3, nil", rev, err)
		}
		if err := kv.Purge(waitCtx(t), "d"); err != nil {
			t.Fatal(err)
		}
		rev, err = kv.Create(waitCtx(t), "d", []byte("3"))
		if err != nil || rev != 5 {
			t.Fatalf("create after purge = %d, %v, want 5, nil", rev, err)
		}
		h, err := kv.History(waitCtx(t), "d")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "history", []kvEntry{
			{Key: "d", Op: kvPurgeOp, Rev: 4, Delta: 1},
			{Key: "d", Value: "3", Op: kvPutOp, Rev: 5},
		}, kvEntries(h))
	})
}

// TestKVUpdate: Update succeeds only with the key's latest revision; otherwise the server
// refuses it (10071, naming the latest revision) and the client reports ErrKeyRevisionMismatch.
func TestKVUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "up"})
		r1 := kvPut(t, kv, "k", "1")
		kvPut(t, kv, "other", "x")
		r2, err := kv.Update(waitCtx(t), "k", []byte("2"), r1)
		if err != nil || r2 != 3 {
			t.Fatalf("update = %d, %v, want 3, nil", r2, err)
		}
		_, err = kv.Update(waitCtx(t), "k", []byte("stale"), r1)
		wantIs(t, err, jetstream.ErrKeyRevisionMismatch, "nats: nats: API error: code=400 err_code=10071 description=wrong last sequence: 3: nats: key revision mismatch")
		_, err = kv.Update(waitCtx(t), "k", []byte("future"), 99)
		wantIs(t, err, jetstream.ErrKeyRevisionMismatch, "nats: nats: API error: code=400 err_code=10071 description=wrong last sequence: 3: nats: key revision mismatch")
		e, err := kv.Get(waitCtx(t), "k")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "entry", kvEntry{Key: "k", Value: "2", Op: kvPutOp, Rev: 3}, kvOf(e))
	})
}

// TestKVUpdateNewKeyRevisionZero: Update with revision 0 of a key with no value writes it: 0
// means "no message on the subject yet", not "no check"; a second one fails.
func TestKVUpdateNewKeyRevisionZero(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "u0"})
		rev, err := kv.Update(waitCtx(t), "n", []byte("1"), 0)
		if err != nil || rev != 1 {
			t.Fatalf("update rev 0 = %d, %v, want 1, nil", rev, err)
		}
		_, err = kv.Update(waitCtx(t), "n", []byte("2"), 0)
		wantIs(t, err, jetstream.ErrKeyRevisionMismatch, "nats: nats: API error: code=400 err_code=10071 description=wrong last sequence: 1: nats: key revision mismatch")
	})
}

// TestKVDelete: after Delete, Get fails with ErrKeyNotFound, GetRevision still finds older
// values, and the delete marker is an entry of the history with an empty value.
func TestKVDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "del", History: 5})
		kvPut(t, kv, "k", "1")
		kvDelete(t, kv, "k")
		_, err := kv.Get(waitCtx(t), "k")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		e, err := kv.GetRevision(waitCtx(t), "k", 1)
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "revision 1", kvEntry{Key: "k", Value: "1", Op: kvPutOp, Rev: 1}, kvOf(e))
		h, err := kv.History(waitCtx(t), "k")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "history", []kvEntry{
			{Key: "k", Value: "1", Op: kvPutOp, Rev: 1, Delta: 1},
			{Key: "k", Op: kvDelOp, Rev: 2},
		}, kvEntries(h))
	})
}

// TestKVDeleteLastRevision: Delete with LastRevision succeeds only if it is the key's latest
// revision, else fails with ErrKeyRevisionMismatch and leaves the value.
func TestKVDeleteLastRevision(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "dlr"})
		kvPut(t, kv, "k", "1")
		r2 := kvPut(t, kv, "k", "2")
		err := kv.Delete(waitCtx(t), "k", jetstream.LastRevision(1))
		wantIs(t, err, jetstream.ErrKeyRevisionMismatch, "nats: nats: API error: code=400 err_code=10071 description=wrong last sequence: 2: nats: key revision mismatch")
		if e, err := kv.Get(waitCtx(t), "k"); err != nil || string(e.Value()) != "2" {
			t.Fatalf("after refused delete: get = %v, %v, want value 2", e, err)
		}
		if err := kv.Delete(waitCtx(t), "k", jetstream.LastRevision(r2)); err != nil {
			t.Fatalf("delete at revision %d: %v", r2, err)
		}
		_, err = kv.Get(waitCtx(t), "k")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
	})
}

// TestKVPurge: Purge rolls the key up: every earlier revision is removed and the purge marker
// alone is left, which the bucket still counts as a value.
func TestKVPurge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "pu", History: 10})
		kvPut(t, kv, "k", "1")
		kvPut(t, kv, "k", "2")
		kvPut(t, kv, "keep", "x")
		if err := kv.Purge(waitCtx(t), "k"); err != nil {
			t.Fatal(err)
		}
		_, err := kv.Get(waitCtx(t), "k")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		_, err = kv.GetRevision(waitCtx(t), "k", 1)
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		h, err := kv.History(waitCtx(t), "k")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "history", []kvEntry{{Key: "k", Op: kvPurgeOp, Rev: 4}}, kvEntries(h))
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.Values() != 2 {
			t.Errorf("values = %d, want 2 (keep and the purge marker)", st.Values())
		}
	})
}

// TestKVGetRevision: GetRevision finds a key's value at an exact revision; a revision of
// another key, or past the end, is ErrKeyNotFound.
func TestKVGetRevision(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "gr", History: 3})
		kvPut(t, kv, "k", "1")
		kvPut(t, kv, "o", "x")
		kvPut(t, kv, "k", "2")
		e, err := kv.GetRevision(waitCtx(t), "k", 1)
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "revision 1", kvEntry{Key: "k", Value: "1", Op: kvPutOp, Rev: 1}, kvOf(e))
		e, err = kv.GetRevision(waitCtx(t), "k", 3)
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "revision 3", kvEntry{Key: "k", Value: "2", Op: kvPutOp, Rev: 3}, kvOf(e))
		_, err = kv.GetRevision(waitCtx(t), "k", 2)
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		_, err = kv.GetRevision(waitCtx(t), "k", 50)
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
	})
}

// TestKVHistoryLimit: a bucket with History 5 keeps the last 5 revisions of a key (the server
// evicts the oldest per subject; discard new does not refuse the puts). Each entry's delta is
// how many of the key's entries follow it.
func TestKVHistoryLimit(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "hist", History: 5})
		for i := range 7 {
			kvPut(t, kv, "k", fmt.Sprint("v", i))
		}
		kvPut(t, kv, "other", "o")
		h, err := kv.History(waitCtx(t), "k")
		if err != nil {
			t.Fatal(err)
		}
		var want []kvEntry
		for i := 2; i < 7; i++ {
			want = append(want, kvEntry{Key: "k", Value: fmt.Sprint("v", i), Op: kvPutOp, Rev: uint64(i + 1), Delta: uint64(6 - i)})
		}
		kvDiff(t, "history", want, kvEntries(h))
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.Values() != 6 || st.History() != 5 {
			t.Errorf("values, history = %d, %d, want 6, 5", st.Values(), st.History())
		}
	})
}

// TestKVHistoryMissingKey: History of a key never written is ErrKeyNotFound.
func TestKVHistoryMissingKey(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "hm"})
		kvPut(t, kv, "a", "1")
		_, err := kv.History(waitCtx(t), "b")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
	})
}

// TestKVKeysEmptyBucket: Keys of an empty bucket is ErrNoKeysFound, at once (the watcher's
// consumer reports nothing pending).
func TestKVKeysEmptyBucket(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "empty"})
		_, err := kv.Keys(waitCtx(t))
		wantIs(t, err, jetstream.ErrNoKeysFound, "nats: no keys found")
	})
}

// TestKVKeys: Keys lists the keys with a value, sorted once each, leaving out deleted and purged
// keys; a bucket with only deleted keys has none.
func TestKVKeys(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "keys", History: 3})
		for _, k := range []string{"zeta", "alpha", "m.n", "alpha", "gone", "purged", "zeta"} {
			kvPut(t, kv, k, "v")
		}
		kvDelete(t, kv, "gone")
		if err := kv.Purge(waitCtx(t), "purged"); err != nil {
			t.Fatal(err)
		}
		keys, err := kv.Keys(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "keys", []string{"alpha", "m.n", "zeta"}, keys)

		only := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "onlydeleted"})
		kvPut(t, only, "x", "1")
		kvDelete(t, only, "x")
		_, err = only.Keys(waitCtx(t))
		wantIs(t, err, jetstream.ErrNoKeysFound, "nats: no keys found")
	})
}

// TestKVListKeys: ListKeys streams each key with a value once, in the order of their latest
// revisions, then closes the channel.
func TestKVListKeys(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "lk"})
		for _, k := range []string{"b", "a", "c", "b", "d"} {
			kvPut(t, kv, k, "v")
		}
		kvDelete(t, kv, "c")
		l, err := kv.ListKeys(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "keys", []string{"a", "b", "d"}, kvKeys(t, l))
	})
}

// TestKVListKeysFiltered: ListKeysFiltered streams the keys matching any of its filters,
// wildcards included.
func TestKVListKeysFiltered(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "lkf"})
		for _, k := range []string{"user.1", "user.2", "order.1", "user.3.x", "cfg"} {
			kvPut(t, kv, k, "v")
		}
		l, err := kv.ListKeysFiltered(waitCtx(t), "user.*", "cfg")
		if err != nil {
			t.Fatal(err)
		}
		got := kvKeys(t, l)
		slices.Sort(got)
		kvDiff(t, "keys", []string{"cfg", "user.1", "user.2"}, got)
	})
}

// TestKVPurgeDeletes: PurgeDeletes by default keeps recent markers but removes the revisions
// before them; with DeleteMarkersOlderThan(-1) it removes the markers too, so the key has no
// history at all.
func TestKVPurgeDeletes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "pd", History: 5})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "a", "2")
		kvDelete(t, kv, "a")
		kvPut(t, kv, "b", "3")
		kvPut(t, kv, "c", "4")
		if err := kv.Purge(waitCtx(t), "c"); err != nil {
			t.Fatal(err)
		}
		if err := kv.PurgeDeletes(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		h, err := kv.History(waitCtx(t), "a")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "history of a after PurgeDeletes", []kvEntry{{Key: "a", Op: kvDelOp, Rev: 3}}, kvEntries(h))
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.Values() != 3 {
			t.Errorf("values = %d, want 3 (two markers and b)", st.Values())
		}

		if err := kv.PurgeDeletes(waitCtx(t), jetstream.DeleteMarkersOlderThan(-1)); err != nil {
			t.Fatal(err)
		}
		_, err = kv.History(waitCtx(t), "a")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		_, err = kv.History(waitCtx(t), "c")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		w := kvWatch(t, kv, nil)
		kvDiff(t, "remaining", []kvEntry{{Key: "b", Value: "3", Op: kvPutOp, Rev: 4}}, kvInitial(t, w))
		if st, err = kv.Status(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		if st.Values() != 1 {
			t.Errorf("values = %d, want 1", st.Values())
		}
	})
}
