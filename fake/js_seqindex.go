package fake

import (
	"iter"
	"math/bits"
	"sort"
)

// A seqIndex holds values by ascending sequence, as a stream holds its messages and a subject
// its sequences. Appending, finding, removing anywhere, counting the entries from a sequence and
// finding the first one from a sequence all cost O(log n), amortised. A removal leaves a
// tombstone; the tombstones are compacted away once they outnumber the live entries.
type seqIndex[T any] struct {
	ents []seqEntry[T]
	tree []int32 // Fenwick tree of the live entries over ents, 1-based; tree[0] is unused
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
	x.ents = append(x.ents, seqEntry[T]{seq: seq, val: v})
	if len(x.tree) == 0 {
		x.tree = append(x.tree, 0)
	}
	i := len(x.ents)
	x.tree = append(x.tree, int32(1+x.prefix(i-1)-x.prefix(i-(i&-i))))
	x.live++
}

// prefix is how many of the first n entries are live.
func (x *seqIndex[T]) prefix(n int) int {
	s := int32(0)
	for ; n > 0; n -= n & -n {
		s += x.tree[n]
	}
	return int(s)
}

func (x *seqIndex[T]) add(i int, d int32) {
	for i++; i < len(x.tree); i += i & -i {
		x.tree[i] += d
	}
}

// kth is the position in ents of the k-th live entry, counting from 1.
func (x *seqIndex[T]) kth(k int) int {
	pos := 0
	k32 := int32(k)
	for step := 1 << (bits.Len(uint(len(x.tree)-1)) - 1); step > 0; step >>= 1 {
		if next := pos + step; next < len(x.tree) && x.tree[next] < k32 {
			pos = next
			k32 -= x.tree[next]
		}
	}
	return pos
}

// pos is the position in ents of the first entry (live or not) with a sequence >= seq.
func (x *seqIndex[T]) pos(seq uint64) int {
	return sort.Search(len(x.ents), func(i int) bool { return x.ents[i].seq >= seq })
}

func (x *seqIndex[T]) get(seq uint64) (T, bool) {
	if i := x.pos(seq); i < len(x.ents) && x.ents[i].seq == seq && !x.ents[i].dead {
		return x.ents[i].val, true
	}
	var zero T
	return zero, false
}

// remove takes seq out and returns its value.
func (x *seqIndex[T]) remove(seq uint64) (T, bool) {
	var zero T
	i := x.pos(seq)
	if i >= len(x.ents) || x.ents[i].seq != seq || x.ents[i].dead {
		return zero, false
	}
	v := x.ents[i].val
	x.ents[i].val, x.ents[i].dead = zero, true
	x.add(i, -1)
	x.live--
	if len(x.ents)-x.live > x.live {
		x.compact()
	}
	return v, true
}

// compact drops the tombstones and rebuilds the tree, giving back memory the index outgrew.
func (x *seqIndex[T]) compact() {
	ents := x.ents
	if cap(ents) > 4*x.live+16 {
		ents = make([]seqEntry[T], 0, 2*x.live+8)
	} else {
		ents = ents[:0]
	}
	for _, e := range x.ents {
		if !e.dead {
			ents = append(ents, e)
		}
	}
	clear(x.ents[len(ents):]) // the stale tail, when the array is kept
	x.ents = ents
	n := len(ents)
	if cap(x.tree) > 4*n+16 {
		x.tree = make([]int32, n+1, 2*n+8)
	} else {
		x.tree = x.tree[:n+1]
	}
	x.tree[0] = 0
	for i := 1; i <= n; i++ {
		x.tree[i] = 1
	}
	for i := 1; i <= n; i++ {
		if j := i + (i & -i); j <= n {
			x.tree[j] += x.tree[i]
		}
	}
}

// first is the lowest live entry.
func (x *seqIndex[T]) first() (uint64, T, bool) {
	if x.live == 0 {
		var zero T
		return 0, zero, false
	}
	e := x.ents[x.kth(1)]
	return e.seq, e.val, true
}

// last is the highest live entry.
func (x *seqIndex[T]) last() (uint64, T, bool) {
	if x.live == 0 {
		var zero T
		return 0, zero, false
	}
	e := x.ents[x.kth(x.live)]
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
	k := x.prefix(x.pos(seq)) + 1
	if k > x.live {
		return 0, zero, false
	}
	e := x.ents[x.kth(k)]
	return e.seq, e.val, true
}

// from iterates over the live entries with a sequence >= seq, in order. The index may change
// while it runs: it goes on after the last entry it yielded.
func (x *seqIndex[T]) from(seq uint64) iter.Seq2[uint64, T] {
	return func(yield func(uint64, T) bool) {
		for i := x.pos(seq); i < len(x.ents); i++ {
			e := x.ents[i]
			if e.dead {
				continue
			}
			if !yield(e.seq, e.val) {
				return
			}
			if i >= len(x.ents) || x.ents[i].seq != e.seq {
				i = x.pos(e.seq+1) - 1 // compacted meanwhile
			}
		}
	}
}

// backward iterates over the live entries from the highest down. The index must not change
// while it runs.
func (x *seqIndex[T]) backward() iter.Seq2[uint64, T] {
	return func(yield func(uint64, T) bool) {
		for i := len(x.ents) - 1; i >= 0; i-- {
			if e := x.ents[i]; !e.dead && !yield(e.seq, e.val) {
				return
			}
		}
	}
}

// seqs is the live sequences, ascending.
func (x *seqIndex[T]) seqs() []uint64 {
	out := make([]uint64, 0, x.live)
	for _, e := range x.ents {
		if !e.dead {
			out = append(out, e.seq)
		}
	}
	return out
}
