package natstest

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/bubble"
)

// runBubble runs body in a testing/synctest bubble and fails the test if it took more than a few
// seconds of wall time: whatever the body waits for, it waits on the bubble's clock. A body that
// hangs without the bubble noticing (a wait on a socket, a spin on the clock: the bubble never
// goes idle, so its time never moves) is stopped after a minute of wall time, with every
// goroutine's stack, instead of at the binary's timeout. (A wait the bubble does see, with
// nothing left to wake it, synctest itself reports as a deadlock.)
func runBubble(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	start := time.Now()
	name := t.Name()
	watchdog := time.AfterFunc(time.Minute, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("%s: hung in its testing/synctest bubble for a minute of wall time: something waits where the bubble cannot see it (a socket, a spin on the wall clock)", name))
	})
	defer watchdog.Stop()
	synctest.Test(t, body)
	if wall := time.Since(start); wall > 3*time.Second {
		t.Errorf("the bubble took %v of wall time", wall)
	}
}

func TestBubbleDetected(t *testing.T) {
	if inBubble() {
		t.Error("inBubble() = true outside a bubble")
	}
	synctest.Test(t, func(t *testing.T) {
		if !inBubble() {
			t.Error("inBubble() = false in a bubble")
		}
		done := make(chan bool)
		go func() { done <- inBubble() }()
		if !<-done {
			t.Error("inBubble() = false in a goroutine of a bubble")
		}
		time.Sleep(365 * 24 * time.Hour) // a year of the bubble's time changes nothing
		if !inBubble() {
			t.Error("inBubble() = false after a year of the bubble's time")
		}
	})
}

// New(t) with no option, the default backend, in a bubble. (The other tests here name the fake:
// they are about the fake in a bubble whatever NATSTEST_BACKEND says for the rest of the suite.)
func TestBubblePubSub(t *testing.T) {
	t.Setenv("NATSTEST_BACKEND", "")
	runBubble(t, func(t *testing.T) {
		env := New(t)
		sub, err := env.Conn().SubscribeSync("greet")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Conn().Flush(); err != nil { // the server has the SUB before the PUB
			t.Fatal(err)
		}
		if err := env.Connect().Publish("greet", []byte("hello")); err != nil {
			t.Fatal(err)
		}
		m, err := sub.NextMsg(time.Second)
		if err != nil || string(m.Data) != "hello" {
			t.Fatalf("NextMsg = %v, %v", m, err)
		}
		if _, err := sub.NextMsg(time.Minute); !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("NextMsg with nothing sent: %v, want a timeout", err)
		}
	})
}

func TestBubbleRequestTimeout(t *testing.T) {
	runBubble(t, func(t *testing.T) {
		env := New(t, WithBackend(Fake))
		if _, err := env.Conn().SubscribeSync("silent"); err != nil { // never answers
			t.Fatal(err)
		}
		env.Conn().Flush()
		start := time.Now()
		_, err := env.Connect().Request("silent", []byte("?"), 5*time.Second)
		if !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("Request to a silent subscriber: %v, want nats.ErrTimeout", err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("the request timed out after %v of the bubble's time, want 5s", got)
		}
	})
}

func TestBubbleAckWait(t *testing.T) {
	runBubble(t, func(t *testing.T) {
		env := New(t, WithBackend(Fake))
		ctx := context.Background()
		js := env.JetStream()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
			t.Fatal(err)
		}
		cons, err := js.CreateConsumer(ctx, "ORDERS", jetstream.ConsumerConfig{
			Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "orders.1", []byte("one")); err != nil {
			t.Fatal(err)
		}
		fetch := func() jetstream.Msg {
			t.Helper()
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				return m
			}
			t.Fatalf("no message: %v", batch.Error())
			return nil
		}
		m := fetch() // and not acknowledged
		if md, _ := m.Metadata(); md.NumDelivered != 1 {
			t.Fatalf("first delivery: NumDelivered = %d", md.NumDelivered)
		}
		time.Sleep(31 * time.Second)
		m = fetch()
		if md, _ := m.Metadata(); md.NumDelivered != 2 || string(m.Data()) != "one" {
			t.Fatalf("after the ack wait: %q with NumDelivered = %d, want a redelivery", m.Data(), md.NumDelivered)
		}
		if err := m.Ack(); err != nil {
			t.Fatal(err)
		}
	})
}

// A test that leaves its subscriptions open, a request's muxer and a JetStream context with
// them, ends without hanging: Env's cleanup waits on the bubble's clock.
func TestBubbleCleanupWithOpenSubscriptions(t *testing.T) {
	runBubble(t, func(t *testing.T) {
		env := New(t, WithBackend(Fake))
		nc := env.Connect()
		if _, err := nc.Subscribe("work", func(*nats.Msg) {}); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.QueueSubscribeSync("jobs", "q"); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Conn().SubscribeSync("silent"); err != nil {
			t.Fatal(err)
		}
		env.Conn().Flush()
		if _, err := nc.Request("silent", nil, 10*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("Request: %v", err)
		}
		if _, err := env.JetStream().AccountInfo(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := env.WaitForInterest(context.Background(), "work", 1); err != nil {
			t.Fatal(err)
		}
	})
}

// Many bubbles, one after another and side by side, with tests outside bubbles among them, share
// nats.go's timer pool without one taking another's timers.
func TestBubbleParallel(t *testing.T) {
	for i := range 6 {
		bubbled := i%3 != 2
		t.Run(map[bool]string{true: "bubble", false: "outside"}[bubbled], func(t *testing.T) {
			t.Parallel()
			body := func(t *testing.T) {
				env := New(t, WithBackend(Fake))
				if _, err := env.Conn().Subscribe("silent", func(*nats.Msg) {}); err != nil {
					t.Fatal(err)
				}
				env.Conn().Flush()
				nc := env.Connect()
				for range 3 {
					if _, err := nc.Request("silent", nil, 20*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
						t.Fatalf("Request: %v", err)
					}
				}
			}
			if bubbled {
				runBubble(t, body)
			} else {
				body(t)
			}
		})
	}
}

func TestBubbleRefusesRealServers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := Start(WithBackend(Embedded))
		if !errors.Is(err, errBubble) || !strings.Contains(err.Error(), "WithBackend(natstest.Fake)") {
			t.Errorf("Start(WithBackend(Embedded)) in a bubble: %v, want an error that names the fake", err)
		}
		tb := newFakeTB(t)
		tb.run(func() { New(tb, WithBackend(Embedded)) })
		tb.finish()
		if msg := tb.errorText(); !strings.Contains(msg, "cannot run inside a testing/synctest bubble") ||
			!strings.Contains(msg, "natstest.Fake") {
			t.Errorf("New(t, WithBackend(Embedded)) in a bubble failed with %q, want the bubble named and the fake", msg)
		}
		tb = newFakeTB(t)
		tb.run(func() { New(tb, WithBackend(Fake)).URL() })
		tb.finish()
		if msg := tb.errorText(); !strings.Contains(msg, "bubble") {
			t.Errorf("URL() on the fake in a bubble failed with %q, want the bubble named", msg)
		}
	})
}

// A bubble inside a test that has an Env open outside it fails at once instead of waiting for
// the Env forever.
func TestBubbleAfterOuterEnv(t *testing.T) {
	New(t, WithBackend(Fake))
	synctest.Test(t, func(t *testing.T) {
		tb := newFakeTB(t)
		tb.run(func() { New(tb, WithBackend(Fake)) })
		tb.finish()
		if msg := tb.errorText(); !strings.Contains(msg, "outside its testing/synctest bubble") {
			t.Errorf("New in a bubble of a test with an Env open: %q", msg)
		}
	})
}

// The recorders, their waits and FastForward work in a bubble: each wait is on the bubble's
// clock.
func TestBubbleRecorderAndFastForward(t *testing.T) {
	runBubble(t, func(t *testing.T) {
		env := New(t, WithBackend(Fake))
		rec := env.Record("events.>")
		for _, s := range []string{"events.a", "events.b"} {
			if err := env.Conn().Publish(s, []byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		if err := rec.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if msgs, err := rec.Wait(context.Background(), 2); err != nil || len(msgs) != 2 {
			t.Fatalf("Wait(2) = %d messages, %v", len(msgs), err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		if _, err := rec.Wait(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait(3) with 2 sent: %v, want the hour to run out", err)
		}
		before := env.Server().Now()
		env.FastForward(time.Minute)
		if got := env.Server().Now().Sub(before); got < time.Minute {
			t.Errorf("FastForward(1m) moved the fake's clock by %v", got)
		}
	})
}

// A test outside a bubble opens a second Env while a bubble waits for its first to close: it
// does not wait behind the bubble.
func TestBubbleQueuedBehindOuterTest(t *testing.T) {
	opened, done := make(chan struct{}), make(chan struct{})
	t.Run("group", func(t *testing.T) {
		t.Run("outside", func(t *testing.T) {
			t.Parallel()
			New(t, WithBackend(Fake))
			close(opened)
			tick, deadline := time.NewTicker(time.Millisecond), time.After(10*time.Second)
			defer tick.Stop()
			for queued := 0; queued == 0; {
				select {
				case <-tick.C:
				case <-deadline:
					t.Fatal("the bubble never queued")
				}
				queued = bubble.Queued()
			}
			New(t, WithBackend(Fake)) // would hang if it waited behind the bubble
			close(done)
		})
		t.Run("bubble", func(t *testing.T) {
			t.Parallel()
			<-opened
			synctest.Test(t, func(t *testing.T) {
				New(t, WithBackend(Fake))
			})
			select {
			case <-done:
			default:
				t.Error("the bubble ran before the test outside it had closed its Envs")
			}
		})
	})
}

// NATSTEST_BACKEND naming a real server, in a bubble: refused before anything of that backend
// runs (testcontainers' own state, touched from a bubble, would kill the test binary).
func TestBubbleRefusesBackendFromEnvironment(t *testing.T) {
	for _, name := range []string{"embedded", "container"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("NATSTEST_BACKEND", name)
			synctest.Test(t, func(t *testing.T) {
				if _, err := Start(); !errors.Is(err, errBubble) || !strings.Contains(err.Error(), "WithBackend(natstest.Fake)") {
					t.Errorf("Start() with NATSTEST_BACKEND=%s in a bubble: %v, want an error that names the fake", name, err)
				}
			})
		})
	}
}
