package assert

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/internal/subject"
)

// A Delivery is one message as it reached a subscriber's connection: which connection, which of
// its subscriptions, and the message.
type Delivery struct {
	// Conn is the connection's name (nats.Name), or "cid N" for a connection with none.
	Conn string
	// ClientID is the client ID the server gave the connection.
	ClientID uint64
	// SID is the subscription's ID on its connection, Sub its subject (pattern) and Queue its
	// queue group, "" for none.
	SID, Sub, Queue string
	// Msg is the message: Subject, Reply, Header, Data.
	Msg *nats.Msg
}

// member names a queue group's member: its connection, and the subscription's ID when
// the connection holds more than one member of the group.
func (d Delivery) member(multi bool) string {
	if multi {
		return fmt.Sprintf("%s (sid %s)", d.Conn, d.SID)
	}
	return d.Conn
}

// Deliveries is a live record of what reached which connection; *natstest.Env implements it
// for an Env made WithProxy, on every backend.
type Deliveries interface {
	// Delivered returns every delivery so far, in arrival order, and a channel that is closed
	// at the next one.
	Delivered() ([]Delivery, <-chan struct{})
	// SyncDelivered returns once every message the server had sent when it was called is among
	// the deliveries.
	SyncDelivered(ctx context.Context) error
}

// QueueGroup waits until every message published recorded on subjects matching pattern has
// reached a member of queue group queue, then checks that each reached exactly one member, once:
// no message lost, none handled twice. Messages are told apart by their headers and data, so a
// test publishes distinct payloads. A member (a connection that got messages through the group,
// or one named in Members) that also gets them on a subscription in no queue group is reported
// as handling them twice. Members (by connection name, see nats.Name) and Balanced or Even check
// how the work spread.
//
//	rec := env.Record("orders.new")
//	... start three workers named worker-1..3 in queue group "workers", publish 30 orders ...
//	assert.QueueGroup(t, rec, env, "orders.new", "workers", assert.Members("worker-1", "worker-2", "worker-3"))
func QueueGroup(t TB, published Recording, got Deliveries, pattern, queue string, opts ...Option) bool {
	t.Helper()
	o := collect(opts)
	if !subject.ValidPattern(pattern) {
		t.Errorf("assert.QueueGroup: invalid subject pattern %q", pattern)
		return false
	}
	start := time.Now()
	// Everything published before the call is in the recording, and everything the server sent
	// for it among the deliveries, before anything is judged.
	ctx, cancel := context.WithTimeout(context.Background(), max(o.within, time.Millisecond))
	err := published.Sync(ctx)
	if err == nil {
		err = got.SyncDelivered(ctx)
	}
	cancel()
	if err != nil {
		t.Errorf("assert.QueueGroup: queue group %q on %q: the recording did not catch up within %v: %v", queue, pattern, o.within, err)
		return false
	}
	timer := time.NewTimer(max(0, o.within-time.Since(start)))
	defer timer.Stop()
	var (
		pub      []*nats.Msg
		ds       []Delivery
		outside  []Delivery
		lost     []*nats.Msg
		timedOut bool
	)
	for {
		var pch, dch <-chan struct{}
		var all []*nats.Msg
		all, pch = published.Snapshot()
		pub = matching(pattern, all, 0)
		var alld []Delivery
		alld, dch = got.Delivered()
		ds, outside = groupDeliveries(alld, pattern, queue)
		lost = undelivered(pub, ds)
		if len(lost) == 0 && len(pub) > 0 {
			break
		}
		if timedOut {
			break
		}
		select {
		case <-pch:
		case <-dch:
		case <-timer.C:
			timedOut = true
		}
	}
	if !timedOut { // what the server sent to the members up to now, duplicates included
		ctx, cancel := context.WithTimeout(context.Background(), DefaultWithin)
		if got.SyncDelivered(ctx) == nil {
			all, _ := got.Delivered()
			ds, outside = groupDeliveries(all, pattern, queue)
			lost = undelivered(pub, ds)
		}
		cancel()
	}
	var b strings.Builder
	fail := func(format string, args ...any) {
		if b.Len() == 0 {
			fmt.Fprintf(&b, "assert.QueueGroup: queue group %q on %q", queue, pattern)
			if timedOut {
				fmt.Fprintf(&b, ", after waiting %v", o.within)
			}
			b.WriteString(":\n")
		}
		fmt.Fprintf(&b, format+"\n", args...)
	}
	if len(pub) == 0 {
		fail("  nothing was published on %q within %v", pattern, o.within)
	}
	multi := membersShareConns(ds)
	counts := map[string]int{}
	for _, d := range ds {
		counts[d.member(multi)]++
	}
	// Each kind of problem lists its first few cases and counts the rest.
	listed := func(n int, line func(i int)) {
		for i := range min(n, linesShown) {
			line(i)
		}
		if n > linesShown {
			fail("  ... and %d more", n-linesShown)
		}
	}
	listed(len(lost), func(i int) { fail("  lost: %s reached no member", message(lost[i])) })
	// A member that also subscribes outside the group handles the work twice.
	isMember := map[string]bool{}
	for _, d := range ds {
		isMember[d.Conn] = true
	}
	for _, name := range o.members {
		isMember[name] = true
	}
	var twice []Delivery
	for _, d := range outside {
		if isMember[d.Conn] {
			twice = append(twice, d)
		}
	}
	listed(len(twice), func(i int) {
		d := twice[i]
		fail("  outside the group: %s also got %s on its subscription to %q (sid %s), which is in no queue group", d.Conn, message(d.Msg), d.Sub, d.SID)
	})
	dups := duplicates(ds, multi)
	listed(len(dups), func(i int) { fail("  handled twice: %s", dups[i]) })
	if want := o.members; len(want) > 0 {
		var missing []string
		for _, name := range want {
			if counts[name] == 0 {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			fail("  took no part: %s", strings.Join(missing, ", "))
		}
	}
	if len(ds) > 0 && (o.even || o.tolerance > 0) {
		k := max(len(counts), len(o.members))
		fair := float64(len(ds)) / float64(k)
		lo, hi := int(math.Floor(fair)), int(math.Ceil(fair))
		if !o.even {
			lo, hi = int(math.Floor(fair*(1-o.tolerance))), int(math.Ceil(fair*(1+o.tolerance)))
		}
		for _, name := range slices.Sorted(maps.Keys(counts)) {
			if n := counts[name]; n < lo || n > hi {
				fail("  uneven: %s took %d of %d, want %d to %d", name, n, len(ds), lo, hi)
			}
		}
	}
	if b.Len() == 0 {
		return true
	}
	fmt.Fprintf(&b, "  shares: %s", shares(counts, len(ds)))
	t.Errorf("%s", b.String())
	return false
}

// linesShown is how many cases of one kind of problem a QueueGroup report lists.
const linesShown = 5

// Members requires each named member (a connection name) to have taken part in a QueueGroup.
func Members(names ...string) Option {
	return optionFunc(func(o *options) { o.members = append(o.members, names...) })
}

// Balanced requires every member's share of a QueueGroup's messages to be within tolerance of
// an even split: Balanced(0.5) lets each member take from half to one and a half times its fair
// share. The server picks members at random, so a tolerance that is too tight for the number of
// messages fails now and then.
func Balanced(tolerance float64) Option {
	return optionFunc(func(o *options) { o.tolerance = tolerance })
}

// Even requires an exact split: member counts differ by at most one, as the fake's round-robin
// queue policy (fake.WithQueuePolicy(fake.QueueRoundRobin)) gives.
func Even() Option { return optionFunc(func(o *options) { o.even = true }) }

// groupDeliveries are the deliveries on subjects pattern matches to members of queue, and those
// to subscriptions in no queue group.
func groupDeliveries(all []Delivery, pattern, queue string) (group, plain []Delivery) {
	for _, d := range all {
		if !subject.Matches(pattern, d.Msg.Subject) {
			continue
		}
		switch d.Queue {
		case queue:
			group = append(group, d)
		case "":
			plain = append(plain, d)
		}
	}
	return group, plain
}

// sameMsg reports whether two messages carry the same headers and data.
func sameMsg(a, b *nats.Msg) bool {
	return bytes.Equal(a.Data, b.Data) && fmt.Sprint(a.Header) == fmt.Sprint(b.Header)
}

// undelivered are the published messages no delivery accounts for, counting copies: three
// identical publishes need three deliveries.
func undelivered(pub []*nats.Msg, ds []Delivery) []*nats.Msg {
	used := make([]bool, len(ds))
	var lost []*nats.Msg
	for _, m := range pub {
		found := false
		for i, d := range ds {
			if !used[i] && sameMsg(m, d.Msg) && m.Subject == d.Msg.Subject {
				used[i], found = true, true
				break
			}
		}
		if !found {
			lost = append(lost, m)
		}
	}
	return lost
}

// duplicates describes each message whose subject, headers and data reached the group more
// than once.
func duplicates(ds []Delivery, multi bool) []string {
	var out []string
	seen := make([]bool, len(ds))
	for i, d := range ds {
		if seen[i] {
			continue
		}
		who := []string{d.member(multi)}
		for j := i + 1; j < len(ds); j++ {
			if !seen[j] && ds[j].Msg.Subject == d.Msg.Subject && sameMsg(d.Msg, ds[j].Msg) {
				seen[j] = true
				who = append(who, ds[j].member(multi))
			}
		}
		if len(who) > 1 {
			out = append(out, fmt.Sprintf("%s reached %s", message(d.Msg), strings.Join(who, " and ")))
		}
	}
	return out
}

// membersShareConns reports whether some connection holds two members of the group.
func membersShareConns(ds []Delivery) bool {
	sids := map[string]string{}
	for _, d := range ds {
		if s, ok := sids[d.Conn]; ok && s != d.SID {
			return true
		}
		sids[d.Conn] = d.SID
	}
	return false
}

func shares(counts map[string]int, total int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", name, counts[name]))
	}
	if len(parts) == 0 {
		return "no member got anything"
	}
	return fmt.Sprintf("%s (of %d)", strings.Join(parts, ", "), total)
}
