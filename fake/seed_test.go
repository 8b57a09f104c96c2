package fake

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// queuePicks publishes n messages to a queue group of three members, each on a connection of its
// own, and returns the member each message went to.
func queuePicks(t *testing.T, s *Server, n int) []int {
	t.Helper()
	got := make([]int, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(n)
	for member := range 3 {
		nc := inproc(t, s)
		if _, err := nc.QueueSubscribe("work", "workers", func(m *nats.Msg) {
			i, _ := strconv.Atoi(string(m.Data))
			mu.Lock()
			got[i] = member
			mu.Unlock()
			wg.Done()
		}); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil { // members join in the same order every run
			t.Fatal(err)
		}
	}
	pub := inproc(t, s)
	for i := range n {
		if err := pub.Publish("work", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatal("not every message reached the queue group")
	}
	return got
}

// The same seed makes the same queue-group picks; the seed a server drew, given back, repeats them.
func TestSeedRepeatsQueuePicks(t *testing.T) {
	const n = 200
	first := Run(t, WithoutListener())
	picks := queuePicks(t, first, n)
	again := queuePicks(t, Run(t, WithoutListener(), WithSeed(first.Seed())), n)
	if !slices.Equal(picks, again) {
		t.Fatalf("seed %d picked differently the second time:\n%v\n%v", first.Seed(), picks, again)
	}
	other := queuePicks(t, Run(t, WithoutListener(), WithSeed(first.Seed()+1)), n)
	if slices.Equal(picks, other) {
		t.Fatalf("seeds %d and %d made the same %d picks", first.Seed(), first.Seed()+1, n)
	}
	for member := range 3 {
		if !slices.Contains(picks, member) {
			t.Fatalf("member %d never picked in %d messages: %v", member, n, picks)
		}
	}
}

// Clients connecting (whose first PING the server times at random) do not change the queue
// picks: they draw from a stream of their own.
func TestSeedQueuePicksIndependentOfConnections(t *testing.T) {
	a := Run(t, WithoutListener(), WithSeed(7))
	b := Run(t, WithoutListener(), WithSeed(7))
	for range 5 {
		inproc(t, b) // more connections, more PING jitter drawn
	}
	if pa, pb := queuePicks(t, a, 100), queuePicks(t, b, 100); !slices.Equal(pa, pb) {
		t.Fatalf("extra connections changed the picks:\n%v\n%v", pa, pb)
	}
}

// logTB is a TB that records its logs and can be made to fail.
type logTB struct {
	*testing.T
	failed   bool
	logs     []string
	cleanups []func()
}

func (l *logTB) Failed() bool { return l.failed }
func (l *logTB) Logf(format string, args ...any) {
	l.logs = append(l.logs, fmt.Sprintf(format, args...))
}
func (l *logTB) Cleanup(f func()) { l.cleanups = append(l.cleanups, f) }
func (l *logTB) finish() {
	for i := len(l.cleanups) - 1; i >= 0; i-- {
		l.cleanups[i]()
	}
}

// A failing test's log names the seed, and how to repeat it; a passing one logs nothing.
func TestRunLogsSeedOnFailure(t *testing.T) {
	for _, fail := range []bool{false, true} {
		tb := &logTB{T: t}
		s := Run(tb, WithoutListener())
		tb.failed = fail
		tb.finish()
		want := fmt.Sprintf("fake: seed %d; fake.WithSeed(%d) repeats this server's random choices", s.Seed(), s.Seed())
		switch {
		case fail && (len(tb.logs) != 1 || tb.logs[0] != want):
			t.Errorf("failed test logged %q, want %q", tb.logs, want)
		case !fail && len(tb.logs) != 0:
			t.Errorf("passing test logged %q", tb.logs)
		}
	}
}
