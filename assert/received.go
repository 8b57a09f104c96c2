package assert

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Received reads sub, a SubscribeSync subscription, until a message equal to want arrives,
// comparing as Published does. Messages read on the way are consumed, and listed on failure.
func Received(t TB, sub *nats.Subscription, want any, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if sub == nil {
		t.Errorf("assert.Received: nil subscription")
		return false
	}
	name := fmt.Sprintf("subscription on %q", sub.Subject)
	if sub.Queue != "" {
		name += fmt.Sprintf(" (queue %q)", sub.Queue)
	}
	if typ := sub.Type(); typ != nats.SyncSubscription {
		t.Errorf("assert.Received: %s is %s; Received reads with NextMsg, which needs SubscribeSync or QueueSubscribeSync",
			name, typeName(typ))
		return false
	}
	m := newMatcher(want, o)
	if err := m.compareCheck(); err != nil {
		t.Errorf("assert.Received on %s: %v", name, err)
		return false
	}
	var (
		vs       []verdict
		notes    []string
		deadline = time.Now().Add(o.within)
		drain    = -1 // once past the deadline: how many queued messages are still read
	)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			if drain < 0 {
				drain, _, _ = sub.Pending()
			}
			if drain <= 0 {
				break
			}
			drain--
			wait = time.Nanosecond // NextMsg returns a queued message without waiting
		}
		msg, err := sub.NextMsg(wait)
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if errors.Is(err, nats.ErrSlowConsumer) {
			notes = append(notes, "the subscription dropped messages: slow consumer")
			continue
		}
		if err != nil {
			var b strings.Builder
			fmt.Fprintf(&b, "assert.Received: reading %s for %s: %v", name, m.describe(), err)
			readSoFar(&b, vs)
			t.Errorf("%s", b.String())
			return false
		}
		v := m.check(msg, len(vs))
		if v.ok() {
			return true
		}
		vs = append(vs, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "assert.Received: waited %v on %s for a message with %s", o.within, name, m.describe())
	for _, n := range notes {
		b.WriteString("\n" + n)
	}
	if len(vs) == 0 {
		b.WriteString("\nno message arrived")
	} else {
		readSoFar(&b, vs)
	}
	t.Errorf("%s", b.String())
	return false
}

// readSoFar lists the messages Received consumed, closest to want first.
func readSoFar(b *strings.Builder, vs []verdict) {
	if len(vs) == 0 {
		return
	}
	fmt.Fprintf(b, "\nread %d %s, none equal: %s; closest:", len(vs), plural(len(vs), "message"), subjectsOf(vs))
	closest(b, vs, closestShown, "message")
}

func subjectsOf(vs []verdict) string {
	msgs := make([]*nats.Msg, len(vs))
	for i, v := range vs {
		msgs[i] = v.msg
	}
	s := subjects(msgs)
	if _, after, ok := strings.Cut(s, ": "); ok {
		return after
	}
	return s
}

func typeName(typ nats.SubscriptionType) string {
	switch typ {
	case nats.AsyncSubscription:
		return "an async subscription (Subscribe with a handler)"
	case nats.ChanSubscription:
		return "a channel subscription (ChanSubscribe)"
	case nats.PullSubscription:
		return "a pull subscription"
	case nats.NilSubscription:
		return "a nil subscription"
	default:
		return fmt.Sprintf("subscription type %d", typ)
	}
}
