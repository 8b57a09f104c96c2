package fake

// consumerIndex finds the consumers of a stream whose filters take a subject, as nats-server's
// stream finds the consumers to signal for a new message: the unfiltered ones, literal filters
// by map, wildcard filters in a level trie. A stored message wakes those consumers only, at a
// cost that does not grow with the stream's other consumers.
type consumerIndex struct {
	gen  uint64 // the stream's consumer generation it was built for
	all  []*consumer
	lit  map[string][]*consumer
	wild trieNode[*consumer]
	hits []*consumer // storage for consumersFor's answers, nil while one is in use
}

// consumersChanged notes that a consumer of st came, went or changed its config (setFilters runs
// on every update): the stream's index by filter, and JetStream's push consumers by deliver
// subject (js_interest.go), are built again when next asked.
func (st *stream) consumersChanged() {
	st.cgen++
	st.j.pushGen++
}

// consumersFor is the consumers whose filters take subj, in a slice the caller hands back with
// doneWithConsumers. j.mu is held.
func (st *stream) consumersFor(subj string) []*consumer {
	ix := st.cidx
	if ix == nil || ix.gen != st.cgen {
		ix = &consumerIndex{gen: st.cgen, lit: make(map[string][]*consumer)}
		for _, c := range st.consumers {
			if len(c.filters) == 0 {
				ix.all = append(ix.all, c)
			}
			for _, f := range c.filters {
				if hasWildcard(f) {
					ix.wild.add(f, c)
				} else {
					ix.lit[f] = append(ix.lit[f], c)
				}
			}
		}
		st.cidx = ix
	}
	hits := append(ix.hits[:0], ix.all...)
	ix.hits = nil
	hits = append(hits, ix.lit[subj]...)
	if !ix.wild.empty() {
		hits = ix.wild.match(subj, hits)
	}
	return hits
}

// doneWithConsumers hands back consumersFor's slice, for the next call to reuse.
func (st *stream) doneWithConsumers(hits []*consumer) {
	if st.cidx != nil {
		clear(hits)
		st.cidx.hits = hits[:0]
	}
}
