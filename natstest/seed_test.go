package natstest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
)

func TestSeedFromEnvironment(t *testing.T) {
	t.Run("NATSTEST_SEED seeds the fake", func(t *testing.T) {
		t.Setenv(EnvSeed, "7")
		if got := New(t, WithBackend(Fake)).Server().Seed(); got != 7 {
			t.Errorf("Seed() = %d, want 7", got)
		}
	})
	t.Run("the test's own seed wins", func(t *testing.T) {
		t.Setenv(EnvSeed, "7")
		if got := New(t, WithBackend(Fake), WithFakeOptions(fake.WithSeed(9))).Server().Seed(); got != 9 {
			t.Errorf("Seed() = %d, want 9", got)
		}
	})
	t.Run("not a number", func(t *testing.T) {
		t.Setenv(EnvSeed, "seven")
		tb := newFakeTB(t)
		tb.run(func() { New(tb, WithBackend(Fake)) })
		tb.finish()
		want := `NATSTEST_SEED="seven" is not a seed: want an unsigned integer`
		if got := tb.errorText(); !strings.Contains(got, want) {
			t.Errorf("failure = %q, want it to say %q", got, want)
		}
	})
}

// A failed test on the fake logs the seed and how to repeat it; a passing one logs nothing.
func TestSeedLoggedOnFailure(t *testing.T) {
	for _, fail := range []bool{false, true} {
		tb := newFakeTB(t)
		var seed uint64
		tb.run(func() {
			seed = New(tb, WithBackend(Fake)).Server().Seed()
			if fail {
				tb.Errorf("the test failed")
			}
		})
		tb.finish()
		logs := tb.logText()
		want := fmt.Sprintf("natstest: the fake's seed was %d: NATSTEST_SEED=%d repeats", seed, seed)
		if fail && !strings.Contains(logs, want) {
			t.Errorf("failed test: logs = %q, want %q", logs, want)
		}
		if !fail && logs != "" {
			t.Errorf("passing test: logs = %q, want none", logs)
		}
	}
}

// seedTrace runs, in a bubble, a queue group of three members taking 60 messages and a pull
// consumer whose two messages are never acked (back-off 1s, 5s, 30s; four deliveries each), and
// returns what happened: which member took each message, and each delivery with the bubble's
// time since the start.
func seedTrace(t *testing.T, seed uint64) []string {
	var trace []string
	runBubble(t, func(t *testing.T) {
		env := New(t, WithBackend(Fake), WithFakeOptions(fake.WithSeed(seed)))
		start := time.Now()
		const n = 60
		picks := make([]int, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		wg.Add(n)
		for member := range 3 {
			nc := env.Connect()
			if _, err := nc.QueueSubscribe("work", "workers", func(m *nats.Msg) {
				i, _ := strconv.Atoi(string(m.Data))
				mu.Lock()
				picks[i] = member
				mu.Unlock()
				wg.Done()
			}); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if err := env.Conn().Publish("work", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait() // in a bubble, a missing message is a deadlock synctest reports
		trace = append(trace, fmt.Sprint("picks ", picks))

		js := env.JetStream()
		st, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "C",
			AckPolicy: jetstream.AckExplicitPolicy, BackOff: []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}, MaxDeliver: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, subj := range []string{"s.a", "s.b"} {
			if _, err := js.Publish(t.Context(), subj, nil); err != nil {
				t.Fatal(err)
			}
		}
		for range 8 {
			m, err := c.Next(jetstream.FetchMaxWait(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			md, _ := m.Metadata()
			trace = append(trace, fmt.Sprintf("%s #%d at %v", m.Subject(), md.NumDelivered, time.Since(start)))
		}
	})
	return trace
}

// With the same seed, a bubbled test repeats exactly: the same queue-group picks, the same
// deliveries at the same (virtual) times. Another seed picks otherwise.
func TestSeedRepeatsABubbledRun(t *testing.T) {
	first, again := seedTrace(t, 42), seedTrace(t, 42)
	if !slices.Equal(first, again) {
		t.Fatalf("the same seed ran differently:\n%s\n--\n%s", strings.Join(first, "\n"), strings.Join(again, "\n"))
	}
	if len(first) != 9 {
		t.Fatalf("trace has %d lines, want 9:\n%s", len(first), strings.Join(first, "\n"))
	}
	if other := seedTrace(t, 43); other[0] == first[0] {
		t.Fatalf("seeds 42 and 43 made the same picks: %s", first[0])
	}
	t.Logf("trace:\n%s", strings.Join(first, "\n"))
}
