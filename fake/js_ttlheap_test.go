package fake

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestTTLHeap(t *testing.T) {
	t0 := time.Unix(1000, 0).UnixNano()
	for _, tc := range []struct {
		name string
		in   []ttlItem
		want []uint64 // sequences in pop order
	}{
		{name: "one", in: []ttlItem{{t0, 1}}, want: []uint64{1}},
		{name: "by time", in: []ttlItem{{t0 + 3, 1}, {t0 + 1, 2}, {t0 + 2, 3}}, want: []uint64{2, 3, 1}},
		{name: "ties by sequence", in: []ttlItem{{t0, 5}, {t0, 2}, {t0, 9}, {t0 - 1, 7}}, want: []uint64{7, 2, 5, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h ttlHeap
			for _, it := range tc.in {
				h.push(it)
			}
			var got []uint64
			for len(h) > 0 {
				got = append(got, h.pop().seq)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("popped %v, want %v", got, tc.want)
			}
		})
	}
}

// The heap pops what a sorted slice holds first, through random pushes, pops and filters.
func TestTTLHeapModel(t *testing.T) {
	t0 := time.Unix(1000, 0).UnixNano()
	byAt := func(a, b ttlItem) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return cmpUint(a.seq, b.seq)
	}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		var h ttlHeap
		var model []ttlItem
		seq := uint64(0)
		for step := range 2000 {
			switch op := r.IntN(10); {
			case op < 5 || len(model) == 0:
				seq++
				it := ttlItem{t0 + int64(time.Duration(r.IntN(50))*time.Second), seq}
				h.push(it)
				model = append(model, it)
				slices.SortFunc(model, byAt)
			case op < 9:
				if got := h.pop(); got != model[0] {
					t.Fatalf("seed %d step %d: pop %v, want %v", seed, step, got, model[0])
				}
				model = model[1:]
			default:
				odd := func(it ttlItem) bool { return it.seq%3 != 0 }
				h.keep(odd)
				model = slices.DeleteFunc(model, func(it ttlItem) bool { return !odd(it) })
			}
			if len(h) != len(model) {
				t.Fatalf("seed %d step %d: %d entries, want %d", seed, step, len(h), len(model))
			}
		}
	}
}
