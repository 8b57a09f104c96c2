package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/natstest"
)

// TestKVWatchAll: a watcher first gets the latest entry of every key, deletes included, in
// revision order with the pending count as delta, then the nil marker, then live updates.
func TestKVWatchAll(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wa", History: 5})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		kvPut(t, kv, "a", "3")
		kvPut(t, kv, "c.d", "4")
		kvDelete(t, kv, "b")
		w := kvWatch(t, kv, nil)
		kvDiff(t, "initial values", []kvEntry{
			{Key: "a", Value: "3", Op: kvPutOp, Rev: 3, Delta: 2},
			{Key: "c.d", Value: "4", Op: kvPutOp, Rev: 4, Delta: 1},
			{Key: "b", Op: kvDelOp, Rev: 5},
		}, kvInitial(t, w))
		kvPut(t, kv, "live", "L")
		kvDelete(t, kv, "a")
		if err := kv.Purge(waitCtx(t), "c.d"); err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "live updates", []kvEntry{
			{Key: "live", Value: "L", Op: kvPutOp, Rev: 6},
			{Key: "a", Op: kvDelOp, Rev: 7},
			{Key: "c.d", Op: kvPurgeOp, Rev: 8},
		}, kvTake(t, w, 3))
	})
}

// TestKVWatchEmptyBucket: a watcher on an empty bucket gets the nil marker at once, then the
// first put.
func TestKVWatchEmptyBucket(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "we"})
		w := kvWatch(t, kv, nil)
		kvDiff(t, "initial values", []kvEntry(nil), kvInitial(t, w))
		kvPut(t, kv, "first", "1")
		kvDiff(t, "live", []kvEntry{{Key: "first", Value: "1", Op: kvPutOp, Rev: 1}}, kvTake(t, w, 1))
	})
}

// TestKVWatchFilter: Watch with a wildcard key gets only the matching keys, initial and live;
// deltas count the matching entries only.
func TestKVWatchFilter(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wf"})
		kvPut(t, kv, "user.1", "a")
		kvPut(t, kv, "order.1", "b")
		kvPut(t, kv, "user.2", "c")
		kvPut(t, kv, "user.2.deep", "d")
		kvPut(t, kv, "order.2", "e")
		w, err := kv.Watch(waitCtx(t), "user.*")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Stop() })
		kvDiff(t, "initial values", []kvEntry{
			{Key: "user.1", Value: "a", Op: kvPutOp, Rev: 1, Delta: 1},
			{Key: "user.2", Value: "c", Op: kvPutOp, Rev: 3},
		}, kvInitial(t, w))
		kvPut(t, kv, "order.3", "f")
		kvPut(t, kv, "user.3", "g")
		kvDiff(t, "live", []kvEntry{{Key: "user.3", Value: "g", Op: kvPutOp, Rev: 7}}, kvTake(t, w, 1))
		kvNoUpdate(t, w)
	})
}

// TestKVWatchFilteredKeys: WatchFiltered with several keys (a consumer with filter_subjects)
// gets the latest entry of each, in revision order, then live updates of those keys only.
func TestKVWatchFilteredKeys(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wfk"})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		kvPut(t, kv, "c", "3")
		kvPut(t, kv, "a", "4")
		w := kvWatch(t, kv, []string{"a", "c"})
		kvDiff(t, "initial values", []kvEntry{
			{Key: "c", Value: "3", Op: kvPutOp, Rev: 3, Delta: 1},
			{Key: "a", Value: "4", Op: kvPutOp, Rev: 4},
		}, kvInitial(t, w))
		kvPut(t, kv, "b", "5")
		kvPut(t, kv, "c", "6")
		kvDiff(t, "live", []kvEntry{{Key: "c", Value: "6", Op: kvPutOp, Rev: 6}}, kvTake(t, w, 1))
		kvNoUpdate(t, w)
	})
}

// TestKVWatchUpdatesOnly: with UpdatesOnly the watcher gets no initial values and no nil
// marker: only what is written after it starts.
func TestKVWatchUpdatesOnly(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wu", History: 3})
		kvPut(t, kv, "a", "old1")
		kvPut(t, kv, "a", "old2")
		w := kvWatch(t, kv, nil, jetstream.UpdatesOnly())
		kvPut(t, kv, "a", "new")
		kvDelete(t, kv, "a")
		kvDiff(t, "updates", []kvEntry{
			{Key: "a", Value: "new", Op: kvPutOp, Rev: 3},
			{Key: "a", Op: kvDelOp, Rev: 4},
		}, kvTake(t, w, 2))
	})
}

// TestKVWatchIncludeHistory: with IncludeHistory the initial values are every revision kept,
// not only the latest of each key.
func TestKVWatchIncludeHistory(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wih", History: 2})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		kvPut(t, kv, "a", "3")
		kvPut(t, kv, "a", "4")
		w := kvWatch(t, kv, nil, jetstream.IncludeHistory())
		kvDiff(t, "initial values", []kvEntry{
			{Key: "b", Value: "2", Op: kvPutOp, Rev: 2, Delta: 2},
			{Key: "a", Value: "3", Op: kvPutOp, Rev: 3, Delta: 1},
			{Key: "a", Value: "4", Op: kvPutOp, Rev: 4},
		}, kvInitial(t, w))
	})
}

// TestKVWatchIgnoreDeletes: with IgnoreDeletes, delete and purge markers are left out of the
// initial values and of the live updates; the nil marker still comes.
func TestKVWatchIgnoreDeletes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wid"})
		kvPut(t, kv, "a", "1")
		kvPut(t, kv, "b", "2")
		kvDelete(t, kv, "b")
		kvPut(t, kv, "c", "3")
		w := kvWatch(t, kv, nil, jetstream.IgnoreDeletes())
		kvDiff(t, "initial values", []kvEntry{
			{Key: "a", Value: "1", Op: kvPutOp, Rev: 1, Delta: 2},
			{Key: "c", Value: "3", Op: kvPutOp, Rev: 4},
		}, kvInitial(t, w))
		kvDelete(t, kv, "a")
		if err := kv.Purge(waitCtx(t), "c"); err != nil {
			t.Fatal(err)
		}
		kvPut(t, kv, "d", "4")
		kvDiff(t, "live", []kvEntry{{Key: "d", Value: "4", Op: kvPutOp, Rev: 7}}, kvTake(t, w, 1))
	})
}

// TestKVWatchMetaOnly: with MetaOnly (a headers-only consumer) entries carry keys, revisions
// and operations but no values.
func TestKVWatchMetaOnly(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wmo"})
		kvPut(t, kv, "a", "value-a")
		kvPut(t, kv, "b", "value-b")
		kvDelete(t, kv, "b")
		w := kvWatch(t, kv, nil, jetstream.MetaOnly())
		kvDiff(t, "initial values", []kvEntry{
			{Key: "a", Op: kvPutOp, Rev: 1, Delta: 1},
			{Key: "b", Op: kvDelOp, Rev: 3},
		}, kvInitial(t, w))
		kvPut(t, kv, "c", "value-c")
		kvDiff(t, "live", []kvEntry{{Key: "c", Op: kvPutOp, Rev: 4}}, kvTake(t, w, 1))
	})
}

// TestKVWatchResumeFromRevision: ResumeFromRevision starts the watcher at that revision: every
// entry from it on, each key's and every revision, then the nil marker.
func TestKVWatchResumeFromRevision(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "wr", History: 5})
		for i, k := range []string{"a", "b", "a", "c", "a"} {
			kvPut(t, kv, k, fmt.Sprint(i+1))
		}
		w := kvWatch(t, kv, nil, jetstream.ResumeFromRevision(3))
		kvDiff(t, "initial values", []kvEntry{
			{Key: "a", Value: "3", Op: kvPutOp, Rev: 3, Delta: 2},
			{Key: "c", Value: "4", Op: kvPutOp, Rev: 4, Delta: 1},
			{Key: "a", Value: "5", Op: kvPutOp, Rev: 5},
		}, kvInitial(t, w))
		kvPut(t, kv, "b", "6")
		kvDiff(t, "live", []kvEntry{{Key: "b", Value: "6", Op: kvPutOp, Rev: 6}}, kvTake(t, w, 1))
	})
}

// TestKVWatchStop: stopping a watcher closes its updates channel, and the consumer the client
// created for it is deleted from the bucket's stream.
func TestKVWatchStop(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "ws"})
		kvPut(t, kv, "a", "1")
		w := kvWatch(t, kv, nil)
		kvInitial(t, w)
		st, err := env.JetStream().Stream(waitCtx(t), "KV_ws")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers != 1 {
			t.Errorf("consumers while watching = %d, want 1", info.State.Consumers)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		for e := range w.Updates() {
			t.Errorf("entry after stop: %v", e)
		}
		kvEventually(t, "the watcher's consumer to be deleted", func() bool {
			info, err := st.Info(waitCtx(t))
			return err == nil && info.State.Consumers == 0
		})
	})
}

// TestKVIdleWatcherQuiet: an idle UpdatesOnly watcher on a bucket with history stays quiet for
// a few seconds (the consumer's idle heartbeats keep it from resetting and replaying history),
// then gets exactly the next real update.
func TestKVIdleWatcherQuiet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "idle", History: 5})
		kvPut(t, kv, "a", "old1")
		kvPut(t, kv, "a", "old2")
		kvPut(t, kv, "b", "old3")
		w := kvWatch(t, kv, nil, jetstream.UpdatesOnly())
		env.FastForward(3 * time.Second)
		kvNoUpdate(t, w)
		kvPut(t, kv, "a", "fresh")
		kvDiff(t, "first update", []kvEntry{{Key: "a", Value: "fresh", Op: kvPutOp, Rev: 4}}, kvTake(t, w, 1))
		kvPut(t, kv, "c", "next")
		kvDiff(t, "second update", []kvEntry{{Key: "c", Value: "next", Op: kvPutOp, Rev: 5}}, kvTake(t, w, 1))
		kvNoUpdate(t, w)
	})
}
