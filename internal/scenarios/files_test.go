package scenarios

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// The application: a file store on the Object Store bucket "files", each file with a
// description.
type fileStore struct {
	obs      jetstream.ObjectStore
	truncate bool // the bug of the broken variant: it loses a file's last byte
}

func (fs fileStore) save(ctx context.Context, name, description string, content []byte) error {
	if fs.truncate {
		content = content[:len(content)-1]
	}
	_, err := fs.obs.Put(ctx, jetstream.ObjectMeta{Name: name, Description: description}, bytes.NewReader(content))
	return err
}

func (fs fileStore) remove(ctx context.Context, name string) error { return fs.obs.Delete(ctx, name) }

func filesBucket(t *testing.T, env *natstest.Env) jetstream.ObjectStore {
	t.Helper()
	obs, err := env.JetStream().CreateObjectStore(waitCtx(t), jetstream.ObjectStoreConfig{Bucket: "files"})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// report is 3 MiB that is not all the same byte.
func report() []byte {
	b := make([]byte, 3<<20)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// A 3 MiB file is stored whole with its description, and gone once removed.
func TestFileStore(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		ctx := waitCtx(t)
		obs := filesBucket(t, env)
		fs := fileStore{obs: obs}
		content := report()
		if err := fs.save(ctx, "q3.pdf", "the third quarter", content); err != nil {
			t.Fatal(err)
		}
		assert.Object(t, obs, "q3.pdf", content)
		assert.ObjectMeta(t, obs, "q3.pdf", jetstream.ObjectMeta{Description: "the third quarter"})
		if err := fs.remove(ctx, "q3.pdf"); err != nil {
			t.Fatal(err)
		}
		assert.ObjectDeleted(t, obs, "q3.pdf")
	})
}

// Broken: the store loses the last byte of every file.
func TestFileStoreBroken(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := filesBucket(t, env)
		content := report()
		if err := (fileStore{obs: obs, truncate: true}).save(waitCtx(t), "q3.pdf", "the third quarter", content); err != nil {
			t.Fatal(err)
		}
		tb := &reportTB{}
		tb.failedWith(t, assert.Object(tb, obs, "q3.pdf", content, assert.Within(300*time.Millisecond)),
			"assert.Object", "3145728", "3145727")
	})
}
