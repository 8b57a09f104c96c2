package fake

// pages is a growing array kept in fixed-size pages: appending never copies what it holds (a
// slice grown by append copies everything at each growth, and allocates the whole again), and
// no page is larger than pageLen entries. The first page starts small and grows to pageLen, so
// an array of a few entries costs a few entries.
type pages[T any] struct {
	p [][]T
	n int
}

const (
	pageBits = 10
	pageLen  = 1 << pageBits
	pageMask = pageLen - 1
)

func (s *pages[T]) len() int { return s.n }

// at is the i-th entry; i must be below len.
func (s *pages[T]) at(i int) *T { return &s.p[i>>pageBits][i&pageMask] }

func (s *pages[T]) push(v T) {
	k := s.n >> pageBits
	if k == len(s.p) {
		c := pageLen
		if k == 0 {
			c = 4
		}
		s.p = append(s.p, make([]T, 0, c))
	}
	pg := s.p[k]
	if len(pg) == cap(pg) { // only the first page, while it is small
		grown := make([]T, len(pg), min(2*cap(pg), pageLen))
		copy(grown, pg)
		pg = grown
	}
	s.p[k] = append(pg, v)
	s.n++
}

// truncate keeps the first n entries and lets go of the pages past them.
func (s *pages[T]) truncate(n int) {
	if n >= s.n {
		return
	}
	keep := (n + pageMask) >> pageBits
	for k := keep; k < len(s.p); k++ {
		s.p[k] = nil
	}
	s.p = s.p[:keep]
	if keep > 0 {
		last := s.p[keep-1]
		cut := n - (keep-1)<<pageBits
		clear(last[cut:])
		s.p[keep-1] = last[:cut]
	}
	s.n = n
}
