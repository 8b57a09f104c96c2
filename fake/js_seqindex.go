package fake

import (
	"iter"
	"math/bits"
	"sort"
)

// A seqIndex holds values by ascending sequence, as a stream holds its messages and a subject
// its sequences. Appending, finding, removing anywhere, counting the entries from a sequence and
// finding the first one from a sequence all cost O(log n), amortised. A removal leaves a
// tombstone; the tombstones are compacted away once they outnumber the live entries. Entries
// and tree are kept in pages, so a growing index never copies itself whole.
type seqIndex[T any] struct {
	ents pages[seqEntry[T]]
	tree pages[int32] // Fenwick tree of the live entries over ents, 1-based; tree[0] is unused
	live int
}

type seqEntry[T any] struct {
	seq  uint64
	val  T
	dead bool
}

func (x *seqIndex[T]) len() int { return x.live }

// push appends seq, which must be above every sequence the index has held since its last compaction.
func (x *seqIndex[T]) push(seq uint64, v T) {
	x.ents.push(seqEntry[T]{seq: seq, val: v})
	if x.tree.len() == 0 {
		x.tree.push(0)
	}
	i := x.ents.len()
	x.tree.push(int32(1 + x.prefix(i-1) - x.prefix(i-(i&-i))))
	x.live++
}

// prefix is how many of the first n entries are live.
func (x *seqIndex[T]) prefix(n int) int {
	s := int32(0)
	for ; n > 0; n -= n & -n {
		s += *x.tree.at(n)
	}
	return int(s)
}

func (x *seqIndex[T]) add(i int, d int32) {
	for i++; i < x.tree.len(); i += i & -i {
		*x.tree.at(i) += d
	}
}

// kth is the position in ents of the k-th live entry, counting from 1.
func (x *seqIndex[T]) kth(k int) int {
	pos := 0
	k32 := int32(k)
	n := x.tree.len()
	for step := 1 << (bits.Len(uint(n-1)) - 1); step > 0; step >>= 1 {
		if next := pos + step; next < n {
			if t := *x.tree.at(next); t < k32 {
				pos = next
				k32 -= t
			}
		}
	}
	return pos
}

// pos is the position in ents of the first entry (live or not) with a sequence >= seq.
func (x *seqIndex[T]) pos(seq uint64) int {
	return sort.Search(x.ents.len(), func(i int) bool { return x.ents.at(i).seq >= seq })
}

func (x *seqIndex[T]) get(seq uint64) (T, bool) {
	if i := x.pos(seq); i < x.ents.len() {
		if e := x.ents.at(i); e.seq == seq && !e.dead {
			return e.val, true
		}
	}
	var zero T
	return zero, false
}

// remove takes seq out and returns its value.
func (x *seqIndex[T]) remove(seq uint64) (T, bool) {
	var zero T
	i := x.pos(seq)
	if i >= x.ents.len() {
		return zero, false
	}
	e := x.ents.at(i)
	if e.seq != seq || e.dead {
		return zero, false
	}
	v := e.val
	e.val, e.dead = zero, true
	x.add(i, -1)
	x.live--
	if x.ents.len()-x.live > x.live {
		x.compact()
	}
	return v, true
}

// compact drops the tombstones, in place, and rebuilds the tree; the pages past the live
// entries are let go.
func (x *seqIndex[T]) compact() {
	n := 0
	for i := range x.ents.len() {
		if e := x.ents.at(i); !e.dead {
			*x.ents.at(n) = *e
			n++
		}
	}
	x.ents.truncate(n)
	x.tree.truncate(0)
	x.tree.push(0)
	for range n {
		x.tree.push(1)
	}
	for i := 1; i <= n; i++ {
		if j := i + (i & -i); j <= n {
			*x.tree.at(j) += *x.tree.at(i)
		}
	}
}

// first is the lowest live entry.
func (x *seqIndex[T]) first() (uint64, T, bool) {
	if x.live == 0 {
		var zero T
		return 0, zero, false
	}
	e := x.ents.at(x.kth(1))
	return e.seq, e.val, true
}

// last is the highest live entry.
func (x *seqIndex[T]) last() (uint64, T, bool) {
	if x.live == 0 {
		var zero T
		return 0, zero, false
	}
	e := x.ents.at(x.kth(x.live))
	return e.seq, e.val, true
}

// countFrom is how many live entries have a sequence >= seq.
func (x *seqIndex[T]) countFrom(seq uint64) int {
	if x.live == 0 {
		return 0
	}
	return x.live - x.prefix(x.pos(seq))
}

// nextFrom is the first live entry with a sequence >= seq.
func (x *seqIndex[T]) nextFrom(seq uint64) (uint64, T, bool) {
	var zero T
	if x.live == 0 {
		return 0, zero, false
	}
	i := x.pos(seq)
	if i < x.ents.len() {
		if e := x.ents.at(i); !e.dead { // the usual case: no counting needed
			return e.seq, e.val, true
		}
	}
	k := x.prefix(i) + 1
	if k > x.live {
		return 0, zero, false
	}
	e := x.ents.at(x.kth(k))
	return e.seq, e.val, true
}

// from iterates over the live entries with a sequence >= seq, in order. The index may change
// while it runs: it goes on after the last entry it yielded.
func (x *seqIndex[T]) from(seq uint64) iter.Seq2[uint64, T] {
	return func(yield func(uint64, T) bool) {
		for i := x.pos(seq); i < x.ents.len(); i++ {
			e := *x.ents.at(i)
			if e.dead {
				continue
			}
			if !yield(e.seq, e.val) {
				return
			}
			if i >= x.ents.len() || x.ents.at(i).seq != e.seq {
				i = x.pos(e.seq+1) - 1 // compacted meanwhile
			}
		}
	}
}

// backward iterates over the live entries from the highest down. The index must not change
// while it runs.
func (x *seqIndex[T]) backward() iter.Seq2[uint64, T] {
	return func(yield func(uint64, T) bool) {
		for i := x.ents.len() - 1; i >= 0; i-- {
			if e := x.ents.at(i); !e.dead && !yield(e.seq, e.val) {
				return
			}
		}
	}
}

// seqs is the live sequences, ascending.
func (x *seqIndex[T]) seqs() []uint64 {
	out := make([]uint64, 0, x.live)
	for i := range x.ents.len() {
		if e := x.ents.at(i); !e.dead {
			out = append(out, e.seq)
		}
	}
	return out
}
