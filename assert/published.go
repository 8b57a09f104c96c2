package assert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/internal/subject"
)

// TB is the part of testing.TB the assertions use.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Recording is a live record of published messages; *natstest.Recorder implements it.
type Recording interface {
	// Snapshot returns the messages recorded so far, in arrival order, and a channel that is
	// closed when another message is recorded (or the recording stops).
	Snapshot() ([]*nats.Msg, <-chan struct{})
	// Sync returns once every message published by the environment's connections before the call
	// has been recorded.
	Sync(ctx context.Context) error
}

// closestShown is how many non-matching messages a report shows with their diffs.
const closestShown = 3

// Published waits until rec holds a message on a subject that pattern matches whose payload
// equals want: []byte and string compare raw payloads, nil accepts any, other types decode JSON.
func Published(t TB, rec Recording, pattern string, want any, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if !subject.ValidPattern(pattern) {
		t.Errorf("assert.Published: invalid subject pattern %q", pattern)
		return false
	}
	m := newMatcher(want, o)
	if err := m.compareCheck(); err != nil {
		t.Errorf("assert.Published on %q: %v", pattern, err)
		return false
	}
	timer := time.NewTimer(o.within)
	defer timer.Stop()
	var (
		msgs    []*nats.Msg
		ch      <-chan struct{}
		last    <-chan struct{} // the channel that woke the loop
		seen    int             // messages already checked
		stopped bool
		done    bool // by the deadline
	)
	for {
		msgs, ch = rec.Snapshot()
		if seen > len(msgs) {
			seen = 0 // the recording was reset
		}
		for i := seen; i < len(msgs); i++ {
			if subject.Matches(pattern, msgs[i].Subject) && m.check(msgs[i], i).ok() {
				return true
			}
		}
		if done {
			break
		}
		if stopped = isStopped(ch, last, len(msgs) == seen); stopped {
			break
		}
		seen = len(msgs)
		select {
		case <-ch:
			last = ch
		case <-timer.C:
			done = true // one last look: a message may have come with the deadline
		}
	}

	var b strings.Builder
	if stopped {
		fmt.Fprintf(&b, "assert.Published: no message on %q with %s; the recording has stopped", pattern, m.describe())
	} else {
		fmt.Fprintf(&b, "assert.Published: waited %v for a message on %q with %s", o.within, pattern, m.describe())
	}
	var vs []verdict
	for i, msg := range msgs {
		if subject.Matches(pattern, msg.Subject) {
			vs = append(vs, m.check(msg, i))
		}
	}
	if len(vs) == 0 {
		fmt.Fprintf(&b, "\nno message on %q", pattern)
	} else {
		fmt.Fprintf(&b, "\n%d %s on %q, none equal; closest:", len(vs), plural(len(vs), "message"), pattern)
		closest(&b, vs, closestShown, "message")
	}
	fmt.Fprintf(&b, "\nrecorded %s", subjects(msgs))
	t.Errorf("%s", b.String())
	return false
}

// NotPublished syncs rec, so that what the environment's connections already published is in,
// and fails if a message on a subject that pattern matches was recorded. With Within(d) it
// then keeps watching for d.
func NotPublished(t TB, rec Recording, pattern string, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if !subject.ValidPattern(pattern) {
		t.Errorf("assert.NotPublished: invalid subject pattern %q", pattern)
		return false
	}
	syncFor := o.within
	if syncFor <= 0 {
		syncFor = DefaultWithin
	}
	ctx, cancel := context.WithTimeout(context.Background(), syncFor)
	err := rec.Sync(ctx)
	cancel()
	if err != nil {
		t.Errorf("assert.NotPublished on %q: sync the recording: %v", pattern, err)
		return false
	}
	msgs, ch := rec.Snapshot()
	if bad := matching(pattern, msgs, 0); len(bad) > 0 {
		report(t, pattern, bad, "")
		return false
	}
	if !o.hasWithin || o.within <= 0 {
		return true
	}
	timer := time.NewTimer(o.within)
	defer timer.Stop()
	seen := len(msgs)
	for done := false; !done; {
		if ch == nil {
			return true // the recording has stopped: nothing more can arrive
		}
		var last <-chan struct{}
		select {
		case <-ch:
			last = ch
		case <-timer.C:
			done = true // one last look: a message may have come with the deadline
		}
		var next []*nats.Msg
		next, ch = rec.Snapshot()
		if seen > len(next) {
			seen = 0 // the recording was reset
		}
		if bad := matching(pattern, next, seen); len(bad) > 0 {
			report(t, pattern, bad, fmt.Sprintf(" within %v", o.within))
			return false
		}
		if isStopped(ch, last, len(next) == seen) {
			return true // nothing more can arrive
		}
		seen = len(next)
	}
	return true
}

func matching(pattern string, msgs []*nats.Msg, from int) []*nats.Msg {
	var out []*nats.Msg
	for _, m := range msgs[from:] {
		if subject.Matches(pattern, m.Subject) {
			out = append(out, m)
		}
	}
	return out
}

// maxListed is how many offending messages a NotPublished report lists.
const maxListed = 10

func report(t TB, pattern string, bad []*nats.Msg, when string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "assert.NotPublished: %d %s on %q%s:", len(bad), plural(len(bad), "message"), pattern, when)
	for i, m := range bad {
		if i == maxListed {
			fmt.Fprintf(&b, "\n\t... and %d more", len(bad)-i)
			break
		}
		b.WriteString("\n\t" + message(m))
	}
	t.Errorf("%s", b.String())
}

// isStopped reports whether a recording has stopped: its Snapshot gave no channel, or gave
// again, with nothing new, the closed channel that last woke the caller.
func isStopped(ch, last <-chan struct{}, nothingNew bool) bool {
	return ch == nil || nothingNew && ch == last
}
