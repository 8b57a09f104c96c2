package natstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/subject"
)

// A jsCase is one case of the JetStream suite: run gets an Env of its own, JetStream on, and
// asserts what the server did through tb. It calls tb only from the goroutine it runs on, so a
// case runs under a test (TestJetStreamSuite) and under a benchmark (BenchmarkJetStreamSuite).
type jsCase struct {
	name string
	run  func(tb testing.TB, env *Env)
}

// jsSuiteCases are 200 cases: ten templates of what applications do with JetStream, twenty
// parameter sets each. None waits for an ack wait, a back-off or an expiry.
var jsSuiteCases = buildJSSuite()

func buildJSSuite() []jsCase {
	var cs []jsCase
	add := func(run func(testing.TB, *Env), format string, args ...any) {
		cs = append(cs, jsCase{name: fmt.Sprintf(format, args...), run: run})
	}
	storages := []jetstream.StorageType{jetstream.MemoryStorage, jetstream.FileStorage}
	for _, st := range storages {
		for _, n := range []int{1, 3, 10, 25, 50} {
			for _, double := range []bool{false, true} {
				add(caseFetchAck(st, n, double), "fetch_%s_n%d_%s", st, n, map[bool]string{false: "ack", true: "doubleack"}[double])
			}
		}
	}
	for _, st := range storages {
		for _, keys := range []int{1, 5, 10, 20, 40} {
			for _, history := range []int{1, 3} {
				add(caseKV(st, keys, history), "kv_%s_keys%d_history%d", st, keys, history)
			}
		}
	}
	for _, n := range []int{6, 12, 30, 60} {
		for i, f := range [][]string{{"ev.a.*"}, {"ev.*.x"}, {"ev.a.*", "ev.c.y"}, {"ev.>"}, {"ev.b.y"}} {
			add(caseFilter(n, f), "filter_n%d_f%d", n, i)
		}
	}
	for _, n := range []int{1, 5, 20, 50} {
		for _, v := range []string{"single", "split", "exclusive", "nak", "partial"} {
			add(caseWorkQueue(n, v), "workqueue_n%d_%s", n, v)
		}
	}
	for _, u := range []int{1, 3, 10, 25, 50} {
		for _, window := range []time.Duration{0, time.Minute} {
			for _, interleaved := range []bool{false, true} {
				add(caseDedupe(u, window, interleaved), "dedupe_ids%d_window%v_interleaved=%t", u, window, interleaved)
			}
		}
	}
	for _, st := range storages {
		for _, n := range []int{10, 30} {
			for _, kind := range []string{"all", "subject", "keep", "seq", "subject-keep"} {
				add(casePurge(st, n, kind), "purge_%s_n%d_%s", st, n, kind)
			}
		}
	}
	for _, n := range []int{1, 5, 20, 50, 100} {
		for _, v := range []string{"consume", "next-from-seq", "filter-fetch", "last-per-subject"} {
			add(caseOrdered(n, v), "ordered_n%d_%s", n, v)
		}
	}
	for _, size := range []int{1, 100, 4096, 128 * 1024, 300_001} {
		for _, v := range []string{"roundtrip", "meta", "overwrite", "delete"} {
			add(caseObject(size, v), "object_size%d_%s", size, v)
		}
	}
	for _, n := range []int{1, 4, 9, 16, 30} {
		for _, v := range []string{"maxmsgs-old", "maxmsgs-new", "per-subject", "direct-get"} {
			add(caseLimits(n, v), "limits_n%d_%s", n, v)
		}
	}
	for _, n := range []int{1, 3, 6, 10, 20} {
		for _, v := range []string{"expect-last-seq", "expect-per-subject", "headers", "lifecycle"} {
			add(caseManage(n, v), "manage_n%d_%s", n, v)
		}
	}
	return cs
}

// TestJetStreamSuite runs every case of the suite on every backend, each on a fresh Env:
// subtests CASE/BACKEND.
func TestJetStreamSuite(t *testing.T) {
	if len(jsSuiteCases) != 200 {
		t.Fatalf("the suite has %d cases, want 200", len(jsSuiteCases))
	}
	for _, c := range jsSuiteCases {
		t.Run(c.name, func(t *testing.T) {
			Each(t, func(t *testing.T, env *Env) { c.run(t, env) })
		})
	}
}

// --- helpers ---

// jsCtx bounds one case's calls: a case that hangs fails in seconds, not at the test timeout.
func jsCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func jsMust(tb testing.TB, err error, what string, args ...any) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

func jsEqual[T comparable](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if got != want {
		tb.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func jsStream(tb testing.TB, ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	tb.Helper()
	s, err := js.CreateStream(ctx, cfg)
	jsMust(tb, err, "create stream %s", cfg.Name)
	return s
}

func jsConsumer(tb testing.TB, ctx context.Context, s jetstream.Stream, cfg jetstream.ConsumerConfig) jetstream.Consumer {
	tb.Helper()
	c, err := s.CreateConsumer(ctx, cfg)
	jsMust(tb, err, "create consumer %s", cfg.Durable)
	return c
}

// jsPublish publishes data on subj and checks the ack names stream and sequence seq.
func jsPublish(tb testing.TB, ctx context.Context, js jetstream.JetStream, subj, data, stream string, seq int, opts ...jetstream.PublishOpt) {
	tb.Helper()
	ack, err := js.Publish(ctx, subj, []byte(data), opts...)
	jsMust(tb, err, "publish %d on %s", seq, subj)
	if ack.Stream != stream || ack.Sequence != uint64(seq) || ack.Duplicate {
		tb.Fatalf("publish on %s: ack %+v, want stream %s sequence %d", subj, *ack, stream, seq)
	}
}

// jsFetch fetches exactly n messages, at most batch a request, and fails unless they all come.
func jsFetch(tb testing.TB, c jetstream.Consumer, n, batch int) []jetstream.Msg {
	tb.Helper()
	var got []jetstream.Msg
	for len(got) < n {
		want := min(batch, n-len(got))
		b, err := c.Fetch(want, jetstream.FetchMaxWait(5*time.Second))
		jsMust(tb, err, "fetch %d", want)
		before := len(got)
		for m := range b.Messages() {
			got = append(got, m)
		}
		if err := b.Error(); err != nil {
			tb.Fatalf("fetch %d after %d of %d messages: %v", want, before, n, err)
		}
		if len(got) == before {
			tb.Fatalf("fetch %d after %d of %d messages: none came", want, before, n)
		}
	}
	if len(got) != n {
		tb.Fatalf("fetched %d messages, want %d", len(got), n)
	}
	return got
}

func jsMeta(tb testing.TB, m jetstream.Msg) *jetstream.MsgMetadata {
	tb.Helper()
	md, err := m.Metadata()
	jsMust(tb, err, "metadata of a message on %s", m.Subject())
	return md
}

// jsEventually polls cond until it holds, for up to 5 s: for state the server updates after it
// has answered (a plain ack, a work-queue removal).
func jsEventually(tb testing.TB, ctx context.Context, cond func() (ok bool, state string, err error)) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var state string
	err := poll(ctx, func() (bool, error) {
		ok, s, err := cond()
		state = s
		return ok, err
	})
	if err != nil {
		tb.Fatalf("waiting for %s: %v", state, err)
	}
}

func jsAPICode(err error) int {
	var e *jetstream.APIError
	if errors.As(err, &e) {
		return int(e.ErrorCode)
	}
	return 0
}

// jsAPIError fails unless err is a JetStream API error with the code.
func jsAPIError(tb testing.TB, err error, code int, what string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("%s succeeded, want API error %d", what, code)
	}
	if got := jsAPICode(err); got != code {
		tb.Fatalf("%s: error %v (code %d), want code %d", what, err, got, code)
	}
}

func jsStreamState(tb testing.TB, ctx context.Context, s jetstream.Stream, opts ...jetstream.StreamInfoOpt) jetstream.StreamState {
	tb.Helper()
	info, err := s.Info(ctx, opts...)
	jsMust(tb, err, "stream info")
	return info.State
}

func jsState(tb testing.TB, st jetstream.StreamState, msgs, first, last int) {
	tb.Helper()
	if st.Msgs != uint64(msgs) || st.FirstSeq != uint64(first) || st.LastSeq != uint64(last) {
		tb.Fatalf("stream state: %d messages, sequences %d..%d; want %d, %d..%d",
			st.Msgs, st.FirstSeq, st.LastSeq, msgs, first, last)
	}
}

// --- templates ---

// caseFetchAck: a stream, n published, a durable pull consumer fetches them in batches of 10 and
// acks each; the consumer ends with nothing pending and its ack floor at n.
func caseFetchAck(st jetstream.StorageType, n int, double bool) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		s := jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: st})
		for i := range n {
			jsPublish(tb, ctx, js, fmt.Sprintf("orders.%d", i%3), fmt.Sprintf("order-%d", i), "ORDERS", i+1)
		}
		c := jsConsumer(tb, ctx, s, jetstream.ConsumerConfig{Durable: "proc", AckPolicy: jetstream.AckExplicitPolicy})
		jsEqual(tb, "pending on create", c.CachedInfo().NumPending, uint64(n))
		for i, m := range jsFetch(tb, c, n, 10) {
			md := jsMeta(tb, m)
			if md.Sequence.Stream != uint64(i+1) || md.NumDelivered != 1 || md.NumPending != uint64(n-i-1) ||
				md.Stream != "ORDERS" || md.Consumer != "proc" {
				tb.Fatalf("message %d: metadata %+v", i, *md)
			}
			jsEqual(tb, "subject", m.Subject(), fmt.Sprintf("orders.%d", i%3))
			jsEqual(tb, "data", string(m.Data()), fmt.Sprintf("order-%d", i))
			if double {
				jsMust(tb, m.DoubleAck(ctx), "double ack %d", i)
			} else {
				jsMust(tb, m.Ack(), "ack %d", i)
			}
		}
		jsEventually(tb, ctx, func() (bool, string, error) {
			info, err := c.Info(ctx)
			if err != nil {
				return false, "consumer info", err
			}
			return info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream == uint64(n) &&
					info.Delivered.Stream == uint64(n),
				fmt.Sprintf("consumer: ack pending %d, pending %d, ack floor %d, delivered %d (want 0, 0, %d, %d)",
					info.NumAckPending, info.NumPending, info.AckFloor.Stream, info.Delivered.Stream, n, n), nil
		})
		jsState(tb, jsStreamState(tb, ctx, s), n, 1, n)
	}
}

// caseKV: a bucket with keys keys; get, update with the right and a stale revision, create an
// existing and a new key, delete, list keys, history and the bucket's message count.
func caseKV(st jetstream.StorageType, keys, history int) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "CFG", History: uint8(history), Storage: st})
		jsMust(tb, err, "create bucket")
		key := func(i int) string { return fmt.Sprintf("svc.key%d", i) }
		msgs := map[string]int{} // messages per key in the bucket's stream, before the history cap
		for i := range keys {
			rev, err := kv.Put(ctx, key(i), []byte(fmt.Sprintf("v1-%d", i)))
			jsMust(tb, err, "put %s", key(i))
			jsEqual(tb, "revision of put "+key(i), rev, uint64(i+1))
			msgs[key(i)]++
		}
		for i := range keys {
			e, err := kv.Get(ctx, key(i))
			jsMust(tb, err, "get %s", key(i))
			if e.Key() != key(i) || string(e.Value()) != fmt.Sprintf("v1-%d", i) || e.Revision() != uint64(i+1) ||
				e.Operation() != jetstream.KeyValuePut || e.Bucket() != "CFG" {
				tb.Fatalf("get %s: %s=%q revision %d op %v bucket %s", key(i), e.Key(), e.Value(), e.Revision(), e.Operation(), e.Bucket())
			}
		}
		rev, err := kv.Update(ctx, key(0), []byte("v2"), 1)
		jsMust(tb, err, "update %s at revision 1", key(0))
		jsEqual(tb, "revision of update", rev, uint64(keys+1))
		msgs[key(0)]++
		if _, err := kv.Update(ctx, key(0), []byte("v3"), 1); !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			tb.Fatalf("update at a stale revision: %v, want ErrKeyRevisionMismatch", err)
		}
		if _, err := kv.Create(ctx, key(0), []byte("again")); !errors.Is(err, jetstream.ErrKeyExists) {
			tb.Fatalf("create an existing key: %v, want ErrKeyExists", err)
		}
		rev, err = kv.Create(ctx, "svc.new", []byte("fresh"))
		jsMust(tb, err, "create svc.new")
		jsEqual(tb, "revision of create", rev, uint64(keys+2))
		msgs["svc.new"]++
		gone := key(keys - 1)
		jsMust(tb, kv.Delete(ctx, gone), "delete %s", gone)
		msgs[gone]++
		if _, err := kv.Get(ctx, gone); !errors.Is(err, jetstream.ErrKeyNotFound) {
			tb.Fatalf("get deleted %s: %v, want ErrKeyNotFound", gone, err)
		}
		if keys > 1 {
			e, err := kv.Get(ctx, key(0))
			jsMust(tb, err, "get %s", key(0))
			if string(e.Value()) != "v2" || e.Revision() != uint64(keys+1) {
				tb.Fatalf("get %s after update: %q at revision %d, want \"v2\" at %d", key(0), e.Value(), e.Revision(), keys+1)
			}
		}
		got, err := kv.Keys(ctx)
		jsMust(tb, err, "keys")
		want := []string{"svc.new"}
		for i := range keys - 1 {
			want = append(want, key(i))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			tb.Fatalf("keys = %q, want %q", got, want)
		}
		hist, err := kv.History(ctx, key(0))
		jsMust(tb, err, "history of %s", key(0))
		jsEqual(tb, "history length of "+key(0), len(hist), min(msgs[key(0)], history))
		last := hist[len(hist)-1]
		if keys == 1 {
			jsEqual(tb, "last operation on "+key(0), last.Operation(), jetstream.KeyValueDelete)
		} else {
			jsEqual(tb, "last value of "+key(0), string(last.Value()), "v2")
		}
		total := 0
		for _, m := range msgs {
			total += min(m, history)
		}
		status, err := kv.Status(ctx)
		jsMust(tb, err, "status")
		jsEqual(tb, "values in the bucket", status.Values(), uint64(total))
		jsEqual(tb, "history", status.History(), int64(history))
	}
}

// caseFilter: events on ev.{a,b,c}.{x,y}; a consumer with filter subjects sees just its share,
// then one more published while it waits.
func caseFilter(n int, filters []string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		s := jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"ev.>"}, Storage: jetstream.MemoryStorage})
		subj := func(i int) string { return fmt.Sprintf("ev.%c.%c", "abc"[i%3], "xy"[i%2]) }
		matches := func(s string) bool {
			return slices.ContainsFunc(filters, func(f string) bool { return subject.Matches(f, s) })
		}
		var want []int
		for i := range n {
			jsPublish(tb, ctx, js, subj(i), fmt.Sprintf("e-%d", i), "EVENTS", i+1)
			if matches(subj(i)) {
				want = append(want, i+1)
			}
		}
		cfg := jetstream.ConsumerConfig{Durable: "f", AckPolicy: jetstream.AckExplicitPolicy}
		if len(filters) == 1 {
			cfg.FilterSubject = filters[0]
		} else {
			cfg.FilterSubjects = filters
		}
		c := jsConsumer(tb, ctx, s, cfg)
		jsEqual(tb, "pending on create", c.CachedInfo().NumPending, uint64(len(want)))
		for j, m := range jsFetch(tb, c, len(want), 25) {
			md := jsMeta(tb, m)
			if md.Sequence.Stream != uint64(want[j]) || md.Sequence.Consumer != uint64(j+1) || !matches(m.Subject()) {
				tb.Fatalf("message %d: %s stream seq %d consumer seq %d; want stream seq %d", j, m.Subject(), md.Sequence.Stream, md.Sequence.Consumer, want[j])
			}
			jsEqual(tb, "data", string(m.Data()), fmt.Sprintf("e-%d", want[j]-1))
			jsMust(tb, m.DoubleAck(ctx), "ack %d", j)
		}
		info, err := c.Info(ctx)
		jsMust(tb, err, "consumer info")
		if info.NumPending != 0 || info.NumAckPending != 0 {
			tb.Fatalf("after acks: pending %d, ack pending %d", info.NumPending, info.NumAckPending)
		}
		late := n + 1
		if !matches("ev.q.z") {
			jsPublish(tb, ctx, js, "ev.q.z", "not for f", "EVENTS", late)
			late++
		}
		jsPublish(tb, ctx, js, subj(want[0]-1), "late", "EVENTS", late)
		m := jsFetch(tb, c, 1, 1)[0]
		if md := jsMeta(tb, m); md.Sequence.Stream != uint64(late) || string(m.Data()) != "late" {
			tb.Fatalf("late message: stream seq %d data %q, want %d \"late\"", md.Sequence.Stream, m.Data(), late)
		}
		jsMust(tb, m.DoubleAck(ctx), "ack late")
	}
}

// caseWorkQueue: a work-queue stream: acked messages leave it; consumers must not overlap; a
// nak redelivers at once.
func caseWorkQueue(n int, variant string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		s := jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"},
			Retention: jetstream.WorkQueuePolicy, Storage: jetstream.MemoryStorage})
		subj := func(i int) string { return fmt.Sprintf("jobs.%c", "ab"[i%2]) }
		for i := range n {
			jsPublish(tb, ctx, js, subj(i), fmt.Sprintf("job-%d", i), "JOBS", i+1)
		}
		drained := func(left int) {
			tb.Helper()
			jsEventually(tb, ctx, func() (bool, string, error) {
				st := jsStreamState(tb, ctx, s)
				return st.Msgs == uint64(left), fmt.Sprintf("%d of %d jobs left in the stream (now %d)", left, n, st.Msgs), nil
			})
		}
		ackAll := func(ms []jetstream.Msg) {
			tb.Helper()
			for _, m := range ms {
				jsMust(tb, m.DoubleAck(ctx), "ack %s", m.Subject())
			}
		}
		worker := jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy}
		switch variant {
		case "single":
			c := jsConsumer(tb, ctx, s, worker)
			ms := jsFetch(tb, c, n, 20)
			for i, m := range ms {
				jsEqual(tb, "data", string(m.Data()), fmt.Sprintf("job-%d", i))
			}
			ackAll(ms)
			drained(0)
			jsState(tb, jsStreamState(tb, ctx, s), 0, n+1, n)
		case "split":
			total := 0
			for _, part := range []string{"a", "b"} {
				c := jsConsumer(tb, ctx, s, jetstream.ConsumerConfig{Durable: "w" + part, FilterSubject: "jobs." + part, AckPolicy: jetstream.AckExplicitPolicy})
				share := (n + 1) / 2
				if part == "b" {
					share = n / 2
				}
				jsEqual(tb, "pending for jobs."+part, c.CachedInfo().NumPending, uint64(share))
				if share == 0 {
					continue
				}
				ms := jsFetch(tb, c, share, 20)
				for _, m := range ms {
					jsEqual(tb, "subject", m.Subject(), "jobs."+part)
				}
				ackAll(ms)
				total += share
				drained(n - total)
			}
		case "exclusive":
			c := jsConsumer(tb, ctx, s, worker)
			_, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w2", AckPolicy: jetstream.AckExplicitPolicy})
			jsAPIError(tb, err, 10099, "a second unfiltered consumer on a work queue")
			_, err = s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w3", FilterSubject: "jobs.a", AckPolicy: jetstream.AckExplicitPolicy})
			jsAPIError(tb, err, 10100, "an overlapping filtered consumer on a work queue")
			ackAll(jsFetch(tb, c, n, 20))
			drained(0)
			jsMust(tb, s.DeleteConsumer(ctx, "w"), "delete consumer w")
			jsConsumer(tb, ctx, s, jetstream.ConsumerConfig{Durable: "w2", AckPolicy: jetstream.AckExplicitPolicy})
		case "nak":
			c := jsConsumer(tb, ctx, s, worker)
			var naked []uint64
			for i, m := range jsFetch(tb, c, n, 20) {
				if i%3 == 0 {
					jsMust(tb, m.Nak(), "nak %d", i)
					naked = append(naked, uint64(i+1))
				} else {
					jsMust(tb, m.DoubleAck(ctx), "ack %d", i)
				}
			}
			var again []uint64
			for _, m := range jsFetch(tb, c, len(naked), 20) {
				md := jsMeta(tb, m)
				if md.NumDelivered != 2 {
					tb.Fatalf("redelivered message %d: delivered %d times, want 2", md.Sequence.Stream, md.NumDelivered)
				}
				again = append(again, md.Sequence.Stream)
				jsMust(tb, m.DoubleAck(ctx), "ack redelivered %d", md.Sequence.Stream)
			}
			slices.Sort(again)
			if !slices.Equal(again, naked) {
				tb.Fatalf("redelivered %v, want the naked %v", again, naked)
			}
			drained(0)
			info, err := c.Info(ctx)
			jsMust(tb, err, "consumer info")
			jsEqual(tb, "redelivered", info.NumRedelivered, 0)
			jsEqual(tb, "ack pending", info.NumAckPending, 0)
		case "partial":
			c := jsConsumer(tb, ctx, s, worker)
			ms := jsFetch(tb, c, n, 20)
			ackAll(ms[:n/2])
			drained(n - n/2)
			st := jsStreamState(tb, ctx, s)
			if n/2 < n {
				jsState(tb, st, n-n/2, n/2+1, n)
			}
			info, err := c.Info(ctx)
			jsMust(tb, err, "consumer info")
			jsEqual(tb, "ack pending", info.NumAckPending, n-n/2)
			jsEqual(tb, "ack floor", info.AckFloor.Stream, uint64(n/2))
		default:
			panic(variant)
		}
	}
}

// caseDedupe: each of ids message IDs published three times; the repeats are acked as
// duplicates of the first, and the stream holds one message per ID.
func caseDedupe(ids int, window time.Duration, interleaved bool) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		s := jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "PAY", Subjects: []string{"pay.>"},
			Duplicates: window, Storage: jetstream.MemoryStorage})
		wantWindow := window
		if wantWindow == 0 {
			wantWindow = 2 * time.Minute
		}
		jsEqual(tb, "duplicate window", s.CachedInfo().Config.Duplicates, wantWindow)
		first := map[int]uint64{}
		pub := func(i, r int) {
			id := fmt.Sprintf("id-%d", i)
			ack, err := js.Publish(ctx, fmt.Sprintf("pay.%d", i), []byte(fmt.Sprintf("p-%d-%d", i, r)), jetstream.WithMsgID(id))
			jsMust(tb, err, "publish %s, repeat %d", id, r)
			seq, seen := first[i]
			switch {
			case !seen && (ack.Duplicate || ack.Sequence != uint64(len(first)+1)):
				tb.Fatalf("first publish of %s: ack %+v, want sequence %d, not a duplicate", id, *ack, len(first)+1)
			case seen && (!ack.Duplicate || ack.Sequence != seq):
				tb.Fatalf("repeat %d of %s: ack %+v, want a duplicate of sequence %d", r, id, *ack, seq)
			case !seen:
				first[i] = ack.Sequence
			}
		}
		if interleaved {
			for r := range 3 {
				for i := range ids {
					pub(i, r)
				}
			}
		} else {
			for i := range ids {
				for r := range 3 {
					pub(i, r)
				}
			}
		}
		jsState(tb, jsStreamState(tb, ctx, s), ids, 1, ids)
		for i, seq := range first {
			m, err := s.GetMsg(ctx, seq)
			jsMust(tb, err, "get message %d", seq)
			if string(m.Data) != fmt.Sprintf("p-%d-0", i) || m.Header.Get(jetstream.MsgIDHeader) != fmt.Sprintf("id-%d", i) {
				tb.Fatalf("message %d: %q with Nats-Msg-Id %q, want the first publish of id-%d", seq, m.Data, m.Header.Get(jetstream.MsgIDHeader), i)
			}
		}
		jsPublish(tb, ctx, js, "pay.new", "new", "PAY", ids+1, jetstream.WithMsgID("id-new"))
	}
}

// casePurge: n messages on p.0, p.1, p.2; a purge of everything, of a subject, keeping some or
// below a sequence; what is left, by subject and through a consumer; sequences go on after it.
func casePurge(st jetstream.StorageType, n int, kind string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		s := jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.*"}, Storage: st})
		subj := func(i int) string { return fmt.Sprintf("p.%d", i%3) }
		for i := range n {
			jsPublish(tb, ctx, js, subj(i), strconv.Itoa(i), "P", i+1)
		}
		var opts []jetstream.StreamPurgeOpt
		gone := func(i int) bool { return true } // whether message i (sequence i+1) is purged
		switch kind {
		case "all":
		case "subject":
			opts = append(opts, jetstream.WithPurgeSubject("p.1"))
			gone = func(i int) bool { return i%3 == 1 }
		case "keep":
			opts = append(opts, jetstream.WithPurgeKeep(3))
			gone = func(i int) bool { return i < n-3 }
		case "seq":
			opts = append(opts, jetstream.WithPurgeSequence(uint64(n/2)))
			gone = func(i int) bool { return i+1 < n/2 }
		case "subject-keep":
			opts = append(opts, jetstream.WithPurgeSubject("p.2"), jetstream.WithPurgeKeep(1))
			lastP2 := (n-1)/3*3 + 2
			if lastP2 >= n {
				lastP2 -= 3
			}
			gone = func(i int) bool { return i%3 == 2 && i != lastP2 }
		default:
			panic(kind)
		}
		jsMust(tb, s.Purge(ctx, opts...), "purge %s", kind)
		var left []uint64
		bySubject := map[string]uint64{}
		for i := range n {
			if !gone(i) {
				left = append(left, uint64(i+1))
				bySubject[subj(i)]++
			}
		}
		state := jsStreamState(tb, ctx, s, jetstream.WithSubjectFilter("p.*"))
		firstSeq := n + 1
		if len(left) > 0 {
			firstSeq = int(left[0])
		}
		jsState(tb, state, len(left), firstSeq, n)
		if len(state.Subjects) != len(bySubject) {
			tb.Fatalf("subjects after purge: %v, want %v", state.Subjects, bySubject)
		}
		for k, v := range bySubject {
			if state.Subjects[k] != v {
				tb.Fatalf("subjects after purge: %v, want %v", state.Subjects, bySubject)
			}
		}
		jsPublish(tb, ctx, js, "p.1", "after", "P", n+1)
		left = append(left, uint64(n+1))
		c := jsConsumer(tb, ctx, s, jetstream.ConsumerConfig{Durable: "all", AckPolicy: jetstream.AckNonePolicy})
		var got []uint64
		for _, m := range jsFetch(tb, c, len(left), 50) {
			got = append(got, jsMeta(tb, m).Sequence.Stream)
		}
		if !slices.Equal(got, left) {
			tb.Fatalf("consumer after purge got sequences %v, want %v", got, left)
		}
	}
}

// caseOrdered: an ordered consumer reads the stream in order: all of it through Consume, from a
// sequence through Next, a filtered share through Fetch, or the last message of each subject.
func caseOrdered(n int, variant string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "OS", Subjects: []string{"o.>"}, Storage: jetstream.MemoryStorage})
		subj := func(i int) string { return fmt.Sprintf("o.%c", "abc"[i%3]) }
		for i := range n {
			jsPublish(tb, ctx, js, subj(i), fmt.Sprintf("o-%d", i), "OS", i+1)
		}
		var cfg jetstream.OrderedConsumerConfig
		var want []int // stream sequences, in order
		switch variant {
		case "consume":
			for i := range n {
				want = append(want, i+1)
			}
		case "next-from-seq":
			start := n/2 + 1
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, uint64(start)
			for seq := start; seq <= n; seq++ {
				want = append(want, seq)
			}
		case "filter-fetch":
			cfg.FilterSubjects = []string{"o.a"}
			for i := 0; i < n; i += 3 {
				want = append(want, i+1)
			}
		case "last-per-subject":
			cfg.DeliverPolicy = jetstream.DeliverLastPerSubjectPolicy
			for i := max(0, n-3); i < n; i++ {
				want = append(want, i+1)
			}
		default:
			panic(variant)
		}
		c, err := js.OrderedConsumer(ctx, "OS", cfg)
		jsMust(tb, err, "ordered consumer")
		var got []jetstream.Msg
		switch variant {
		case "consume":
			ch := make(chan jetstream.Msg, n)
			cc, err := c.Consume(func(m jetstream.Msg) { ch <- m })
			jsMust(tb, err, "consume")
			for range n {
				select {
				case m := <-ch:
					got = append(got, m)
				case <-ctx.Done():
					cc.Stop()
					tb.Fatalf("consumed %d of %d messages", len(got), n)
				}
			}
			cc.Stop()
		case "next-from-seq":
			for range want {
				m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
				jsMust(tb, err, "next after %d messages", len(got))
				got = append(got, m)
			}
		default:
			got = jsFetch(tb, c, len(want), len(want))
		}
		for j, m := range got {
			md := jsMeta(tb, m)
			// Next on an ordered consumer makes a new server-side consumer for each message:
			// consumer sequences start again at 1
			wantCseq := uint64(j + 1)
			if variant == "next-from-seq" {
				wantCseq = 1
			}
			if md.Sequence.Stream != uint64(want[j]) || md.Sequence.Consumer != wantCseq ||
				m.Subject() != subj(want[j]-1) || string(m.Data()) != fmt.Sprintf("o-%d", want[j]-1) {
				tb.Fatalf("message %d: %s %q, stream seq %d, consumer seq %d; want %s stream seq %d consumer seq %d",
					j, m.Subject(), m.Data(), md.Sequence.Stream, md.Sequence.Consumer, subj(want[j]-1), want[j], wantCseq)
			}
		}
	}
}

// jsObjectData is size deterministic, not repetitive bytes.
func jsObjectData(size, seed int) []byte {
	b := make([]byte, size)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// jsPutReader reads data for ObjectStore.Put.
func jsPutReader(data []byte) io.Reader { return bytes.NewReader(data) }

// caseObject: an object store: an object of size bytes in and out, with its metadata, put
// again over itself, or deleted.
func caseObject(size int, variant string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "files", Storage: jetstream.MemoryStorage})
		jsMust(tb, err, "create object store")
		data := jsObjectData(size, 1)
		chunks := func(size int) uint32 { return uint32((size + 128*1024 - 1) / (128 * 1024)) }
		check := func(name string, data []byte) {
			tb.Helper()
			got, err := obs.GetBytes(ctx, name)
			jsMust(tb, err, "get %s", name)
			if !bytes.Equal(got, data) {
				tb.Fatalf("get %s: %d bytes, not the %d put", name, len(got), len(data))
			}
			info, err := obs.GetInfo(ctx, name)
			jsMust(tb, err, "info of %s", name)
			if info.Size != uint64(len(data)) || info.Chunks != chunks(len(data)) || info.Name != name || info.Bucket != "files" || info.Deleted {
				tb.Fatalf("info of %s: %+v, want size %d in %d chunks", name, *info, len(data), chunks(len(data)))
			}
		}
		switch variant {
		case "roundtrip":
			info, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "doc.bin"}, jsPutReader(data))
			jsMust(tb, err, "put")
			jsEqual(tb, "size", info.Size, uint64(size))
			jsEqual(tb, "chunks", info.Chunks, chunks(size))
			check("doc.bin", data)
		case "meta":
			meta := jetstream.ObjectMeta{Name: "reports/q3.bin", Description: "quarterly", Metadata: map[string]string{"owner": "ops"},
				Headers: nats.Header{"X-Kind": []string{"report"}}}
			_, err := obs.Put(ctx, meta, jsPutReader(data))
			jsMust(tb, err, "put")
			check("reports/q3.bin", data)
			info, err := obs.GetInfo(ctx, "reports/q3.bin")
			jsMust(tb, err, "info")
			if info.Description != "quarterly" || info.Metadata["owner"] != "ops" || info.Headers.Get("X-Kind") != "report" || info.Digest == "" {
				tb.Fatalf("info: %+v", *info)
			}
			list, err := obs.List(ctx)
			jsMust(tb, err, "list")
			if len(list) != 1 || list[0].Name != "reports/q3.bin" {
				tb.Fatalf("list: %d objects", len(list))
			}
		case "overwrite":
			_, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "doc.bin"}, jsPutReader(data))
			jsMust(tb, err, "put")
			second := jsObjectData(size/2+1, 2)
			_, err = obs.Put(ctx, jetstream.ObjectMeta{Name: "doc.bin"}, jsPutReader(second))
			jsMust(tb, err, "put again")
			check("doc.bin", second)
			list, err := obs.List(ctx)
			jsMust(tb, err, "list")
			jsEqual(tb, "objects", len(list), 1)
			status, err := obs.Status(ctx)
			jsMust(tb, err, "status")
			// what is left: the second object's chunks and one meta message
			jsEqual(tb, "messages in the store", status.(*jetstream.ObjectBucketStatus).StreamInfo().State.Msgs, uint64(chunks(len(second))+1))
		case "delete":
			_, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "doc.bin"}, jsPutReader(data))
			jsMust(tb, err, "put")
			_, err = obs.Put(ctx, jetstream.ObjectMeta{Name: "keep.txt"}, jsPutReader([]byte("kept")))
			jsMust(tb, err, "put keep.txt")
			jsMust(tb, obs.Delete(ctx, "doc.bin"), "delete")
			if _, err := obs.GetBytes(ctx, "doc.bin"); !errors.Is(err, jetstream.ErrObjectNotFound) {
				tb.Fatalf("get deleted: %v, want ErrObjectNotFound", err)
			}
			info, err := obs.GetInfo(ctx, "doc.bin", jetstream.GetObjectInfoShowDeleted())
			jsMust(tb, err, "info of deleted")
			if !info.Deleted || info.Size != 0 {
				tb.Fatalf("info of deleted: %+v", *info)
			}
			list, err := obs.List(ctx)
			jsMust(tb, err, "list")
			if len(list) != 1 || list[0].Name != "keep.txt" {
				tb.Fatalf("list after delete: %d objects", len(list))
			}
			s, err := obs.GetString(ctx, "keep.txt")
			jsMust(tb, err, "get keep.txt")
			jsEqual(tb, "keep.txt", s, "kept")
		default:
			panic(variant)
		}
	}
}

// caseLimits: a stream's limits: at most 5 messages, old ones dropped or new ones refused; at
// most 2 per subject; and messages read back by sequence and by subject through direct get.
func caseLimits(n int, variant string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		cfg := jetstream.StreamConfig{Name: "L", Subjects: []string{"l.*"}, Storage: jetstream.MemoryStorage}
		subj := func(i int) string { return fmt.Sprintf("l.%d", i%3) }
		switch variant {
		case "maxmsgs-old":
			cfg.MaxMsgs = 5
		case "maxmsgs-new":
			cfg.MaxMsgs, cfg.Discard = 5, jetstream.DiscardNew
		case "per-subject":
			cfg.MaxMsgsPerSubject = 2
		case "direct-get":
			cfg.AllowDirect = true
		default:
			panic(variant)
		}
		s := jsStream(tb, ctx, js, cfg)
		for i := range n {
			if variant == "maxmsgs-new" && i >= 5 {
				_, err := js.Publish(ctx, subj(i), []byte(strconv.Itoa(i)))
				jsAPIError(tb, err, 10077, fmt.Sprintf("publish %d into a full stream", i+1))
				continue
			}
			jsPublish(tb, ctx, js, subj(i), strconv.Itoa(i), "L", i+1)
		}
		getMsg := func(seq int) {
			tb.Helper()
			m, err := s.GetMsg(ctx, uint64(seq))
			jsMust(tb, err, "get message %d", seq)
			if m.Sequence != uint64(seq) || m.Subject != subj(seq-1) || string(m.Data) != strconv.Itoa(seq-1) {
				tb.Fatalf("get message %d: %d %s %q", seq, m.Sequence, m.Subject, m.Data)
			}
		}
		lastFor := func(sub string) int { // sequence of the last message on sub, 0 if none
			for i := n - 1; i >= 0; i-- {
				if subj(i) == sub {
					return i + 1
				}
			}
			return 0
		}
		switch variant {
		case "maxmsgs-old":
			jsState(tb, jsStreamState(tb, ctx, s), min(n, 5), max(1, n-4), n)
			getMsg(max(1, n-4))
			if n > 5 {
				if _, err := s.GetMsg(ctx, 1); !errors.Is(err, jetstream.ErrMsgNotFound) {
					tb.Fatalf("get dropped message 1: %v, want ErrMsgNotFound", err)
				}
			}
		case "maxmsgs-new":
			jsState(tb, jsStreamState(tb, ctx, s), min(n, 5), 1, min(n, 5))
		case "per-subject":
			counts := map[string]int{}
			for i := range n {
				counts[subj(i)]++
			}
			total := 0
			for _, c := range counts {
				total += min(c, 2)
			}
			st := jsStreamState(tb, ctx, s, jetstream.WithSubjectFilter("l.*"))
			jsEqual(tb, "messages", st.Msgs, uint64(total))
			for k, c := range counts {
				jsEqual(tb, "messages on "+k, st.Subjects[k], uint64(min(c, 2)))
				m, err := s.GetLastMsgForSubject(ctx, k)
				jsMust(tb, err, "last message on %s", k)
				jsEqual(tb, "sequence of the last message on "+k, m.Sequence, uint64(lastFor(k)))
			}
		case "direct-get":
			jsEqual(tb, "allow direct", s.CachedInfo().Config.AllowDirect, true)
			for seq := 1; seq <= n; seq++ {
				getMsg(seq)
			}
			for _, k := range []string{"l.0", "l.1", "l.2"} {
				m, err := s.GetLastMsgForSubject(ctx, k)
				if lastFor(k) == 0 {
					if !errors.Is(err, jetstream.ErrMsgNotFound) {
						tb.Fatalf("last message on empty %s: %v, want ErrMsgNotFound", k, err)
					}
					continue
				}
				jsMust(tb, err, "last message on %s", k)
				jsEqual(tb, "sequence of the last message on "+k, m.Sequence, uint64(lastFor(k)))
			}
			if _, err := s.GetMsg(ctx, uint64(n+1)); !errors.Is(err, jetstream.ErrMsgNotFound) {
				tb.Fatalf("get message %d past the end: %v, want ErrMsgNotFound", n+1, err)
			}
		}
	}
}

// caseManage: publishes with expectations (last sequence, last sequence per subject), headers
// through a consumer, and streams and consumers created, listed, updated and deleted.
func caseManage(n int, variant string) func(testing.TB, *Env) {
	return func(tb testing.TB, env *Env) {
		ctx, js := jsCtx(tb), env.JetStream()
		if variant == "lifecycle" {
			manageLifecycle(tb, ctx, js, n)
			return
		}
		s := jsStream(tb, ctx, js, jetstream.StreamConfig{Name: "OCC", Subjects: []string{"s.*"}, Storage: jetstream.MemoryStorage})
		subj := func(i int) string { return fmt.Sprintf("s.%d", i%2) }
		switch variant {
		case "expect-last-seq":
			for i := range n {
				jsPublish(tb, ctx, js, subj(i), "x", "OCC", i+1, jetstream.WithExpectLastSequence(uint64(i)), jetstream.WithExpectStream("OCC"))
			}
			_, err := js.Publish(ctx, "s.0", []byte("stale"), jetstream.WithExpectLastSequence(uint64(n-1)))
			jsAPIError(tb, err, 10071, "publish expecting a stale last sequence")
			_, err = js.Publish(ctx, "s.0", []byte("elsewhere"), jetstream.WithExpectStream("OTHER"))
			jsAPIError(tb, err, 10060, "publish expecting another stream")
			jsState(tb, jsStreamState(tb, ctx, s), n, 1, n)
		case "expect-per-subject":
			last := map[string]uint64{}
			for i := range n {
				jsPublish(tb, ctx, js, subj(i), "x", "OCC", i+1, jetstream.WithExpectLastSequencePerSubject(last[subj(i)]))
				last[subj(i)] = uint64(i + 1)
			}
			_, err := js.Publish(ctx, "s.0", []byte("stale"), jetstream.WithExpectLastSequencePerSubject(0))
			jsAPIError(tb, err, 10071, "publish on s.0 expecting it empty")
			jsPublish(tb, ctx, js, "s.0", "x", "OCC", n+1, jetstream.WithExpectLastSequencePerSubject(last["s.0"]))
			jsState(tb, jsStreamState(tb, ctx, s), n+1, 1, n+1)
		case "headers":
			for i := range n {
				m := nats.NewMsg(subj(i))
				m.Data = []byte(fmt.Sprintf("h-%d", i))
				m.Header.Set("X-Idx", strconv.Itoa(i))
				m.Header.Add("X-Multi", "a")
				m.Header.Add("X-Multi", "b")
				ack, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprintf("m-%d", i)))
				jsMust(tb, err, "publish %d", i)
				jsEqual(tb, "sequence", ack.Sequence, uint64(i+1))
			}
			c := jsConsumer(tb, ctx, s, jetstream.ConsumerConfig{Durable: "h", AckPolicy: jetstream.AckNonePolicy})
			for i, m := range jsFetch(tb, c, n, 10) {
				h := m.Headers()
				if h.Get("X-Idx") != strconv.Itoa(i) || !slices.Equal(h.Values("X-Multi"), []string{"a", "b"}) ||
					h.Get(jetstream.MsgIDHeader) != fmt.Sprintf("m-%d", i) || string(m.Data()) != fmt.Sprintf("h-%d", i) {
					tb.Fatalf("message %d: headers %v, data %q", i, h, m.Data())
				}
			}
			info, err := c.Info(ctx)
			jsMust(tb, err, "consumer info")
			if info.NumPending != 0 || info.NumAckPending != 0 || info.Delivered.Stream != uint64(n) {
				tb.Fatalf("consumer: pending %d, ack pending %d, delivered %d", info.NumPending, info.NumAckPending, info.Delivered.Stream)
			}
		default:
			panic(variant)
		}
	}
}

func jsStreamNames(tb testing.TB, ctx context.Context, js jetstream.JetStream) []string {
	tb.Helper()
	l := js.StreamNames(ctx)
	var names []string
	for name := range l.Name() {
		names = append(names, name)
	}
	jsMust(tb, l.Err(), "stream names")
	slices.Sort(names)
	return names
}

// manageLifecycle: n streams created and listed, one updated to take another subject, a
// consumer created, listed and deleted, every other stream deleted.
func manageLifecycle(tb testing.TB, ctx context.Context, js jetstream.JetStream, n int) {
	var want []string
	for i := range n {
		name := fmt.Sprintf("S%02d", i)
		jsStream(tb, ctx, js, jetstream.StreamConfig{Name: name, Subjects: []string{fmt.Sprintf("s%d.>", i)}, Storage: jetstream.MemoryStorage})
		want = append(want, name)
	}
	if got := jsStreamNames(tb, ctx, js); !slices.Equal(got, want) {
		tb.Fatalf("streams %q, want %q", got, want)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CLASH", Subjects: []string{"s0.x"}, Storage: jetstream.MemoryStorage}); jsAPICode(err) != 10065 {
		tb.Fatalf("a stream overlapping S00's subjects: %v, want error code 10065", err)
	}
	s, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: "S00", Subjects: []string{"s0.>", "extra.>"}, Storage: jetstream.MemoryStorage})
	jsMust(tb, err, "update S00")
	jsEqual(tb, "subjects of S00", len(s.CachedInfo().Config.Subjects), 2)
	jsPublish(tb, ctx, js, "extra.x", "x", "S00", 1)
	c := jsConsumer(tb, ctx, s, jetstream.ConsumerConfig{Durable: "c1", AckPolicy: jetstream.AckExplicitPolicy})
	jsEqual(tb, "pending", c.CachedInfo().NumPending, uint64(1))
	var consumers []string
	cl := s.ConsumerNames(ctx)
	for name := range cl.Name() {
		consumers = append(consumers, name)
	}
	jsMust(tb, cl.Err(), "consumer names")
	if !slices.Equal(consumers, []string{"c1"}) {
		tb.Fatalf("consumers %q, want [c1]", consumers)
	}
	jsMust(tb, s.DeleteConsumer(ctx, "c1"), "delete consumer")
	if _, err := s.Consumer(ctx, "c1"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		tb.Fatalf("deleted consumer: %v, want ErrConsumerNotFound", err)
	}
	var kept []string
	for i, name := range want {
		if i%2 == 1 {
			jsMust(tb, js.DeleteStream(ctx, name), "delete %s", name)
			if _, err := js.Stream(ctx, name); !errors.Is(err, jetstream.ErrStreamNotFound) {
				tb.Fatalf("deleted stream %s: %v, want ErrStreamNotFound", name, err)
			}
		} else {
			kept = append(kept, name)
		}
	}
	if got := jsStreamNames(tb, ctx, js); !slices.Equal(got, kept) {
		tb.Fatalf("streams after deletes %q, want %q", got, kept)
	}
	ai, err := js.AccountInfo(ctx)
	jsMust(tb, err, "account info")
	jsEqual(tb, "streams in the account", ai.Streams, len(kept))
	jsEqual(tb, "consumers in the account", ai.Consumers, 0)
}
