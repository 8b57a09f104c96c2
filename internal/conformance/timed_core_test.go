package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's core NATS scenarios: request timeouts, reconnecting after ReconnectWait, and a
// micro service slower than its callers' patience.

// TestTimedRequestTimeout: a request to a subscriber that never answers ends with
// nats.ErrTimeout when its timeout passes, not before; with a context, with the context's
// deadline.
func TestTimedRequestTimeout(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		timeout := tm.d(10*time.Second, 200*time.Millisecond)
		subSync(t, env.Conn(), "silent") // never answers
		flush(t, env.Conn())
		nc := env.Connect()
		start := time.Now()
		_, err := nc.Request("silent", []byte("?"), timeout)
		wantIs(t, err, nats.ErrTimeout, "nats: timeout")
		tm.due(t, "the request timed out", time.Since(start), timeout)

		start = time.Now() // before the context's deadline is set from the clock, not after
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		_, err = nc.RequestWithContext(ctx, "silent", []byte("?"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("request with a context: %v, want context.DeadlineExceeded", err)
		}
		tm.due(t, "the request with a context ended", time.Since(start), timeout)
	})
}

// TestTimedReconnectWait: a client cut off by the server reconnects no sooner than its
// ReconnectWait, and its subscriptions work again.
func TestTimedReconnectWait(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		wait := tm.d(30*time.Second, 300*time.Millisecond)
		down := make(chan struct{}, 1)
		back := make(chan struct{}, 1)
		nc := env.Connect(nats.ReconnectWait(wait), nats.ReconnectJitter(0, 0),
			nats.DisconnectErrHandler(func(*nats.Conn, error) { down <- struct{}{} }),
			nats.ReconnectHandler(func(*nats.Conn) { back <- struct{}{} }))
		sub := subSync(t, nc, "after")
		flush(t, nc)
		start := time.Now()
		if err := env.Disconnect(nc); err != nil {
			t.Fatal(err)
		}
		awaitWithin(t, down, patience, "the disconnect")
		awaitWithin(t, back, tm.within(wait), "the reconnect")
		tm.due(t, "the reconnect", time.Since(start), wait)
		interest(t, env, "after", 1)
		publish(t, env.Conn(), "after", "hello")
		if m := nextWithin(t, sub, patience); string(m.Data) != "hello" {
			t.Errorf("after the reconnect got %q, want hello", m.Data)
		}
	}, natstest.WithJetStream(false))
}

// TestTimedMicroSlowHandler: a micro service whose handler takes longer than a caller's timeout
// leaves that caller with nats.ErrTimeout (the late reply goes nowhere); a caller that waits long
// enough gets the reply no sooner than the handler's time; the endpoint's stats count both
// requests and the time spent on them.
func TestTimedMicroSlowHandler(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		work := tm.d(3*time.Second, 300*time.Millisecond)
		handled := make(chan struct{}, 2)
		svc, err := micro.AddService(env.Connect(), micro.Config{Name: "slow", Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = svc.Stop() })
		err = svc.AddEndpoint("work", micro.HandlerFunc(func(req micro.Request) {
			// The handler's work, which takes time; in the bubble the sleep passes virtual time.
			time.Sleep(work)
			_ = req.Respond([]byte("done"))
			handled <- struct{}{}
		}), micro.WithEndpointSubject("svc.work"))
		if err != nil {
			t.Fatal(err)
		}
		interest(t, env, "svc.work", 1)
		nc := env.Connect()

		start := time.Now()
		_, err = nc.Request("svc.work", nil, work/3)
		wantIs(t, err, nats.ErrTimeout, "nats: timeout")
		tm.due(t, "the impatient request timed out", time.Since(start), work/3)
		awaitWithin(t, handled, tm.within(work), "the handler to finish the first request")

		start = time.Now()
		m, err := nc.Request("svc.work", nil, 3*work)
		if err != nil || string(m.Data) != "done" {
			t.Fatalf("the patient request: %v, %v", m, err)
		}
		tm.due(t, "the reply", time.Since(start), work)
		awaitWithin(t, handled, patience, "the handler to finish the second request")

		// The service counts a request once its handler has returned.
		kvEventually(t, "the stats to count two requests", func() bool { return svc.Stats().Endpoints[0].NumRequests == 2 })
		st := svc.Stats().Endpoints[0]
		if st.NumErrors != 0 {
			t.Errorf("stats: %d errors, want none", st.NumErrors)
		}
		tm.due(t, "processing time", st.ProcessingTime, 2*work)
		tm.due(t, "average processing time", st.AverageProcessingTime, work)
	}, natstest.WithJetStream(false))
}
