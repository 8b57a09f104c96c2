package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// The application: a config service keeps feature flags in the Key-Value bucket "config" and
// follows them through a watch on feature.>, which must see deletes too: a deleted flag is off.
func watchFeatures(ctx context.Context, kv jetstream.KeyValue, ignoreDeletes bool) (jetstream.KeyWatcher, error) {
	var opts []jetstream.WatchOpt
	if ignoreDeletes { // the bug of the broken variant
		opts = append(opts, jetstream.IgnoreDeletes())
	}
	return kv.Watch(ctx, "feature.>", opts...)
}

// setFlags is the admin's part: dark mode on, then off (a new value), then removed.
func setFlags(t *testing.T, kv jetstream.KeyValue) {
	t.Helper()
	ctx := waitCtx(t)
	for _, v := range []string{"on", "off"} {
		if _, err := kv.PutString(ctx, "feature.dark-mode", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "feature.dark-mode"); err != nil {
		t.Fatal(err)
	}
}

func configBucket(t *testing.T, env *natstest.Env) jetstream.KeyValue {
	t.Helper()
	kv, err := env.JetStream().CreateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "config", History: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.PutString(waitCtx(t), "feature.search", "on"); err != nil {
		t.Fatal(err)
	}
	return kv
}

// The service's watch sees the initial flag, the end of the initial values, then put, put and
// delete in order, and nothing more; the bucket agrees.
func TestConfigService(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := configBucket(t, env)
		w, err := watchFeatures(waitCtx(t), kv, false)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		setFlags(t, kv)
		assert.WatchUpdates(t, w, []assert.KV{
			{Key: "feature.search", Value: "on", Revision: 1},
			assert.InitialValuesDone(),
			{Key: "feature.dark-mode", Value: "on"},
			{Key: "feature.dark-mode", Value: "off"},
			{Key: "feature.dark-mode", Op: jetstream.KeyValueDelete},
		})
		assert.WatchQuiet(t, w)
		assert.KeyDeleted(t, kv, "feature.dark-mode")
		assert.KeyValue(t, kv, "feature.search", "on")
	})
}

// Broken: the service's watch ignores deletes, so a removed flag stays on.
func TestConfigServiceBroken(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		kv := configBucket(t, env)
		w, err := watchFeatures(waitCtx(t), kv, true)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		setFlags(t, kv)
		tb := &reportTB{}
		tb.failedWith(t, assert.WatchUpdates(tb, w, []assert.KV{
			{Key: "feature.search", Value: "on"},
			{Key: "feature.dark-mode", Value: "on"},
			{Key: "feature.dark-mode", Value: "off"},
			{Key: "feature.dark-mode", Op: jetstream.KeyValueDelete},
		}, assert.Within(300*time.Millisecond)), "assert.WatchUpdates: waited 300ms for 4 updates", "3 arrived", "KeyValueDelete")
	})
}
