package fake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/textproto"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsFuzzBatchSeeds are bodies for FuzzJetStreamAPI's a.batch: the header blocks of the messages
// of an atomic batch, one block per message, blocks apart by an empty line.
var jsFuzzBatchSeeds = []string{
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 3\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Batch-Commit: eob",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Msg-Id: d\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Msg-Id: d\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Expected-Last-Sequence: 0\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Expected-Last-Sequence: 1\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Expected-Last-Subject-Sequence: 0\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-TTL: 1s\nNats-Rollup: sub\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Schedule: @every 1s\nNats-Schedule-Target: a.t\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\nNats-Incr: 1\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 1\n\nNats-Batch-Id: c\nNats-Batch-Sequence: 1\nNats-Batch-Commit: 1\n\nNats-Batch-Id: b\nNats-Batch-Sequence: 2\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 0",
	"Nats-Batch-Id: \nNats-Batch-Sequence: 1\nNats-Batch-Commit: 1",
	"Nats-Batch-Sequence: 1\nNats-Batch-Commit: 1",
	"Nats-Batch-Id: b\nNats-Batch-Sequence: 18446744073709551616",
}

// batchAck is a batch's ack as nats-server writes it: the batch id quoted by Go's %q, which
// is not JSON when the id has bytes that are not UTF-8 or are control characters.
var batchAck = regexp.MustCompile(`^\{"stream":"A","seq":[0-9]+,("duplicate": true,)?"batch":(".*"),"count":[0-9]+\}$`)

// goQuotedBatchAck reports whether data is a batch ack whose id is quoted as nats-server quotes
// it, in Go's syntax rather than JSON's.
func goQuotedBatchAck(data []byte) bool {
	m := batchAck.FindSubmatch(data)
	if m == nil {
		return false
	}
	_, err := strconv.Unquote(string(m[2]))
	return err == nil
}

// fuzzBatch publishes the messages whose header blocks body holds (apart by empty lines) to
// atomic stream A, on a frozen clock, each with a reply subject: every answer is empty (a message
// staged before its commit) or one JSON document, an ack or one of nats-server's errors. Afterwards, once the clock has passed the
// batch timeout, a well-formed batch still commits whole and a plain publish is still stored.
func fuzzBatch(t *testing.T, body []byte) {
	s, err := NewServer(WithoutListener(), WithFrozenClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateStream(jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}, AllowAtomicPublish: true,
		AllowMsgTTL: true, AllowRollup: true, AllowMsgSchedules: true, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	blocks := bytes.Split(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n\n"))
	if len(blocks) > 64 {
		blocks = blocks[:64]
	}
	for _, b := range blocks {
		m := nats.NewMsg("a.x")
		m.Reply = inbox
		m.Data = []byte("x")
		if h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimRight(b, "\r\n"), "\r\n\r\n"...)))).ReadMIMEHeader(); err == nil {
			m.Header = nats.Header(h)
		}
		if err := nc.PublishMsg(m); err != nil {
			continue // nats.go refuses what it cannot send
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		r, err := sub.NextMsg(20 * time.Millisecond)
		if err != nil {
			break
		}
		if len(r.Data) == 0 {
			continue // the empty ack of a message staged before its commit, as nats-server sends
		}
		var ack struct {
			Stream string          `json:"stream"`
			Error  json.RawMessage `json:"error"`
		}
		err = json.Unmarshal(r.Data, &ack)
		if err != nil && goQuotedBatchAck(r.Data) {
			continue
		}
		if err != nil || (ack.Stream == "" && ack.Error == nil) {
			t.Fatalf("batch %q: answer %q is not an ack nor an error", body, r.Data)
		}
	}

	// what was left open times out on the clock; a new batch commits whole
	s.FastForward(time.Minute)
	js, _ := jetstream.New(nc)
	ctx := t.Context()
	before, err := js.Stream(ctx, "A")
	if err != nil {
		t.Fatalf("after batch %q: stream: %v", body, err)
	}
	n := before.CachedInfo().State.Msgs
	for seq, commit := range []bool{false, true} {
		m := nats.NewMsg("a.after")
		m.Reply = inbox
		m.Header.Set("Nats-Batch-Id", "after")
		m.Header.Set("Nats-Batch-Sequence", []string{"1", "2"}[seq])
		if commit {
			m.Header.Set("Nats-Batch-Commit", "1")
		}
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	r, err := sub.NextMsg(5 * time.Second)
	if err == nil && len(r.Data) == 0 { // the first message's empty ack
		r, err = sub.NextMsg(5 * time.Second)
	}
	if err != nil {
		t.Fatalf("after batch %q: a new batch's commit: %v", body, err)
	}
	var ack struct {
		Count int                 `json:"count"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &ack); err != nil || ack.Error != nil || ack.Count != 2 {
		t.Fatalf("after batch %q: a new batch's commit answered %q", body, r.Data)
	}
	if _, err := js.Publish(ctx, "a.plain", nil); err != nil {
		t.Fatalf("after batch %q: publish: %v", body, err)
	}
	after, err := js.Stream(ctx, "A")
	if err != nil || after.CachedInfo().State.Msgs != n+3 {
		t.Fatalf("after batch %q: stream holds %v messages (%v), want %d", body, after, err, n+3)
	}
}
