package fake

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A pause runs out on the server's clock: FastForward moves it, and the consumer delivers again
// and announces its resume.
func TestPauseRunsOutOnTheClock(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Run(t, WithoutListener(), WithFrozenClock(start))
	nc := inproc(t, s)
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctxT(t), "s.a", []byte("m")); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.C")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := js.PauseConsumer(ctxT(t), "S", "C", start.Add(time.Hour))
	if err != nil || !resp.Paused || resp.PauseRemaining != time.Hour {
		t.Fatalf("pause: %+v, %v; want paused for exactly an hour on the frozen clock", resp, err)
	}
	next(t, adv)
	s.FastForward(59 * time.Minute)
	if info, err := c.Info(ctxT(t)); err != nil || !info.Paused || info.PauseRemaining != time.Minute {
		t.Fatalf("after 59m: %+v, %v; want paused with a minute left", info, err)
	}
	if b, err := c.FetchNoWait(1); err != nil || len(batchMsgs(b)) != 0 {
		t.Fatalf("a paused consumer delivered, or %v", err)
	}
	s.FastForward(time.Minute)
	if m := next(t, adv); !strings.Contains(string(m.Data), `"paused":false`) {
		t.Errorf("resume advisory %s, want paused false", m.Data)
	}
	if info, err := c.Info(ctxT(t)); err != nil || info.Paused || info.PauseRemaining != 0 {
		t.Fatalf("after the hour: %+v, %v; want running", info, err)
	}
	if b, err := c.FetchNoWait(1); err != nil || len(batchMsgs(b)) != 1 {
		t.Fatalf("after the pause: no message, %v", err)
	}
}

func batchMsgs(b jetstream.MessageBatch) []jetstream.Msg {
	var out []jetstream.Msg
	for m := range b.Messages() {
		out = append(out, m)
	}
	return out
}
