package fake

import (
	"math/rand/v2"
	"testing"
)

// pages holds what a plain slice holds, through pushes and truncations across page boundaries.
func TestPagesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	var s pages[int]
	var model []int
	for step := range 20000 {
		switch op := r.IntN(100); {
		case op < 97:
			v := r.Int()
			s.push(v)
			model = append(model, v)
		default:
			n := r.IntN(len(model) + 1)
			if r.IntN(2) == 0 && len(model) > pageLen {
				n = len(model) / pageLen * pageLen // on a page boundary
			}
			s.truncate(n)
			model = model[:n]
		}
		if s.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, s.len(), len(model))
		}
		if len(model) > 0 {
			i := r.IntN(len(model))
			if got := *s.at(i); got != model[i] {
				t.Fatalf("step %d: at(%d) = %d, want %d", step, i, got, model[i])
			}
		}
	}
	for i, want := range model {
		if got := *s.at(i); got != want {
			t.Fatalf("at(%d) = %d, want %d", i, got, want)
		}
	}
	if want := (len(model) + pageMask) / pageLen; len(s.p) != want {
		t.Errorf("%d pages for %d entries, want %d", len(s.p), len(model), want)
	}
}

// A small array takes a small first page, not a whole one.
func TestPagesSmall(t *testing.T) {
	var s pages[uint64]
	for i := range 3 {
		s.push(uint64(i))
	}
	if c := cap(s.p[0]); c > 4 {
		t.Errorf("3 entries take a first page of %d, want at most 4", c)
	}
}
