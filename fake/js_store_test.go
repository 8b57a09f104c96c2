package fake

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Ids are duplicates within the window and not after it, and the stream forgets them as they
// leave it.
func TestDedupeWindow(t *testing.T) {
	s := Run(t, WithoutListener())
	if err := s.CreateStream(jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	pub := func(id string) jetstream.PubAck {
		t.Helper()
		ack, err := s.StoreMsg(&nats.Msg{Subject: "s", Header: nats.Header{"Nats-Msg-Id": {id}}})
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	for i := range 100 {
		pub(strconv.Itoa(i))
	}
	s.FastForward(30 * time.Second)
	if ack := pub("5"); !ack.Duplicate || ack.Sequence != 6 {
		t.Fatalf("id 5 after 30s: %+v, want a duplicate of 6", ack)
	}
	if ack := pub("new"); ack.Duplicate || ack.Sequence != 101 {
		t.Fatalf("a new id: %+v, want 101", ack)
	}
	s.FastForward(30 * time.Second)
	if ack := pub("5"); ack.Duplicate || ack.Sequence != 102 {
		t.Fatalf("id 5 after a minute: %+v, want stored as 102", ack)
	}
	if ack := pub("new"); !ack.Duplicate || ack.Sequence != 101 {
		t.Fatalf("the id of 30s ago: %+v, want a duplicate of 101", ack)
	}
	var held, queued int
	s.jsLocked(func(j *jetStream) error {
		st := j.streams["S"]
		held, queued = len(st.dedupe), len(st.dedupeQ)-st.dedupeAt
		return nil
	})
	if held != 2 || queued != 2 {
		t.Errorf("%d ids held, %d queued; want 2 and 2 (new and 5)", held, queued)
	}
}

// Messages go as their TTLs pass, whatever order they came in; a TTL of never and a message
// removed before its TTL leave nothing behind.
func TestMessageTTLOrder(t *testing.T) {
	s := Run(t, WithoutListener())
	if err := s.CreateStream(jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}, AllowMsgTTL: true, MaxMsgsPerSubject: 1}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ subj, ttl string }{
		{"s.a", "5s"}, {"s.b", "2s"}, {"s.c", "never"}, {"s.d", "2s"}, {"s.e", "9s"}, {"s.e", "3s"}, {"s.f", "7"},
	} {
		if _, err := s.StoreMsg(&nats.Msg{Subject: m.subj, Header: nats.Header{"Nats-TTL": {m.ttl}}}); err != nil {
			t.Fatal(err)
		}
	}
	left := func() []string {
		st, _ := s.Stream("S")
		var out []string
		for _, m := range st.Messages {
			out = append(out, m.Subject)
		}
		return out
	}
	for _, step := range []struct {
		after time.Duration
		want  string
	}{
		{time.Second, "[s.a s.b s.c s.d s.e s.f]"},
		{time.Second, "[s.a s.c s.e s.f]"},
		{time.Second, "[s.a s.c s.f]"},
		{2 * time.Second, "[s.c s.f]"},
		{2 * time.Second, "[s.c]"},
		{time.Hour, "[s.c]"},
	} {
		s.FastForward(step.after)
		if got := fmt.Sprint(left()); got != step.want {
			t.Fatalf("after another %v: %s, want %s", step.after, got, step.want)
		}
	}
	s.jsLocked(func(j *jetStream) error {
		if st := j.streams["S"]; st.ttls != 0 || len(st.ttlq) != 0 {
			t.Errorf("%d messages with a TTL, %d in the heap; want none", st.ttls, len(st.ttlq))
		}
		return nil
	})
}
