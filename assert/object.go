package assert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go/jetstream"
)

// Object waits until the object name in obs holds want: []byte and string compare the raw
// content, nil accepts any, other types decode JSON. Big or binary content that differs is
// reported as sizes and the first differing byte, not as a diff.
func Object(t TB, obs jetstream.ObjectStore, name string, want any, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if obs == nil {
		t.Errorf("assert.Object: nil object store")
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout(o.within))
	defer cancel()
	m := newMatcher(want, o)
	if err := m.compareCheck(); err != nil {
		t.Errorf("assert.Object on %s: %v", objectName(ctx, obs, name), err)
		return false
	}
	deadline := time.Now().Add(o.within)
	what := func() string { return objectName(ctx, obs, name) }

	var (
		last    contentVerdict
		found   bool
		nuid    string // the version last read: a put gives a new one, a metadata update keeps it
		lastErr error  // why the last read failed, other than a missing object
	)
	check := func() bool {
		data, info, err := getObject(ctx, obs, name)
		switch {
		case errors.Is(err, jetstream.ErrObjectNotFound):
			found, lastErr = false, nil
			return false
		case err != nil:
			lastErr = err // for one, the object may have been replaced while it was read
			return false
		}
		found, lastErr, nuid = true, nil, info.NUID
		last = compareContent(m, data)
		return last.ok()
	}
	if check() {
		return true
	}
	if o.within > 0 {
		ok, err := watchObject(ctx, obs, name, deadline, func(info *jetstream.ObjectInfo) bool {
			if info.Deleted {
				found, lastErr = false, nil
				return false
			}
			return (!found || lastErr != nil || info.NUID != nuid) && check()
		})
		if err != nil {
			t.Errorf("assert.Object: watch %s: %v", what(), err)
			return false
		}
		if ok {
			return true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "assert.Object: waited %v for %s to hold %s", o.within, what(), describeContent(m))
	switch {
	case lastErr != nil:
		fmt.Fprintf(&b, "\nreading it failed: %v", lastErr)
	case !found:
		b.WriteString("\nno such object")
	default:
		b.WriteString("\ncontent")
		last.write(&b)
	}
	t.Errorf("%s", b.String())
	return false
}

// getObject reads the object name and the info of the version read.
func getObject(ctx context.Context, obs jetstream.ObjectStore, name string) ([]byte, *jetstream.ObjectInfo, error) {
	res, err := obs.Get(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(res)
	if err != nil {
		return nil, nil, err
	}
	return data, info, nil
}

// ObjectMeta waits until the object name in obs has the metadata want: name, description,
// headers and metadata, nil and empty maps alike. want.Name "" stands for name; want.Opts nil is
// not compared. Cmp options shape the comparison.
func ObjectMeta(t TB, obs jetstream.ObjectStore, name string, want jetstream.ObjectMeta, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if obs == nil {
		t.Errorf("assert.ObjectMeta: nil object store")
		return false
	}
	if want.Name == "" {
		want.Name = name
	}
	cmpOpts := append([]cmp.Option{cmpopts.EquateEmpty()}, o.cmpOpts...)
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout(o.within))
	defer cancel()
	what := func() string { return objectName(ctx, obs, name) }
	deadline := time.Now().Add(o.within)

	var (
		diff, problem string
		found         bool
	)
	check := func(info *jetstream.ObjectInfo) bool {
		found = info != nil && !info.Deleted
		if !found {
			return false
		}
		got := info.ObjectMeta
		if want.Opts == nil {
			got.Opts = nil
		}
		diff, problem = metaDiff(want, got, cmpOpts)
		return diff == "" && problem == ""
	}
	info, err := obs.GetInfo(ctx, name)
	switch {
	case err == nil:
		if check(info) {
			return true
		}
	case errors.Is(err, jetstream.ErrObjectNotFound):
	default:
		t.Errorf("assert.ObjectMeta: get the info of %s: %v", what(), err)
		return false
	}
	if o.within > 0 {
		ok, err := watchObject(ctx, obs, name, deadline, check)
		if err != nil {
			t.Errorf("assert.ObjectMeta: watch %s: %v", what(), err)
			return false
		}
		if ok {
			return true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "assert.ObjectMeta: waited %v for %s to have the metadata wanted", o.within, what())
	switch {
	case !found:
		b.WriteString("\nno such object")
	case problem != "":
		b.WriteString("\n" + problem)
	default:
		b.WriteString("; metadata (-want +got):\n")
		b.WriteString(indent(clip(strings.TrimRight(diff, "\n")), "\t"))
	}
	t.Errorf("%s", b.String())
	return false
}

func metaDiff(want, got jetstream.ObjectMeta, cmpOpts []cmp.Option) (diff, problem string) {
	defer func() {
		if r := recover(); r != nil {
			diff, problem = "", fmt.Sprintf("cannot compare: %v", r)
		}
	}()
	return cmp.Diff(want, got, cmpOpts...), ""
}

// ObjectDeleted waits until the object name in obs is deleted or absent.
func ObjectDeleted(t TB, obs jetstream.ObjectStore, name string, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if obs == nil {
		t.Errorf("assert.ObjectDeleted: nil object store")
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout(o.within))
	defer cancel()
	deadline := time.Now().Add(o.within)
	what := func() string { return objectName(ctx, obs, name) }
	info, err := obs.GetInfo(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return true
	case err != nil:
		t.Errorf("assert.ObjectDeleted: get the info of %s: %v", what(), err)
		return false
	}
	if o.within > 0 {
		ok, err := watchObject(ctx, obs, name, deadline, func(i *jetstream.ObjectInfo) bool {
			if !i.Deleted {
				info = i
			}
			return i.Deleted
		})
		if err != nil {
			t.Errorf("assert.ObjectDeleted: watch %s: %v", what(), err)
			return false
		}
		if ok {
			return true
		}
	}
	t.Errorf("assert.ObjectDeleted: waited %v for %s to be deleted; it is there: %d %s, modified %s",
		o.within, what(), info.Size, plural(int(info.Size), "byte"), info.ModTime.UTC().Format(time.RFC3339Nano))
	return false
}

// objectName names an object for a report, with its bucket if the store says which it is.
func objectName(ctx context.Context, obs jetstream.ObjectStore, name string) string {
	if st, err := obs.Status(ctx); err == nil {
		return fmt.Sprintf("object %q in bucket %q", name, st.Bucket())
	}
	return fmt.Sprintf("object %q", name)
}

// watchObject watches obs until fn accepts an update of the object name, the deadline passes or
// the watcher stops.
func watchObject(ctx context.Context, obs jetstream.ObjectStore, name string, deadline time.Time, fn func(*jetstream.ObjectInfo) bool) (bool, error) {
	w, err := obs.Watch(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = w.Stop() }()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	take := func(info *jetstream.ObjectInfo) bool { return info != nil && info.Name == name && fn(info) }
	for {
		select {
		case info, ok := <-w.Updates():
			if !ok {
				return false, nil
			}
			if take(info) {
				return true, nil
			}
		case <-timer.C:
			// one last look: an update may have come with the deadline
			for {
				info, ok, queued := takeQueued(w.Updates())
				if !queued || !ok {
					return false, nil
				}
				if take(info) {
					return true, nil
				}
			}
		}
	}
}

// ObjectUpdate is one object update as an ObjectWatcher delivers it: the object Name put, or its
// metadata updated, with Size bytes; or Name deleted (Size 0).
type ObjectUpdate struct {
	Name    string
	Size    uint64
	Deleted bool
}

// ObjectWatchUpdates reads w until len(want) updates have arrived, consuming them, and checks
// they are want, in order; the nil entry ending the initial values is skipped. A store keeps an
// object's latest metadata only: a lagging watcher skips updates already replaced.
func ObjectWatchUpdates(t TB, w jetstream.ObjectWatcher, want []ObjectUpdate, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if w == nil {
		t.Errorf("assert.ObjectWatchUpdates: nil watcher")
		return false
	}
	var (
		got    []ObjectUpdate
		bucket string
	)
	stopped := readUpdates(w.Updates(), len(want), o.within, func(info *jetstream.ObjectInfo) bool {
		if info == nil {
			return false
		}
		bucket = info.Bucket
		got = append(got, ObjectUpdate{Name: info.Name, Size: info.Size, Deleted: info.Deleted})
		return true
	})
	diff, problem := updatesDiff(want, got, o.cmpOpts)
	if problem == "" && diff == "" {
		return true
	}
	var b strings.Builder
	watchReport(&b, "ObjectWatchUpdates", bucket, stopped, len(got), len(want), o.within, diff, problem)
	b.WriteString("\narrived:" + updateList(got, func(u ObjectUpdate) string {
		if u.Deleted {
			return "delete " + u.Name
		}
		return fmt.Sprintf("put %s (%d %s)", u.Name, u.Size, plural(int(u.Size), "byte"))
	}))
	t.Errorf("%s", b.String())
	return false
}

// updatesDiff is the (-want +got) diff of two update lists, nil and empty alike.
func updatesDiff[E any](want, got []E, cmpOpts []cmp.Option) (diff, problem string) {
	defer func() {
		if r := recover(); r != nil {
			diff, problem = "", fmt.Sprintf("cannot compare: %v", r)
		}
	}()
	if want == nil {
		want = []E{}
	}
	if got == nil {
		got = []E{}
	}
	return cmp.Diff(want, got, cmpOpts...), ""
}
