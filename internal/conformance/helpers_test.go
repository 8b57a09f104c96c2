package conformance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// patience bounds every wait in the suite. Nothing here waits for time to pass: each wait ends
// as soon as what it waits for happens, and fails the test if it has not within patience.
const patience = 5 * time.Second

// each runs body on every backend, with JetStream off (core NATS only) and then opts.
func each(t *testing.T, body func(t *testing.T, env *natstest.Env), opts ...natstest.Option) {
	t.Helper()
	natstest.Each(t, body, append([]natstest.Option{natstest.WithJetStream(false)}, opts...)...)
}

// waitCtx is a context that ends after patience, or with the test.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	t.Cleanup(cancel)
	return ctx
}

// interest waits until n subscriptions on the server would receive subj.
func interest(t *testing.T, env *natstest.Env, subj string, n int) {
	t.Helper()
	if err := env.WaitForInterest(waitCtx(t), subj, n); err != nil {
		t.Fatal(err)
	}
}

// subSync subscribes for NextMsg. The subscription is dropped at the end of the test, before the
// Env drains its connections: a drain would otherwise wait for someone to take the messages
// left in it.
func subSync(t *testing.T, nc *nats.Conn, subj string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		t.Fatalf("subscribe %q: %v", subj, err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return sub
}

// queueSync joins a queue group for NextMsg, dropped at the end of the test as subSync's.
func queueSync(t *testing.T, nc *nats.Conn, subj, queue string) *nats.Subscription {
	t.Helper()
	sub, err := nc.QueueSubscribeSync(subj, queue)
	if err != nil {
		t.Fatalf("queue subscribe %q %q: %v", subj, queue, err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return sub
}

func publish(t *testing.T, nc *nats.Conn, subj string, data string) {
	t.Helper()
	if err := nc.Publish(subj, []byte(data)); err != nil {
		t.Fatalf("publish %q: %v", subj, err)
	}
}

func publishMsg(t *testing.T, nc *nats.Conn, m *nats.Msg) {
	t.Helper()
	if err := nc.PublishMsg(m); err != nil {
		t.Fatalf("publish %q: %v", m.Subject, err)
	}
}

func flush(t *testing.T, nc *nats.Conn) {
	t.Helper()
	if err := nc.FlushTimeout(patience); err != nil {
		t.Fatalf("flush: %v (last error %v)", err, nc.LastError())
	}
}

// next is the subscription's next message, which must arrive within patience.
func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(patience)
	if err != nil {
		t.Fatalf("next message on %q: %v", sub.Subject, err)
	}
	return m
}

// nextData is the payload of the subscription's next message.
func nextData(t *testing.T, sub *nats.Subscription) string {
	t.Helper()
	return string(next(t, sub).Data)
}

// queued is how many messages the client holds for sub that nobody has taken yet.
func queued(t *testing.T, sub *nats.Subscription) int {
	t.Helper()
	n, _, err := sub.Pending()
	if err != nil {
		t.Fatalf("pending on %q: %v", sub.Subject, err)
	}
	return n
}

// takeQueued takes every message the client holds for sub without waiting for more.
func takeQueued(t *testing.T, sub *nats.Subscription) []*nats.Msg {
	t.Helper()
	var msgs []*nats.Msg
	for range queued(t, sub) {
		msgs = append(msgs, next(t, sub))
	}
	return msgs
}

// nothingMore fails unless sub holds no message. Callers first make a later marker arrive on
// the same connection, so that anything that would have come has come.
func nothingMore(t *testing.T, sub *nats.Subscription) {
	t.Helper()
	if msgs := takeQueued(t, sub); len(msgs) > 0 {
		t.Errorf("%q got %d unexpected messages, first %q: %q", sub.Subject, len(msgs), msgs[0].Subject, msgs[0].Data)
	}
}

// marker publishes a marker on subj from pub and waits for it on sub, which must be on the
// connection whose silence is being checked: the server delivers to one connection in the order
// one publisher published, so whatever pub published before the marker has been delivered when
// it arrives. Messages that are not the marker are left in sub's queue only if keep is set;
// otherwise it is an error if one arrives first.
func marker(t *testing.T, pub *nats.Conn, subj string, sub *nats.Subscription) {
	t.Helper()
	const mark = "natskit-marker"
	publish(t, pub, subj, mark)
	flush(t, pub)
	for {
		m := next(t, sub)
		if string(m.Data) == mark {
			return
		}
		t.Errorf("before the marker %q got %q: %q", sub.Subject, m.Subject, m.Data)
	}
}

// closedChan returns an option that closes the returned channel when the connection closes.
func closedChan() (nats.Option, <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return nats.ClosedHandler(func(*nats.Conn) { once.Do(func() { close(ch) }) }), ch
}

// asyncErrs returns an option that sends every asynchronous error the connection reports.
func asyncErrs() (nats.Option, <-chan error) {
	ch := make(chan error, 64)
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case ch <- err:
		default:
		}
	}), ch
}

// nextErr is the next asynchronous error, which must arrive within patience.
func nextErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(patience):
		t.Fatal("no asynchronous error arrived")
		return nil
	}
}

// noErr fails if an asynchronous error is waiting. Callers first make a later round trip.
func noErr(t *testing.T, ch <-chan error) {
	t.Helper()
	select {
	case err := <-ch:
		t.Errorf("unexpected asynchronous error: %v", err)
	default:
	}
}

// await waits for ch to close or yield, failing with what after patience.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("waited %v for %s", patience, what)
		var zero T
		return zero
	}
}

// wantErrText checks that err is set and reads exactly want.
func wantErrText(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("error = nil, want %q", want)
		return
	}
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// wantIs checks errors.Is(err, target) and the exact text.
func wantIs(t *testing.T, err, target error, text string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("error %v is not %v", err, target)
	}
	wantErrText(t, err, text)
}

// --- named looser comparisons: where servers may legitimately differ ---

// sameTotal checks that, across the members of one queue group, every message was delivered
// exactly once and none was lost, whatever the split between members (which the server picks
// at random).
func sameTotal(t *testing.T, group string, want []string, members ...[]*nats.Msg) {
	t.Helper()
	var got []string
	for _, msgs := range members {
		for _, m := range msgs {
			got = append(got, string(m.Data))
		}
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("group %s: members received %d messages %v, want each of %v exactly once", group, len(got), got, w)
	}
}

// anyMember checks that exactly one of the members received the one message data.
func anyMember(t *testing.T, group, data string, members ...[]*nats.Msg) {
	t.Helper()
	sameTotal(t, group, []string{data}, members...)
}

// inOrder checks that, in msgs, the payloads of each publisher appear in the order it sent them,
// however the publishers interleave. Payloads are "publisher/seq".
func inOrder(t *testing.T, msgs []*nats.Msg) {
	t.Helper()
	last := map[string]int{}
	for _, m := range msgs {
		var who string
		var seq int
		if _, err := fmt.Sscanf(strings.Replace(string(m.Data), "/", " ", 1), "%s %d", &who, &seq); err != nil {
			t.Fatalf("payload %q: %v", m.Data, err)
		}
		if prev, ok := last[who]; ok && seq != prev+1 {
			t.Fatalf("from %s: message %d after %d", who, seq, prev)
		}
		last[who] = seq
	}
}

var versionRE = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// looksLikeVersion is the looser check for a server version: servers report their own, but
// always as a semantic version.
func looksLikeVersion(t *testing.T, v string) {
	t.Helper()
	if !versionRE.MatchString(v) {
		t.Errorf("server version %q is not a semantic version", v)
	}
}

// nonEmpty is the looser check for identifiers each server picks for itself (server id, name).
func nonEmpty(t *testing.T, what, v string) {
	t.Helper()
	if strings.TrimSpace(v) == "" {
		t.Errorf("%s is empty", what)
	}
}

// datas is the payloads of msgs.
func datas(msgs []*nats.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Data)
	}
	return out
}

// seq is n payloads: prefix0, prefix1, ...
func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

// eachJS runs body on every backend with JetStream on. JetStream scenarios use it; nothing else
// differs from each.
func eachJS(t *testing.T, body func(t *testing.T, env *natstest.Env), opts ...natstest.Option) {
	t.Helper()
	natstest.Each(t, body, append([]natstest.Option{natstest.WithJetStream(true)}, opts...)...)
}
