package fake

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/natskit/natskit/internal/subject"
)

// A subscription is one SUB of one client.
type subscription struct {
	client  *client
	subject string
	queue   string
	sid     string
	seq     uint64 // order of subscription, server-wide

	// internal handles the messages of the server's own subscriptions (JetStream); it reports
	// whether it took the message, as a delivery to a client would
	internal func(m *message) bool

	max       atomic.Int64 // deliveries after which it ends; 0 for none
	delivered atomic.Int64
	gone      atomic.Bool
}

// queueGroup is the members of one queue group that match a subject, in subscription order.
type queueGroup struct {
	name    string
	members []*subscription
}

// matchResult is every subscription a subject reaches.
type matchResult struct {
	plain  []*subscription
	groups []queueGroup
}

// sublist is the subject index: literal subjects by map, wildcard subscriptions in a level trie
// (subtrie.go), and a cache of results per published subject. A subscription that comes or goes
// drops only the results it changes: a literal one its own subject's, a wildcard one those of
// the subjects it matches. The index has its own lock, which a publish does not take when its
// subject's result is cached: the cache is a sync.Map, read without a lock or a shared write,
// and written (results added, dropped) under l.mu.
type sublist struct {
	mu      sync.Mutex
	seq     uint64
	literal map[string][]*subscription
	wild    trieNode[*subscription]
	count   int
	cache   sync.Map // subject -> *matchResult
	cached  int      // entries in cache
}

const maxCache = 4096

func (l *sublist) init() {
	l.literal = make(map[string][]*subscription)
}

func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] == '*' || s[i] == '>') && (i == 0 || s[i-1] == '.') && (i+1 == len(s) || s[i+1] == '.') {
			return true
		}
	}
	return false
}

func (l *sublist) insert(sub *subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	sub.seq = l.seq
	if hasWildcard(sub.subject) {
		l.wild.add(sub.subject, sub)
	} else {
		l.literal[sub.subject] = append(l.literal[sub.subject], sub)
	}
	l.count++
	l.invalidate(sub.subject)
}

// invalidate drops the cached results a subscription on pattern changes. l.mu is held.
func (l *sublist) invalidate(pattern string) {
	if !hasWildcard(pattern) {
		if _, ok := l.cache.LoadAndDelete(pattern); ok {
			l.cached--
		}
		return
	}
	if strings.ContainsAny(pattern, " \t\n\r\f") {
		// subject.Matches lets whitespace match nothing; the index compares tokens as they
		// are, as nats-server does ("SUB a\f.*" receives "a\f.x")
		l.cache.Clear()
		l.cached = 0
		return
	}
	l.cache.Range(func(k, _ any) bool {
		if subject.Matches(pattern, k.(string)) {
			l.cache.Delete(k)
			l.cached--
		}
		return true
	})
}

func (l *sublist) remove(sub *subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ok bool
	if hasWildcard(sub.subject) {
		ok = l.wild.drop(sub, sub.subject)
	} else {
		var list []*subscription
		list, ok = without(l.literal[sub.subject], sub)
		if len(list) == 0 {
			delete(l.literal, sub.subject)
		} else {
			l.literal[sub.subject] = list
		}
	}
	if ok {
		l.count--
		l.invalidate(sub.subject)
	}
}

// all lists every subscription, in no particular order.
func (l *sublist) all() []*subscription {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*subscription, 0, l.count)
	for _, list := range l.literal {
		out = append(out, list...)
	}
	l.wild.each(func(sub *subscription) { out = append(out, sub) })
	return out
}

// match returns the subscriptions subj reaches, in the order they were made. The result is
// shared: do not modify it.
func (l *sublist) match(subj string) *matchResult {
	if r, ok := l.cache.Load(subj); ok {
		return r.(*matchResult)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.cache.Load(subj); ok {
		return r.(*matchResult)
	}
	r := &matchResult{}
	if routable(subj) {
		lit := l.literal[subj]
		hits := lit
		if wild := l.wild.match(subj, nil); len(wild) > 0 {
			slices.SortFunc(wild, func(a, b *subscription) int { return cmp.Compare(a.seq, b.seq) })
			if hits = wild; len(lit) > 0 {
				hits = mergeBySeq(lit, wild)
			}
		}
		for _, sub := range hits {
			if sub.queue == "" {
				r.plain = append(r.plain, sub)
				continue
			}
			found := false
			for i := range r.groups {
				if r.groups[i].name == sub.queue {
					r.groups[i].members = append(r.groups[i].members, sub)
					found = true
					break
				}
			}
			if !found {
				r.groups = append(r.groups, queueGroup{name: sub.queue, members: []*subscription{sub}})
			}
		}
	}
	if l.cached >= maxCache {
		l.cache.Clear()
		l.cached = 0
	}
	l.cache.Store(subj, r)
	l.cached++
	return r
}

// mergeBySeq merges two lists ordered by seq.
func mergeBySeq(a, b []*subscription) []*subscription {
	out := make([]*subscription, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].seq < b[0].seq {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// routable reports whether a published subject can reach any subscription: nats-server's
// sublist matches nothing for a subject with an empty token.
func routable(subj string) bool {
	return subj != "" && subj[0] != '.' && subj[len(subj)-1] != '.' && !strings.Contains(subj, "..")
}

// insertable reports whether a subscription subject is accepted, as nats-server's sublist
// accepts it: no empty token, and ">" only as the last token.
func insertable(subj string) bool {
	if !routable(subj) {
		return false
	}
	i := strings.Index(subj, ">")
	for i >= 0 {
		if (i == 0 || subj[i-1] == '.') && (i+1 == len(subj) || subj[i+1] == '.') && i+1 != len(subj) {
			return false
		}
		j := strings.Index(subj[i+1:], ">")
		if j < 0 {
			break
		}
		i += j + 1
	}
	return true
}

// matchSub reports whether a subscription on pattern receives subj.
func matchSub(pattern, subj string) bool { return subject.Matches(pattern, subj) }
