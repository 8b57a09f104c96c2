package conformance

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/natskit/natskit/natstest"
)

// orbit.go's jetstreamext batch publishers, atomic (BatchPublisher, PublishMsgBatch) and fast
// (FastPublisher), on both backends. Helpers start with "bc".

// bcWantAck checks a batch ack: stream B, the last sequence, the size and an id.
func bcWantAck(t *testing.T, a *jetstreamext.BatchAck, err error, seq, size uint64) {
	t.Helper()
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if a.Stream != "B" || a.Sequence != seq || a.BatchSize != size || a.BatchID == "" {
		t.Errorf("batch ack %+v, want stream B seq %d size %d", a, seq, size)
	}
}

// bcAPIErr is the API error in err, failing the test without one.
func bcAPIErr(t *testing.T, err error) *jetstream.APIError {
	t.Helper()
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T), want an API error", err, err)
	}
	return apiErr
}

// TestJSBatchClientAtomic: BatchPublisher adds messages (the first waits for the stream's
// answer) and commits them; nothing is stored before the commit.
func TestJSBatchClientAtomic(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := baStream(t, env)
		bp, err := jetstreamext.NewBatchPublisher(env.JetStream(), jetstreamext.BatchFlowControl{AckFirst: true, AckEvery: 2, AckTimeout: patience})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 4; i++ {
			if err := bp.Add(fmt.Sprint("b.", i), []byte("x")); err != nil {
				t.Fatalf("add %d: %v", i, err)
			}
		}
		if n := baMsgs(t, s); n != 0 {
			t.Errorf("%d messages before the commit", n)
		}
		a, err := bp.Commit(waitCtx(t), "b.5", []byte("x"))
		bcWantAck(t, a, err, 5, 5)
		if err := bp.Add("b.6", nil); !errors.Is(err, jetstreamext.ErrBatchClosed) {
			t.Errorf("add after the commit: %v", err)
		}
	})
}

// TestJSBatchClientPublishMsgBatch: PublishMsgBatch sends a batch in one call.
func TestJSBatchClientPublishMsgBatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		spPub(t, env, "b.0", "x")
		var msgs []*nats.Msg
		for i := range 7 {
			m := nats.NewMsg(fmt.Sprint("b.", i))
			m.Data = []byte("x")
			msgs = append(msgs, m)
		}
		a, err := jetstreamext.PublishMsgBatch(waitCtx(t), env.JetStream(), msgs, jetstreamext.BatchFlowControl{AckFirst: true, AckEvery: 3, AckTimeout: patience})
		bcWantAck(t, a, err, 8, 7)
	})
}

// TestJSBatchClientAtomicErrors: the stream's refusals reach the publisher as API errors: a
// stream without atomic publishing at the first add, a wrong expected sequence at the commit.
func TestJSBatchClientAtomicErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env, func(c *jetstream.StreamConfig) {
			c.Name, c.Subjects = "OFF", []string{"off.>"}
			c.AllowAtomicPublish = false
		})
		bp, err := jetstreamext.NewBatchPublisher(env.JetStream())
		if err != nil {
			t.Fatal(err)
		}
		err = bp.Add("off.1", []byte("x"))
		if !errors.Is(err, jetstreamext.ErrBatchPublishNotEnabled) {
			t.Errorf("add on a stream without atomic publishing: %v", err)
		}
		baStream(t, env)
		bp, err = jetstreamext.NewBatchPublisher(env.JetStream())
		if err != nil {
			t.Fatal(err)
		}
		if err := bp.Add("b.1", []byte("x")); err != nil {
			t.Fatal(err)
		}
		_, err = bp.Commit(waitCtx(t), "b.2", []byte("x"), jetstreamext.WithBatchExpectLastSequence(7))
		if e := bcAPIErr(t, err); e.ErrorCode != 10071 || e.Description != "wrong last sequence: 1" {
			t.Errorf("commit expecting a sequence: %+v", e)
		}
		bp, err = jetstreamext.NewBatchPublisher(env.JetStream())
		if err != nil {
			t.Fatal(err)
		}
		if err := bp.Add("b.1", []byte("x"), jetstreamext.WithBatchMsgTTL(time.Minute)); err != nil {
			t.Fatal(err)
		}
		_, err = bp.Commit(waitCtx(t), "b.2", []byte("x"))
		if e := bcAPIErr(t, err); e.ErrorCode != 10166 {
			t.Errorf("commit with a TTL: %+v", e)
		}
	})
}

// TestJSBatchClientFast: FastPublisher adds messages, paced by the stream's flow acks, and
// commits them with a last message, or closes the batch with an end-of-batch marker.
func TestJSBatchClientFast(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := fbStream(t, env)
		fp, err := jetstreamext.NewFastPublisher(env.JetStream(), jetstreamext.FastPublishFlowControl{Flow: 5, MaxOutstandingAcks: 2, AckTimeout: patience})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 40; i++ {
			a, err := fp.Add(fmt.Sprint("b.", i), []byte("x"))
			if err != nil {
				t.Fatalf("add %d: %v", i, err)
			}
			if a.BatchSequence != uint64(i) {
				t.Errorf("add %d: %+v", i, a)
			}
		}
		a, err := fp.Commit(waitCtx(t), "b.41", []byte("x"))
		bcWantAck(t, a, err, 41, 41)
		fp, err = jetstreamext.NewFastPublisher(env.JetStream())
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if _, err := fp.Add("b.x", []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		a, err = fp.Close(waitCtx(t))
		bcWantAck(t, a, err, 44, 3)
		if n := baMsgs(t, s); n != 44 {
			t.Errorf("%d messages, want 44", n)
		}
	})
}

// TestJSBatchClientFastErrors: FastPublisher reports to its error handler a stream without fast
// batches, and, continuing on gaps, a message the stream refuses.
func TestJSBatchClientFastErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		baStream(t, env)
		errs := make(chan error, 8)
		fp, err := jetstreamext.NewFastPublisher(env.JetStream(), jetstreamext.FastPublishFlowControl{AckTimeout: 100 * time.Millisecond},
			jetstreamext.WithFastPublisherErrorHandler(func(err error) { errs <- err }))
		if err != nil {
			t.Fatal(err)
		}
		// the stream's error ack ends the batch and goes to the error handler; the add, waiting
		// for a flow ack, times out
		if _, err = fp.Add("b.1", []byte("x")); err == nil {
			t.Error("add on a stream without fast batches: no error")
		}
		if e := bcAPIErr(t, await(t, errs, "the stream's refusal")); e.ErrorCode != 10205 || e.Description != "batch publish is disabled" {
			t.Errorf("add on a stream without fast batches: %+v", e)
		}
		fbStream(t, env, func(c *jetstream.StreamConfig) { c.Name, c.Subjects = "F", []string{"f.>"} })
		fp, err = jetstreamext.NewFastPublisher(env.JetStream(), jetstreamext.WithFastPublisherContinueOnGap(true),
			jetstreamext.WithFastPublisherErrorHandler(func(err error) { errs <- err }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fp.Add("f.1", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := fp.Add("f.2", []byte("x"), jetstreamext.WithBatchExpectStream("OTHER")); err != nil {
			t.Fatal(err)
		}
		a, err := fp.Commit(waitCtx(t), "f.3", []byte("x"))
		if err != nil || a.Stream != "F" || a.Sequence != 2 || a.BatchSize != 3 {
			t.Errorf("commit: %+v, %v; want stream F seq 2 size 3", a, err)
		}
		got := await(t, errs, "the refused message's error")
		if !strings.Contains(got.Error(), "error processing batch at sequence 2: ") || bcAPIErr(t, got).ErrorCode != 10060 {
			t.Errorf("error handler: %v", got)
		}
	})
}
