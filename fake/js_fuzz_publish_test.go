package fake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsFuzzPublishStreams are the streams FuzzJetStreamPublish publishes to: each turns on the
// features whose headers a stream reads.
var jsFuzzPublishStreams = []jetstream.StreamConfig{
	{Name: "P", Subjects: []string{"p.>"}, AllowMsgTTL: true, AllowRollup: true, MaxMsgsPerSubject: 3,
		Duplicates: time.Minute, SubjectDeleteMarkerTTL: time.Second},
	{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true},
	{Name: "W", Subjects: []string{"w.>"}, Retention: jetstream.WorkQueuePolicy, DenyDelete: true, DenyPurge: true},
	{Name: "A", Subjects: []string{"a.>"}, AllowAtomicPublish: true, AllowMsgSchedules: true, AllowMsgTTL: true},
	{Name: "F", Subjects: []string{"f.>"}, AllowBatchPublish: true, MaxMsgsPerSubject: 2},
}

// FuzzJetStreamPublish publishes a message whose headers are arbitrary to a stream: the headers
// come from the body, one "Name: value" per line. The server answers with one JSON document
// (an ack or one of nats-server's errors) or not at all, never fails, and afterwards every
// stream still takes and delivers messages.
func FuzzJetStreamPublish(f *testing.F) {
	seeds := []string{
		"", ":", "Nats-Msg-Id: a", "Nats-Msg-Id: a\nNats-Msg-Id: b", "Nats-TTL: 1s", "Nats-TTL: never",
		"Nats-TTL: -1", "Nats-TTL: 0", "Nats-TTL: 1", "Nats-TTL: 9999999999999999999", "Nats-TTL: 1h1s",
		"Nats-Rollup: sub", "Nats-Rollup: all", "Nats-Rollup: x", "Nats-Expected-Stream: P",
		"Nats-Expected-Stream: Q", "Nats-Expected-Last-Sequence: 0", "Nats-Expected-Last-Sequence: x",
		"Nats-Expected-Last-Subject-Sequence: 1", "Nats-Expected-Last-Subject-Sequence-Subject: p.*",
		"Nats-Expected-Last-Subject-Sequence-Subject: p.>\nNats-Expected-Last-Subject-Sequence: 0",
		"Nats-Expected-Last-Msg-Id: a", "Nats-Incr: 1", "Nats-Incr: +1\nNats-Rollup: sub", "Nats-Incr: x",
		"Nats-Marker-Reason: MaxAge", "Nats-Required-Api-Level: 9", "Nats-Counter-Sources: {}",
		"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Batch-Commit: 1",
		"Nats-Schedule: @every 1s\nNats-Schedule-Target: p.t", "Nats-Schedule: @at 2000-01-01T00:00:00Z",
		"Nats-Schedule: @every 1s\nNats-Schedule-Target: a.t\nNats-Schedule-TTL: 5s",
		"Nats-Schedule: 0 * * * * *\nNats-Schedule-Target: a.t\nNats-Schedule-Time-Zone: Europe/Paris",
		"Nats-Schedule: @at 2000-01-01T00:00:00Z\nNats-Schedule-Target: a.t\nNats-Schedule-Source: a.x",
		"Nats-Batch-Id: b\nNats-Batch-Sequence: 1", "Nats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Batch-Commit: 1",
		"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Batch-Commit: eob", "Nats-Batch-Id: b\nNats-Batch-Sequence: x",
		"Nats-Batch-Id: " + strings.Repeat("b", 65) + "\nNats-Batch-Sequence: 1",
		"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Msg-Id: m\nNats-Batch-Commit: 1",
		"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Expected-Last-Sequence: 0\nNats-Batch-Commit: 1",
	}
	for i := range jsFuzzPublishStreams {
		for _, h := range seeds {
			f.Add(uint8(i), []byte(h), []byte("x"), "")
		}
	}
	// a fast batch is told by its reply subject: <prefix>.<id>.<flow>.<gap mode>.<seq>.<op>.$FI
	for _, reply := range []string{
		"r.b1.10.0.1.0.$FI", "r.b1.10.1.1.0.$FI", "r.b1.10.0.2.1.$FI", "r.b1.10.0.1.2.$FI", "r.b1.10.0.1.3.$FI",
		"r.b1.10.0.1.4.$FI", "r.b1.0.0.1.0.$FI", "r.b1.65536.0.1.0.$FI", "r.b1.x.0.1.0.$FI", "r..10.0.1.0.$FI",
		"r.b1.10.0.0.0.$FI", "r.b1.10.0.18446744073709551615.1.$FI", "r.b1.10.9.1.0.$FI", "r.b1.10.0.1.9.$FI",
		"$FI", ".$FI", "r.$FI", "r.b1.10.0.1.0.$FIX",
	} {
		f.Add(uint8(4), []byte(""), []byte("x"), reply)
		f.Add(uint8(0), []byte(""), []byte("x"), reply)
	}
	f.Fuzz(func(t *testing.T, which uint8, hdr, data []byte, reply string) {
		if len(hdr)+len(data) > 1<<14 {
			return
		}
		cfg := jsFuzzPublishStreams[int(which)%len(jsFuzzPublishStreams)]
		s, err := NewServer(WithoutListener())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, c := range jsFuzzPublishStreams {
			if err := s.CreateStream(c); err != nil {
				t.Fatal(err)
			}
		}
		nc, err := nats.Connect("", nats.InProcessServer(s))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()

		subj := strings.ToLower(cfg.Name) + ".x"
		m := nats.NewMsg(subj)
		m.Data = data
		if h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimRight(hdr, "\r\n"), "\r\n\r\n"...)))).ReadMIMEHeader(); err == nil {
			m.Header = nats.Header(h)
		}
		if reply != "" {
			fuzzReply(t, nc, m, reply)
		} else {
			if err := nc.PublishMsg(m); err != nil {
				return // nats.go refuses what it cannot send
			}
			if r, err := nc.RequestMsg(m, 100*time.Millisecond); err == nil {
				var ack struct {
					Stream string          `json:"stream"`
					Error  json.RawMessage `json:"error"`
				}
				if err := json.Unmarshal(r.Data, &ack); err != nil || (ack.Stream == "" && ack.Error == nil) {
					t.Fatalf("publish %q: answer %q %v is not an ack nor an error", hdr, r.Data, r.Header)
				}
			}
		}

		// every stream still takes a message and delivers it
		nc2, err := nats.Connect("", nats.InProcessServer(s))
		if err != nil {
			t.Fatal(err)
		}
		defer nc2.Close()
		js, _ := jetstream.New(nc2)
		ctx := t.Context()
		for _, c := range jsFuzzPublishStreams {
			p := strings.ToLower(c.Name) + ".after"
			m := nats.NewMsg(p)
			if c.AllowMsgCounter {
				m.Header.Set("Nats-Incr", "1")
			}
			ack, err := js.PublishMsg(ctx, m)
			if err != nil {
				t.Fatalf("after publish %q to %s: publish to %s: %v", hdr, cfg.Name, c.Name, err)
			}
			cons, err := js.CreateOrUpdateConsumer(ctx, c.Name, jetstream.ConsumerConfig{FilterSubject: p})
			if err != nil {
				t.Fatalf("after publish %q to %s: consumer on %s: %v", hdr, cfg.Name, c.Name, err)
			}
			got, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
			if err != nil {
				t.Fatalf("after publish %q to %s: next on %s: %v", hdr, cfg.Name, c.Name, err)
			}
			if md, _ := got.Metadata(); md == nil || md.Sequence.Stream != ack.Sequence {
				t.Fatalf("after publish %q to %s: %s delivered %v, want sequence %d", hdr, cfg.Name, c.Name, md, ack.Sequence)
			}
		}
	})
}

// fuzzReply publishes m with the reply subject reply (a fast batch's, when it is well formed)
// twice, and reads what the stream answers on it: each answer is one JSON document.
func fuzzReply(t *testing.T, nc *nats.Conn, m *nats.Msg, reply string) {
	sub, err := nc.SubscribeSync(reply)
	if err != nil {
		return // not a subject nats.go subscribes to
	}
	defer sub.Unsubscribe()
	m.Reply = reply
	for range 2 {
		if err := nc.PublishMsg(m); err != nil {
			return
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		r, err := sub.NextMsg(20 * time.Millisecond)
		if err != nil {
			return
		}
		var v any
		if len(r.Data) > 0 && json.Unmarshal(r.Data, &v) != nil {
			t.Fatalf("publish with reply %q: answer %q %v is not JSON", reply, r.Data, r.Header)
		}
	}
}
