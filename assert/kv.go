package assert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultQuiet is how long WatchQuiet watches when no Within option is given.
const DefaultQuiet = 100 * time.Millisecond

// KV is one key-value update as a watcher delivers it: the zero Op is jetstream.KeyValuePut.
// A Revision of 0 in a want list is not compared.
type KV struct {
	Key      string
	Value    string
	Op       jetstream.KeyValueOp
	Revision uint64
}

// initialValuesDone is the key of the InitialValuesDone marker: no key can be spelled so.
const initialValuesDone = "<initial values done>"

// InitialValuesDone stands, in a WatchUpdates want list, for the nil entry with which a watcher
// says it has sent every initial value.
func InitialValuesDone() KV { return KV{Key: initialValuesDone} }

func kvOf(e jetstream.KeyValueEntry) KV {
	if e == nil {
		return InitialValuesDone()
	}
	return KV{Key: e.Key(), Value: string(e.Value()), Op: e.Operation(), Revision: e.Revision()}
}

// describeKV renders an update as a report lists it: rev 3 put color "red".
func describeKV(u KV) string {
	if u == InitialValuesDone() {
		return initialValuesDone
	}
	var b strings.Builder
	if u.Revision != 0 {
		fmt.Fprintf(&b, "rev %d ", u.Revision)
	}
	b.WriteString(opName(u.Op) + " " + u.Key)
	if u.Op == jetstream.KeyValuePut || u.Value != "" {
		b.WriteString(" " + payload([]byte(u.Value)))
	}
	return b.String()
}

func opName(op jetstream.KeyValueOp) string {
	switch op {
	case jetstream.KeyValuePut:
		return "put"
	case jetstream.KeyValueDelete:
		return "delete"
	case jetstream.KeyValuePurge:
		return "purge"
	default:
		return fmt.Sprintf("op(%d)", op)
	}
}

// WatchUpdates reads w until len(want) updates have arrived, consuming them, and checks they are
// want, in order. The nil entry ending the initial values counts only if want holds
// InitialValuesDone(). A lagging watcher skips revisions the bucket no longer keeps (History).
func WatchUpdates(t TB, w jetstream.KeyWatcher, want []KV, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if w == nil {
		t.Errorf("assert.WatchUpdates: nil watcher")
		return false
	}
	markers := slices.Contains(want, InitialValuesDone())
	var (
		got    []KV
		bucket string
	)
	stopped := readUpdates(w.Updates(), len(want), o.within, func(e jetstream.KeyValueEntry) bool {
		if e == nil && !markers {
			return false
		}
		if e != nil && bucket == "" {
			bucket = e.Bucket()
		}
		got = append(got, kvOf(e))
		return true
	})

	diff, problem := kvDiff(want, got, o.cmpOpts)
	if problem == "" && diff == "" {
		return true
	}
	var b strings.Builder
	watchReport(&b, "WatchUpdates", bucket, stopped, len(got), len(want), o.within, diff, problem)
	b.WriteString("\narrived:" + updateList(got, describeKV))
	if missing := revisionGaps(got); missing != "" {
		fmt.Fprintf(&b, "\nno update arrived for %s: if they were of watched keys, the bucket dropped them before the watcher read them (it keeps KeyValueConfig.History revisions of a key, 1 by default)", missing)
	}
	t.Errorf("%s", b.String())
	return false
}

// revisionGaps lists the revisions missing between the first and the last of us.
func revisionGaps(us []KV) string {
	var revs []uint64
	for _, u := range us {
		if u.Revision != 0 {
			revs = append(revs, u.Revision)
		}
	}
	slices.Sort(revs)
	var missing []string
	n := 0
	for i := 1; i < len(revs); i++ {
		for r := revs[i-1] + 1; r < revs[i]; r++ {
			if n++; n <= maxListed {
				missing = append(missing, fmt.Sprint(r))
			}
		}
	}
	if n == 0 {
		return ""
	}
	s := "revision " + strings.Join(missing, ", ")
	if n > 1 {
		s = "revisions " + strings.Join(missing, ", ")
	}
	if n > maxListed {
		s += fmt.Sprintf(" and %d more", n-maxListed)
	}
	return s
}

// readUpdates reads ch until take has counted n updates, the deadline passes or ch is closed,
// and reports whether it was closed.
func readUpdates[E any](ch <-chan E, n int, within time.Duration, take func(E) bool) (stopped bool) {
	if n <= 0 {
		return false
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	count := 0
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return true
			}
			if take(e) {
				count++
			}
		case <-timer.C:
			// one last look at what is already queued: an update may have come with the deadline
			for count < n {
				e, ok, queued := takeQueued(ch)
				if !queued {
					return false
				}
				if !ok {
					return true
				}
				if take(e) {
					count++
				}
			}
			return false
		}
		if count == n {
			return false
		}
	}
}

// kvDiff compares the updates, leaving out the revisions want does not give.
func kvDiff(want, got []KV, cmpOpts []cmp.Option) (diff, problem string) {
	shown := slices.Clone(got)
	for i := range shown {
		if i < len(want) && want[i].Revision == 0 {
			shown[i].Revision = 0
		}
	}
	return updatesDiff(want, shown, cmpOpts)
}

// updateList lists updates as a report shows them, each described by describe.
func updateList[U any](us []U, describe func(U) string) string {
	var b strings.Builder
	if len(us) == 0 {
		b.WriteString(" nothing")
	}
	for i, u := range us {
		if i == maxListed {
			fmt.Fprintf(&b, "\n\t... and %d more", len(us)-i)
			break
		}
		b.WriteString("\n\t" + describe(u))
	}
	return b.String()
}

// watchReport writes the head of a failed watch assertion: why it ended, then the diff or the
// problem that kept one from being made.
func watchReport(b *strings.Builder, fn, bucket string, stopped bool, got, want int, within time.Duration, diff, problem string) {
	fmt.Fprintf(b, "assert.%s: ", fn)
	switch {
	case stopped:
		fmt.Fprintf(b, "the watcher%s stopped (its Updates channel is closed: Stop, its context or its connection ended it) after %d of %d %s",
			inBucket(bucket), got, want, plural(want, "update"))
	case got < want:
		fmt.Fprintf(b, "waited %v for %d %s on the watcher%s, %d arrived",
			within, want, plural(want, "update"), inBucket(bucket), got)
	default:
		fmt.Fprintf(b, "the %d %s on the watcher%s are not the ones wanted", got, plural(got, "update"), inBucket(bucket))
	}
	if problem != "" {
		b.WriteString("\n" + problem)
	} else {
		b.WriteString("; updates (-want +got):\n")
		b.WriteString(indent(clip(strings.TrimRight(diff, "\n")), "\t"))
	}
}

func inBucket(bucket string) string {
	if bucket == "" {
		return ""
	}
	return fmt.Sprintf(" on bucket %q", bucket)
}

// takeQueued takes what ch holds now, without waiting: queued is false if it holds nothing.
func takeQueued[E any](ch <-chan E) (e E, ok, queued bool) {
	select {
	case e, ok = <-ch:
		return e, ok, true
	default:
		return e, false, false
	}
}

// WatchQuiet checks that w delivers no update for the Within duration (default DefaultQuiet):
// the nil entry that ends the initial values does not count. A stopped watcher is quiet.
func WatchQuiet(t TB, w jetstream.KeyWatcher, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if !o.hasWithin {
		o.within = DefaultQuiet
	}
	if w == nil {
		t.Errorf("assert.WatchQuiet: nil watcher")
		return false
	}
	var (
		got    []KV
		bucket string
	)
	take := func(e jetstream.KeyValueEntry) {
		if e != nil {
			bucket = e.Bucket()
			got = append(got, kvOf(e))
		}
	}
	timer := time.NewTimer(o.within)
	defer timer.Stop()
	for waiting := true; waiting && len(got) == 0; {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return true // nothing more can arrive
			}
			take(e)
		case <-timer.C:
			waiting = false
		}
	}
	// what came with the first one, or with the deadline
	for {
		e, ok, queued := takeQueued(w.Updates())
		if !queued || !ok {
			break
		}
		take(e)
	}
	if len(got) == 0 {
		return true
	}
	t.Errorf("assert.WatchQuiet: the watcher%s got %d %s within %v, want none:%s",
		inBucket(bucket), len(got), plural(len(got), "update"), o.within, updateList(got, describeKV))
	return false
}

// KeyValue waits until key in kv holds want: []byte and string compare the raw value, nil
// accepts any value, other types decode JSON. Cmp options shape the comparison.
func KeyValue(t TB, kv jetstream.KeyValue, key string, want any, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if kv == nil {
		t.Errorf("assert.KeyValue: nil key-value bucket")
		return false
	}
	name := fmt.Sprintf("key %q in bucket %q", key, kv.Bucket())
	m := newMatcher(want, o)
	if err := m.compareCheck(); err != nil {
		t.Errorf("assert.KeyValue on %s: %v", name, err)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout(o.within))
	defer cancel()

	var (
		last    jetstream.KeyValueEntry // the latest entry seen, deletes included
		seen    []KV
		lastCmp contentVerdict
	)
	check := func(e jetstream.KeyValueEntry) bool {
		last = e
		seen = append(seen, kvOf(e))
		if e.Operation() != jetstream.KeyValuePut {
			return false
		}
		lastCmp = compareContent(m, e.Value())
		return lastCmp.ok()
	}
	deadline := time.Now().Add(o.within)
	e, err := kv.Get(ctx, key)
	switch {
	case err == nil:
		if check(e) {
			return true
		}
	case errors.Is(err, jetstream.ErrKeyNotFound):
	default:
		t.Errorf("assert.KeyValue: get %s: %v", name, err)
		return false
	}
	if o.within > 0 {
		ok, err := watchKey(ctx, kv, key, deadline, func(e jetstream.KeyValueEntry) bool {
			return !(last != nil && e.Revision() == last.Revision()) && check(e) // skip the entry Get returned
		})
		if err != nil {
			t.Errorf("assert.KeyValue: watch %s: %v", name, err)
			return false
		}
		if ok {
			return true
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "assert.KeyValue: waited %v for %s to hold %s", o.within, name, describeContent(m))
	switch {
	case last == nil:
		b.WriteString("\nno such key")
	case last.Operation() == jetstream.KeyValueDelete:
		fmt.Fprintf(&b, "\nthe key was deleted (revision %d)", last.Revision())
	case last.Operation() == jetstream.KeyValuePurge:
		fmt.Fprintf(&b, "\nthe key was purged (revision %d)", last.Revision())
	default:
		fmt.Fprintf(&b, "\nlast value (revision %d)", last.Revision())
		lastCmp.write(&b)
	}
	if len(seen) > 1 {
		fmt.Fprintf(&b, "\nseen while waiting:%s", updateList(seen, describeKV))
	}
	t.Errorf("%s", b.String())
	return false
}

// KeyDeleted waits until key in kv is deleted, purged or absent.
func KeyDeleted(t TB, kv jetstream.KeyValue, key string, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if kv == nil {
		t.Errorf("assert.KeyDeleted: nil key-value bucket")
		return false
	}
	name := fmt.Sprintf("key %q in bucket %q", key, kv.Bucket())
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout(o.within))
	defer cancel()
	deadline := time.Now().Add(o.within)
	e, err := kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return true
	case err != nil:
		t.Errorf("assert.KeyDeleted: get %s: %v", name, err)
		return false
	}
	last := kvOf(e)
	if o.within > 0 {
		ok, err := watchKey(ctx, kv, key, deadline, func(e jetstream.KeyValueEntry) bool {
			last = kvOf(e)
			return e.Operation() != jetstream.KeyValuePut
		})
		if err != nil {
			t.Errorf("assert.KeyDeleted: watch %s: %v", name, err)
			return false
		}
		if ok {
			return true
		}
	}
	t.Errorf("assert.KeyDeleted: waited %v for %s to be deleted; it holds %s (revision %d)",
		o.within, name, payload([]byte(last.Value)), last.Revision)
	return false
}

// watchKey watches key until fn accepts an update, the deadline passes or the watcher stops.
func watchKey(ctx context.Context, kv jetstream.KeyValue, key string, deadline time.Time, fn func(jetstream.KeyValueEntry) bool) (bool, error) {
	w, err := kv.Watch(ctx, key)
	if err != nil {
		return false, err
	}
	defer func() { _ = w.Stop() }()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return false, nil
			}
			if e != nil && fn(e) {
				return true, nil
			}
		case <-timer.C:
			// one last look: an update may have come with the deadline
			for {
				e, ok, queued := takeQueued(w.Updates())
				if !queued || !ok {
					return false, nil
				}
				if e != nil && fn(e) {
					return true, nil
				}
			}
		}
	}
}

// requestTimeout is how long a helper's requests may take: the deadline, and at least DefaultWithin so
// that Within(0) still gets an answer.
func requestTimeout(within time.Duration) time.Duration {
	return max(within, DefaultWithin) + time.Second
}

// bigContent is the size above which a content mismatch is shown as sizes and the first
// differing byte rather than as a diff.
const bigContent = 4096

// contentVerdict is how a value or object compared with what was wanted.
type contentVerdict struct {
	diff    string // (-want +got)
	summary string // for big content: sizes and the first difference
	problem string
}

func (v contentVerdict) ok() bool { return v.diff == "" && v.summary == "" && v.problem == "" }

func (v contentVerdict) write(b *strings.Builder) {
	switch {
	case v.problem != "":
		b.WriteString(": " + v.problem)
	case v.summary != "":
		b.WriteString(": " + v.summary)
	case v.diff != "":
		b.WriteString(" (-want +got):\n")
		b.WriteString(indent(clip(strings.TrimRight(v.diff, "\n")), "\t"))
	default:
		b.WriteString(": equal")
	}
}

// compareContent compares data with what m wants: raw content as a string diff, or as sizes and
// the first difference when it is big or binary; JSON as the decoded values' diff.
func compareContent(m *matcher, data []byte) contentVerdict {
	var want []byte
	switch m.kind {
	case wantBytes:
		want = m.want.([]byte)
	case wantString:
		want = []byte(m.want.(string))
	default:
		v := m.check(&nats.Msg{Data: data}, 0)
		return contentVerdict{diff: v.diff, problem: v.problem}
	}
	if len(m.cmpOpts) > 0 {
		v := m.check(&nats.Msg{Data: data}, 0)
		return contentVerdict{diff: v.diff, problem: v.problem}
	}
	if string(want) == string(data) {
		return contentVerdict{}
	}
	if len(want) > bigContent || len(data) > bigContent || !readsAsText(want) || !readsAsText(data) {
		return contentVerdict{summary: firstDifference(want, data)}
	}
	return contentVerdict{diff: cmp.Diff(string(want), string(data))}
}

// describeContent says what content a helper waits for: short content in full, big content by
// its size and first bytes.
func describeContent(m *matcher) string {
	var want []byte
	switch m.kind {
	case wantBytes:
		want = m.want.([]byte)
	case wantString:
		want = []byte(m.want.(string))
	case wantAny:
		return "any value"
	default:
		return m.describe()
	}
	if len(want) <= maxPayload {
		return m.describe()
	}
	if readsAsText(want) {
		return fmt.Sprintf("%d bytes starting %q...", len(want), want[:2*diffWindow])
	}
	return fmt.Sprintf("%d bytes starting % x...", len(want), want[:diffWindow])
}

// readsAsText reports whether data reads as text in a diff.
func readsAsText(data []byte) bool {
	for _, r := range string(data) {
		if r == 0xfffd || r < ' ' && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}

// diffWindow is how many bytes around the first difference a summary shows.
const diffWindow = 16

// firstDifference says how big want and got are and where they first differ.
func firstDifference(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	text := readsAsText(want) && readsAsText(got)
	var b strings.Builder
	if len(want) == len(got) {
		fmt.Fprintf(&b, "both %d bytes", len(want))
	} else {
		fmt.Fprintf(&b, "want %d bytes, got %d", len(want), len(got))
	}
	switch {
	case i == len(want):
		fmt.Fprintf(&b, "; got has %d more after the %d wanted: %s", len(got)-i, i, quoteAround(got, i, text))
		return b.String()
	case i == len(got):
		fmt.Fprintf(&b, "; got ends after %d, want goes on: %s", i, quoteAround(want, i, text))
		return b.String()
	}
	fmt.Fprintf(&b, "; first difference at byte %d", i)
	if line := 1 + strings.Count(string(want[:i]), "\n"); text && line > 1 {
		fmt.Fprintf(&b, " (line %d)", line)
	}
	fmt.Fprintf(&b, ":\n\twant %s\n\tgot  %s", quoteAround(want, i, text), quoteAround(got, i, text))
	return b.String()
}

// quoteAround shows data around offset i: text quoted, binary as hex with the byte at i in
// brackets.
func quoteAround(data []byte, i int, text bool) string {
	from, to := max(0, i-diffWindow), min(len(data), i+diffWindow)
	var b strings.Builder
	if from > 0 {
		b.WriteString("...")
	}
	if text {
		fmt.Fprintf(&b, "%q", data[from:to])
	} else {
		for j := from; j < to; j++ {
			if j > from {
				b.WriteString(" ")
			}
			if j == i {
				fmt.Fprintf(&b, "[%02x]", data[j])
			} else {
				fmt.Fprintf(&b, "%02x", data[j])
			}
		}
	}
	if to < len(data) {
		b.WriteString("...")
	}
	return b.String()
}
