package fake

// A ttlHeap orders messages with a TTL by when they expire, the earliest first (by sequence
// among equals). Entries of messages removed otherwise stay until they come to the top. An
// entry holds no pointer, so a stream's heap of millions is nothing for the collector to scan.
type ttlHeap []ttlItem

type ttlItem struct {
	at  int64 // when the message expires, in Unix nanoseconds
	seq uint64
}

func (h ttlHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}

func (h *ttlHeap) push(it ttlItem) {
	*h = append(*h, it)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

// pop takes the earliest entry off; the heap must not be empty.
func (h *ttlHeap) pop() ttlItem {
	q := *h
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	q.down(0)
	*h = q
	return top
}

func (h ttlHeap) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(h) && h.less(l, small) {
			small = l
		}
		if r := l + 1; r < len(h) && h.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

// keep drops the entries for which live is false and restores the order.
func (h *ttlHeap) keep(live func(ttlItem) bool) {
	q := (*h)[:0]
	for _, it := range *h {
		if live(it) {
			q = append(q, it)
		}
	}
	for i := len(q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
	*h = q
}
