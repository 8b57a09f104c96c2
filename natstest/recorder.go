package natstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/internal/subject"
)

// A Message is one recorded message.
type Message struct {
	Subject string
	Reply   string
	Header  nats.Header
	Data    []byte
	Time    time.Time // when the recorder received it

	msg *nats.Msg // as received, handed out by Snapshot without a copy per call
}

// Msg returns the message as a *nats.Msg.
func (m Message) Msg() *nats.Msg {
	return &nats.Msg{Subject: m.Subject, Reply: m.Reply, Header: m.Header, Data: m.Data}
}

// A Recorder keeps every message published on its subjects, in arrival order. Env.Record makes
// one; Filter makes a view of it that keeps only some subjects. Its methods are safe to call
// from any goroutine. It implements assert.Recording.
type Recorder struct {
	log     *recordLog
	filters [][]string // a message is kept if, at each level, it matches one of the patterns
}

// recordLog is what a Recorder and its views share. Every subscription delivers into one
// channel, in the order the connection read the messages, and one goroutine moves them into msgs.
type recordLog struct {
	env      *Env
	conn     *nats.Conn
	subjects []string
	ch       chan *nats.Msg
	marks    sync.Map // a *nats.Msg sent by the recorder itself -> chan struct{} to close when reached
	done     chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	msgs    []Message
	changed chan struct{} // closed, and replaced, when a message is added; nil once stopped
	subs    []*nats.Subscription
}

// recordBuffer is how many messages a recorder holds between its connection and its log. The
// log keeps up with anything a test publishes; Sync and Wait report a recorder that lost any.
const recordBuffer = 1 << 16

// Record subscribes to subjects (every subject, ">", if none are given) on a connection of its
// own, flushes so that the subscriptions are live when it returns, and records what arrives until
// the end of the test or Stop. Wildcards work as in any subscription: "$JS.ACK.>" records
// JetStream acks.
func (e *Env) Record(subjects ...string) *Recorder {
	if e.tb != nil {
		e.tb.Helper()
	}
	r, err := e.record(subjects)
	if err != nil {
		e.fatalf("%v", err)
	}
	return r
}

func (e *Env) record(subjects []string) (*Recorder, error) {
	if len(subjects) == 0 {
		subjects = []string{">"}
	}
	for _, s := range subjects {
		if !subject.ValidPattern(s) {
			return nil, fmt.Errorf("natstest: record: invalid subject %q", s)
		}
	}
	nc, err := e.recorderConn()
	if err != nil {
		return nil, fmt.Errorf("natstest: record: connect: %w", err)
	}
	l := &recordLog{
		env: e, conn: nc, subjects: subjects,
		ch: make(chan *nats.Msg, recordBuffer), done: make(chan struct{}), changed: make(chan struct{}),
	}
	go l.run()
	for _, s := range subjects {
		sub, err := nc.ChanSubscribe(s, l.ch)
		if err != nil {
			l.stop()
			return nil, fmt.Errorf("natstest: record %q: %w", s, err)
		}
		l.mu.Lock()
		l.subs = append(l.subs, sub)
		l.mu.Unlock()
	}
	if err := nc.Flush(); err != nil {
		l.stop()
		return nil, fmt.Errorf("natstest: record: flush: %w", err)
	}
	e.mu.Lock()
	e.recorders = append(e.recorders, l)
	e.mu.Unlock()
	return &Recorder{log: l}, nil
}

// run moves messages from the channel into the log until it reaches the stop mark.
func (l *recordLog) run() {
	defer close(l.done)
	for m := range l.ch {
		if m.Sub == nil { // a mark: every message before it has been recorded
			if v, ok := l.marks.LoadAndDelete(m); ok {
				close(v.(chan struct{}))
			}
			if m.Subject == "stop" {
				return
			}
			continue
		}
		rm := Message{Subject: m.Subject, Reply: m.Reply, Header: m.Header, Data: m.Data, Time: time.Now(),
			msg: &nats.Msg{Subject: m.Subject, Reply: m.Reply, Header: m.Header, Data: m.Data}}
		l.mu.Lock()
		l.msgs = append(l.msgs, rm)
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

// mark waits until everything the channel held before the call is recorded, or the log stops.
func (l *recordLog) mark(ctx context.Context, kind string) error {
	select {
	case <-l.done:
		return errStopped
	default:
	}
	m := &nats.Msg{Subject: kind}
	reached := make(chan struct{})
	l.marks.Store(m, reached)
	defer l.marks.Delete(m)
	select {
	case l.ch <- m:
	case <-l.done:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reached:
		return nil
	case <-l.done: // stopped at an earlier mark; what it had is all it will have
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errStopped = errors.New("recorder stopped")

// dropped is how many messages the connection could not hand to the recorder.
func (l *recordLog) dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.subs {
		if d, err := s.Dropped(); err == nil {
			n += d
		}
	}
	return n
}

// stop unsubscribes, records what had already arrived, and ends the log's goroutine.
func (l *recordLog) stop() {
	l.stopOnce.Do(func() {
		l.mu.Lock()
		subs := l.subs
		l.mu.Unlock()
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
		_ = l.mark(context.Background(), "stop")
		<-l.done
		l.mu.Lock()
		close(l.changed)
		l.changed = nil
		l.mu.Unlock()
	})
}

// Subjects are the subjects the recorder subscribed to.
func (r *Recorder) Subjects() []string { return append([]string(nil), r.log.subjects...) }

// Filter returns a view of the recorder that keeps only messages on subjects matching one of
// patterns (wildcards as in subscriptions). The view shares the recording.
func (r *Recorder) Filter(patterns ...string) *Recorder {
	f := append(append([][]string(nil), r.filters...), append([]string(nil), patterns...))
	return &Recorder{log: r.log, filters: f}
}

func (r *Recorder) keeps(subj string) bool {
	for _, level := range r.filters {
		ok := false
		for _, p := range level {
			if subject.Matches(p, subj) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// snapshot returns the kept messages and the channel closed on the next addition.
func (r *Recorder) snapshot() ([]Message, <-chan struct{}) {
	l := r.log
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Message, 0, len(l.msgs))
	for _, m := range l.msgs {
		if r.keeps(m.Subject) {
			out = append(out, m)
		}
	}
	return out, l.changed
}

// Messages returns the messages recorded so far, in arrival order.
func (r *Recorder) Messages() []Message {
	msgs, _ := r.snapshot()
	return msgs
}

// Len is the number of messages recorded so far.
func (r *Recorder) Len() int {
	if r.filters == nil {
		r.log.mu.Lock()
		defer r.log.mu.Unlock()
		return len(r.log.msgs)
	}
	return len(r.Messages())
}

// Snapshot returns the messages recorded so far, in arrival order, and a channel that is
// closed when another message is recorded or the recorder stops (nil once it has stopped).
// The *nats.Msg values are shared between calls: read them, do not change them.
func (r *Recorder) Snapshot() ([]*nats.Msg, <-chan struct{}) {
	msgs, ch := r.snapshot()
	out := make([]*nats.Msg, len(msgs))
	for i, m := range msgs {
		out[i] = m.msg
	}
	return out, ch
}

// Wait returns the recorded messages once there are at least n. Without a deadline in ctx it
// waits at most DefaultTimeout; on timeout it returns what arrived and an error that says so.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Message, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	start := time.Now()
	for {
		msgs, ch := r.snapshot()
		if len(msgs) >= n {
			return msgs, nil
		}
		if ch == nil {
			return msgs, fmt.Errorf("natstest: waiting for %d messages on %s: recorder stopped with %d", n, r, len(msgs))
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return msgs, fmt.Errorf("natstest: waited %v for %d messages on %s, recorded %d: %w",
				time.Since(start).Round(time.Millisecond), n, r, len(msgs), ctx.Err())
		}
	}
}

// Sync returns once every message that the environment's connections published before the call
// has been recorded: it makes a round trip to the server on each of them, then on the
// recorder's own connection, and waits until the recorder has handled what came before.
// Without a deadline in ctx it waits at most DefaultTimeout.
func (r *Recorder) Sync(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := r.log.env.flush(ctx); err != nil {
		return err
	}
	if err := r.log.conn.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("natstest: sync %s: %w", r, err)
	}
	err := r.log.mark(ctx, "sync")
	if errors.Is(err, errStopped) {
		return nil // a stopped recorder has recorded all it ever will
	}
	if err != nil {
		return fmt.Errorf("natstest: sync %s: %w", r, err)
	}
	if n := r.log.dropped(); n > 0 {
		return fmt.Errorf("natstest: sync %s: %d messages lost: more than %d arrived faster than they could be recorded", r, n, recordBuffer)
	}
	return nil
}

// Reset forgets every message recorded so far, in the recorder and all its views.
func (r *Recorder) Reset() {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	r.log.msgs = nil
}

// Stop unsubscribes; what was recorded stays readable. Safe to call more than once.
func (r *Recorder) Stop() { r.log.stop() }

// String describes the recorder: its subjects, and its filters if it is a view.
func (r *Recorder) String() string {
	s := strings.Join(r.log.subjects, ", ")
	for _, f := range r.filters {
		s += " | " + strings.Join(f, ", ")
	}
	return "recorder of " + s
}
