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
	}
	for i := range jsFuzzPublishStreams {
		for _, h := range seeds {
			f.Add(uint8(i), []byte(h), []byte("x"))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, hdr, data []byte) {
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
