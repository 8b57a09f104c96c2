package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// The timed tier's batch scenarios: a batch that goes quiet for the batch timeout (ten seconds
// on nats-server, which a client cannot change) is dropped on the server's clock.

// An atomic batch nobody commits is dropped ten seconds after its last message (each message
// restarts the wait), with a BATCH_ABANDONED advisory ("timeout"), and its commit then finds no
// batch; a fast batch that goes quiet as long is forgotten too.
func TestTimedBatchTimeout(t *testing.T) {
	eachTimed(t, func(t *testing.T, env *natstest.Env, tm timing) {
		const timeout = 10 * time.Second
		s := baStream(t, env, func(c *jetstream.StreamConfig) { c.AllowBatchPublish = true })
		nc := env.Connect()
		adv := subSync(t, nc, "$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.B")
		flush(t, nc)
		fb := fbNew(t, env, "F", 10, "fail")
		fb.send("b.f", "f1", 1, 0)
		fb.want(`{"type":"ack","seq":0,"msgs":10}`)
		start := time.Now()
		baStageN(t, env, "T", 1)
		tm.pass(6 * time.Second)
		baStage(t, env, baMsg("b.2", "x", "T", 2))
		last := time.Now()
		m := nextWithin(t, adv, tm.within(timeout))
		atLeast(t, "the abandoned advisory", time.Since(last), timeout)
		tm.due(t, "the abandoned advisory", time.Since(start), 6*time.Second+timeout)
		var got map[string]any
		if err := json.Unmarshal(m.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got["batch"] != "T" || got["reason"] != "timeout" || got["stream"] != "B" {
			t.Errorf("advisory %s", m.Data)
		}
		baWantErr(t, env, baMsg("b.3", "x", "T", 3, "Nats-Batch-Commit", "1"), baIncomplete)
		fb.send("b.f", "f2", 2, 2)
		fb.want(fbErr(400, 10208, "batch publish ID unknown"))
		if n := baMsgs(t, s); n != 1 {
			t.Errorf("%d messages, want the fast batch's first", n)
		}
	})
}
