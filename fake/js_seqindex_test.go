package fake

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSeqIndex(t *testing.T) {
	for _, tc := range []struct {
		name    string
		push    []uint64
		remove  []uint64
		live    []uint64
		from    uint64
		count   int    // entries >= from
		next    uint64 // first entry >= from, 0 for none
		first   uint64
		last    uint64
		removed int // removals that found their entry
	}{
		{name: "empty", from: 1},
		{name: "dense", push: []uint64{1, 2, 3, 4}, live: []uint64{1, 2, 3, 4}, from: 3, count: 2, next: 3, first: 1, last: 4},
		{name: "gaps", push: []uint64{2, 5, 9}, live: []uint64{2, 5, 9}, from: 6, count: 1, next: 9, first: 2, last: 9},
		{name: "remove the first", push: []uint64{1, 2, 3}, remove: []uint64{1}, live: []uint64{2, 3}, from: 1, count: 2, next: 2, first: 2, last: 3, removed: 1},
		{name: "remove the last", push: []uint64{1, 2, 3}, remove: []uint64{3}, live: []uint64{1, 2}, from: 3, first: 1, last: 2, removed: 1},
		{name: "remove the middle", push: []uint64{1, 2, 3}, remove: []uint64{2}, live: []uint64{1, 3}, from: 2, count: 1, next: 3, first: 1, last: 3, removed: 1},
		{name: "remove twice and absent", push: []uint64{1, 2, 3}, remove: []uint64{2, 2, 7}, live: []uint64{1, 3}, from: 0, count: 2, next: 1, first: 1, last: 3, removed: 1},
		{name: "remove everything", push: []uint64{1, 2, 3}, remove: []uint64{3, 1, 2}, from: 1, removed: 3},
		{name: "compacted", push: []uint64{1, 2, 3, 4, 5, 6}, remove: []uint64{1, 2, 3, 5}, live: []uint64{4, 6}, from: 5, count: 1, next: 6, first: 4, last: 6, removed: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x seqIndex[uint64]
			for _, s := range tc.push {
				x.push(s, s*10)
			}
			removed := 0
			for _, s := range tc.remove {
				if v, ok := x.remove(s); ok {
					removed++
					if v != s*10 {
						t.Errorf("remove(%d) = %d, want %d", s, v, s*10)
					}
				}
			}
			if removed != tc.removed {
				t.Errorf("%d removals found their entry, want %d", removed, tc.removed)
			}
			if got := x.seqs(); !slices.Equal(got, tc.live) && len(got)+len(tc.live) > 0 {
				t.Errorf("live %v, want %v", got, tc.live)
			}
			if got := x.countFrom(tc.from); got != tc.count {
				t.Errorf("countFrom(%d) = %d, want %d", tc.from, got, tc.count)
			}
			if got, _, _ := x.nextFrom(tc.from); got != tc.next {
				t.Errorf("nextFrom(%d) = %d, want %d", tc.from, got, tc.next)
			}
			if got, _, _ := x.first(); got != tc.first {
				t.Errorf("first = %d, want %d", got, tc.first)
			}
			if got, _, _ := x.last(); got != tc.last {
				t.Errorf("last = %d, want %d", got, tc.last)
			}
		})
	}
}

// The index answers as a plain sorted slice does, through random pushes and removals.
func TestSeqIndexModel(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 12))
		var x seqIndex[uint64]
		var model []uint64
		next := uint64(1) + r.Uint64N(5)
		for step := range 3000 {
			switch op := r.IntN(10); {
			case op < 4 || len(model) == 0:
				next += 1 + r.Uint64N(3)
				x.push(next, next*3)
				model = append(model, next)
			case op < 6:
				s := model[0] // the oldest, as limits evict
				if v, ok := x.remove(s); !ok || v != s*3 {
					t.Fatalf("seed %d step %d: remove(%d) = %d, %v", seed, step, s, v, ok)
				}
				model = model[1:]
			default:
				s := r.Uint64N(next + 2)
				k, found := slices.BinarySearch(model, s)
				if _, ok := x.remove(s); ok != found {
					t.Fatalf("seed %d step %d: remove(%d) found %v, want %v", seed, step, s, ok, found)
				}
				if found {
					model = slices.Delete(model, k, k+1)
				}
			}
			if x.len() != len(model) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, x.len(), len(model))
			}
			q := r.Uint64N(next + 2)
			k, _ := slices.BinarySearch(model, q)
			if got := x.countFrom(q); got != len(model)-k {
				t.Fatalf("seed %d step %d: countFrom(%d) = %d, want %d", seed, step, q, got, len(model)-k)
			}
			s, v, ok := x.nextFrom(q)
			if ok != (k < len(model)) || (ok && (s != model[k] || v != s*3)) {
				t.Fatalf("seed %d step %d: nextFrom(%d) = %d %v", seed, step, q, s, ok)
			}
			_, found := slices.BinarySearch(model, q)
			if _, ok := x.get(q); ok != found {
				t.Fatalf("seed %d step %d: get(%d) = %v, want %v", seed, step, q, ok, found)
			}
			if len(model) > 0 {
				f, _, _ := x.first()
				l, _, _ := x.last()
				if f != model[0] || l != model[len(model)-1] {
					t.Fatalf("seed %d step %d: first %d last %d, want %d %d", seed, step, f, l, model[0], model[len(model)-1])
				}
			}
			if step%97 == 0 {
				var got []uint64
				for s := range x.from(q) {
					got = append(got, s)
				}
				if !slices.Equal(got, model[k:]) && len(got)+len(model[k:]) > 0 {
					t.Fatalf("seed %d step %d: from(%d) = %v, want %v", seed, step, q, got, model[k:])
				}
				var back []uint64
				for s := range x.backward() {
					back = append(back, s)
				}
				slices.Reverse(back)
				if !slices.Equal(back, model) && len(back)+len(model) > 0 {
					t.Fatalf("seed %d step %d: backward = %v, want %v", seed, step, back, model)
				}
			}
		}
	}
}

// Iterating while removing what was yielded, as a purge or a rollup does, visits every entry once.
func TestSeqIndexFromWhileRemoving(t *testing.T) {
	var x seqIndex[struct{}]
	for s := uint64(1); s <= 100; s++ {
		x.push(s, struct{}{})
	}
	var got []uint64
	for s := range x.from(1) {
		got = append(got, s)
		x.remove(s)
	}
	if len(got) != 100 || got[0] != 1 || got[99] != 100 || x.len() != 0 {
		t.Fatalf("visited %d (%v...), left %d", len(got), got[:min(len(got), 5)], x.len())
	}
}
