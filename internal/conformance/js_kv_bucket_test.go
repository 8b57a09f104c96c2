package conformance

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/natstest"
)

// TestKVStatus: Status reports the bucket, its value count, history, TTL, the backing store
// "JetStream", the byte size the server computes for its file store, and the stream's config.
func TestKVStatus(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "st", History: 3, TTL: time.Hour, Description: "a bucket"})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "a", "22")
		kvPut(t, kv, "b", "333")
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		type status struct {
			Bucket, Backing string
			Values          uint64
			History         int64
			TTL             time.Duration
			Compressed      bool
		}
		kvDiff(t, "status", status{Bucket: "st", Backing: "JetStream", Values: 3, History: 3, TTL: time.Hour},
			status{st.Bucket(), st.BackingStore(), st.Values(), st.History(), st.TTL(), st.IsCompressed()})
		// Each message in a file store costs 22 + subject + headers + data + 8 bytes:
		// $KV.st.a is 8 bytes long.
		if want := uint64((22 + 8 + 1 + 8) + (22 + 8 + 2 + 8) + (22 + 8 + 3 + 8)); st.Bytes() != want {
			t.Errorf("bytes = %d, want %d", st.Bytes(), want)
		}
		info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
		type streamCfg struct {
			Name        string
			Subjects    []string
			Description string
			MaxPerSubj  int64
			MaxAge      time.Duration
			Dup         time.Duration
			Discard     jetstream.DiscardPolicy
			DenyDelete  bool
			Rollup      bool
			Direct      bool
			Storage     jetstream.StorageType
			MaxMsgs     int64
			MaxBytes    int64
			MaxMsgSize  int32
		}
		c := info.Config
		kvDiff(t, "stream config", streamCfg{
			Name: "KV_st", Subjects: []string{"$KV.st.>"}, Description: "a bucket", MaxPerSubj: 3, MaxAge: time.Hour,
			Dup: 2 * time.Minute, Discard: jetstream.DiscardNew, DenyDelete: true, Rollup: true, Direct: true,
			Storage: jetstream.FileStorage, MaxMsgs: -1, MaxBytes: -1, MaxMsgSize: -1,
		}, streamCfg{
			c.Name, c.Subjects, c.Description, c.MaxMsgsPerSubject, c.MaxAge, c.Duplicates, c.Discard, c.DenyDelete,
			c.AllowRollup, c.AllowDirect, c.Storage, c.MaxMsgs, c.MaxBytes, c.MaxMsgSize,
		})
	})
}

// TestKVStoreNames: KeyValueStoreNames and KeyValueStores list the buckets (streams named KV_*)
// and nothing else of the account.
func TestKVStoreNames(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		for _, b := range []string{"one", "two", "three"} {
			kvBucket(t, env, jetstream.KeyValueConfig{Bucket: b})
		}
		if _, err := js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "PLAIN", Subjects: []string{"plain.>"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.CreateObjectStore(waitCtx(t), jetstream.ObjectStoreConfig{Bucket: "objs"}); err != nil {
			t.Fatal(err)
		}
		names := js.KeyValueStoreNames(waitCtx(t))
		var got []string
		for n := range names.Name() {
			got = append(got, n)
		}
		if err := names.Error(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		kvDiff(t, "names", []string{"one", "three", "two"}, got)

		stores := js.KeyValueStores(waitCtx(t))
		got = nil
		for st := range stores.Status() {
			got = append(got, fmt.Sprintf("%s/%s", st.Bucket(), st.BackingStore()))
		}
		if err := stores.Error(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		kvDiff(t, "stores", []string{"one/JetStream", "three/JetStream", "two/JetStream"}, got)
	})
}

// TestKVDeleteBucket: DeleteKeyValue removes the bucket: opening it again is ErrBucketNotFound
// and its stream is gone.
func TestKVDeleteBucket(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "doomed"})
		kvPut(t, kv, "a", "1")
		if err := env.JetStream().DeleteKeyValue(waitCtx(t), "doomed"); err != nil {
			t.Fatal(err)
		}
		_, err := env.JetStream().KeyValue(waitCtx(t), "doomed")
		wantIs(t, err, jetstream.ErrBucketNotFound, "nats: bucket not found")
		_, err = env.JetStream().Stream(waitCtx(t), "KV_doomed")
		wantIs(t, err, jetstream.ErrStreamNotFound, "nats: API error: code=404 err_code=10059 description=stream not found")
	})
}

// TestKVBucketTTL: values expire once the bucket's TTL has passed: Get then reports
// ErrKeyNotFound and the bucket counts no values.
func TestKVBucketTTL(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "ttl", TTL: 500 * time.Millisecond})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.TTL() != 500*time.Millisecond || st.Values() != 2 {
			t.Errorf("ttl, values = %v, %d, want 500ms, 2", st.TTL(), st.Values())
		}
		if d := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Duplicates; d != 500*time.Millisecond {
			t.Errorf("duplicate window = %v, want the TTL, 500ms", d)
		}
		env.FastForward(time.Second)
		kvEventually(t, "the values to expire", func() bool {
			st, err := kv.Status(waitCtx(t))
			return err == nil && st.Values() == 0
		})
		_, err = kv.Get(waitCtx(t), "a")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		_, err = kv.Keys(waitCtx(t))
		wantIs(t, err, jetstream.ErrNoKeysFound, "nats: no keys found")
		if rev := kvPut(t, kv, "a", "again"); rev != 3 {
			t.Errorf("revision after expiry = %d, want 3", rev)
		}
	})
}

// TestKVMaxValueSize: a value over the bucket's MaxValueSize is refused by the server (10054).
func TestKVMaxValueSize(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "mvs", MaxValueSize: 8})
		if _, err := kv.PutString(waitCtx(t), "ok", "12345678"); err != nil {
			t.Fatalf("8-byte value: %v", err)
		}
		_, err := kv.PutString(waitCtx(t), "big", "123456789")
		wantIs(t, err, jetstream.ErrStreamMessageExceedsMaximum, "nats: nats: API error: code=400 err_code=10054 description=message size exceeds maximum allowed")
	})
}

// TestKVConcurrentUpdates: writers racing to Update the same key with the same revision: in each
// round exactly one wins, the others get ErrKeyRevisionMismatch, and the winner's value is the
// key's latest.
func TestKVConcurrentUpdates(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "race"})
		const writers, rounds = 4, 5
		handles := make([]jetstream.KeyValue, writers)
		for i := range handles {
			js, err := jetstream.New(env.Connect())
			if err != nil {
				t.Fatal(err)
			}
			if handles[i], err = js.KeyValue(waitCtx(t), "race"); err != nil {
				t.Fatal(err)
			}
		}
		rev := kvPut(t, kv, "counter", "start")
		for round := range rounds {
			var wg sync.WaitGroup
			revs := make([]uint64, writers)
			errs := make([]error, writers)
			for i, h := range handles {
				wg.Go(func() {
					revs[i], errs[i] = h.Update(waitCtx(t), "counter", []byte(fmt.Sprint(round, "/", i)), rev)
				})
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("round %d: writers %d and %d both won", round, winner, i)
					}
					winner = i
				case !errors.Is(err, jetstream.ErrKeyRevisionMismatch):
					t.Fatalf("round %d writer %d: %v, want ErrKeyRevisionMismatch", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: nobody won: %v", round, errs)
			}
			if revs[winner] != rev+1 {
				t.Errorf("round %d: winning revision %d, want %d", round, revs[winner], rev+1)
			}
			rev = revs[winner]
			e, err := kv.Get(waitCtx(t), "counter")
			if err != nil {
				t.Fatal(err)
			}
			kvDiff(t, "latest", kvEntry{Key: "counter", Value: fmt.Sprint(round, "/", winner), Op: kvPutOp, Rev: rev}, kvOf(e))
		}
	})
}

// TestKVKeysMany: with more keys than the client's channel buffers (256), Keys still returns
// each once and a watcher's nil marker comes right after the last initial value.
func TestKVKeysMany(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "many"})
		const n = 600
		var want []string
		for i := range n {
			k := fmt.Sprintf("k%04d", i)
			want = append(want, k)
			kvPut(t, kv, k, "v")
		}
		kvPut(t, kv, "k0000", "again")
		keys, err := kv.Keys(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "keys", want, keys)
		w := kvWatch(t, kv, nil)
		initial := kvInitial(t, w)
		if len(initial) != n {
			t.Fatalf("got %d initial values, want %d", len(initial), n)
		}
		kvDiff(t, "first and last initial values", []kvEntry{
			{Key: "k0001", Value: "v", Op: kvPutOp, Rev: 2, Delta: n - 1},
			{Key: "k0000", Value: "again", Op: kvPutOp, Rev: n + 1},
		}, []kvEntry{initial[0], initial[n-1]})
	})
}

// TestKVUpdateBucket: UpdateKeyValue changes a bucket's history and keeps its values;
// updating a bucket that does not exist is ErrBucketNotFound.
func TestKVUpdateBucket(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "upd", History: 1})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "a", "2")
		kv, err := js.UpdateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "upd", History: 4})
		if err != nil {
			t.Fatal(err)
		}
		kvPut(t, kv, "a", "3")
		kvPut(t, kv, "a", "4")
		h, err := kv.History(waitCtx(t), "a")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "history", []kvEntry{
			{Key: "a", Value: "2", Op: kvPutOp, Rev: 2, Delta: 2},
			{Key: "a", Value: "3", Op: kvPutOp, Rev: 3, Delta: 1},
			{Key: "a", Value: "4", Op: kvPutOp, Rev: 4},
		}, kvEntries(h))
		st, err := kv.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.History() != 4 {
			t.Errorf("history = %d, want 4", st.History())
		}
		_, err = js.UpdateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "nobucket"})
		if !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Errorf("update missing bucket: %v, want ErrBucketNotFound", err)
		}
		created, err := js.CreateOrUpdateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "nobucket"})
		if err != nil {
			t.Fatalf("create or update: %v", err)
		}
		if created.Bucket() != "nobucket" {
			t.Errorf("bucket = %q, want nobucket", created.Bucket())
		}
	})
}

// TestKVKeyTTL: in a bucket with limit markers, a key created with a TTL expires: the server
// removes it and writes a marker (Nats-Marker-Reason MaxAge), which a watcher sees as a purge,
// and Get reports ErrKeyNotFound.
func TestKVKeyTTL(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "kttl", LimitMarkerTTL: time.Second})
		w := kvWatch(t, kv, nil, jetstream.UpdatesOnly())
		rev, err := kv.Create(waitCtx(t), "short", []byte("lived"), jetstream.KeyTTL(time.Second))
		if err != nil || rev != 1 {
			t.Fatalf("create with TTL = %d, %v, want 1, nil", rev, err)
		}
		kvPut(t, kv, "stays", "x")
		kvDiff(t, "puts", []kvEntry{
			{Key: "short", Value: "lived", Op: kvPutOp, Rev: 1},
			{Key: "stays", Value: "x", Op: kvPutOp, Rev: 2},
		}, kvTake(t, w, 2))
		env.FastForward(time.Second)
		kvDiff(t, "expiry marker", []kvEntry{{Key: "short", Op: kvPurgeOp, Rev: 3}}, kvTake(t, w, 1))
		_, err = kv.Get(waitCtx(t), "short")
		wantIs(t, err, jetstream.ErrKeyNotFound, "nats: key not found")
		keys, err := kv.Keys(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "keys", []string{"stays"}, keys)
	})
}
