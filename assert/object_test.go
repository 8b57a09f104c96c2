package assert_test

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// objStore creates the object store "files" on env.
func objStore(t *testing.T, env *natstest.Env) jetstream.ObjectStore {
	t.Helper()
	obs, err := env.JetStream().CreateObjectStore(kvCtx(t), jetstream.ObjectStoreConfig{Bucket: "files"})
	if err != nil {
		t.Fatalf("create object store: %v", err)
	}
	return obs
}

func objPut(t *testing.T, obs jetstream.ObjectStore, meta jetstream.ObjectMeta, data []byte) {
	t.Helper()
	if err := putObject(kvCtx(t), obs, meta, data); err != nil {
		t.Fatalf("put %s: %v", meta.Name, err)
	}
}

// putObject is obs.Put of data, minding a goroutine leak of nats.go v1.55.0: Put starts a
// goroutine that reads the status channel of its own publisher, and drops that channel as it
// returns; a goroutine not scheduled by then waits on a nil channel forever, which goleak reports
// (the root package's TestMain ignores it). So Put's reader, at EOF, waits until the goroutine
// has taken the channel.
func putObject(ctx context.Context, obs jetstream.ObjectStore, meta jetstream.ObjectMeta, data []byte) error {
	_, err := obs.Put(ctx, meta, &listenerWait{Reader: bytes.NewReader(data), before: statusListeners()})
	return err
}

const statusListener = "github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect("

// statusListeners counts the publishers' status goroutines that have taken their channel.
func statusListeners() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		header, rest, _ := strings.Cut(g, "\n")
		if strings.HasPrefix(rest, statusListener) && strings.Contains(header, "[chan receive") && !strings.Contains(header, "nil chan") {
			count++
		}
	}
	return count
}

type listenerWait struct {
	*bytes.Reader
	before int
}

func (r *listenerWait) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF {
		// Put has published a chunk, so its goroutine exists; give it up to a second to run
		for deadline := time.Now().Add(time.Second); statusListeners() <= r.before && time.Now().Before(deadline); {
			runtime.Gosched()
		}
	}
	return n, err
}

var report = jetstream.ObjectMeta{
	Name:        "report.csv",
	Description: "monthly report",
	Headers:     nats.Header{"Content-Type": []string{"text/csv"}},
	Metadata:    map[string]string{"month": "2026-11"},
}

// An object's content and metadata are what the application stored.
func TestObject(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env)
		objPut(t, obs, report, []byte("id,total\n1,3\n"))
		tb := &recTB{}
		tb.passed(t, assert.Object(tb, obs, "report.csv", "id,total\n1,3\n"))
		tb.passed(t, assert.Object(tb, obs, "report.csv", []byte("id,total\n1,3\n")))
		tb.passed(t, assert.ObjectMeta(tb, obs, "report.csv", report))
		tb.passed(t, assert.ObjectMeta(tb, obs, "report.csv", jetstream.ObjectMeta{
			Description: "monthly report", // Name "" is the object's name
			Headers:     nats.Header{"Content-Type": []string{"text/csv"}},
			Metadata:    map[string]string{"month": "2026-11"},
		}))
		tb.passed(t, assert.ObjectMeta(tb, obs, "report.csv", jetstream.ObjectMeta{Description: "monthly report"},
			assert.Cmp(cmpopts.IgnoreFields(jetstream.ObjectMeta{}, "Headers", "Metadata"))))

		// an object the application writes while the assertion waits
		done := make(chan error, 1)
		go func() {
			done <- putObject(context.Background(), obs, jetstream.ObjectMeta{Name: "later.txt"}, []byte("hello"))
		}()
		tb.passed(t, assert.Object(tb, obs, "later.txt", "hello", long))
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		type Summary struct {
			Rows int `json:"rows"`
		}
		objPut(t, obs, jetstream.ObjectMeta{Name: "summary.json"}, []byte(`{"rows":1}`))
		tb.passed(t, assert.Object(tb, obs, "summary.json", Summary{Rows: 1}))
		tb = &recTB{}
		r := tb.failed(t, assert.Object(tb, obs, "summary.json", Summary{Rows: 2}, short))
		contains(t, r, `assert.Object: waited 20ms for object "summary.json" in bucket "files" to hold assert_test.Summary {Rows:2}`,
			"\ncontent (-want +got):")
		diffLine(t, r, "-", "Rows", "2")
		diffLine(t, r, "+", "Rows", "1")
	})
}

// Small content that differs is shown as a diff.
func TestObjectWrongContent(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env)
		objPut(t, obs, report, []byte("id,total\n1,3\n"))
		tb := &recTB{}
		r := tb.failed(t, assert.Object(tb, obs, "report.csv", "id,total\n1,4\n", short))
		contains(t, r, `assert.Object: waited 20ms for object "report.csv" in bucket "files" to hold "id,total\n1,4\n"`,
			"\ncontent (-want +got):")
		diffLine(t, r, "-", "1,4")
		diffLine(t, r, "+", "1,3")

		tb = &recTB{}
		r = tb.failed(t, assert.Object(tb, obs, "missing.csv", "x", short))
		contains(t, r, `assert.Object: waited 20ms for object "missing.csv" in bucket "files" to hold "x"`+"\nno such object")
	})
}

// Big content that differs is shown as sizes and the first differing byte, not as a diff.
func TestObjectLargeMismatch(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env)
		want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, 8 chunks
		got := bytes.Clone(want)
		got[700001] = 'X'
		objPut(t, obs, jetstream.ObjectMeta{Name: "big.bin"}, got)
		tb := &recTB{}
		r := tb.failed(t, assert.Object(tb, obs, "big.bin", want, short))
		contains(t, r, `assert.Object: waited 20ms for object "big.bin" in bucket "files" to hold 1048576 bytes starting "0123456789abcdef0123456789abcdef"...`,
			"\ncontent: both 1048576 bytes; first difference at byte 700001:\n"+
				"\twant ...\"123456789abcdef0123456789abcdef0\"...\n"+
				"\tgot  ...\"123456789abcdef0X23456789abcdef0\"...")
		if len(r) > 2000 {
			t.Errorf("report is %d bytes long, want a short one", len(r))
		}

		objPut(t, obs, jetstream.ObjectMeta{Name: "short.bin"}, want[:1000])
		tb = &recTB{}
		r = tb.failed(t, assert.Object(tb, obs, "short.bin", want, short))
		contains(t, r, "\ncontent: want 1048576 bytes, got 1000; got ends after 1000, want goes on: ...\"89abcdef0123456789abcdef01234567\"...")
	})
}

// Metadata that differs is shown as a diff; NUID, times, digest and chunks are not compared.
func TestObjectMetaMismatch(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env)
		objPut(t, obs, report, []byte("id,total\n"))
		want := report
		want.Description = "weekly report"
		want.Metadata = map[string]string{"month": "2026-12"}
		tb := &recTB{}
		r := tb.failed(t, assert.ObjectMeta(tb, obs, "report.csv", want, short))
		contains(t, r, `assert.ObjectMeta: waited 20ms for object "report.csv" in bucket "files" to have the metadata wanted; metadata (-want +got):`)
		diffLine(t, r, "-", "Description", `"weekly report"`)
		diffLine(t, r, "+", "Description", `"monthly report"`)
		diffLine(t, r, "-", `"month"`, `"2026-12"`)
		diffLine(t, r, "+", `"month"`, `"2026-11"`)

		// Opts are compared when want has them: Put stored the default chunk size
		want = report
		want.Opts = &jetstream.ObjectMetaOptions{ChunkSize: 1024}
		tb = &recTB{}
		r = tb.failed(t, assert.ObjectMeta(tb, obs, "report.csv", want, short))
		diffLine(t, r, "-", "ChunkSize", "1024")

		tb = &recTB{}
		r = tb.failed(t, assert.ObjectMeta(tb, obs, "missing.csv", report, short))
		contains(t, r, "\nno such object")
	})
}

func TestObjectDeleted(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env)
		tb := &recTB{}
		tb.passed(t, assert.ObjectDeleted(tb, obs, "never"))

		objPut(t, obs, report, []byte("id,total\n"))
		done := make(chan error, 1)
		go func() { done <- obs.Delete(context.Background(), "report.csv") }()
		tb.passed(t, assert.ObjectDeleted(tb, obs, "report.csv", long))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		tb.passed(t, assert.ObjectDeleted(tb, obs, "report.csv"))
		tb = &recTB{}
		r := tb.failed(t, assert.Object(tb, obs, "report.csv", "id,total\n", short))
		contains(t, r, "\nno such object")

		objPut(t, obs, jetstream.ObjectMeta{Name: "kept.txt"}, []byte("kept"))
		tb = &recTB{}
		r = tb.failed(t, assert.ObjectDeleted(tb, obs, "kept.txt", short))
		contains(t, r, `assert.ObjectDeleted: waited 20ms for object "kept.txt" in bucket "files" to be deleted; it is there: 4 bytes, modified 20`)
	})
}

// An object watcher sees put, put, delete, in that order; a wrong list fails with the diff and
// what arrived.
func TestObjectWatchUpdates(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		obs := objStore(t, env)
		w, err := obs.Watch(kvCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Stop() })
		// the store keeps the latest metadata of an object only: a watcher that lags would skip
		// a put replaced by the next, so each is seen before the next is made
		objPut(t, obs, report, []byte("id,total\n"))
		tb := &recTB{}
		tb.passed(t, assert.ObjectWatchUpdates(tb, w, []assert.ObjectUpdate{{Name: "report.csv", Size: 9}}, long))
		objPut(t, obs, report, []byte("id,total\n1,3\n"))
		tb.passed(t, assert.ObjectWatchUpdates(tb, w, []assert.ObjectUpdate{{Name: "report.csv", Size: 13}}, long))
		if err := obs.Delete(kvCtx(t), "report.csv"); err != nil {
			t.Fatal(err)
		}
		objPut(t, obs, jetstream.ObjectMeta{Name: "other.txt"}, []byte("x"))
		tb.passed(t, assert.ObjectWatchUpdates(tb, w, []assert.ObjectUpdate{
			{Name: "report.csv", Deleted: true},
			{Name: "other.txt", Size: 1},
		}, long))

		objPut(t, obs, report, []byte("id,total\n"))
		objPut(t, obs, jetstream.ObjectMeta{Name: "summary.json"}, []byte("{}"))
		tb = &recTB{}
		r := tb.failed(t, assert.ObjectWatchUpdates(tb, w, []assert.ObjectUpdate{
			{Name: "report.csv", Size: 9},
			{Name: "report.csv", Deleted: true},
		}, long))
		contains(t, r, `assert.ObjectWatchUpdates: the 2 updates on the watcher on bucket "files" are not the ones wanted; updates (-want +got):`,
			"arrived:\n\tput report.csv (9 bytes)\n\tput summary.json (2 bytes)")
		diffLine(t, r, "-", "Name", `"report.csv"`)
		diffLine(t, r, "+", "Name", `"summary.json"`)

		tb = &recTB{}
		r = tb.failed(t, assert.ObjectWatchUpdates(tb, w, []assert.ObjectUpdate{{Name: "report.csv", Deleted: true}}, short))
		contains(t, r, "assert.ObjectWatchUpdates: waited 20ms for 1 update on the watcher, 0 arrived; updates (-want +got):",
			"arrived: nothing")
		diffLine(t, r, "-", `{Name: "report.csv", Deleted: true}`)
	})
}
