package natstest

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
)

// One fault API on every backend: in the fake's server, or in natstest's proxy in front of a real
// one, the client sees the same.
func TestInjectOnEveryBackend(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		ctx := ctxT(t)
		sub, err := env.Connect().SubscribeSync("x")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.WaitForInterest(ctx, "x", 1); err != nil {
			t.Fatal(err)
		}
		pub := env.Conn()
		next := func() string {
			t.Helper()
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return string(m.Data)
		}

		env.Inject(fake.Drop("x", 1))
		pub.Publish("x", []byte("dropped"))
		pub.Publish("x", []byte("kept"))
		if got := next(); got != "kept" {
			t.Errorf("after a drop: %q", got)
		}

		env.Inject(fake.Duplicate("x", 1))
		pub.Publish("x", []byte("twice"))
		if a, b := next(), next(); a != "twice" || b != "twice" {
			t.Errorf("a duplicate: %q, %q", a, b)
		}

		env.Inject(fake.Delay("x", 1, 50*time.Millisecond))
		pub.Publish("x", []byte("late"))
		pub.Publish("x", []byte("early"))
		if got := next(); got != "early" {
			t.Errorf("the message after a delayed one: %q", got)
		}
		env.FastForward(50 * time.Millisecond)
		if got := next(); got != "late" {
			t.Errorf("the delayed message: %q", got)
		}

		svc, err := env.Connect().Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("ok")) })
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Unsubscribe()
		if err := env.WaitForInterest(ctx, "svc", 1); err != nil {
			t.Fatal(err)
		}
		remove := env.Inject(fake.Refuse("svc", 0))
		if _, err := pub.Request("svc", nil, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("a refused request: %v", err)
		}
		remove()
		if m, err := pub.Request("svc", nil, 5*time.Second); err != nil || string(m.Data) != "ok" {
			t.Errorf("after remove: %v, %v", m, err)
		}

		js := env.JetStream()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
			t.Fatal(err)
		}
		env.Inject(fake.FailJetStream("$JS.API.STREAM.INFO.ORDERS",
			jetstream.APIError{Code: 503, ErrorCode: 10039, Description: "jetstream not enabled for account"}, 1))
		if _, err := js.Stream(ctx, "ORDERS"); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			t.Errorf("a failed call: %v", err)
		}
		if _, err := js.Stream(ctx, "ORDERS"); err != nil {
			t.Errorf("the next call: %v", err)
		}
	}, WithProxy())
}

// IgnorePings on every backend: the named client's PINGs go unanswered (in the proxy, the server
// never sees them), so it finds its connection stale by itself; its publishes, and every other
// client's PINGs, go through.
func TestInjectIgnorePingsOnEveryBackend(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		sub, err := env.Conn().SubscribeSync("quiet")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.WaitForInterest(ctxT(t), "quiet", 1); err != nil {
			t.Fatal(err)
		}
		disc := make(chan error, 1)
		nc := env.Connect(nats.Name("quiet"), nats.PingInterval(50*time.Millisecond), nats.MaxPingsOutstanding(2),
			nats.ReconnectWait(10*time.Millisecond), nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				select {
				case disc <- err:
				default:
				}
			}))
		remove := env.Inject(fake.IgnorePings("quiet", 0)) // after the handshake, whose PING it would leave unanswered
		defer remove()
		if err := nc.Publish("quiet", []byte("a subject named as the client")); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("a publish while pings are ignored: %v", err)
		}
		timer := time.NewTimer(5 * time.Second)
		defer timer.Stop()
		select {
		case err := <-disc:
			if !errors.Is(err, nats.ErrStaleConnection) {
				t.Fatalf("disconnected with %v, want %v", err, nats.ErrStaleConnection)
			}
		case <-timer.C:
			t.Fatal("the client whose PINGs went unanswered never found its connection stale")
		}
		if err := env.Conn().Flush(); err != nil { // another client's PING is answered
			t.Fatal(err)
		}
	}, WithProxy())
}

func TestInjectNeedsProxy(t *testing.T) {
	tb := newFakeTB(t)
	tb.run(func() { New(tb, WithBackend(Embedded)).Inject(fake.Drop("x", 1)) })
	tb.finish()
	if got, want := tb.errorText(), "natstest: Inject on the embedded backend needs an Env made WithProxy"; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("failure = %q", got)
	}
}

// A container Env's clients always go through natstest's proxy, so faults need no WithProxy there.
func TestInjectOnContainerWithoutProxy(t *testing.T) {
	requireContainer(t)
	env := New(t, WithBackend(Container), WithJetStream(false))
	sub, err := env.Connect().SubscribeSync("x")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.WaitForInterest(ctxT(t), "x", 1); err != nil {
		t.Fatal(err)
	}
	env.Inject(fake.Drop("x", 1))
	env.Conn().Publish("x", []byte("dropped"))
	env.Conn().Publish("x", []byte("kept"))
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "kept" {
		t.Fatalf("after a drop: %v, %v", m, err)
	}
}
