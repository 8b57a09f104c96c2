package assert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// recTB records what the assertions report instead of failing the test.
type recTB struct {
	helpers int
	errs    []string
}

func (r *recTB) Helper() { r.helpers++ }

func (r *recTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// report returns the single failure reported, failing t unless there was exactly one.
func (r *recTB) report(t *testing.T) string {
	t.Helper()
	if len(r.errs) != 1 {
		t.Fatalf("got %d failure reports, want 1: %q", len(r.errs), r.errs)
	}
	t.Logf("report:\n%s", r.errs[0])
	return r.errs[0]
}

// passed fails t if anything was reported or Helper was never called.
func (r *recTB) passed(t *testing.T, ok bool) {
	t.Helper()
	if !ok || len(r.errs) > 0 {
		t.Errorf("assertion returned %v, reported %q; want true and nothing reported", ok, r.errs)
	}
	if r.helpers == 0 {
		t.Error("assertion never called Helper")
	}
}

// failed returns the single failure report, failing t if the assertion returned true.
func (r *recTB) failed(t *testing.T, ok bool) string {
	t.Helper()
	if ok {
		t.Errorf("assertion returned true, want false")
	}
	if r.helpers == 0 {
		t.Error("assertion never called Helper")
	}
	return r.report(t)
}

// contains fails t for each part that report lacks.
func contains(t *testing.T, report string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(report, p) {
			t.Errorf("report lacks %q", p)
		}
	}
}

// diffLine fails t unless report has a diff line that starts with sign and contains each part.
// go-cmp varies the spacing of its output, so only the sign and the words are checked.
func diffLine(t *testing.T, report string, sign string, parts ...string) {
	t.Helper()
next:
	for line := range strings.Lines(report) {
		line = strings.TrimLeft(line, " \t\u00a0")
		if !strings.HasPrefix(line, sign) {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		return
	}
	t.Errorf("report has no %q line with %q", sign, parts)
}

// fakeRec is a Recording kept in memory. Messages added with stage only appear on Sync.
type fakeRec struct {
	mu        sync.Mutex
	msgs      []*nats.Msg
	staged    []*nats.Msg
	changed   chan struct{}
	syncErr   error
	syncs     int
	snapshots chan struct{} // receives, without blocking, on every Snapshot
}

func newFakeRec() *fakeRec {
	return &fakeRec{changed: make(chan struct{}), snapshots: make(chan struct{}, 1)}
}

func msg(subj, data string, header ...string) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = []byte(data)
	for i := 0; i+1 < len(header); i += 2 {
		m.Header.Add(header[i], header[i+1])
	}
	return m
}

func (r *fakeRec) add(ms ...*nats.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, ms...)
	if r.changed != nil {
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

func (r *fakeRec) publish(subj, data string, header ...string) { r.add(msg(subj, data, header...)) }

func (r *fakeRec) stage(m *nats.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.staged = append(r.staged, m)
}

func (r *fakeRec) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

func (r *fakeRec) Snapshot() ([]*nats.Msg, <-chan struct{}) {
	r.mu.Lock()
	msgs, changed := append([]*nats.Msg(nil), r.msgs...), r.changed
	r.mu.Unlock()
	// told once the snapshot is taken: what is published after the signal is not in it
	select {
	case r.snapshots <- struct{}{}:
	default:
	}
	return msgs, changed
}

func (r *fakeRec) Sync(ctx context.Context) error {
	r.mu.Lock()
	r.syncs++
	staged := r.staged
	r.staged = nil
	err := r.syncErr
	r.mu.Unlock()
	if len(staged) > 0 {
		r.add(staged...)
	}
	return err
}

// runServer gives the test a connection to a server of its own, released in t.Cleanup.
func runServer(t *testing.T) *nats.Conn {
	t.Helper()
	return natstest.New(t, natstest.WithJetStream(false)).Conn()
}
