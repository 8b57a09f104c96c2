package assert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/subject"
)

// The ack assertions read a recording of what clients and the server sent: acks on the
// deliveries' reply subjects ($JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>...), the
// deliveries themselves (their reply subject is that ack subject) and the server's advisories.
// A recording of "$JS.ACK.>" sees every ack on every backend; adding "$JS.EVENT.ADVISORY.CONSUMER.>"
// shows max deliveries, and adding the delivery subject ("_INBOX.>" for pull consumers) shows
// deliveries nobody answered.

const (
	ackPrefix           = "$JS.ACK."
	advisoryPrefix      = "$JS.EVENT.ADVISORY.CONSUMER."
	maxDeliveriesPrefix = advisoryPrefix + "MAX_DELIVERIES."
)

// The ack kinds, as their payloads start; a max deliveries advisory and a delivery are events too.
const (
	kindAck       = "+ACK"
	kindNak       = "-NAK"
	kindProgress  = "+WPI"
	kindTerm      = "+TERM"
	kindNext      = "+NXT"
	kindDelivered = "delivered"
	kindMax       = "max deliveries"
)

// jsEvent is one recorded message about a delivery: the delivery, an ack of it, or an advisory.
type jsEvent struct {
	stream, consumer string
	seq              uint64 // the stream sequence
	delivered        uint64 // which delivery of it, from 1; for kindMax, how many there were
	kind             string
	arg              string // what follows the kind in an ack: a nak delay, a term reason
}

// parseAckSubject reads an ack subject as nats.go's jetstream.Msg.Metadata does: the old form
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending> and
// the newer one with a domain and an account hash after $JS.ACK and a token or more at the end.
func parseAckSubject(s string) (ev jsEvent, ok bool) {
	if !strings.HasPrefix(s, ackPrefix) {
		return ev, false
	}
	tokens := strings.Split(s, ".")
	var t []string // stream, consumer, delivered, stream seq, ...
	switch n := len(tokens); {
	case n == 9:
		t = tokens[2:]
	case n >= 11:
		t = tokens[4:]
	default:
		return ev, false
	}
	delivered, err1 := strconv.ParseUint(t[2], 10, 64)
	seq, err2 := strconv.ParseUint(t[3], 10, 64)
	if err1 != nil || err2 != nil || t[0] == "" || t[1] == "" {
		return ev, false
	}
	return jsEvent{stream: t[0], consumer: t[1], seq: seq, delivered: delivered}, true
}

// parseJSEvent reads what m says about a delivery, if anything.
func parseJSEvent(m *nats.Msg) (jsEvent, bool) {
	switch {
	case strings.HasPrefix(m.Subject, ackPrefix):
		ev, ok := parseAckSubject(m.Subject)
		ev.kind, ev.arg = ackKind(m.Data)
		return ev, ok
	case strings.HasPrefix(m.Reply, ackPrefix):
		ev, ok := parseAckSubject(m.Reply)
		ev.kind = kindDelivered
		return ev, ok
	case strings.HasPrefix(m.Subject, maxDeliveriesPrefix):
		var a struct {
			Stream     string `json:"stream"`
			Consumer   string `json:"consumer"`
			StreamSeq  uint64 `json:"stream_seq"`
			Deliveries uint64 `json:"deliveries"`
		}
		if json.Unmarshal(m.Data, &a) != nil || a.Stream == "" || a.Consumer == "" {
			return jsEvent{}, false
		}
		return jsEvent{stream: a.Stream, consumer: a.Consumer, seq: a.StreamSeq, delivered: a.Deliveries, kind: kindMax}, true
	}
	return jsEvent{}, false
}

// ackKind splits an ack payload into its kind and argument, as nats-server reads it: an empty
// payload acks.
func ackKind(data []byte) (kind, arg string) {
	kind, arg, _ = strings.Cut(strings.TrimSpace(string(data)), " ")
	if kind == "" || kind == "+OK" {
		kind = kindAck
	}
	return kind, strings.TrimSpace(arg)
}

// nakDelay reads a nak's argument: JSON {"delay": nanoseconds} or a Go duration.
func nakDelay(arg string) (time.Duration, bool) {
	if arg == "" {
		return 0, true
	}
	if arg[0] == '{' {
		var d struct {
			Delay time.Duration `json:"delay"`
		}
		if err := json.Unmarshal([]byte(arg), &d); err != nil {
			return 0, false
		}
		return d.Delay, true
	}
	d, err := time.ParseDuration(arg)
	return d, err == nil
}

// describe renders an ack for a history: "-NAK (delay 1s)", "+TERM (reason "bad")".
func (ev jsEvent) describe() string {
	switch {
	case ev.arg == "":
		return ev.kind
	case ev.kind == kindNak:
		if d, ok := nakDelay(ev.arg); ok {
			return fmt.Sprintf("%s (delay %v)", ev.kind, d)
		}
	case ev.kind == kindTerm:
		return fmt.Sprintf("%s (reason %q)", ev.kind, ev.arg)
	}
	return fmt.Sprintf("%s %s", ev.kind, truncate(strconv.Quote(ev.arg)))
}

// msgRef names a message of a stream as a consumer delivers it.
type msgRef struct {
	stream, consumer string
	seq              uint64
}

func (r msgRef) String() string {
	return fmt.Sprintf("stream seq %d on consumer %s > %s", r.seq, r.stream, r.consumer)
}

func (r msgRef) check(fn string) error {
	if r.stream == "" || r.consumer == "" {
		return fmt.Errorf("assert.%s: stream and consumer must be named, got stream %q, consumer %q", fn, r.stream, r.consumer)
	}
	if r.seq == 0 {
		return fmt.Errorf("assert.%s: stream sequences start at 1, got 0 (consumer %s > %s)", fn, r.stream, r.consumer)
	}
	return nil
}

// events returns what msgs say about r's consumer, in recorded order, and how many recorded
// events concern other consumers, by consumer.
func (r msgRef) events(msgs []*nats.Msg) (mine []jsEvent, others map[string]int) {
	for _, m := range msgs {
		ev, ok := parseJSEvent(m)
		if !ok {
			continue
		}
		if ev.stream != r.stream || ev.consumer != r.consumer {
			if others == nil {
				others = map[string]int{}
			}
			others[ev.stream+" > "+ev.consumer]++
			continue
		}
		mine = append(mine, ev)
	}
	return mine, others
}

// timesDelivered is how many times the events show seq delivered.
func timesDelivered(evs []jsEvent, seq uint64) uint64 {
	var n uint64
	for _, ev := range evs {
		if ev.seq == seq {
			n = max(n, ev.delivered)
		}
	}
	return n
}

// history renders what evs say about the deliveries of seq:
// "delivery 1: -NAK; delivery 2: +WPI, +ACK".
func history(evs []jsEvent, seq uint64) string {
	byDelivery := map[uint64][]string{}
	seen := map[uint64]bool{}
	var last, maxReached uint64
	for _, ev := range evs {
		if ev.seq != seq {
			continue
		}
		switch ev.kind {
		case kindMax:
			maxReached = ev.delivered
		case kindDelivered:
			seen[ev.delivered] = true
		default:
			byDelivery[ev.delivered] = append(byDelivery[ev.delivered], ev.describe())
		}
		last = max(last, ev.delivered)
	}
	if last == 0 {
		return "nothing recorded"
	}
	known := make([]uint64, 0, len(seen)+len(byDelivery))
	for d := range seen {
		known = append(known, d)
	}
	for d := range byDelivery {
		if !seen[d] {
			known = append(known, d)
		}
	}
	slices.Sort(known)
	var parts []string
	gap := func(from, to uint64) { // deliveries the recording shows nothing of
		switch {
		case from == to:
			parts = append(parts, fmt.Sprintf("delivery %d: no ack recorded", from))
		case from < to:
			parts = append(parts, fmt.Sprintf("deliveries %d to %d: no ack recorded", from, to))
		}
	}
	var prev uint64
	for i, d := range known {
		if i == maxDeliveriesListed {
			parts = append(parts, fmt.Sprintf("... and %d more deliveries", len(known)-i))
			prev = last
			break
		}
		gap(prev+1, d-1)
		if acks := byDelivery[d]; len(acks) > 0 {
			parts = append(parts, fmt.Sprintf("delivery %d: %s", d, strings.Join(acks, ", ")))
		} else {
			parts = append(parts, fmt.Sprintf("delivery %d: no ack", d))
		}
		prev = d
	}
	gap(prev+1, last)
	if maxReached > 0 {
		parts = append(parts, fmt.Sprintf("max deliveries reached after %d", maxReached))
	}
	return strings.Join(parts, "; ")
}

// maxDeliveriesListed is how many deliveries of one message a history lists.
const maxDeliveriesListed = 20

// maxSeqsListed is how many other stream sequences a report lists.
const maxSeqsListed = 10

// others summarizes, for a report, what the recording holds besides r's message.
func (r msgRef) others(b *strings.Builder, evs []jsEvent, others map[string]int) {
	var seqs []uint64
	last := map[uint64]string{}
	deliveries := 0
	for _, ev := range evs {
		if ev.kind == kindDelivered {
			deliveries++
		}
		if ev.seq == r.seq {
			continue
		}
		if _, ok := last[ev.seq]; !ok {
			seqs = append(seqs, ev.seq)
		}
		if ev.kind != kindDelivered || last[ev.seq] == "" {
			last[ev.seq] = ev.kind
		}
	}
	slices.Sort(seqs)
	fmt.Fprintf(b, "\nrecorded for %s > %s:", r.stream, r.consumer)
	if len(seqs) == 0 {
		b.WriteString(" nothing else")
	}
	for i, s := range seqs {
		if i == maxSeqsListed {
			fmt.Fprintf(b, " ... and %d more", len(seqs)-i)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(b, " stream seq %d (last %s)", s, last[s])
	}
	if len(others) > 0 {
		names := make([]string, 0, len(others))
		for n := range others {
			names = append(names, n)
		}
		slices.Sort(names)
		b.WriteString("; for other consumers:")
		for i, n := range names {
			if i == maxSubjects {
				fmt.Fprintf(b, " ... and %d more", len(names)-i)
				break
			}
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(b, " %s ×%d", n, others[n])
		}
	}
	if deliveries == 0 {
		b.WriteString("\n(a delivery nobody answered shows only if the recording has its subject too, such as \"_INBOX.>\" for pull consumers)")
	}
}

// covers reports whether rec, if it tells its subjects, can see a message on one of subjs.
// A recording that does not tell is taken to cover them.
func covers(rec Recording, subjs ...string) (ok bool, have []string) {
	s, tells := rec.(interface{ Subjects() []string })
	if !tells {
		return true, nil
	}
	have = s.Subjects()
	for _, p := range have {
		for _, subj := range subjs {
			if subject.Matches(p, subj) {
				return true, have
			}
		}
	}
	return false, have
}

// ackSubjects are sample ack subjects of r's consumer, in both forms, for covers.
func (r msgRef) ackSubjects() []string {
	return []string{
		fmt.Sprintf("$JS.ACK.%s.%s.1.%d.1.0.0", r.stream, r.consumer, r.seq),
		fmt.Sprintf("$JS.ACK._.HASH.%s.%s.1.%d.1.0.0.TOKEN", r.stream, r.consumer, r.seq),
	}
}

// watch calls done with rec's messages until it reports true, the deadline passes or the
// recording stops. It returns the messages it last looked at, and whether the recording stopped.
func watch(rec Recording, within time.Duration, done func([]*nats.Msg) bool) (msgs []*nats.Msg, ok, stopped bool) {
	timer := time.NewTimer(within)
	defer timer.Stop()
	var (
		ch, last <-chan struct{}
		seen     = -1
		timedOut bool
	)
	for {
		msgs, ch = rec.Snapshot()
		if len(msgs) != seen && done(msgs) {
			return msgs, true, false
		}
		if timedOut {
			return msgs, false, false
		}
		if isStopped(ch, last, len(msgs) == seen) {
			return msgs, false, true
		}
		seen = len(msgs)
		select {
		case <-ch:
			last = ch
		case <-timer.C:
			timedOut = true // one last look: a message may have come with the deadline
		}
	}
}

// OnDelivery makes Acked, Naked, InProgress and Termed look only at the acks of delivery n
// (1 for the first delivery, 2 for the first redelivery).
func OnDelivery(n int) Option { return optionFunc(func(o *options) { o.delivery = n }) }

// NakDelay makes Naked require a nak that asks for redelivery after d (NakWithDelay);
// NakDelay(0) requires a nak without a delay.
func NakDelay(d time.Duration) Option { return optionFunc(func(o *options) { o.nakDelay = &d }) }

// TermReason makes Termed require a term with this reason (TermWithReason); TermReason("")
// requires a term without one.
func TermReason(reason string) Option {
	return optionFunc(func(o *options) { o.termReason = &reason })
}

// WithInfo makes a failing Acked, Naked, InProgress, Termed, Redelivered or
// MaxDeliveriesReached show cons's figures too, as its Info reports them then.
func WithInfo(cons Consumer) Option { return optionFunc(func(o *options) { o.info = cons }) }

// writeInfo adds cons's figures to a report.
func writeInfo(b *strings.Builder, cons Consumer) {
	if cons == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWithin)
	defer cancel()
	info, err := cons.Info(ctx)
	if err != nil {
		name := "consumer"
		if ci := cons.CachedInfo(); ci != nil {
			name = fmt.Sprintf("consumer %s > %s", ci.Stream, ci.Name)
		}
		fmt.Fprintf(b, "\n%s info: %v", name, err)
		return
	}
	fmt.Fprintf(b, "\nconsumer %s > %s now: %s", info.Stream, info.Name, figures(info))
}

// Acked waits until rec holds an ack (+ACK, or +NXT) of stream sequence seq from consumer of
// stream. rec is a recording of "$JS.ACK.>". On failure it shows the message's delivery history.
// Under AckAll an ack of a later message covers seq too, which Acked does not count.
func Acked(t TB, rec Recording, stream, consumer string, seq uint64, opts ...Option) bool {
	t.Helper()
	return waitAck(t, "Acked", rec, msgRef{stream, consumer, seq}, kindAck, opts)
}

// Naked waits until rec holds a nak of stream sequence seq from consumer of stream, as Acked
// waits for an ack. With NakDelay, only a nak with that delay counts.
func Naked(t TB, rec Recording, stream, consumer string, seq uint64, opts ...Option) bool {
	t.Helper()
	return waitAck(t, "Naked", rec, msgRef{stream, consumer, seq}, kindNak, opts)
}

// InProgress waits until rec holds a work-in-progress ack (+WPI) of stream sequence seq from
// consumer of stream, as Acked waits for an ack.
func InProgress(t TB, rec Recording, stream, consumer string, seq uint64, opts ...Option) bool {
	t.Helper()
	return waitAck(t, "InProgress", rec, msgRef{stream, consumer, seq}, kindProgress, opts)
}

// Termed waits until rec holds a term (+TERM) of stream sequence seq from consumer of stream,
// as Acked waits for an ack. With TermReason, only a term with that reason counts.
func Termed(t TB, rec Recording, stream, consumer string, seq uint64, opts ...Option) bool {
	t.Helper()
	return waitAck(t, "Termed", rec, msgRef{stream, consumer, seq}, kindTerm, opts)
}

func waitAck(t TB, fn string, rec Recording, r msgRef, kind string, opts []Option) bool {
	t.Helper()
	o := collect(opts)
	if err := r.check(fn); err != nil {
		t.Errorf("%v", err)
		return false
	}
	if o.delivery < 0 {
		t.Errorf("assert.%s on %s: OnDelivery(%d): deliveries count from 1", fn, r, o.delivery)
		return false
	}
	if ok, have := covers(rec, r.ackSubjects()...); !ok {
		t.Errorf("assert.%s on %s: the recording (of %q) cannot hold its acks: record \"$JS.ACK.>\"", fn, r, have)
		return false
	}
	want := kind
	switch {
	case kind == kindNak && o.nakDelay != nil && *o.nakDelay > 0:
		want += fmt.Sprintf(" with delay %v", *o.nakDelay)
	case kind == kindNak && o.nakDelay != nil:
		want += " without delay"
	case kind == kindTerm && o.termReason != nil && *o.termReason != "":
		want += fmt.Sprintf(" with reason %q", *o.termReason)
	case kind == kindTerm && o.termReason != nil:
		want += " without reason"
	}
	if o.delivery > 0 {
		want += fmt.Sprintf(" of delivery %d", o.delivery)
	}
	matches := func(ev jsEvent) bool {
		if ev.seq != r.seq || o.delivery > 0 && ev.delivered != uint64(o.delivery) {
			return false
		}
		switch {
		case kind == kindAck:
			return ev.kind == kindAck || ev.kind == kindNext
		case ev.kind != kind:
			return false
		case kind == kindNak && o.nakDelay != nil:
			d, ok := nakDelay(ev.arg)
			return ok && d == *o.nakDelay
		case kind == kindTerm && o.termReason != nil:
			return ev.arg == *o.termReason
		}
		return true
	}
	msgs, ok, stopped := watch(rec, o.within, func(msgs []*nats.Msg) bool {
		evs, _ := r.events(msgs)
		return slices.ContainsFunc(evs, matches)
	})
	if ok {
		return true
	}
	var b strings.Builder
	if stopped {
		fmt.Fprintf(&b, "assert.%s: no %s of %s; the recording has stopped", fn, want, r)
	} else {
		fmt.Fprintf(&b, "assert.%s: waited %v for %s of %s", fn, o.within, want, r)
	}
	evs, others := r.events(msgs)
	fmt.Fprintf(&b, "\nstream seq %d: %s", r.seq, history(evs, r.seq))
	r.others(&b, evs, others)
	writeInfo(&b, o.info)
	t.Errorf("%s", b.String())
	return false
}

// Redelivered waits until rec shows stream sequence seq delivered n+1 times to consumer of
// stream, from the delivery counts in its acks (and its deliveries and max deliveries advisories,
// if recorded). It syncs rec first, and fails at once if it shows more.
func Redelivered(t TB, rec Recording, stream, consumer string, seq uint64, n int, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	r := msgRef{stream, consumer, seq}
	if err := r.check("Redelivered"); err != nil {
		t.Errorf("%v", err)
		return false
	}
	if n < 0 {
		t.Errorf("assert.Redelivered on %s: n is %d, want 0 or more redeliveries", r, n)
		return false
	}
	// what the environment's connections already sent counts: a delivery too many among it fails
	ctx, cancel := context.WithTimeout(context.Background(), max(o.within, DefaultWithin))
	err := rec.Sync(ctx)
	cancel()
	if err != nil {
		t.Errorf("assert.Redelivered on %s: sync the recording: %v", r, err)
		return false
	}
	want := uint64(n) + 1
	msgs, _, stopped := watch(rec, o.within, func(msgs []*nats.Msg) bool {
		evs, _ := r.events(msgs)
		return timesDelivered(evs, seq) >= want
	})
	evs, others := r.events(msgs)
	got := timesDelivered(evs, seq)
	if got == want {
		return true
	}
	var b strings.Builder
	switch {
	case got > want:
		fmt.Fprintf(&b, "assert.Redelivered: %s was delivered %d %s, want %d (redelivered %d)",
			r, got, plural(int(got), "time"), want, n)
	case stopped:
		fmt.Fprintf(&b, "assert.Redelivered: %s was delivered %d %s, want %d (redelivered %d); the recording has stopped",
			r, got, plural(int(got), "time"), want, n)
	default:
		fmt.Fprintf(&b, "assert.Redelivered: waited %v for %s to be delivered %d %s (redelivered %d); recorded %d",
			o.within, r, want, plural(int(want), "time"), n, got)
	}
	fmt.Fprintf(&b, "\nstream seq %d: %s", r.seq, history(evs, r.seq))
	r.others(&b, evs, others)
	writeInfo(&b, o.info)
	t.Errorf("%s", b.String())
	return false
}

// MaxDeliveriesReached waits until rec holds the server's advisory that stream sequence seq
// reached consumer's MaxDeliver. rec is a recording of "$JS.EVENT.ADVISORY.CONSUMER.>" (and of
// "$JS.ACK.>", for the history a failure shows). The server sends it when the last delivery's
// ack wait runs out or, after a nak, when a pull request would get the message once more.
func MaxDeliveriesReached(t TB, rec Recording, stream, consumer string, seq uint64, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	r := msgRef{stream, consumer, seq}
	if err := r.check("MaxDeliveriesReached"); err != nil {
		t.Errorf("%v", err)
		return false
	}
	advisory := maxDeliveriesPrefix + stream + "." + consumer
	if ok, have := covers(rec, advisory); !ok {
		t.Errorf("assert.MaxDeliveriesReached on %s: the recording (of %q) cannot hold %s: record \"$JS.EVENT.ADVISORY.CONSUMER.>\"",
			r, have, advisory)
		return false
	}
	msgs, ok, stopped := watch(rec, o.within, func(msgs []*nats.Msg) bool {
		evs, _ := r.events(msgs)
		return slices.ContainsFunc(evs, func(ev jsEvent) bool { return ev.kind == kindMax && ev.seq == seq })
	})
	if ok {
		return true
	}
	var b strings.Builder
	if stopped {
		fmt.Fprintf(&b, "assert.MaxDeliveriesReached: no %s advisory for %s; the recording has stopped", advisory, r)
	} else {
		fmt.Fprintf(&b, "assert.MaxDeliveriesReached: waited %v for a %s advisory for %s", o.within, advisory, r)
	}
	evs, others := r.events(msgs)
	fmt.Fprintf(&b, "\nstream seq %d: %s", r.seq, history(evs, r.seq))
	r.others(&b, evs, others)
	writeInfo(&b, o.info)
	t.Errorf("%s", b.String())
	return false
}

// Consumer is the part of jetstream.Consumer and jetstream.PushConsumer that ConsumerFigures,
// ConsumerDrained and WithInfo use.
type Consumer interface {
	Info(ctx context.Context) (*jetstream.ConsumerInfo, error)
	CachedInfo() *jetstream.ConsumerInfo
}

// Figures are a consumer's counts as its info reports them. A nil field is not compared:
// Figures{AckPending: new(0), Redelivered: new(1)}.
type Figures struct {
	Pending     *int    // matching messages not yet delivered (NumPending)
	AckPending  *int    // delivered and not yet acknowledged (NumAckPending)
	Redelivered *int    // of those, delivered more than once (NumRedelivered)
	Waiting     *int    // pull requests waiting (NumWaiting)
	Delivered   *uint64 // the last stream sequence delivered (Delivered.Stream)
	AckFloor    *uint64 // the stream sequence up to which everything is acknowledged (AckFloor.Stream)
}

// compared returns, by field name, the figures f sets and the ones info reports for them.
func (f Figures) compared(info *jetstream.ConsumerInfo) (want, got map[string]int64) {
	want, got = map[string]int64{}, map[string]int64{}
	add := func(name string, set bool, w, g int64) {
		if set {
			want[name], got[name] = w, g
		}
	}
	add("Pending", f.Pending != nil, deref(f.Pending), int64(info.NumPending))
	add("AckPending", f.AckPending != nil, deref(f.AckPending), int64(info.NumAckPending))
	add("Redelivered", f.Redelivered != nil, deref(f.Redelivered), int64(info.NumRedelivered))
	add("Waiting", f.Waiting != nil, deref(f.Waiting), int64(info.NumWaiting))
	add("Delivered", f.Delivered != nil, deref(f.Delivered), int64(info.Delivered.Stream))
	add("AckFloor", f.AckFloor != nil, deref(f.AckFloor), int64(info.AckFloor.Stream))
	return want, got
}

func deref[T int | uint64](p *T) int64 {
	if p == nil {
		return 0
	}
	return int64(*p)
}

func (f Figures) empty() bool { return f == Figures{} }

// ConsumerFigures waits until cons's info reports the figures want sets, polling Info, and
// prints a (-want +got) diff of the last figures if it never does.
func ConsumerFigures(t TB, cons Consumer, want Figures, opts ...Option) bool {
	t.Helper()
	if want.empty() {
		t.Errorf("assert.ConsumerFigures: want sets no figure; set the ones to compare, such as Figures{AckPending: new(0)}")
		return false
	}
	return waitFigures(t, "ConsumerFigures", cons, want, func(name string) string {
		return "the figures of " + name
	}, opts)
}

// ConsumerDrained waits until cons has delivered every message it matches and has none
// awaiting an ack: NumPending and NumAckPending are 0.
func ConsumerDrained(t TB, cons Consumer, opts ...Option) bool {
	t.Helper()
	zero := 0
	return waitFigures(t, "ConsumerDrained", cons, Figures{Pending: &zero, AckPending: &zero}, func(name string) string {
		return name + " to drain: nothing pending, nothing awaiting ack"
	}, opts)
}

// infoInterval bounds the pause between two Info calls.
const infoInterval = 20 * time.Millisecond

func waitFigures(t TB, fn string, cons Consumer, want Figures, what func(name string) string, opts []Option) bool {
	t.Helper()
	o := collect(opts)
	if cons == nil {
		t.Errorf("assert.%s: nil consumer", fn)
		return false
	}
	name := "consumer"
	if ci := cons.CachedInfo(); ci != nil {
		name = fmt.Sprintf("consumer %s > %s", ci.Stream, ci.Name)
	}
	var (
		info     *jetstream.ConsumerInfo
		err      error
		gone     bool // the consumer or its stream does not exist
		deadline = time.Now().Add(o.within)
		pause    = time.Millisecond
		timer    = time.NewTimer(0)
	)
	defer timer.Stop()
	<-timer.C
	for {
		ctx, cancel := context.WithTimeout(context.Background(), max(time.Until(deadline), 500*time.Millisecond))
		got, gerr := cons.Info(ctx)
		cancel()
		if gerr == nil {
			info, err = got, nil
			if w, g := want.compared(info); cmp.Equal(w, g) {
				return true
			}
		} else {
			err = gerr
			if gone = errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound); gone {
				break
			}
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		timer.Reset(min(pause, wait))
		<-timer.C
		pause = min(2*pause, infoInterval)
	}
	if info != nil {
		name = fmt.Sprintf("consumer %s > %s", info.Stream, info.Name)
	}
	if gone {
		t.Errorf("assert.%s: %s: info: %v", fn, name, err)
		return false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "assert.%s: waited %v for %s", fn, o.within, what(name))
	if err != nil {
		fmt.Fprintf(&b, "\nlast info call: %v", err)
	}
	if info != nil {
		b.WriteString(" (-want +got):\n")
		w, g := want.compared(info)
		b.WriteString(indent(strings.TrimRight(cmp.Diff(w, g), "\n"), "\t"))
		fmt.Fprintf(&b, "\nlast info: %s", figures(info))
	}
	t.Errorf("%s", b.String())
	return false
}

// figures renders every figure of info on one line.
func figures(info *jetstream.ConsumerInfo) string {
	return fmt.Sprintf("%d pending, %d ack pending, %d redelivered, %d waiting, delivered stream seq %d (consumer seq %d), ack floor stream seq %d (consumer seq %d)",
		info.NumPending, info.NumAckPending, info.NumRedelivered, info.NumWaiting,
		info.Delivered.Stream, info.Delivered.Consumer, info.AckFloor.Stream, info.AckFloor.Consumer)
}
