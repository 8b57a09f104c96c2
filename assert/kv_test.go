package assert_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// kvPatience bounds the setup steps of the KV and object tests; the assertions have their own.
const kvPatience = 10 * time.Second

func kvCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), kvPatience)
	t.Cleanup(cancel)
	return ctx
}

// kvBucket creates the bucket "config" on env.
func kvBucket(t *testing.T, env *natstest.Env) jetstream.KeyValue {
	t.Helper()
	kv, err := env.JetStream().CreateKeyValue(kvCtx(t), jetstream.KeyValueConfig{Bucket: "config", History: 10})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return kv
}

func kvPut(t *testing.T, kv jetstream.KeyValue, key, value string) uint64 {
	t.Helper()
	rev, err := kv.PutString(kvCtx(t), key, value)
	if err != nil {
		t.Fatalf("put %s=%s: %v", key, value, err)
	}
	return rev
}

func kvDelete(t *testing.T, kv jetstream.KeyValue, key string) {
	t.Helper()
	if err := kv.Delete(kvCtx(t), key); err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
}

// kvWatch watches keys ("" for all), stopping the watcher at the end of the test.
func kvWatch(t *testing.T, kv jetstream.KeyValue, keys string, opts ...jetstream.WatchOpt) jetstream.KeyWatcher {
	t.Helper()
	var (
		w   jetstream.KeyWatcher
		err error
	)
	if keys == "" {
		w, err = kv.WatchAll(kvCtx(t), opts...)
	} else {
		w, err = kv.Watch(kvCtx(t), keys, opts...)
	}
	if err != nil {
		t.Fatalf("watch %q: %v", keys, err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	return w
}

var (
	red       = assert.KV{Key: "color", Value: "red"}
	blue      = assert.KV{Key: "color", Value: "blue"}
	colorGone = assert.KV{Key: "color", Op: jetstream.KeyValueDelete}
	long      = assert.Within(kvPatience)
)

// The config watcher sees put, put, delete, in that order, and nothing after.
func TestWatchUpdatesInOrder(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		w := kvWatch(t, kv, "color")
		kvPut(t, kv, "color", "red")
		kvPut(t, kv, "color", "blue")
		kvDelete(t, kv, "color")

		tb := &recTB{}
		tb.passed(t, assert.WatchUpdates(tb, w, []assert.KV{red, blue, colorGone}, long))
		tb.passed(t, assert.WatchQuiet(tb, w))
	})
}

// Revisions are compared where want gives them; updates read are consumed, so a second call
// goes on from where the first stopped.
func TestWatchUpdatesRevisionsAndConsumption(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		w := kvWatch(t, kv, "")
		r1 := kvPut(t, kv, "color", "red")
		r2 := kvPut(t, kv, "size", "L")
		r3 := kvPut(t, kv, "color", "blue")

		tb := &recTB{}
		tb.passed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "color", Value: "red", Revision: r1}}, long))
		tb.passed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "size", Value: "L", Revision: r2}, {Key: "color", Value: "blue", Revision: r3}}, long))

		kvPut(t, kv, "color", "green")
		tb = &recTB{}
		r := tb.failed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "color", Value: "green", Revision: r3}}, long))
		diffLine(t, r, "-", "Revision", "3")
		diffLine(t, r, "+", "Revision", "4")
		contains(t, r, "\n\trev 4 put color \"green\"")
	})
}

// A watcher that misses the delete: the report shows the whole sequence, as a diff and as it
// arrived.
func TestWatchUpdatesMissedDelete(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		w := kvWatch(t, kv, "color")
		kvPut(t, kv, "color", "red")
		kvPut(t, kv, "color", "blue")
		kvPut(t, kv, "color", "green") // the application put where it should have deleted

		tb := &recTB{}
		r := tb.failed(t, assert.WatchUpdates(tb, w, []assert.KV{red, blue, colorGone}, long))
		contains(t, r, `assert.WatchUpdates: the 3 updates on the watcher on bucket "config" are not the ones wanted; updates (-want +got):`,
			"arrived:\n\trev 1 put color \"red\"\n\trev 2 put color \"blue\"\n\trev 3 put color \"green\"")
		diffLine(t, r, "-", "Op", "KeyValueDeleteOp")
		diffLine(t, r, "+", "Value", `"green"`)
	})
}

// Fewer updates than wanted: the report says how long it waited and which are missing.
func TestWatchUpdatesTooFew(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		w := kvWatch(t, kv, "color")
		kvPut(t, kv, "color", "red")
		kvPut(t, kv, "color", "blue")

		tb := &recTB{}
		r := tb.failed(t, assert.WatchUpdates(tb, w, []assert.KV{red, blue, colorGone}, assert.Within(200*time.Millisecond)))
		contains(t, r, `assert.WatchUpdates: waited 200ms for 3 updates on the watcher on bucket "config", 2 arrived; updates (-want +got):`)
		diffLine(t, r, "-", `{Key: "color", Op: s"KeyValueDeleteOp"}`)
	})
}

// InitialValuesDone marks where a watcher's initial values end; without it in want the nil
// entry is skipped.
func TestWatchUpdatesInitialValues(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		kvPut(t, kv, "color", "red")
		w := kvWatch(t, kv, "")
		kvPut(t, kv, "color", "blue")

		tb := &recTB{}
		tb.passed(t, assert.WatchUpdates(tb, w, []assert.KV{red, assert.InitialValuesDone(), blue}, long))

		// the same updates, on a second watcher, without the marker
		w2 := kvWatch(t, kv, "")
		tb.passed(t, assert.WatchUpdates(tb, w2, []assert.KV{blue}, long))

		// a test that thinks the bucket starts empty
		w3 := kvWatch(t, kv, "")
		tb = &recTB{}
		r := tb.failed(t, assert.WatchUpdates(tb, w3, []assert.KV{assert.InitialValuesDone(), blue}, long))
		diffLine(t, r, "-", "Key", `"<initial values done>"`)
		contains(t, r, "arrived:\n\trev 2 put color \"blue\"\n\t<initial values done>")
	})
}

// An idle watcher is quiet; one that gets an update is not, and the report shows it.
func TestWatchQuiet(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		w := kvWatch(t, kv, "color")
		tb := &recTB{}
		tb.passed(t, assert.WatchQuiet(tb, w)) // the empty bucket's nil marker does not count

		kvPut(t, kv, "size", "L") // another key: not this watcher's
		tb.passed(t, assert.WatchQuiet(tb, w, assert.Within(50*time.Millisecond)))

		kvPut(t, kv, "color", "red")
		tb = &recTB{}
		r := tb.failed(t, assert.WatchQuiet(tb, w, long))
		contains(t, r, `assert.WatchQuiet: the watcher on bucket "config" got 1 update within 10s, want none:`+"\n\trev 2 put color \"red\"")
	})
}

// The value of a key, now or once the application has put it.
func TestKeyValue(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		kvPut(t, kv, "color", "red")
		tb := &recTB{}
		tb.passed(t, assert.KeyValue(tb, kv, "color", "red"))
		tb.passed(t, assert.KeyValue(tb, kv, "color", []byte("red")))
		tb.passed(t, assert.KeyValue(tb, kv, "color", nil))

		done := make(chan error, 1)
		go func() {
			_, err := kv.PutString(context.Background(), "color", "blue")
			done <- err
		}()
		tb.passed(t, assert.KeyValue(tb, kv, "color", "blue", long))
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		type Limits struct {
			Max  int    `json:"max"`
			Unit string `json:"unit"`
		}
		kvPut(t, kv, "limits", `{"max":3,"unit":"cups"}`)
		tb.passed(t, assert.KeyValue(tb, kv, "limits", Limits{Max: 3, Unit: "cups"}))

		tb = &recTB{}
		r := tb.failed(t, assert.KeyValue(tb, kv, "limits", Limits{Max: 4, Unit: "cups"}, short))
		contains(t, r, `assert.KeyValue: waited 20ms for key "limits" in bucket "config" to hold assert_test.Limits {Max:4 Unit:cups}`,
			"\nlast value (revision 3) (-want +got):")
		diffLine(t, r, "-", "Max", "4")
		diffLine(t, r, "+", "Max", "3")
	})
}

// The report of a wrong value: the last value, its revision and a diff.
func TestKeyValueWrongValue(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		kvPut(t, kv, "color", "red")
		kvPut(t, kv, "color", "green")
		tb := &recTB{}
		r := tb.failed(t, assert.KeyValue(tb, kv, "color", "blue", assert.Within(100*time.Millisecond)))
		contains(t, r, `assert.KeyValue: waited 100ms for key "color" in bucket "config" to hold "blue"`,
			"\nlast value (revision 2) (-want +got):")
		diffLine(t, r, "-", `"blue"`)
		diffLine(t, r, "+", `"green"`)
	})
}

// A key that is not there, or was deleted, says so.
func TestKeyValueMissingOrDeleted(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		tb := &recTB{}
		r := tb.failed(t, assert.KeyValue(tb, kv, "color", "red", short))
		contains(t, r, `assert.KeyValue: waited 20ms for key "color" in bucket "config" to hold "red"`+"\nno such key")

		kvPut(t, kv, "color", "red")
		kvDelete(t, kv, "color")
		tb = &recTB{}
		r = tb.failed(t, assert.KeyValue(tb, kv, "color", nil, short))
		contains(t, r, `assert.KeyValue: waited 20ms for key "color" in bucket "config" to hold any value`+"\nthe key was deleted (revision 2)")

		if err := kv.Purge(kvCtx(t), "color"); err != nil {
			t.Fatal(err)
		}
		tb = &recTB{}
		r = tb.failed(t, assert.KeyValue(tb, kv, "color", "red", short))
		contains(t, r, "\nthe key was purged (revision 3)")

		tb = &recTB{}
		r = tb.failed(t, assert.KeyValue(tb, kv, "bad key", "red", short))
		contains(t, r, `assert.KeyValue: get key "bad key" in bucket "config": `, "invalid key")
	})
}

func TestKeyDeleted(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := kvBucket(t, env)
		tb := &recTB{}
		tb.passed(t, assert.KeyDeleted(tb, kv, "never"))

		kvPut(t, kv, "color", "red")
		done := make(chan error, 1)
		go func() { done <- kv.Delete(context.Background(), "color") }()
		tb.passed(t, assert.KeyDeleted(tb, kv, "color", long))
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		kvPut(t, kv, "size", "L")
		tb = &recTB{}
		r := tb.failed(t, assert.KeyDeleted(tb, kv, "size", short))
		contains(t, r, `assert.KeyDeleted: waited 20ms for key "size" in bucket "config" to be deleted; it holds "L" (revision 3)`)
	})
}

// Updates are rendered one a line; the marker and big values stay readable.
func TestWatchUpdatesUnit(t *testing.T) {
	w := newFakeWatcher()
	w.send(nil, entry("a", "1", jetstream.KeyValuePut, 1), entry("a", "", jetstream.KeyValueDelete, 2))
	tb := &recTB{}
	tb.passed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "a", Value: "1"}, {Key: "a", Op: jetstream.KeyValueDelete}}, short))

	w.send(entry("b", strings.Repeat("x", 300), jetstream.KeyValuePut, 3))
	tb.passed(t, assert.WatchUpdates(tb, w, nil, short)) // wants nothing, reads nothing
	tb.passed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "b", Value: strings.Repeat("x", 300)}}, short))

	// a watcher that lagged on a bucket that keeps one revision of a key
	w.send(entry("c", "1", jetstream.KeyValuePut, 4), entry("c", "", jetstream.KeyValueDelete, 6))
	tb = &recTB{}
	r := tb.failed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "c", Value: "1"}, {Key: "c", Value: "2"}, {Key: "c", Op: jetstream.KeyValueDelete}}, short))
	contains(t, r, "assert.WatchUpdates: waited 20ms for 3 updates on the watcher, 2 arrived; updates (-want +got):",
		"arrived:\n\trev 4 put c \"1\"\n\trev 6 delete c",
		"\nno update arrived for revision 5: if they were of watched keys, the bucket dropped them before the watcher read them (it keeps KeyValueConfig.History revisions of a key, 1 by default)")
	diffLine(t, r, "-", `{Key: "c", Value: "2"}`)

	w.stop()
	tb = &recTB{}
	r = tb.failed(t, assert.WatchUpdates(tb, w, []assert.KV{{Key: "c", Value: "1"}}, long))
	contains(t, r, "assert.WatchUpdates: the watcher stopped (its Updates channel is closed: Stop, its context or its connection ended it) after 0 of 1 update; updates (-want +got):",
		"arrived: nothing")
	tb = &recTB{}
	tb.passed(t, assert.WatchQuiet(tb, w, long)) // a stopped watcher is quiet, at once

	tb = &recTB{}
	r = tb.failed(t, assert.WatchUpdates(tb, nil, nil))
	contains(t, r, "assert.WatchUpdates: nil watcher")
}

// fakeWatcher is a KeyWatcher fed by the test.
type fakeWatcher struct{ ch chan jetstream.KeyValueEntry }

func newFakeWatcher() *fakeWatcher { return &fakeWatcher{ch: make(chan jetstream.KeyValueEntry, 16)} }

func (w *fakeWatcher) send(es ...jetstream.KeyValueEntry) {
	for _, e := range es {
		w.ch <- e
	}
}
func (w *fakeWatcher) stop()                                   { close(w.ch) }
func (w *fakeWatcher) Updates() <-chan jetstream.KeyValueEntry { return w.ch }
func (w *fakeWatcher) Stop() error                             { return nil }

type fakeEntry struct {
	key, value string
	op         jetstream.KeyValueOp
	rev        uint64
}

// entry returns a KeyValueEntry of the bucket "unit"; a nil entry is the initial-values marker.
func entry(key, value string, op jetstream.KeyValueOp, rev uint64) jetstream.KeyValueEntry {
	return fakeEntry{key, value, op, rev}
}

func (e fakeEntry) Bucket() string                  { return "" }
func (e fakeEntry) Key() string                     { return e.key }
func (e fakeEntry) Value() []byte                   { return []byte(e.value) }
func (e fakeEntry) Revision() uint64                { return e.rev }
func (e fakeEntry) Created() time.Time              { return time.Time{} }
func (e fakeEntry) Delta() uint64                   { return 0 }
func (e fakeEntry) Operation() jetstream.KeyValueOp { return e.op }
