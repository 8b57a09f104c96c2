package assert_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/natskit/natskit/assert"
)

type Order struct {
	ID    int    `json:"id"`
	Item  string `json:"item"`
	Total int    `json:"total"`
}

const tea = `{"id":42,"item":"tea","total":3}`

// short is the deadline for assertions that are meant to fail.
var short = assert.Within(20 * time.Millisecond)

func TestPublishedPasses(t *testing.T) {
	rec := newFakeRec()
	rec.publish("audit.x", "noise")
	rec.publish("orders.42.created", tea, "Trace", "abc", "Trace", "def")
	tests := []struct {
		pattern string
		want    any
		opts    []assert.Option
		reason  string
	}{
		{"orders.42.created", tea, nil, "string payload, literal subject"},
		{"orders.*.created", []byte(tea), nil, "[]byte payload, * pattern"},
		{"orders.>", nil, nil, "nil accepts any payload"},
		{">", Order{ID: 42, Item: "tea", Total: 3}, nil, "JSON struct"},
		{"orders.>", &Order{ID: 42, Item: "tea", Total: 3}, nil, "JSON pointer to struct"},
		{"orders.>", map[string]any{"id": 42.0, "item": "tea", "total": 3.0}, nil, "JSON map"},
		{"orders.>", Order{ID: 42, Item: "tea"}, []assert.Option{assert.Cmp(cmpopts.IgnoreFields(Order{}, "Total"))}, "Cmp options shape the comparison"},
		{"orders.>", tea, []assert.Option{assert.WithHeader("Trace", "def")}, "header among several values"},
		{"orders.>", nil, []assert.Option{assert.WithHeader("Trace", "abc"), assert.WithHeader("Trace", "def")}, "two headers"},
		{"orders.>", tea, []assert.Option{assert.Within(0)}, "Within(0) looks at what is there"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			tb := &recTB{}
			tb.passed(t, assert.Published(tb, rec, tt.pattern, tt.want, tt.opts...))
		})
	}
}

func TestPublishedEmptyPayload(t *testing.T) {
	rec := newFakeRec()
	rec.publish("ping", "")
	tb := &recTB{}
	tb.passed(t, assert.Published(tb, rec, "ping", []byte{}))
	tb.passed(t, assert.Published(tb, rec, "ping", ""))
}

func TestPublishedWrongPayload(t *testing.T) {
	rec := newFakeRec()
	rec.publish("greet", "world")
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "greet", "hello", short))
	contains(t, r, `assert.Published: waited 20ms for a message on "greet" with "hello"`,
		`1 message on "greet", none equal`, "message 1, greet:", "(-want +got)", "recorded 1 message on 1 subject: greet ×1")
	diffLine(t, r, "-", `"hello"`)
	diffLine(t, r, "+", `"world"`)
}

func TestPublishedWrongBytes(t *testing.T) {
	rec := newFakeRec()
	rec.publish("greet", "world")
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "greet", []byte("hello"), short))
	contains(t, r, `with []byte "hello"`, "(-want +got)")
	diffLine(t, r, "-", "hello")
	diffLine(t, r, "+", "world")
}

func TestPublishedNothingOnSubject(t *testing.T) {
	rec := newFakeRec()
	rec.publish("audit.x", "a")
	rec.publish("audit.x", "b")
	rec.publish("orders", "c")
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*", nil, short))
	contains(t, r, `waited 20ms for a message on "orders.*" with any payload`, `no message on "orders.*"`,
		"recorded 3 messages on 2 subjects: audit.x ×2, orders ×1")
}

func TestPublishedNothingAtAll(t *testing.T) {
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, newFakeRec(), "orders.>", "x", short))
	contains(t, r, `no message on "orders.>"`, "recorded nothing")
}

func TestPublishedManySubjects(t *testing.T) {
	rec := newFakeRec()
	for i := range 13 {
		rec.publish(fmt.Sprintf("s.%d", i), "x")
	}
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "other", nil, short))
	contains(t, r, "13 messages on 13 subjects: s.0 ×1,", "s.9 ×1 ... and 3 more subjects")
	if strings.Contains(r, "s.10") {
		t.Error("report lists more than 10 subjects")
	}
}

func TestPublishedStructFieldDiff(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.42.created", `{"id":42,"item":"tea","total":4}`)
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*.created", Order{ID: 42, Item: "tea", Total: 3}, short))
	contains(t, r, "assert_test.Order {ID:42 Item:tea Total:3}", "(-want +got)")
	diffLine(t, r, "-", "Total", "3")
	diffLine(t, r, "+", "Total", "4")
	for line := range strings.Lines(r) {
		if l := strings.TrimLeft(line, " \t\u00a0"); strings.HasPrefix(l, "-") && strings.Contains(l, "Item") {
			t.Errorf("equal field shown as a difference: %q", line)
		}
	}
}

func TestPublishedClosestFirst(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.1", `{"id":1,"item":"coffee","total":9}`)
	rec.publish("orders.2", `{"id":42,"item":"tea","total":4}`)
	rec.publish("orders.3", `{"id":7,"item":"cake","total":1}`)
	rec.publish("orders.4", `{"id":8,"item":"pie","total":2}`)
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*", Order{ID: 42, Item: "tea", Total: 3}, short))
	contains(t, r, `4 messages on "orders.*", none equal; closest:`, "... and 1 more")
	if i, j := strings.Index(r, "message 2, orders.2"), strings.Index(r, "message 1, orders.1"); i < 0 || j < 0 || i > j {
		t.Errorf("the message differing in one field is not listed first")
	}
}

func TestPublishedUndecodable(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.1", "not json")
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*", Order{ID: 1}, short))
	contains(t, r, "message 1, orders.1:", "payload does not decode as assert_test.Order", `payload "not json"`)
}

func TestPublishedHeader(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.1", "x", "Trace", "abc")
	rec.publish("orders.2", "x")
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*", "x", assert.WithHeader("Trace", "xyz"), short))
	contains(t, r, `with "x", header "Trace": "xyz"`,
		"message 1, orders.1: payload equal", `header "Trace": want "xyz", got ["abc"]`,
		"message 2, orders.2: payload equal", `header "Trace": want "xyz", missing`)

	tb = &recTB{}
	r = tb.failed(t, assert.Published(tb, rec, "orders.*", "x", assert.WithHeader("trace", "abc"), short))
	contains(t, r, `header "trace": want "abc", missing`)
}

func TestPublishedWithinShortensTheWait(t *testing.T) {
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, newFakeRec(), "a", nil, assert.Within(5*time.Millisecond)))
	contains(t, r, "waited 5ms")

	tb = &recTB{}
	r = tb.failed(t, assert.Published(tb, newFakeRec(), "a", nil, assert.Within(0)))
	contains(t, r, "waited 0s")
}

func TestPublishedSeesLaterMessages(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.1", "early")
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-rec.snapshots // Published has looked once
		rec.publish("audit", "noise")
		rec.publish("orders.2", "late")
	}()
	tb := &recTB{}
	tb.passed(t, assert.Published(tb, rec, "orders.*", "late", assert.Within(time.Minute)))
	<-done
}

func TestPublishedStoppedRecording(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.1", "x")
	rec.stop()
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*", "y", assert.Within(time.Minute)))
	contains(t, r, `no message on "orders.*" with "y"; the recording has stopped`, "message 1, orders.1:")
}

func TestPublishedStopsWaitingWhenRecordingStops(t *testing.T) {
	rec := newFakeRec()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-rec.snapshots
		rec.stop()
	}()
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "orders.*", "y", assert.Within(time.Minute)))
	contains(t, r, "the recording has stopped", `no message on "orders.*"`)
	<-done
}

func TestPublishedInvalidPattern(t *testing.T) {
	for _, p := range []string{"", "a..b", "a.>.b", "a b"} {
		tb := &recTB{}
		r := tb.failed(t, assert.Published(tb, newFakeRec(), p, nil, assert.Within(time.Minute)))
		contains(t, r, fmt.Sprintf("assert.Published: invalid subject pattern %q", p))
	}
}

func TestPublishedUncomparable(t *testing.T) {
	type secret struct{ hidden int }
	rec := newFakeRec()
	rec.publish("a", "{}")
	tb := &recTB{}
	r := tb.failed(t, assert.Published(tb, rec, "a", secret{}, assert.Within(time.Minute)))
	contains(t, r, `assert.Published on "a": cannot compare assert_test.secret values`)
}

func TestNotPublishedPasses(t *testing.T) {
	rec := newFakeRec()
	rec.publish("orders.1.created", "x")
	tb := &recTB{}
	tb.passed(t, assert.NotPublished(tb, rec, "orders.*.failed"))
	tb.passed(t, assert.NotPublished(tb, rec, "orders.1", assert.Within(5*time.Millisecond)))
	if rec.syncs != 2 {
		t.Errorf("Sync called %d times, want 2", rec.syncs)
	}
}

func TestNotPublishedCatches(t *testing.T) {
	rec := newFakeRec()
	m := msg("orders.1.failed", strings.Repeat("x", 1000), "Reason", "stock")
	m.Reply = "_INBOX.r"
	rec.add(m)
	rec.publish("orders.2.failed", "out of tea")
	rec.publish("orders.3.created", "fine")
	tb := &recTB{}
	r := tb.failed(t, assert.NotPublished(tb, rec, "orders.*.failed"))
	contains(t, r, `assert.NotPublished: 2 messages on "orders.*.failed":`,
		`orders.1.failed reply _INBOX.r header {"Reason": ["stock"]} payload "`+strings.Repeat("x", 200)+`"... (1000 bytes)`,
		`orders.2.failed payload "out of tea"`)
	if strings.Contains(r, "orders.3") {
		t.Error("report lists a message on a subject the pattern does not match")
	}
}

func TestNotPublishedSyncs(t *testing.T) {
	rec := newFakeRec()
	rec.stage(msg("orders.1.failed", "late"))
	tb := &recTB{}
	r := tb.failed(t, assert.NotPublished(tb, rec, "orders.>"))
	contains(t, r, `1 message on "orders.>":`, `orders.1.failed payload "late"`)
}

func TestNotPublishedSyncError(t *testing.T) {
	rec := newFakeRec()
	rec.syncErr = errors.New("connection closed")
	tb := &recTB{}
	r := tb.failed(t, assert.NotPublished(tb, rec, "orders.>"))
	contains(t, r, `assert.NotPublished on "orders.>": sync the recording: connection closed`)
}

func TestNotPublishedWatchesWithin(t *testing.T) {
	rec := newFakeRec()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-rec.snapshots // NotPublished has synced and looked
		rec.publish("audit", "noise")
		rec.publish("orders.9", "late")
	}()
	tb := &recTB{}
	r := tb.failed(t, assert.NotPublished(tb, rec, "orders.*", assert.Within(time.Minute)))
	contains(t, r, `assert.NotPublished: 1 message on "orders.*" within 1m0s:`, `orders.9 payload "late"`)
	<-done
}

func TestNotPublishedStoppedRecording(t *testing.T) {
	rec := newFakeRec()
	rec.stop()
	tb := &recTB{}
	tb.passed(t, assert.NotPublished(tb, rec, "orders.*", assert.Within(time.Minute)))

	rec = newFakeRec()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-rec.snapshots
		rec.stop()
	}()
	tb = &recTB{}
	tb.passed(t, assert.NotPublished(tb, rec, "orders.*", assert.Within(time.Minute)))
	<-done
}

func TestNotPublishedInvalidPattern(t *testing.T) {
	tb := &recTB{}
	r := tb.failed(t, assert.NotPublished(tb, newFakeRec(), "a..b"))
	contains(t, r, `assert.NotPublished: invalid subject pattern "a..b"`)
}
