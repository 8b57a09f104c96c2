package natstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestRecordKeepsEverythingInOrder(t *testing.T) {
	env := New(t)
	before := time.Now()
	rec := env.Record("orders.>", "audit")
	nc := env.Conn()
	msg := nats.NewMsg("orders.created")
	msg.Reply = "reply.here"
	msg.Header.Add("Order-Id", "7")
	msg.Header.Add("Order-Id", "8")
	msg.Data = []byte(`{"id":7}`)
	if err := nc.PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := nc.Publish(fmt.Sprintf("orders.n.%d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Publish("audit", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("elsewhere", []byte("x")); err != nil {
		t.Fatal(err)
	}
	msgs, err := rec.Wait(ctxT(t), 22)
	if err != nil {
		t.Fatal(err)
	}
	first := msgs[0]
	if first.Subject != "orders.created" || first.Reply != "reply.here" || string(first.Data) != `{"id":7}` ||
		strings.Join(first.Header.Values("Order-Id"), ",") != "7,8" || first.Time.Before(before) {
		t.Errorf("first message = %+v", first)
	}
	for i := range 20 {
		if m := msgs[1+i]; m.Subject != fmt.Sprintf("orders.n.%d", i) || m.Data[0] != byte(i) {
			t.Fatalf("message %d = %s %v, out of order", 1+i, m.Subject, m.Data)
		}
	}
	if msgs[21].Subject != "audit" {
		t.Errorf("last message on %s, want audit", msgs[21].Subject)
	}
	if err := rec.Sync(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 22 {
		t.Errorf("Len() = %d, want 22: a message outside the recorded subjects was kept", rec.Len())
	}
	if got := rec.Subjects(); strings.Join(got, " ") != "orders.> audit" {
		t.Errorf("Subjects() = %v", got)
	}

	created := rec.Filter("orders.*")
	if n := len(created.Messages()); n != 1 || created.Len() != 1 {
		t.Errorf("Filter(orders.*) kept %d messages, want 1", n)
	}
	numbered := rec.Filter("orders.>").Filter("*.n.*", "audit")
	if n := numbered.Len(); n != 20 {
		t.Errorf("nested filters kept %d messages, want 20", n)
	}
	if s := numbered.String(); s != "recorder of orders.>, audit | orders.> | *.n.*, audit" {
		t.Errorf("String() = %q", s)
	}
	if got, _ := rec.Snapshot(); len(got) != 22 || got[0].Header.Get("Order-Id") != "7" {
		t.Errorf("Snapshot() = %d messages", len(got))
	}

	rec.Reset()
	if rec.Len() != 0 || created.Len() != 0 {
		t.Errorf("after Reset: Len() = %d, view Len() = %d", rec.Len(), created.Len())
	}
	rec.Stop()
	rec.Stop()
	if err := nc.Publish("audit", nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Sync(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 0 {
		t.Error("a stopped recorder recorded")
	}
	if _, err := rec.Wait(ctxT(t), 1); err == nil || !strings.Contains(err.Error(), "recorder stopped") {
		t.Errorf("Wait on a stopped recorder: %v", err)
	}
	if _, ch := rec.Snapshot(); ch != nil {
		t.Error("Snapshot of a stopped recorder returned a channel that may close")
	}
}

func TestRecordEverything(t *testing.T) {
	env := New(t)
	rec := env.Record()
	if err := env.Conn().Publish("any.subject.at.all", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Wait(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
}

func TestRecordInvalidSubject(t *testing.T) {
	tb := newFakeTB(t)
	tb.run(func() {
		env := New(tb)
		env.Record("orders.>.bad")
		t.Error("Record returned for an invalid subject")
	})
	tb.finish()
	if got, want := tb.errorText(), `natstest: record: invalid subject "orders.>.bad"`; got != want {
		t.Errorf("failure = %q, want %q", got, want)
	}
}

func TestRecordWaitTimeout(t *testing.T) {
	env := New(t)
	rec := env.Record("never")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	msgs, err := rec.Wait(ctx, 2)
	if !errors.Is(err, context.DeadlineExceeded) || len(msgs) != 0 {
		t.Fatalf("Wait = %v, %v", msgs, err)
	}
	if !strings.Contains(err.Error(), "for 2 messages on recorder of never, recorded 0") {
		t.Errorf("error %q does not say what it waited for", err)
	}
}

// Sync must bring in everything the environment's connections published, however many and
// through however many connections, with no other wait.
func TestRecordSync(t *testing.T) {
	env := New(t)
	rec := env.Record("load.>")
	pubs := []*nats.Conn{env.Conn(), env.Connect(), env.Connect(nats.Name("third"))}
	const each = 2000
	for i := range each {
		for j, nc := range pubs {
			if err := nc.Publish(fmt.Sprintf("load.%d", j), []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rec.Sync(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := rec.Len(); got != each*len(pubs) {
		t.Fatalf("after Sync: %d messages recorded, want %d", got, each*len(pubs))
	}
	for j := range pubs {
		msgs := rec.Filter(fmt.Sprintf("load.%d", j)).Messages()
		for i, m := range msgs {
			if string(m.Data) != fmt.Sprint(i) {
				t.Fatalf("load.%d: message %d is %q: out of order", j, i, m.Data)
			}
		}
	}
}

func TestRecordJetStreamAcks(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		ctx := ctxT(t)
		js := env.JetStream()
		s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		acks := env.Record("$JS.ACK.>")
		for _, d := range []string{"a", "b"} {
			if _, err := js.Publish(ctx, "jobs.run", []byte(d)); err != nil {
				t.Fatal(err)
			}
		}
		batch, err := c.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for m := range batch.Messages() {
			if i == 0 {
				err = m.Ack()
			} else {
				err = m.Nak()
			}
			if err != nil {
				t.Fatal(err)
			}
			i++
		}
		msgs, err := acks.Wait(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		for j, want := range []string{"+ACK", "-NAK"} {
			if !strings.HasPrefix(msgs[j].Subject, "$JS.ACK.JOBS.worker.") || string(msgs[j].Data) != want {
				t.Errorf("ack %d = %s %q, want $JS.ACK.JOBS.worker.… %q", j, msgs[j].Subject, msgs[j].Data, want)
			}
		}
	})
}

func TestWaitForInterest(t *testing.T) {
	env := New(t)
	ctx := ctxT(t)
	env.Record("jobs.>") // a recorder's subscription does not count

	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	err := env.WaitForInterest(short(), "jobs.run", 1)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `for 1 subscriptions on "jobs.run", have 0`) {
		t.Fatalf("WaitForInterest with only a recorder: %v", err)
	}

	start := make(chan struct{})
	got := make(chan string, 1)
	go func() {
		<-start
		nc := env.Connect(nats.Name("service"))
		_, _ = nc.Subscribe("jobs.*", func(m *nats.Msg) { got <- string(m.Data) })
	}()
	close(start)
	if err := env.WaitForInterest(ctx, "jobs.run", 1); err != nil {
		t.Fatal(err)
	}
	// With interest in place, a publish is not lost to the subscribe race.
	if err := env.Conn().Publish("jobs.run", []byte("go")); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d != "go" {
			t.Errorf("service got %q", d)
		}
	case <-ctx.Done():
		t.Fatal("service never got the message")
	}

	for range 2 {
		if _, err := env.Conn().QueueSubscribeSync("jobs.run", "workers"); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.WaitForInterest(ctx, "jobs.run", 3); err != nil {
		t.Errorf("two queue members and a wildcard subscriber: %v", err)
	}
	if err := env.WaitForInterest(short(), "jobs.other", 2); err == nil {
		t.Error("jobs.other has one subscriber, WaitForInterest for 2 returned nil")
	}
	if err := env.WaitForInterest(ctx, "jobs.>", 1); err == nil || !strings.Contains(err.Error(), "invalid subject") {
		t.Errorf("WaitForInterest on a wildcard: %v", err)
	}
}
