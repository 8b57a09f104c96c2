package conformance

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Key-Value buckets as mirrors and sources of others: nats.go makes the bucket's stream with a
// mirror (and mirror direct gets) or with sources whose transforms move the origin buckets'
// keys under its own. Helpers of this file start with "kvm".

// kvmBucket creates a bucket with cfg.
func kvmBucket(t *testing.T, env *natstest.Env, cfg jetstream.KeyValueConfig) jetstream.KeyValue {
	t.Helper()
	kv, err := env.JetStream().CreateKeyValue(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("create bucket %s: %v", cfg.Bucket, err)
	}
	return kv
}

// kvmStream is the stream of a bucket.
func kvmStream(t *testing.T, env *natstest.Env, bucket string) jetstream.Stream {
	t.Helper()
	s, err := env.JetStream().Stream(waitCtx(t), "KV_"+bucket)
	if err != nil {
		t.Fatalf("stream of %s: %v", bucket, err)
	}
	return s
}

func TestJSKVMirror(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		a := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "A"})
		if _, err := a.PutString(waitCtx(t), "k1", "v1"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.PutString(waitCtx(t), "k2", "v2"); err != nil {
			t.Fatal(err)
		}
		if err := a.Delete(waitCtx(t), "k2"); err != nil {
			t.Fatal(err)
		}
		kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "B", Mirror: &jetstream.StreamSource{Name: "A"}})
		s := kvmStream(t, env, "B")
		miUntilLast(t, s, 3)
		info := spInfo(t, s)
		if info.Config.Mirror == nil || info.Config.Mirror.Name != "KV_A" || !info.Config.MirrorDirect || len(info.Config.Subjects) != 0 {
			t.Errorf("mirror bucket's stream: mirror %+v direct %v subjects %v; want KV_A, direct, no subjects",
				info.Config.Mirror, info.Config.MirrorDirect, info.Config.Subjects)
		}
		// The mirror keeps its own history of one per key, as the origin does.
		msgs := miMsgs(t, s, 1, 3)
		if len(msgs) != 2 || msgs[1].Subject != "$KV.A.k1" || msgs[3].Subject != "$KV.A.k2" || msgs[3].Header.Get("KV-Operation") != "DEL" {
			t.Errorf("mirror holds %d messages: %v", len(msgs), msgs)
		}
	})
}

func TestJSKVSources(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		a := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "A"})
		c := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "C"})
		cfg := jetstream.KeyValueConfig{Bucket: "S", History: 5,
			Sources: []*jetstream.StreamSource{{Name: "A"}, {Name: "KV_C"}}}
		s := kvmBucket(t, env, cfg)
		if _, err := a.PutString(waitCtx(t), "key1", "value1"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutString(waitCtx(t), "key2", "value2"); err != nil {
			t.Fatal(err)
		}
		miUntilLast(t, kvmStream(t, env, "S"), 2)
		for k, v := range map[string]string{"key1": "value1", "key2": "value2"} {
			e, err := s.Get(waitCtx(t), k)
			if err != nil || string(e.Value()) != v {
				t.Errorf("get %s from the sourcing bucket: %v %v, want %s", k, e, err, v)
			}
		}
		// The same config again is the bucket as it is.
		if _, err := env.JetStream().CreateOrUpdateKeyValue(waitCtx(t), cfg); err != nil {
			t.Errorf("create or update with the same sources: %v", err)
		}
		if _, err := env.JetStream().CreateKeyValue(waitCtx(t), cfg); err != nil {
			t.Errorf("create again with the same sources: %v", err)
		}
		info := spInfo(t, kvmStream(t, env, "S"))
		if len(info.Config.Sources) != 2 || len(info.Sources) != 2 ||
			info.Config.Sources[0].SubjectTransforms[0] != (jetstream.SubjectTransformConfig{Source: "$KV.A.>", Destination: "$KV.S.>"}) {
			t.Errorf("sourcing bucket's sources %+v info %+v", info.Config.Sources, info.Sources)
		}
	})
}

// TestJSKVMirrorDirectGet: as nats.go's TestKeyValueMirrorDirectGet, a stream mirroring a
// bucket with mirror direct gets on does not disturb the bucket's gets.
func TestJSKVMirrorDirectGet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "TEST"})
		spStream(t, env, jetstream.StreamConfig{Name: "MIRROR", Mirror: &jetstream.StreamSource{Name: "KV_TEST"}, MirrorDirect: true})
		for _, k := range seq("KEY.", 10) {
			if _, err := kv.PutString(waitCtx(t), k, "42"); err != nil {
				t.Fatal(err)
			}
		}
		for range 10 {
			if e, err := kv.Get(waitCtx(t), "KEY.2"); err != nil || string(e.Value()) != "42" {
				t.Fatalf("get: %v %v", e, err)
			}
		}
	})
}

// TestJSKVMirrorAnswersForDeletedOrigin: a mirror with mirror direct gets answers the direct
// gets of its origin, which the origin itself answers while it is there.
func TestJSKVMirrorAnswersForDeletedOrigin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		kv := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "TEST"})
		if _, err := kv.PutString(waitCtx(t), "k", "v"); err != nil {
			t.Fatal(err)
		}
		m := spStream(t, env, jetstream.StreamConfig{Name: "MIRROR", Mirror: &jetstream.StreamSource{Name: "KV_TEST"}})
		miUntilLast(t, m, 1)
		if err := env.JetStream().DeleteStream(waitCtx(t), "KV_TEST"); err != nil {
			t.Fatal(err)
		}
		msg, err := env.Conn().Request("$JS.API.DIRECT.GET.KV_TEST.$KV.TEST.k", nil, patience)
		if err != nil || string(msg.Data) != "v" || msg.Header.Get("Nats-Stream") != "MIRROR" {
			t.Errorf("direct get of the deleted origin: %v %v, want v from MIRROR", msg, err)
		}
	})
}

// TestJSKVGetThroughMirrorBucket: a bucket that mirrors another holds the origin's keys under
// the origin's subjects, and nats.go's Get on it asks for its own: it finds nothing.
func TestJSKVGetThroughMirrorBucket(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		a := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "A"})
		if _, err := a.PutString(waitCtx(t), "k1", "v1"); err != nil {
			t.Fatal(err)
		}
		b := kvmBucket(t, env, jetstream.KeyValueConfig{Bucket: "B", Mirror: &jetstream.StreamSource{Name: "A"}})
		miUntilLast(t, kvmStream(t, env, "B"), 1)
		if e, err := b.Get(waitCtx(t), "k1"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("get k1 through the mirror bucket: %v %v, want key not found", e, err)
		}
	})
}
