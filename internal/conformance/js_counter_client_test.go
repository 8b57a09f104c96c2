package conformance

import (
	"errors"
	"math/big"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/counters"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/natskit/natskit/natstest"
)

// The orbit.go clients built on counters and direct get batches: the counters package and
// jetstreamext's GetBatch and GetLastMsgsFor, on both backends. Helpers start with "oc".

// ocCounter is counter stream C (c.>, direct gets on) through the counters client.
func ocCounter(t *testing.T, env *natstest.Env) counters.Counter {
	t.Helper()
	ctStream(t, env)
	c, err := counters.GetCounter(waitCtx(t), env.JetStream(), "C")
	if err != nil {
		t.Fatalf("counter C: %v", err)
	}
	return c
}

// TestJSCounterClientAddLoad: the counters client adds and loads totals, big ones too, and says
// when a subject has no counter.
func TestJSCounterClientAddLoad(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c := ocCounter(t, env)
		ctx := waitCtx(t)
		for _, step := range []struct {
			add  int
			want int64
		}{{1, 1}, {10, 11}, {-20, -9}} {
			v, err := c.AddInt(ctx, "c.hits", step.add)
			if err != nil || v.Int64() != step.want {
				t.Fatalf("add %d: %v, %v; want %d", step.add, v, err, step.want)
			}
		}
		huge, _ := new(big.Int).SetString("100000000000000000000000000000", 10)
		if v, err := c.Add(ctx, "c.big", huge); err != nil || v.Cmp(huge) != 0 {
			t.Errorf("add a big integer: %v, %v", v, err)
		}
		if v, err := c.Load(ctx, "c.hits"); err != nil || v.Int64() != -9 {
			t.Errorf("load: %v, %v; want -9", v, err)
		}
		e, err := c.Get(ctx, "c.hits")
		if err != nil || e.Value.Int64() != -9 || e.Incr.Int64() != -20 || e.Sources != nil {
			t.Errorf("get: %+v, %v; want value -9, increment -20, no sources", e, err)
		}
		if _, err := c.Load(ctx, "c.none"); !errors.Is(err, counters.ErrNoCounterForSubject) {
			t.Errorf("load of a subject without a counter: %v, want ErrNoCounterForSubject", err)
		}
		if _, err := c.Add(ctx, "c.hits", nil); !errors.Is(err, counters.ErrInvalidCounterValue) {
			t.Errorf("add nil: %v", err)
		}
	})
}

// TestJSCounterClientGetMultiple: GetMultiple reads many counters with one multi_last direct
// get, wildcards included.
func TestJSCounterClientGetMultiple(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c := ocCounter(t, env)
		ctx := waitCtx(t)
		for _, a := range []struct {
			subj string
			n    int
		}{{"c.a", 1}, {"c.b", 2}, {"c.x.y", 3}, {"c.a", 4}} {
			if _, err := c.AddInt(ctx, a.subj, a.n); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for e, err := range c.GetMultiple(ctx, []string{"c.*", "c.x.>"}) {
			if err != nil {
				t.Fatalf("get multiple: %v", err)
			}
			got = append(got, e.Subject+"="+e.Value.String())
		}
		if d := cmp.Diff([]string{"c.b=2", "c.x.y=3", "c.a=5"}, got); d != "" {
			t.Errorf("get multiple (-want +got):\n%s", d)
		}
		var errs []error
		for _, err := range c.GetMultiple(ctx, []string{"c.none"}) {
			errs = append(errs, err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], jetstreamext.ErrNoMessages) {
			t.Errorf("get multiple of nothing: %v, want one ErrNoMessages", errs)
		}
	})
}

// TestJSCounterClientNotACounter: the counters client refuses a stream without counters or
// without direct gets, and a stream that does not exist.
func TestJSCounterClientNotACounter(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, AllowDirect: true})
		spStream(t, env, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.>"}, AllowMsgCounter: true})
		ctx := waitCtx(t)
		for name, want := range map[string]error{"P": counters.ErrCounterNotEnabled, "Q": counters.ErrDirectAccessRequired, "Z": counters.ErrCounterNotFound} {
			if _, err := counters.GetCounter(ctx, env.JetStream(), name); !errors.Is(err, want) {
				t.Errorf("counter %s: %v, want %v", name, err, want)
			}
		}
	})
}

// ocSeqs drains a batch iterator into sequences, stopping at its first error.
func ocSeqs(t *testing.T, msgs func(func(*jetstream.RawStreamMsg, error) bool), err error) ([]uint64, error) {
	t.Helper()
	if err != nil {
		t.Fatalf("get batch: %v", err)
	}
	var out []uint64
	for m, err := range msgs {
		if err != nil {
			return out, err
		}
		out = append(out, m.Sequence)
	}
	return out, nil
}

// TestJSDirectBatchClient: jetstreamext's GetBatch and GetLastMsgsFor read what nats-server
// sends for batches, from a sequence, a subject, up to a sequence.
func TestJSDirectBatchClient(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env) // x, y, x, y, x
		ctx := waitCtx(t)
		js := env.JetStream()
		for _, c := range []struct {
			what string
			get  func() (func(func(*jetstream.RawStreamMsg, error) bool), error)
			want []uint64
			err  error
		}{
			{"batch 3", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetBatch(ctx, js, "DB", 3)
			}, []uint64{1, 2, 3}, nil},
			{"from 4, subject x", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetBatch(ctx, js, "DB", 10, jetstreamext.GetBatchSeq(2), jetstreamext.GetBatchSubject("x"))
			}, []uint64{3, 5}, nil},
			{"max bytes", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetBatch(ctx, js, "DB", 10, jetstreamext.GetBatchMaxBytes(3)) // two of 2 bytes each
			}, []uint64{1, 2}, nil},
			{"nothing from 9", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetBatch(ctx, js, "DB", 2, jetstreamext.GetBatchSeq(9))
			}, nil, jetstreamext.ErrNoMessages},
			{"last of x and y", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetLastMsgsFor(ctx, js, "DB", []string{"x", "y"})
			}, []uint64{4, 5}, nil},
			{"last up to 3", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetLastMsgsFor(ctx, js, "DB", []string{">"}, jetstreamext.GetLastMsgsUpToSeq(3))
			}, []uint64{2, 3}, nil},
			{"last of y, batch 1", func() (func(func(*jetstream.RawStreamMsg, error) bool), error) {
				return jetstreamext.GetLastMsgsFor(ctx, js, "DB", []string{"*"}, jetstreamext.GetLastMsgsBatchSize(1))
			}, []uint64{4}, nil},
		} {
			msgs, err := c.get()
			got, err := ocSeqs(t, msgs, err)
			if !slices.Equal(got, c.want) || !errors.Is(err, c.err) {
				t.Errorf("%s: %v, %v; want %v, %v", c.what, got, err, c.want, c.err)
			}
		}
	})
}
