package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// objInfo is what a scenario compares of a jetstream.ObjectInfo: everything but the NUID and
// the modification time, which each put picks anew (objInfoOf checks they are set).
type objInfo struct {
	Name, Description, Bucket string
	Size                      uint64
	Chunks                    uint32
	Digest                    string
	Deleted                   bool
	Headers                   nats.Header
	Metadata                  map[string]string
	Link                      *jetstream.ObjectLink
}

func objInfoOf(t *testing.T, i *jetstream.ObjectInfo) objInfo {
	t.Helper()
	if i == nil {
		t.Fatal("nil object info")
	}
	if i.NUID == "" {
		t.Errorf("%s: empty NUID", i.Name)
	}
	if i.ModTime.IsZero() {
		t.Errorf("%s: zero modification time", i.Name)
	}
	o := objInfo{
		Name: i.Name, Description: i.Description, Bucket: i.Bucket, Size: i.Size, Chunks: i.Chunks,
		Digest: i.Digest, Deleted: i.Deleted, Headers: i.Headers, Metadata: i.Metadata,
	}
	if i.Opts != nil {
		o.Link = i.Opts.Link
	}
	return o
}

// objDigest is the digest the client stores for data: SHA-256, base64 URL-encoded with padding.
func objDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return "SHA-256=" + base64.URLEncoding.EncodeToString(sum[:])
}

// objStore creates an object store bucket.
func objStore(t *testing.T, env *natstest.Env, cfg jetstream.ObjectStoreConfig) jetstream.ObjectStore {
	t.Helper()
	obs, err := env.JetStream().CreateObjectStore(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("create object store %q: %v", cfg.Bucket, err)
	}
	return obs
}

// objPut puts name=data.
func objPut(t *testing.T, obs jetstream.ObjectStore, name, data string) *jetstream.ObjectInfo {
	t.Helper()
	info, err := obs.Put(waitCtx(t), jetstream.ObjectMeta{Name: name}, objData([]byte(data)))
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return info
}

// objData is a reader of data for ObjectStore.Put.
func objData(data []byte) io.Reader { return bytes.NewReader(data) }

// objWatch starts a watcher stopped at the end of the test.
func objWatch(t *testing.T, obs jetstream.ObjectStore, opts ...jetstream.WatchOpt) jetstream.ObjectWatcher {
	t.Helper()
	w, err := obs.Watch(waitCtx(t), opts...)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	return w
}

// objNext is the watcher's next update (nil for the initial-values marker).
func objNext(t *testing.T, w jetstream.ObjectWatcher) *jetstream.ObjectInfo {
	t.Helper()
	select {
	case i, ok := <-w.Updates():
		if !ok {
			t.Fatal("object watcher updates closed")
		}
		return i
	case <-time.After(patience):
		t.Fatalf("no object watcher update within %v", patience)
		return nil
	}
}

// objNames is the names of infos.
func objNames(infos []*jetstream.ObjectInfo) []string {
	out := make([]string, len(infos))
	for i, info := range infos {
		out[i] = info.Name
	}
	return out
}

// TestObjectCreateStoreIdempotent: creating an object store again with the same configuration
// succeeds and keeps its objects; another configuration is ErrBucketExists.
func TestObjectCreateStoreIdempotent(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		cfg := jetstream.ObjectStoreConfig{Bucket: "files", Description: "d"}
		obs := objStore(t, env, cfg)
		objPut(t, obs, "f.txt", "hello")
		again, err := env.JetStream().CreateObjectStore(waitCtx(t), cfg)
		if err != nil {
			t.Fatalf("second create: %v", err)
		}
		if s, err := again.GetString(waitCtx(t), "f.txt"); err != nil || s != "hello" {
			t.Errorf("get after second create = %q, %v, want hello", s, err)
		}
		_, err = env.JetStream().CreateObjectStore(waitCtx(t), jetstream.ObjectStoreConfig{Bucket: "files", Description: "other"})
		if !errors.Is(err, jetstream.ErrBucketExists) || !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			t.Errorf("create with another config: %v, want ErrBucketExists and ErrStreamNameAlreadyInUse", err)
		}
	})
}

// TestObjectStoreNotFound: opening a missing object store is ErrBucketNotFound.
func TestObjectStoreNotFound(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := env.JetStream().ObjectStore(waitCtx(t), "missing")
		wantIs(t, err, jetstream.ErrBucketNotFound, "nats: bucket not found")
	})
}

// TestObjectPutGet: PutBytes/PutString store an object in one chunk and return its info; Get,
// GetBytes, GetString and GetInfo read it back with the same info.
func TestObjectPutGet(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "pg"})
		data := []byte("some bytes\r\n\x00\xff")
		put, err := obs.PutBytes(waitCtx(t), "dir/b.bin", data)
		if err != nil {
			t.Fatal(err)
		}
		want := objInfo{Name: "dir/b.bin", Bucket: "pg", Size: uint64(len(data)), Chunks: 1, Digest: objDigest(data)}
		kvDiff(t, "put info", want, objInfoOf(t, put))
		got, err := obs.GetBytes(waitCtx(t), "dir/b.bin")
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("GetBytes = %q, %v, want %q", got, err, data)
		}
		if _, err := obs.PutString(waitCtx(t), "s", "a string"); err != nil {
			t.Fatal(err)
		}
		if s, err := obs.GetString(waitCtx(t), "s"); err != nil || s != "a string" {
			t.Errorf("GetString = %q, %v, want %q", s, err, "a string")
		}
		info, err := obs.GetInfo(waitCtx(t), "dir/b.bin")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "GetInfo", want, objInfoOf(t, info))
		if info.NUID != put.NUID {
			t.Errorf("NUID = %q, want the put's %q", info.NUID, put.NUID)
		}
		res, err := obs.Get(waitCtx(t), "dir/b.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		rinfo, err := res.Info()
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "result info", want, objInfoOf(t, rinfo))
		all, err := io.ReadAll(res)
		if err != nil || !bytes.Equal(all, data) {
			t.Errorf("read = %q, %v, want %q", all, err, data)
		}
	})
}

// TestObjectLarge: a 10 MB object goes in 80 chunks of 128 KiB and reads back intact: the last
// chunk's ack token says nothing is pending, which is how the client knows the object ended.
func TestObjectLarge(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "large"})
		data := make([]byte, 10*1024*1024)
		for i := range data {
			data[i] = byte(i*7 + i/1024)
		}
		// 10 MiB each way, digested by the client: under -race on a busy 2-core machine a real
		// server's get has taken more than the usual 5 s patience
		ctx, cancel := context.WithTimeout(t.Context(), 6*patience)
		defer cancel()
		info, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "big"}, objData(data))
		if err != nil {
			t.Fatal(err)
		}
		want := objInfo{Name: "big", Bucket: "large", Size: uint64(len(data)), Chunks: 80, Digest: objDigest(data)}
		kvDiff(t, "put info", want, objInfoOf(t, info))
		got, err := obs.GetBytes(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes, digest %s, want %d bytes, %s", len(got), objDigest(got), len(data), want.Digest)
		}
	})
}

// TestObjectChunkSize: an object's chunk size sets its number of chunks; the last chunk is short.
func TestObjectChunkSize(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "chunks"})
		data := []byte("0123456789abcdefghijklmnopqrstuvwxy")
		info, err := obs.Put(waitCtx(t), jetstream.ObjectMeta{Name: "c", Opts: &jetstream.ObjectMetaOptions{ChunkSize: 10}}, objData(data))
		if err != nil {
			t.Fatal(err)
		}
		if info.Chunks != 4 || info.Size != 35 {
			t.Errorf("chunks, size = %d, %d, want 4, 35", info.Chunks, info.Size)
		}
		if got, err := obs.GetBytes(waitCtx(t), "c"); err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back %q, %v, want %q", got, err, data)
		}
		st, err := env.JetStream().Stream(waitCtx(t), "OBJ_chunks")
		if err != nil {
			t.Fatal(err)
		}
		si, err := st.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs != 5 {
			t.Errorf("stream messages = %d, want 5 (4 chunks and the meta)", si.State.Msgs)
		}
	})
}

// TestObjectEmpty: a 0-byte object has no chunk, the digest of nothing, and reads back empty.
func TestObjectEmpty(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "empty"})
		info, err := obs.PutBytes(waitCtx(t), "nothing", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := objInfo{Name: "nothing", Bucket: "empty", Digest: objDigest(nil)}
		kvDiff(t, "put info", want, objInfoOf(t, info))
		got, err := obs.GetBytes(waitCtx(t), "nothing")
		if err != nil || len(got) != 0 {
			t.Errorf("GetBytes = %q, %v, want empty", got, err)
		}
		gi, err := obs.GetInfo(waitCtx(t), "nothing")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "GetInfo", want, objInfoOf(t, gi))
	})
}

// TestObjectDelete: after Delete, GetInfo and Get are ErrObjectNotFound; with ShowDeleted the
// info says deleted, with no size, no chunk and no digest, and the chunks are purged from the stream.
func TestObjectDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "del"})
		objPut(t, obs, "gone", "data")
		objPut(t, obs, "stays", "x")
		if err := obs.Delete(waitCtx(t), "gone"); err != nil {
			t.Fatal(err)
		}
		_, err := obs.GetInfo(waitCtx(t), "gone")
		wantIs(t, err, jetstream.ErrObjectNotFound, "nats: object not found")
		_, err = obs.Get(waitCtx(t), "gone")
		wantIs(t, err, jetstream.ErrObjectNotFound, "nats: object not found")
		info, err := obs.GetInfo(waitCtx(t), "gone", jetstream.GetObjectInfoShowDeleted())
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "deleted info", objInfo{Name: "gone", Bucket: "del", Deleted: true}, objInfoOf(t, info))
		err = obs.Delete(waitCtx(t), "never")
		wantIs(t, err, jetstream.ErrObjectNotFound, "nats: object not found")
		st, err := env.JetStream().Stream(waitCtx(t), "OBJ_del")
		if err != nil {
			t.Fatal(err)
		}
		si, err := st.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs != 3 {
			t.Errorf("stream messages = %d, want 3 (two metas and the chunk of stays)", si.State.Msgs)
		}
	})
}

// TestObjectListEmpty: List of an empty store is ErrNoObjectsFound, at once.
func TestObjectListEmpty(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "le"})
		_, err := obs.List(waitCtx(t))
		wantIs(t, err, jetstream.ErrNoObjectsFound, "nats: no objects found")
	})
}

// TestObjectList: List returns each live object once, in the order of their latest meta, leaving
// out deleted ones unless ListObjectsShowDeleted; a store holding only deleted objects lists none.
func TestObjectList(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "li"})
		objPut(t, obs, "b", "1")
		objPut(t, obs, "a", "2")
		objPut(t, obs, "c", "3")
		objPut(t, obs, "b", "4")
		if err := obs.Delete(waitCtx(t), "c"); err != nil {
			t.Fatal(err)
		}
		list, err := obs.List(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "names", []string{"a", "b"}, objNames(list))
		kvDiff(t, "b", objInfo{Name: "b", Bucket: "li", Size: 1, Chunks: 1, Digest: objDigest([]byte("4"))}, objInfoOf(t, list[1]))
		list, err = obs.List(waitCtx(t), jetstream.ListObjectsShowDeleted())
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "names with deleted", []string{"a", "b", "c"}, objNames(list))

		only := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "onlydeleted"})
		objPut(t, only, "x", "1")
		if err := only.Delete(waitCtx(t), "x"); err != nil {
			t.Fatal(err)
		}
		_, err = only.List(waitCtx(t))
		wantIs(t, err, jetstream.ErrNoObjectsFound, "nats: no objects found")
	})
}

// TestObjectWatch: a watcher gets the latest info of each object, then the nil marker, then each
// change (puts and deletes) as it happens.
func TestObjectWatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "wa"})
		objPut(t, obs, "one", "1")
		objPut(t, obs, "two", "2")
		objPut(t, obs, "one", "11")
		w := objWatch(t, obs)
		var initial []string
		for i := objNext(t, w); i != nil; i = objNext(t, w) {
			initial = append(initial, i.Name+"="+i.Digest)
		}
		kvDiff(t, "initial", []string{"two=" + objDigest([]byte("2")), "one=" + objDigest([]byte("11"))}, initial)
		objPut(t, obs, "three", "3")
		if err := obs.Delete(waitCtx(t), "two"); err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "put update", objInfo{Name: "three", Bucket: "wa", Size: 1, Chunks: 1, Digest: objDigest([]byte("3"))}, objInfoOf(t, objNext(t, w)))
		kvDiff(t, "delete update", objInfo{Name: "two", Bucket: "wa", Deleted: true}, objInfoOf(t, objNext(t, w)))
	})
}

// TestObjectWatchEmpty: a watcher on an empty store gets the nil marker at once, then updates;
// with UpdatesOnly it gets no marker, only what changes after it starts.
func TestObjectWatchEmpty(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "we"})
		w := objWatch(t, obs)
		if i := objNext(t, w); i != nil {
			t.Fatalf("first update = %+v, want the nil marker", i)
		}
		objPut(t, obs, "old", "o")
		if i := objNext(t, w); i == nil || i.Name != "old" {
			t.Fatalf("update = %+v, want old", i)
		}
		u := objWatch(t, obs, jetstream.UpdatesOnly())
		objPut(t, obs, "new", "n")
		if i := objNext(t, u); i == nil || i.Name != "new" {
			t.Fatalf("updates-only first update = %+v, want new", i)
		}
	})
}

// TestObjectUpdateMetaRename: UpdateMeta with a new name renames the object (the data stays,
// the old name is gone); renaming onto an existing name is ErrObjectAlreadyExists; updating a
// deleted object is ErrUpdateMetaDeleted.
func TestObjectUpdateMetaRename(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "ren"})
		objPut(t, obs, "old", "payload")
		objPut(t, obs, "taken", "t")
		meta := jetstream.ObjectMeta{Name: "new", Description: "renamed", Metadata: map[string]string{"k": "v"}}
		if err := obs.UpdateMeta(waitCtx(t), "old", meta); err != nil {
			t.Fatal(err)
		}
		_, err := obs.GetInfo(waitCtx(t), "old")
		wantIs(t, err, jetstream.ErrObjectNotFound, "nats: object not found")
		info, err := obs.GetInfo(waitCtx(t), "new")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "renamed info", objInfo{
			Name: "new", Description: "renamed", Bucket: "ren", Size: 7, Chunks: 1, Digest: objDigest([]byte("payload")),
			Metadata: map[string]string{"k": "v"},
		}, objInfoOf(t, info))
		if s, err := obs.GetString(waitCtx(t), "new"); err != nil || s != "payload" {
			t.Errorf("renamed data = %q, %v, want payload", s, err)
		}
		err = obs.UpdateMeta(waitCtx(t), "new", jetstream.ObjectMeta{Name: "taken"})
		wantIs(t, err, jetstream.ErrObjectAlreadyExists, "nats: an object already exists with that name")
		if err := obs.Delete(waitCtx(t), "taken"); err != nil {
			t.Fatal(err)
		}
		err = obs.UpdateMeta(waitCtx(t), "taken", jetstream.ObjectMeta{Name: "taken", Description: "x"})
		wantIs(t, err, jetstream.ErrUpdateMetaDeleted, "nats: cannot update meta for a deleted object")
	})
}

// TestObjectAddLink: a link to an object reads as the object it points to; a link to a link is
// refused.
func TestObjectAddLink(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "links"})
		target := objPut(t, obs, "target", "the data")
		link, err := obs.AddLink(waitCtx(t), "alias", target)
		if err != nil {
			t.Fatal(err)
		}
		want := objInfo{Name: "alias", Bucket: "links", Link: &jetstream.ObjectLink{Bucket: "links", Name: "target"}}
		kvDiff(t, "link info", want, objInfoOf(t, link))
		info, err := obs.GetInfo(waitCtx(t), "alias")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "stored link info", want, objInfoOf(t, info))
		if s, err := obs.GetString(waitCtx(t), "alias"); err != nil || s != "the data" {
			t.Errorf("read through link = %q, %v, want %q", s, err, "the data")
		}
		_, err = obs.AddLink(waitCtx(t), "alias2", info)
		wantIs(t, err, jetstream.ErrNoLinkToLink, "nats: not allowed to link to another link")
	})
}

// TestObjectAddBucketLink: a link to another bucket is stored with no object name; reading it
// as an object is ErrCantGetBucket.
func TestObjectAddBucketLink(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "from"})
		other := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "to"})
		link, err := obs.AddBucketLink(waitCtx(t), "other", other)
		if err != nil {
			t.Fatal(err)
		}
		want := objInfo{Name: "other", Bucket: "from", Link: &jetstream.ObjectLink{Bucket: "to"}}
		kvDiff(t, "bucket link", want, objInfoOf(t, link))
		info, err := obs.GetInfo(waitCtx(t), "other")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "stored bucket link", want, objInfoOf(t, info))
		_, err = obs.Get(waitCtx(t), "other")
		wantIs(t, err, jetstream.ErrCantGetBucket, "nats: invalid Get, object is a link to a bucket")
	})
}

// TestObjectSeal: a sealed store says so in its status and refuses puts and deletes, while its
// objects stay readable.
func TestObjectSeal(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "seal"})
		objPut(t, obs, "kept", "k")
		if err := obs.Seal(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		st, err := obs.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if !st.Sealed() {
			t.Error("status not sealed")
		}
		_, err = obs.Put(waitCtx(t), jetstream.ObjectMeta{Name: "more"}, objData([]byte("m")))
		wantErrText(t, err, "nats: API error: code=400 err_code=10109 description=invalid operation on sealed stream")
		err = obs.Delete(waitCtx(t), "kept")
		wantErrText(t, err, "nats: nats: API error: code=400 err_code=10109 description=invalid operation on sealed stream")
		if s, err := obs.GetString(waitCtx(t), "kept"); err != nil || s != "k" {
			t.Errorf("read sealed = %q, %v, want k", s, err)
		}
	})
}

// TestObjectStatus: Status reports the bucket, description, TTL, storage, replicas, metadata,
// "JetStream" as backing store and the stream's byte size, as the server counts it.
func TestObjectStatus(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{
			Bucket: "stat", Description: "some files", TTL: time.Hour, Storage: jetstream.MemoryStorage,
			Metadata: map[string]string{"team": "x"},
		})
		st, err := obs.Status(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		type status struct {
			Bucket, Description, Backing string
			TTL                          time.Duration
			Storage                      jetstream.StorageType
			Replicas                     int
			Sealed, Compressed           bool
			Size                         uint64
			Team                         string
		}
		kvDiff(t, "empty status", status{
			Bucket: "stat", Description: "some files", Backing: "JetStream", TTL: time.Hour, Storage: jetstream.MemoryStorage,
			Replicas: 1, Team: "x",
		}, status{
			st.Bucket(), st.Description(), st.BackingStore(), st.TTL(), st.Storage(), st.Replicas(), st.Sealed(),
			st.IsCompressed(), st.Size(), st.Metadata()["team"],
		})
		put := objPut(t, obs, "f", "0123456789")
		if st, err = obs.Status(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		// A memory store counts subject + headers + data + 16 bytes a message. The meta is the
		// info JSON the client published (zero mtime), with a Nats-Rollup header.
		stored := *put
		stored.ModTime = time.Time{}
		metaJSON, err := json.Marshal(&stored)
		if err != nil {
			t.Fatal(err)
		}
		chunk := len("$O.stat.C.") + len(put.NUID) + 10 + 16
		meta := len("$O.stat.M.Zg==") + len("NATS/1.0\r\nNats-Rollup: sub\r\n\r\n") + len(metaJSON) + 16
		if want := uint64(chunk + meta); st.Size() != want {
			t.Errorf("size = %d, want %d", st.Size(), want)
		}
	})
}

// TestObjectStoreNames: ObjectStoreNames and ObjectStores list the object stores (streams named
// OBJ_*) and nothing else of the account.
func TestObjectStoreNames(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		for _, b := range []string{"b1", "b2"} {
			objStore(t, env, jetstream.ObjectStoreConfig{Bucket: b})
		}
		kvBucket(t, env, jetstream.KeyValueConfig{Bucket: "kv"})
		if _, err := js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "PLAIN", Subjects: []string{"plain"}}); err != nil {
			t.Fatal(err)
		}
		names := js.ObjectStoreNames(waitCtx(t))
		var got []string
		for n := range names.Name() {
			got = append(got, n)
		}
		if err := names.Error(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		kvDiff(t, "names", []string{"b1", "b2"}, got)
		stores := js.ObjectStores(waitCtx(t))
		got = nil
		for st := range stores.Status() {
			got = append(got, st.Bucket())
		}
		if err := stores.Error(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		kvDiff(t, "stores", []string{"b1", "b2"}, got)
	})
}

// TestObjectDeleteStore: DeleteObjectStore removes the bucket; opening or deleting it again is
// ErrBucketNotFound / ErrStreamNotFound.
func TestObjectDeleteStore(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "doomed"})
		objPut(t, obs, "f", "x")
		if err := env.JetStream().DeleteObjectStore(waitCtx(t), "doomed"); err != nil {
			t.Fatal(err)
		}
		_, err := env.JetStream().ObjectStore(waitCtx(t), "doomed")
		wantIs(t, err, jetstream.ErrBucketNotFound, "nats: bucket not found")
		err = env.JetStream().DeleteObjectStore(waitCtx(t), "doomed")
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("second delete: %v, want ErrStreamNotFound", err)
		}
	})
}

// TestObjectMetadataHeaders: an object's description, headers and metadata are kept in its meta
// and come back from GetInfo, Get and List.
func TestObjectMetadataHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "meta"})
		meta := jetstream.ObjectMeta{
			Name:        "report.pdf",
			Description: "quarterly",
			Headers:     nats.Header{"Content-Type": {"application/pdf"}, "X-Multi": {"a", "b"}},
			Metadata:    map[string]string{"owner": "ann", "year": "2026"},
		}
		if _, err := obs.Put(waitCtx(t), meta, objData([]byte("%PDF"))); err != nil {
			t.Fatal(err)
		}
		want := objInfo{
			Name: "report.pdf", Description: "quarterly", Bucket: "meta", Size: 4, Chunks: 1, Digest: objDigest([]byte("%PDF")),
			Headers: meta.Headers, Metadata: meta.Metadata,
		}
		info, err := obs.GetInfo(waitCtx(t), "report.pdf")
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "GetInfo", want, objInfoOf(t, info))
		res, err := obs.Get(waitCtx(t), "report.pdf")
		if err != nil {
			t.Fatal(err)
		}
		rinfo, err := res.Info()
		if err != nil {
			t.Fatal(err)
		}
		kvDiff(t, "Get info", want, objInfoOf(t, rinfo))
		if _, err := io.ReadAll(res); err != nil {
			t.Fatal(err)
		}
		res.Close()
		list, err := obs.List(waitCtx(t))
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %v, %v, want one object", list, err)
		}
		kvDiff(t, "List info", want, objInfoOf(t, list[0]))
	})
}

// TestObjectReplace: putting an object again under the same name replaces it: the new data is
// read back and the old chunks are purged from the stream.
func TestObjectReplace(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env, jetstream.ObjectStoreConfig{Bucket: "rep"})
		first, err := obs.Put(waitCtx(t), jetstream.ObjectMeta{Name: "f", Opts: &jetstream.ObjectMetaOptions{ChunkSize: 4}}, objData([]byte("first version")))
		if err != nil {
			t.Fatal(err)
		}
		second := objPut(t, obs, "f", "v2")
		if first.NUID == second.NUID {
			t.Errorf("replacement reused NUID %q", first.NUID)
		}
		if s, err := obs.GetString(waitCtx(t), "f"); err != nil || s != "v2" {
			t.Errorf("read = %q, %v, want v2", s, err)
		}
		st, err := env.JetStream().Stream(waitCtx(t), "OBJ_rep")
		if err != nil {
			t.Fatal(err)
		}
		si, err := st.Info(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs != 2 {
			t.Errorf("stream messages = %d, want 2 (one meta, one chunk)", si.State.Msgs)
		}
	})
}
