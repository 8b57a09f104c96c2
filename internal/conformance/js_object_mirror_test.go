package conformance

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// An Object Store bucket as a mirror of another: the mirror's stream moves the origin's
// subjects under its own bucket with a transform, and the objects read back whole.

// TestJSObjectMirror: an object put in the origin is read whole from the mirror bucket, and a
// watch of the mirror sees it.
func TestJSObjectMirror(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		obs, err := js.CreateObjectStore(waitCtx(t), jetstream.ObjectStoreConfig{Bucket: "orig"})
		if err != nil {
			t.Fatal(err)
		}
		spStream(t, env, jetstream.StreamConfig{
			Name: "OBJ_copy",
			Mirror: &jetstream.StreamSource{Name: "OBJ_orig", SubjectTransforms: []jetstream.SubjectTransformConfig{
				{Source: "$O.orig.>", Destination: "$O.copy.>"},
			}},
			AllowRollup: true,
		})
		big := make([]byte, 300_000) // three chunks
		for i := range big {
			big[i] = byte(i * 7)
		}
		if _, err := obs.PutBytes(waitCtx(t), "A", big); err != nil {
			t.Fatal(err)
		}
		if _, err := obs.PutString(waitCtx(t), "B", "abc"); err != nil {
			t.Fatal(err)
		}
		cp, err := js.ObjectStore(waitCtx(t), "copy")
		if err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(waitCtx(t), "OBJ_copy")
		if err != nil {
			t.Fatal(err)
		}
		miUntilLast(t, s, spInfo(t, obsStream(t, env)).State.LastSeq)
		got, err := cp.GetBytes(waitCtx(t), "A")
		if err != nil || string(got) != string(big) {
			t.Fatalf("object A from the mirror: %d bytes, %v; want the %d put", len(got), err, len(big))
		}
		if v, err := cp.GetString(waitCtx(t), "B"); err != nil || v != "abc" {
			t.Fatalf("object B from the mirror: %q, %v", v, err)
		}
		w, err := cp.Watch(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		var names []string
		for info := range w.Updates() {
			if info == nil {
				break
			}
			names = append(names, info.Name)
		}
		if len(names) != 2 || names[0] != "A" || names[1] != "B" {
			t.Errorf("watch of the mirror: %v, want [A B]", names)
		}
	})
}

// obsStream is the stream of bucket orig.
func obsStream(t *testing.T, env *natstest.Env) jetstream.Stream {
	t.Helper()
	s, err := env.JetStream().Stream(waitCtx(t), "OBJ_orig")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
