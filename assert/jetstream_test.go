package assert_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// ackMsg is the ack a client sends for delivery d of stream seq to consumer ORDERS > worker.
func ackMsg(d, seq int, payload string) *nats.Msg {
	return msg(fmt.Sprintf("$JS.ACK.ORDERS.worker.%d.%d.%d.1795928802135229786.0", d, seq, seq+d), payload)
}

// deliveryMsg is delivery d of stream seq to consumer ORDERS > worker, as a pull consumer gets it.
func deliveryMsg(d, seq int) *nats.Msg {
	m := msg("_INBOX.abc", "order")
	m.Reply = fmt.Sprintf("$JS.ACK.ORDERS.worker.%d.%d.%d.1795928802135229786.0", d, seq, seq+d)
	return m
}

// maxDeliveriesMsg is the server's advisory that stream seq reached ORDERS > worker's MaxDeliver.
func maxDeliveriesMsg(seq, deliveries int) *nats.Msg {
	return msg("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ORDERS.worker", fmt.Sprintf(
		`{"type":"io.nats.jetstream.advisory.v1.max_deliver","id":"x","timestamp":"2026-01-02T03:04:05Z","stream":"ORDERS","consumer":"worker","stream_seq":%d,"deliveries":%d}`,
		seq, deliveries))
}

func TestAckAssertionsPass(t *testing.T) {
	rec := newFakeRec()
	rec.add(
		deliveryMsg(1, 1), ackMsg(1, 1, "-NAK"),
		deliveryMsg(2, 1), ackMsg(2, 1, "+WPI"), ackMsg(2, 1, "+ACK"),
		ackMsg(1, 2, `-NAK {"delay": 5000000000}`),
		ackMsg(2, 2, "-NAK 1s"),
		ackMsg(1, 3, "+TERM bad json"),
		ackMsg(1, 4, "+TERM"),
		ackMsg(1, 5, ""),     // an empty ack acks
		ackMsg(1, 6, "+NXT"), // ack and next
		// the newer form, with a domain, an account hash and a token at the end
		msg("$JS.ACK.hub.ACCHASH.ORDERS.worker.3.7.9.1795928802135229786.0.RANDOM", "+ACK"),
		msg("$JS.ACK.ORDERS.billing.1.8.1.1795928802135229786.0", "+ACK"),
	)
	tests := []struct {
		reason string
		check  func(tb assert.TB) bool
	}{
		{"acked", func(tb assert.TB) bool { return assert.Acked(tb, rec, "ORDERS", "worker", 1) }},
		{"acked on delivery 2", func(tb assert.TB) bool {
			return assert.Acked(tb, rec, "ORDERS", "worker", 1, assert.OnDelivery(2))
		}},
		{"an empty payload acks", func(tb assert.TB) bool { return assert.Acked(tb, rec, "ORDERS", "worker", 5) }},
		{"+NXT acks", func(tb assert.TB) bool { return assert.Acked(tb, rec, "ORDERS", "worker", 6) }},
		{"the newer ack subject form", func(tb assert.TB) bool { return assert.Acked(tb, rec, "ORDERS", "worker", 7) }},
		{"Within(0) looks at what is there", func(tb assert.TB) bool {
			return assert.Acked(tb, rec, "ORDERS", "billing", 8, assert.Within(0))
		}},
		{"naked", func(tb assert.TB) bool { return assert.Naked(tb, rec, "ORDERS", "worker", 1, assert.OnDelivery(1)) }},
		{"naked without delay", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "worker", 1, assert.NakDelay(0))
		}},
		{"naked with a JSON delay", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "worker", 2, assert.NakDelay(5*time.Second))
		}},
		{"naked with a duration delay", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "worker", 2, assert.NakDelay(time.Second), assert.OnDelivery(2))
		}},
		{"in progress", func(tb assert.TB) bool { return assert.InProgress(tb, rec, "ORDERS", "worker", 1) }},
		{"termed", func(tb assert.TB) bool { return assert.Termed(tb, rec, "ORDERS", "worker", 3) }},
		{"termed with reason", func(tb assert.TB) bool {
			return assert.Termed(tb, rec, "ORDERS", "worker", 3, assert.TermReason("bad json"))
		}},
		{"termed without reason", func(tb assert.TB) bool {
			return assert.Termed(tb, rec, "ORDERS", "worker", 4, assert.TermReason(""))
		}},
		{"redelivered once", func(tb assert.TB) bool { return assert.Redelivered(tb, rec, "ORDERS", "worker", 1, 1) }},
		{"delivered once", func(tb assert.TB) bool { return assert.Redelivered(tb, rec, "ORDERS", "worker", 3, 0) }},
		{"redelivered twice, newer form", func(tb assert.TB) bool {
			return assert.Redelivered(tb, rec, "ORDERS", "worker", 7, 2)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			tb := &recTB{}
			tb.passed(t, tt.check(tb))
		})
	}
}

func TestAckedFailsWithHistory(t *testing.T) {
	rec := newFakeRec()
	rec.add(deliveryMsg(1, 1), ackMsg(1, 1, "-NAK"), deliveryMsg(2, 1), ackMsg(2, 1, "+WPI"),
		ackMsg(1, 2, "+ACK"), msg("$JS.ACK.ORDERS.billing.1.1.1.1795928802135229786.0", "+ACK"))
	tb := &recTB{}
	r := tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1, short))
	contains(t, r,
		"assert.Acked: waited 20ms for +ACK of stream seq 1 on consumer ORDERS > worker",
		"\nstream seq 1: delivery 1: -NAK; delivery 2: +WPI\n",
		"recorded for ORDERS > worker: stream seq 2 (last +ACK); for other consumers: ORDERS > billing ×1")
}

// A handler that forgets to ack: the recording has the delivery and nothing else.
func TestAckedFailsOnForgottenAck(t *testing.T) {
	rec := newFakeRec()
	rec.add(deliveryMsg(1, 1), deliveryMsg(2, 1))
	tb := &recTB{}
	r := tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1, short))
	contains(t, r, "stream seq 1: delivery 1: no ack; delivery 2: no ack", "recorded for ORDERS > worker: nothing else")
}

// Without the deliveries, the report says what it cannot see.
func TestAckedFailsOnNothingRecorded(t *testing.T) {
	rec := newFakeRec()
	tb := &recTB{}
	r := tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1, short))
	contains(t, r, "stream seq 1: nothing recorded",
		`(a delivery nobody answered shows only if the recording has its subject too, such as "_INBOX.>" for pull consumers)`)
}

func TestAckAssertionsFail(t *testing.T) {
	rec := newFakeRec()
	rec.add(ackMsg(1, 1, "-NAK 1s"), ackMsg(2, 1, "+ACK"), ackMsg(1, 2, "+TERM timeout"), ackMsg(3, 3, "+ACK"),
		ackMsg(1, 4, "+ACK"), ackMsg(1000000000, 4, "+ACK"))
	tests := []struct {
		reason string
		check  func(tb assert.TB) bool
		parts  []string
	}{
		{"acked on the wrong delivery", func(tb assert.TB) bool {
			return assert.Acked(tb, rec, "ORDERS", "worker", 1, assert.OnDelivery(1), short)
		}, []string{"for +ACK of delivery 1 of stream seq 1", "stream seq 1: delivery 1: -NAK (delay 1s); delivery 2: +ACK"}},
		{"nak with another delay", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "worker", 1, assert.NakDelay(2*time.Second), short)
		}, []string{"assert.Naked: waited 20ms for -NAK with delay 2s of stream seq 1 on consumer ORDERS > worker"}},
		{"nak with a delay", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "worker", 1, assert.NakDelay(0), short)
		}, []string{"for -NAK without delay of stream seq 1"}},
		{"no in progress", func(tb assert.TB) bool {
			return assert.InProgress(tb, rec, "ORDERS", "worker", 1, short)
		}, []string{"assert.InProgress: waited 20ms for +WPI of stream seq 1"}},
		{"term with another reason", func(tb assert.TB) bool {
			return assert.Termed(tb, rec, "ORDERS", "worker", 2, assert.TermReason("bad json"), short)
		}, []string{`for +TERM with reason "bad json" of stream seq 2`, `stream seq 2: delivery 1: +TERM (reason "timeout")`}},
		{"acks recorded for later deliveries only", func(tb assert.TB) bool {
			return assert.Termed(tb, rec, "ORDERS", "worker", 3, short)
		}, []string{"stream seq 3: deliveries 1 to 2: no ack recorded; delivery 3: +ACK"}},
		{"a delivery count far off", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "worker", 4, short)
		}, []string{"stream seq 4: delivery 1: +ACK; deliveries 2 to 999999999: no ack recorded; delivery 1000000000: +ACK\n"}},
		{"wrong consumer", func(tb assert.TB) bool {
			return assert.Acked(tb, rec, "ORDERS", "billing", 1, short)
		}, []string{"of stream seq 1 on consumer ORDERS > billing", "stream seq 1: nothing recorded", "for other consumers: ORDERS > worker ×6"}},
		{"stream seq 0", func(tb assert.TB) bool {
			return assert.Acked(tb, rec, "ORDERS", "worker", 0)
		}, []string{"assert.Acked: stream sequences start at 1, got 0 (consumer ORDERS > worker)"}},
		{"no consumer", func(tb assert.TB) bool {
			return assert.Naked(tb, rec, "ORDERS", "", 1)
		}, []string{`assert.Naked: stream and consumer must be named, got stream "ORDERS", consumer ""`}},
		{"negative delivery", func(tb assert.TB) bool {
			return assert.Acked(tb, rec, "ORDERS", "worker", 1, assert.OnDelivery(-1))
		}, []string{"OnDelivery(-1): deliveries count from 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			tb := &recTB{}
			contains(t, tb.failed(t, tt.check(tb)), tt.parts...)
		})
	}
}

// The assertion waits: an ack recorded after the call is seen.
func TestAckedWaits(t *testing.T) {
	rec := newFakeRec()
	go func() {
		<-rec.snapshots // the first look found nothing
		rec.add(ackMsg(1, 1, "+ACK"))
	}()
	tb := &recTB{}
	tb.passed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1))
}

func TestAckedOnStoppedRecording(t *testing.T) {
	rec := newFakeRec()
	rec.add(ackMsg(1, 1, "-NAK"))
	rec.stop()
	tb := &recTB{}
	start := time.Now()
	r := tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1))
	contains(t, r, "assert.Acked: no +ACK of stream seq 1 on consumer ORDERS > worker; the recording has stopped",
		"stream seq 1: delivery 1: -NAK")
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v on a stopped recording, want no wait", d)
	}
}

func TestRedeliveredFails(t *testing.T) {
	rec := newFakeRec()
	rec.add(ackMsg(1, 1, "-NAK"), ackMsg(2, 1, "-NAK"), ackMsg(3, 1, "+ACK"), ackMsg(1, 2, "+ACK"))
	tb := &recTB{}
	start := time.Now()
	r := tb.failed(t, assert.Redelivered(tb, rec, "ORDERS", "worker", 1, 1))
	contains(t, r, "assert.Redelivered: stream seq 1 on consumer ORDERS > worker was delivered 3 times, want 2 (redelivered 1)",
		"stream seq 1: delivery 1: -NAK; delivery 2: -NAK; delivery 3: +ACK")
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v to see too many deliveries, want no wait", d)
	}

	tb = &recTB{}
	r = tb.failed(t, assert.Redelivered(tb, rec, "ORDERS", "worker", 2, 2, short))
	contains(t, r, "assert.Redelivered: waited 20ms for stream seq 2 on consumer ORDERS > worker to be delivered 3 times (redelivered 2); recorded 1",
		"stream seq 2: delivery 1: +ACK")

	tb = &recTB{}
	r = tb.failed(t, assert.Redelivered(tb, rec, "ORDERS", "worker", 2, -1))
	contains(t, r, "assert.Redelivered on stream seq 2 on consumer ORDERS > worker: n is -1")
}

func TestMaxDeliveriesReached(t *testing.T) {
	rec := newFakeRec()
	rec.add(ackMsg(1, 1, "-NAK"), ackMsg(2, 1, "-NAK"), maxDeliveriesMsg(1, 2), ackMsg(1, 2, "+ACK"))
	tb := &recTB{}
	tb.passed(t, assert.MaxDeliveriesReached(tb, rec, "ORDERS", "worker", 1))
	tb.passed(t, assert.Redelivered(tb, rec, "ORDERS", "worker", 1, 1))

	tb = &recTB{}
	r := tb.failed(t, assert.MaxDeliveriesReached(tb, rec, "ORDERS", "worker", 2, short))
	contains(t, r,
		"assert.MaxDeliveriesReached: waited 20ms for a $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ORDERS.worker advisory for stream seq 2 on consumer ORDERS > worker",
		"stream seq 2: delivery 1: +ACK",
		"recorded for ORDERS > worker: stream seq 1 (last max deliveries)")

	// the history shows the advisory, and a last delivery the acks do not
	rec = newFakeRec()
	rec.add(ackMsg(1, 3, "-NAK"), maxDeliveriesMsg(3, 2))
	tb = &recTB{}
	r = tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 3, short))
	contains(t, r, "stream seq 3: delivery 1: -NAK; delivery 2: no ack recorded; max deliveries reached after 2")
}

// A recording that cannot see acks or advisories fails at once and says what to record.
func TestAckAssertionsCheckTheRecording(t *testing.T) {
	env := natstest.New(t)
	rec := env.Record("orders.>")
	tb := &recTB{}
	r := tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1))
	contains(t, r, `assert.Acked on stream seq 1 on consumer ORDERS > worker: the recording (of ["orders.>"]) cannot hold its acks: record "$JS.ACK.>"`)

	rec = env.Record("$JS.ACK.>")
	tb = &recTB{}
	r = tb.failed(t, assert.MaxDeliveriesReached(tb, rec, "ORDERS", "worker", 1))
	contains(t, r, `the recording (of ["$JS.ACK.>"]) cannot hold $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ORDERS.worker: record "$JS.EVENT.ADVISORY.CONSUMER.>"`)

	tb = &recTB{} // a recording of everything sees both
	tb.passed(t, assert.NotPublished(tb, env.Record(), "nothing"))
	r = tb.failed(t, assert.Acked(tb, env.Record(), "ORDERS", "worker", 1, short))
	contains(t, r, "assert.Acked: waited 20ms")
}

// stubConsumer reports one info after another, then the last again.
type stubConsumer struct {
	mu    sync.Mutex
	infos []*jetstream.ConsumerInfo
	err   error
	calls int
}

func (c *stubConsumer) Info(context.Context) (*jetstream.ConsumerInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	return c.infos[min(c.calls, len(c.infos))-1], nil
}

func (c *stubConsumer) CachedInfo() *jetstream.ConsumerInfo {
	return &jetstream.ConsumerInfo{Stream: "ORDERS", Name: "worker"}
}

func consInfo(pending uint64, ackPending, redelivered int) *jetstream.ConsumerInfo {
	return &jetstream.ConsumerInfo{Stream: "ORDERS", Name: "worker", NumPending: pending, NumAckPending: ackPending,
		NumRedelivered: redelivered, Delivered: jetstream.SequenceInfo{Consumer: 4, Stream: 3},
		AckFloor: jetstream.SequenceInfo{Consumer: 1, Stream: 1}}
}

func TestConsumerFigures(t *testing.T) {
	cons := &stubConsumer{infos: []*jetstream.ConsumerInfo{consInfo(2, 1, 1), consInfo(0, 1, 1), consInfo(0, 0, 0)}}
	tb := &recTB{}
	tb.passed(t, assert.ConsumerDrained(tb, cons))
	if cons.calls != 3 {
		t.Errorf("Info called %d times, want 3: the assertion polls until the figures match", cons.calls)
	}
	tb.passed(t, assert.ConsumerFigures(tb, cons, assert.Figures{Redelivered: new(0), Delivered: new(uint64(3)), AckFloor: new(uint64(1))}))

	cons = &stubConsumer{infos: []*jetstream.ConsumerInfo{consInfo(0, 1, 1)}}
	tb = &recTB{}
	r := tb.failed(t, assert.ConsumerDrained(tb, cons, short))
	contains(t, r, "assert.ConsumerDrained: waited 20ms for consumer ORDERS > worker to drain: nothing pending, nothing awaiting ack (-want +got):",
		"last info: 0 pending, 1 ack pending, 1 redelivered, 0 waiting, delivered stream seq 3 (consumer seq 4), ack floor stream seq 1 (consumer seq 1)")
	diffLine(t, r, "-", "AckPending", "0")
	diffLine(t, r, "+", "AckPending", "1")

	tb = &recTB{}
	r = tb.failed(t, assert.ConsumerFigures(tb, cons, assert.Figures{AckPending: new(1), Redelivered: new(2), Waiting: new(0)}, short))
	contains(t, r, "assert.ConsumerFigures: waited 20ms for the figures of consumer ORDERS > worker (-want +got):")
	diffLine(t, r, "-", "Redelivered", "2")
	diffLine(t, r, "+", "Redelivered", "1")

	tb = &recTB{}
	r = tb.failed(t, assert.ConsumerFigures(tb, cons, assert.Figures{}))
	contains(t, r, "assert.ConsumerFigures: want sets no figure")

	cons = &stubConsumer{err: jetstream.ErrConsumerNotFound}
	tb = &recTB{}
	start := time.Now()
	r = tb.failed(t, assert.ConsumerDrained(tb, cons))
	contains(t, r, "assert.ConsumerDrained: consumer ORDERS > worker: info: nats: API error: code=404 err_code=10014 description=consumer not found")
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v on a missing consumer, want no wait", d)
	}

	tb = &recTB{}
	r = tb.failed(t, assert.Redelivered(tb, newFakeRec(), "ORDERS", "worker", 1, 1, short, assert.WithInfo(cons)))
	contains(t, r, "stream seq 1: nothing recorded", "consumer ORDERS > worker info: nats: API error: code=404 err_code=10014 description=consumer not found")

	tb = &recTB{}
	r = tb.failed(t, assert.ConsumerDrained(tb, nil))
	contains(t, r, "assert.ConsumerDrained: nil consumer")
}

// jsScenario is a stream ORDERS with one message, stream seq 1, and a pull consumer worker on it.
type jsScenario struct {
	env  *natstest.Env
	ctx  context.Context
	js   jetstream.JetStream
	cons jetstream.Consumer
	rec  *natstest.Recorder // acks, advisories and deliveries
}

func newJSScenario(t *testing.T, env *natstest.Env, cfg jetstream.ConsumerConfig) *jsScenario {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	s := &jsScenario{env: env, ctx: ctx, js: env.JetStream(),
		rec: env.Record("$JS.ACK.>", "$JS.EVENT.ADVISORY.CONSUMER.>", "_INBOX.>")}
	stream, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.js.Publish(ctx, "orders.1", []byte("tea")); err != nil {
		t.Fatal(err)
	}
	cfg.Durable, cfg.AckPolicy = "worker", jetstream.AckExplicitPolicy
	if s.cons, err = stream.CreateConsumer(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

// next is the consumer's next delivery.
func (s *jsScenario) next(t *testing.T) jetstream.Msg {
	t.Helper()
	m, err := s.cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("next delivery: %v", err)
	}
	return m
}

func TestJetStreamAcksOnEveryBackend(t *testing.T) {
	t.Run("forgotten ack", func(t *testing.T) {
		natstest.Each(t, func(t *testing.T, env *natstest.Env) {
			s := newJSScenario(t, env, jetstream.ConsumerConfig{})
			s.next(t) // the handler forgets to ack
			tb := &recTB{}
			r := tb.failed(t, assert.Acked(tb, s.rec, "ORDERS", "worker", 1, short, assert.WithInfo(s.cons)))
			contains(t, r, "assert.Acked: waited 20ms for +ACK of stream seq 1 on consumer ORDERS > worker",
				"stream seq 1: delivery 1: no ack",
				"consumer ORDERS > worker now: 0 pending, 1 ack pending, 0 redelivered, 0 waiting, delivered stream seq 1 (consumer seq 1), ack floor stream seq 0 (consumer seq 0)")
			assert.ConsumerFigures(t, s.cons, assert.Figures{Pending: new(0), AckPending: new(1), Delivered: new(uint64(1)), AckFloor: new(uint64(0))})
			tb = &recTB{}
			r = tb.failed(t, assert.ConsumerDrained(tb, s.cons, short))
			contains(t, r, "for consumer ORDERS > worker to drain", "last info: 0 pending, 1 ack pending, 0 redelivered")
		})
	})
	t.Run("nak then ack", func(t *testing.T) {
		natstest.Each(t, func(t *testing.T, env *natstest.Env) {
			s := newJSScenario(t, env, jetstream.ConsumerConfig{})
			if err := s.next(t).Nak(); err != nil {
				t.Fatal(err)
			}
			if err := s.next(t).DoubleAck(s.ctx); err != nil {
				t.Fatal(err)
			}
			assert.Naked(t, s.rec, "ORDERS", "worker", 1, assert.OnDelivery(1), assert.NakDelay(0))
			assert.Acked(t, s.rec, "ORDERS", "worker", 1, assert.OnDelivery(2))
			assert.Redelivered(t, s.rec, "ORDERS", "worker", 1, 1)
			assert.ConsumerDrained(t, s.cons)
			tb := &recTB{}
			r := tb.failed(t, assert.Redelivered(tb, s.rec, "ORDERS", "worker", 1, 0))
			contains(t, r, "was delivered 2 times, want 1 (redelivered 0)", "stream seq 1: delivery 1: -NAK; delivery 2: +ACK")
		})
	})
	t.Run("ack wait expires", func(t *testing.T) {
		natstest.Each(t, func(t *testing.T, env *natstest.Env) {
			s := newJSScenario(t, env, jetstream.ConsumerConfig{AckWait: 100 * time.Millisecond})
			s.next(t) // no ack: the server redelivers after the ack wait
			env.FastForward(100 * time.Millisecond)
			m := s.next(t)
			if err := m.InProgress(); err != nil {
				t.Fatal(err)
			}
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
			assert.InProgress(t, s.rec, "ORDERS", "worker", 1, assert.OnDelivery(2))
			assert.Acked(t, s.rec, "ORDERS", "worker", 1)
			assert.Redelivered(t, s.rec, "ORDERS", "worker", 1, 1)
			assert.ConsumerDrained(t, s.cons)
			tb := &recTB{}
			r := tb.failed(t, assert.Naked(tb, s.rec, "ORDERS", "worker", 1, short))
			contains(t, r, "stream seq 1: delivery 1: no ack; delivery 2: +WPI, +ACK")
		})
	})
	t.Run("max deliveries", func(t *testing.T) {
		natstest.Each(t, func(t *testing.T, env *natstest.Env) {
			s := newJSScenario(t, env, jetstream.ConsumerConfig{MaxDeliver: 2})
			for range 2 {
				if err := s.next(t).Nak(); err != nil {
					t.Fatal(err)
				}
			}
			// the server gives up on the message when it would deliver it a third time, once it
			// has handled the second nak (it says so in an advisory) and a pull request asks
			naks := s.rec.Filter("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.>")
			if _, err := naks.Wait(s.ctx, 2); err != nil {
				t.Fatal(err)
			}
			batch, err := s.cons.FetchNoWait(1)
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				t.Errorf("delivered beyond MaxDeliver: %s", m.Reply())
			}
			assert.MaxDeliveriesReached(t, s.rec, "ORDERS", "worker", 1)
			assert.Redelivered(t, s.rec, "ORDERS", "worker", 1, 1)
			assert.ConsumerDrained(t, s.cons)
			tb := &recTB{}
			r := tb.failed(t, assert.Acked(tb, s.rec, "ORDERS", "worker", 1, short))
			contains(t, r, "stream seq 1: delivery 1: -NAK; delivery 2: -NAK; max deliveries reached after 2")
		})
	})
	t.Run("term with reason", func(t *testing.T) {
		natstest.Each(t, func(t *testing.T, env *natstest.Env) {
			s := newJSScenario(t, env, jetstream.ConsumerConfig{})
			if err := s.next(t).TermWithReason("bad json"); err != nil {
				t.Fatal(err)
			}
			assert.Termed(t, s.rec, "ORDERS", "worker", 1, assert.TermReason("bad json"))
			assert.ConsumerDrained(t, s.cons)
			tb := &recTB{}
			r := tb.failed(t, assert.Termed(tb, s.rec, "ORDERS", "worker", 1, assert.TermReason("timeout"), short))
			contains(t, r, `assert.Termed: waited 20ms for +TERM with reason "timeout" of stream seq 1 on consumer ORDERS > worker`,
				`stream seq 1: delivery 1: +TERM (reason "bad json")`)
		})
	})
	t.Run("nak with delay", func(t *testing.T) {
		natstest.Each(t, func(t *testing.T, env *natstest.Env) {
			s := newJSScenario(t, env, jetstream.ConsumerConfig{})
			if err := s.next(t).NakWithDelay(50 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			assert.Naked(t, s.rec, "ORDERS", "worker", 1, assert.NakDelay(50*time.Millisecond))
			env.FastForward(50 * time.Millisecond)
			if err := s.next(t).Ack(); err != nil {
				t.Fatal(err)
			}
			assert.Acked(t, s.rec, "ORDERS", "worker", 1, assert.OnDelivery(2))
			assert.ConsumerDrained(t, s.cons)
		})
	})
}

var _ assert.Consumer = jetstream.Consumer(nil)
var _ assert.Consumer = jetstream.PushConsumer(nil)

// Redelivered syncs first: an ack of a third delivery already sent is counted, not missed.
func TestRedeliveredSyncs(t *testing.T) {
	rec := newFakeRec()
	rec.add(ackMsg(1, 1, "-NAK"), ackMsg(2, 1, "-NAK"))
	rec.stage(ackMsg(3, 1, "+ACK"))
	tb := &recTB{}
	r := tb.failed(t, assert.Redelivered(tb, rec, "ORDERS", "worker", 1, 1))
	contains(t, r, "was delivered 3 times, want 2 (redelivered 1)", "delivery 3: +ACK")

	rec.syncErr = errors.New("connection closed")
	tb = &recTB{}
	r = tb.failed(t, assert.Redelivered(tb, rec, "ORDERS", "worker", 1, 2))
	contains(t, r, "assert.Redelivered on stream seq 1 on consumer ORDERS > worker: sync the recording: connection closed")
}

// A history lists 20 deliveries at most.
func TestHistoryIsBounded(t *testing.T) {
	rec := newFakeRec()
	for d := 1; d <= 25; d++ {
		rec.add(ackMsg(d, 1, "-NAK"))
	}
	tb := &recTB{}
	r := tb.failed(t, assert.Acked(tb, rec, "ORDERS", "worker", 1, short))
	contains(t, r, "delivery 20: -NAK; ... and 5 more deliveries\n")
}
