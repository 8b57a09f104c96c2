package fake

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/natskit/natskit/internal/subject"
)

// BenchmarkSublistChurn: an index with 1,000 wildcard subscriptions, where a publish on a
// subject it has seen before follows each SUB and UNSUB of an inbox, as Fetch and Request make
// them: the publish's match need not start over because of an unrelated inbox.
func BenchmarkSublistChurn(b *testing.B) {
	var l sublist
	l.init()
	for i := range 1000 {
		l.insert(&subscription{subject: "w." + strconv.Itoa(i) + ".*", sid: strconv.Itoa(i)})
	}
	for i := range 100 {
		l.match("w." + strconv.Itoa(i) + ".x")
	}
	i := 0
	for b.Loop() {
		inbox := &subscription{subject: "_INBOX.abc." + strconv.Itoa(i), sid: "in"}
		l.insert(inbox)
		if r := l.match("w." + strconv.Itoa(i%100) + ".x"); len(r.plain) != 1 {
			b.Fatalf("matched %d", len(r.plain))
		}
		l.remove(inbox)
		if r := l.match("w." + strconv.Itoa((i+50)%100) + ".x"); len(r.plain) != 1 {
			b.Fatalf("matched %d", len(r.plain))
		}
		i++
	}
}

// A subscription that comes or goes changes what the subjects it matches reach, and only those.
func TestSublistInvalidatesWhatChanges(t *testing.T) {
	var l sublist
	l.init()
	a := &subscription{subject: "a.b", sid: "1"}
	l.insert(a)
	for _, s := range []string{"a.b", "a.c", "x.y"} {
		l.match(s)
	}
	w := &subscription{subject: "a.*", sid: "2"}
	l.insert(w)
	if r := l.match("a.b"); len(r.plain) != 2 {
		t.Fatalf("a.b reaches %d after a.* came, want 2", len(r.plain))
	}
	if r := l.match("a.c"); len(r.plain) != 1 {
		t.Fatalf("a.c reaches %d after a.* came, want 1", len(r.plain))
	}
	if _, ok := l.cache.Load("x.y"); !ok {
		t.Fatal("a.* dropped the cached result of x.y, which it does not match")
	}
	lit := &subscription{subject: "x.y", sid: "3"}
	l.insert(lit)
	if r := l.match("x.y"); len(r.plain) != 1 {
		t.Fatalf("x.y reaches %d after its own subscription came, want 1", len(r.plain))
	}
	if _, ok := l.cache.Load("a.c"); !ok {
		t.Fatal("a literal x.y dropped the cached result of a.c")
	}
	l.remove(w)
	if r := l.match("a.b"); len(r.plain) != 1 {
		t.Fatalf("a.b reaches %d after a.* went, want 1", len(r.plain))
	}
	if r := l.match("a.c"); len(r.plain) != 0 {
		t.Fatalf("a.c reaches %d after a.* went, want 0", len(r.plain))
	}
	l.remove(lit)
	if r := l.match("x.y"); len(r.plain) != 0 {
		t.Fatalf("x.y reaches %d after its subscription went, want 0", len(r.plain))
	}
}

// The index routes as subject.Matches decides, subscription by subscription, in the order the
// subscriptions were made, through inserts and removals in any order: the trie against a scan.
func TestSublistMatchesAsScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	toks := []string{"a", "b", "c", "*", ">", "a*", "b>"}
	pattern := func() string {
		n := 1 + rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = toks[rng.IntN(len(toks))]
			if parts[i] == ">" && i != n-1 {
				parts[i] = "c"
			}
		}
		return strings.Join(parts, ".")
	}
	published := func() string {
		n := 1 + rng.IntN(5)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = []string{"a", "b", "c", "*", ">", "a*", "d"}[rng.IntN(7)]
		}
		return strings.Join(parts, ".")
	}
	var l sublist
	l.init()
	var live []*subscription
	for round := range 4000 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(live))
			l.remove(live[i])
			live = append(live[:i], live[i+1:]...)
		} else {
			sub := &subscription{subject: pattern(), sid: strconv.Itoa(round)}
			if rng.IntN(4) == 0 {
				sub.queue = "q"
			}
			l.insert(sub)
			live = append(live, sub)
		}
		for range 3 {
			subj := published()
			var want []*subscription
			for _, sub := range live { // live is in the order of insertion
				if subject.Matches(sub.subject, subj) {
					want = append(want, sub)
				}
			}
			r := l.match(subj)
			got := append([]*subscription(nil), r.plain...)
			for _, g := range r.groups {
				got = append(got, g.members...)
			}
			slices.SortFunc(got, func(a, b *subscription) int { return cmp.Compare(a.seq, b.seq) })
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: %s reaches %s, want %s", round, subj, sids(got), sids(want))
			}
			if len(r.plain) > 1 && !slices.IsSortedFunc(r.plain, func(a, b *subscription) int { return cmp.Compare(a.seq, b.seq) }) {
				t.Fatalf("round %d: %s: plain subscriptions out of order: %s", round, subj, sids(r.plain))
			}
		}
		if len(l.all()) != len(live) || l.count != len(live) {
			t.Fatalf("round %d: the index lists %d (count %d), want %d", round, len(l.all()), l.count, len(live))
		}
	}
	for _, sub := range live {
		l.remove(sub)
	}
	if !l.wild.empty() || len(l.literal) != 0 {
		t.Fatal("the index keeps nodes after every subscription went")
	}
}

func sids(list []*subscription) string {
	var b strings.Builder
	for _, s := range list {
		b.WriteString(s.subject + "#" + s.sid + " ")
	}
	return b.String()
}

// BenchmarkSublistManyWildcards: 10,000 wildcard subscriptions, and publishes on subjects never
// seen before (each misses the cache), as with an id in every subject.
func BenchmarkSublistManyWildcards(b *testing.B) {
	var l sublist
	l.init()
	for i := range 2500 {
		n := strconv.Itoa(i)
		for _, p := range []string{"w." + n + ".*", "w.*." + n, "w." + n + ".>", "w.*.*." + n} {
			l.insert(&subscription{subject: p, sid: p})
		}
	}
	i := 0
	for b.Loop() {
		subj := "w." + strconv.Itoa(i%2500) + "." + strconv.Itoa(i)
		if r := l.match(subj); len(r.plain) < 2 {
			b.Fatalf("%s matched %d", subj, len(r.plain))
		}
		i++
	}
}

// A wildcard subscription with a form feed in a token receives the subjects that carry it, as on
// nats-server, also when the subject's result was cached before the subscription came.
func TestSublistWhitespaceInTokens(t *testing.T) {
	var l sublist
	l.init()
	if r := l.match("a\f.x"); len(r.plain) != 0 {
		t.Fatalf("a\\f.x reaches %d before any subscription", len(r.plain))
	}
	w := &subscription{subject: "a\f.*", sid: "1"}
	l.insert(w)
	if r := l.match("a\f.x"); len(r.plain) != 1 {
		t.Fatalf("a\\f.x reaches %d after a\\f.* came, want 1", len(r.plain))
	}
	l.remove(w)
	if r := l.match("a\f.x"); len(r.plain) != 0 {
		t.Fatalf("a\\f.x reaches %d after a\\f.* went, want 0", len(r.plain))
	}
}

// The index takes matches from several goroutines while subscriptions come and go: every result
// holds only subscriptions that match, and once the changes stop, a match sees exactly what is
// subscribed (no result cached from before a change survives it).
func TestSublistConcurrentMatchAndChange(t *testing.T) {
	var l sublist
	l.init()
	patterns := []string{"a.b", "a.*", "a.>", "*.b", ">", "c.d", "c.*"}
	subjects := []string{"a.b", "a.c", "c.d", "x.b", "a.b.c"}
	stop := make(chan struct{})
	errs := make(chan string, 4)
	var done sync.WaitGroup
	for g := range 3 {
		done.Add(1)
		go func() {
			defer done.Done()
			r := rand.New(rand.NewPCG(uint64(g), 5))
			for {
				select {
				case <-stop:
					return
				default:
				}
				subj := subjects[r.IntN(len(subjects))]
				for _, sub := range l.match(subj).plain {
					if !subject.Matches(sub.subject, subj) {
						select {
						case errs <- sub.subject + " in the result for " + subj:
						default:
						}
					}
				}
			}
		}()
	}
	r := rand.New(rand.NewPCG(9, 9))
	var live []*subscription
	for range 5000 {
		if len(live) > 0 && r.IntN(2) == 0 {
			i := r.IntN(len(live))
			l.remove(live[i])
			live = slices.Delete(live, i, i+1)
			continue
		}
		sub := &subscription{subject: patterns[r.IntN(len(patterns))]}
		l.insert(sub)
		live = append(live, sub)
	}
	close(stop)
	done.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, subj := range subjects {
		var want []*subscription
		for _, sub := range live {
			if subject.Matches(sub.subject, subj) {
				want = append(want, sub)
			}
		}
		got := l.match(subj).plain
		slices.SortFunc(want, func(a, b *subscription) int { return cmp.Compare(a.seq, b.seq) })
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d subscriptions matched, want %d", subj, len(got), len(want))
		}
	}
}

// BenchmarkRouteParallel: publishes routed from several goroutines at once, each to an
// internal subscription of its own subject (a cached match), as several publishing connections
// route at once: what the server's lock costs them.
func BenchmarkRouteParallel(b *testing.B) {
	s, err := NewServer(WithoutListener(), WithoutJetStream())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	for i := range 8 {
		s.subscribeInternal("p."+strconv.Itoa(i), func(*message) bool { return true })
	}
	b.RunParallel(func(pb *testing.PB) {
		m := &message{subject: "p." + strconv.Itoa(int(next.Add(1)%8))}
		for pb.Next() {
			s.route(m)
		}
	})
}
