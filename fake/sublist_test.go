package fake

import (
	"strconv"
	"testing"
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
	if _, ok := l.cache["x.y"]; !ok {
		t.Fatal("a.* dropped the cached result of x.y, which it does not match")
	}
	lit := &subscription{subject: "x.y", sid: "3"}
	l.insert(lit)
	if r := l.match("x.y"); len(r.plain) != 1 {
		t.Fatalf("x.y reaches %d after its own subscription came, want 1", len(r.plain))
	}
	if _, ok := l.cache["a.c"]; !ok {
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
