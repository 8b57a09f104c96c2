package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// queueMarker is the subject every member's connection also subscribes to plainly, so that a
// marker published after the messages tells when each connection has had all it will get.
const queueMarker = "queue.marker"

// A member is one queue subscription with, on the same connection, a plain subscription to
// queueMarker.
type member struct {
	nc   *nats.Conn
	sub  *nats.Subscription
	mark *nats.Subscription
}

// join subscribes to subj in group queue on nc, a new connection if nc is nil.
func join(t *testing.T, env *natstest.Env, nc *nats.Conn, subj, queue string) *member {
	t.Helper()
	if nc == nil {
		nc = env.Connect()
	}
	m := &member{nc: nc, sub: queueSync(t, nc, subj, queue), mark: subSync(t, nc, queueMarker)}
	flush(t, nc)
	return m
}

// settle publishes a marker from pub after everything it published, and waits until every
// member's connection has it: after that no more messages from pub can arrive.
func settle(t *testing.T, pub *nats.Conn, members ...*member) {
	t.Helper()
	publish(t, pub, queueMarker, "natskit-marker")
	flush(t, pub)
	for _, m := range members {
		next(t, m.mark)
	}
}

// got is everything the member received.
func (m *member) got(t *testing.T) []*nats.Msg {
	t.Helper()
	return takeQueued(t, m.sub)
}

// gots is what each member received.
func gots(t *testing.T, members ...*member) [][]*nats.Msg {
	t.Helper()
	out := make([][]*nats.Msg, len(members))
	for i, m := range members {
		out[i] = m.got(t)
	}
	return out
}

func publishAll(t *testing.T, nc *nats.Conn, subj string, data []string) {
	t.Helper()
	for _, d := range data {
		publish(t, nc, subj, d)
	}
}

// TestQueueExactlyOnce: each message published to a subject with a queue group goes to exactly
// one member of the group.
func TestQueueExactlyOnce(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		ms := []*member{join(t, env, nil, "work", "g"), join(t, env, nil, "work", "g"), join(t, env, nil, "work", "g")}
		interest(t, env, "work", 3)
		want := seq("w", 300)
		publishAll(t, env.Conn(), "work", want)
		settle(t, env.Conn(), ms...)
		sameTotal(t, "g", want, gots(t, ms...)...)
	})
}

// TestQueueSeveralGroups: every group subscribed to a subject gets each message once, each
// independently of the others.
func TestQueueSeveralGroups(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		a := []*member{join(t, env, nil, "work", "a"), join(t, env, nil, "work", "a")}
		b := []*member{join(t, env, nil, "work", "b"), join(t, env, nil, "work", "b"), join(t, env, nil, "work", "b")}
		interest(t, env, "work", 5)
		want := seq("w", 200)
		publishAll(t, env.Conn(), "work", want)
		settle(t, env.Conn(), append(slices.Clone(a), b...)...)
		sameTotal(t, "a", want, gots(t, a...)...)
		sameTotal(t, "b", want, gots(t, b...)...)
	})
}

// TestQueueWithPlainSubscribers: plain subscribers get every message, in order, besides the one
// copy the group gets.
func TestQueueWithPlainSubscribers(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		g := []*member{join(t, env, nil, "work", "g"), join(t, env, nil, "work", "g")}
		plainConn := env.Connect()
		plain := subSync(t, plainConn, "work")
		plainMark := subSync(t, plainConn, queueMarker)
		flush(t, plainConn)
		interest(t, env, "work", 3)
		want := seq("w", 200)
		publishAll(t, env.Conn(), "work", want)
		settle(t, env.Conn(), g...)
		next(t, plainMark)
		sameTotal(t, "g", want, gots(t, g...)...)
		if got := datas(takeQueued(t, plain)); !slices.Equal(got, want) {
			t.Errorf("plain subscriber got %d messages, want all %d in order", len(got), len(want))
		}
	})
}

// TestQueueWildcardMembers: members of one group may subscribe with different patterns; a
// message matching several members' patterns still goes to exactly one member of the group,
// and one matching only some patterns goes to one of those.
func TestQueueWildcardMembers(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		star := join(t, env, nil, "jobs.*", "g")
		gt := join(t, env, nil, "jobs.>", "g")
		lit := join(t, env, nil, "jobs.run", "g")
		interest(t, env, "jobs.run", 3)
		run := seq("run", 150)
		deep := seq("deep", 50)
		publishAll(t, env.Conn(), "jobs.run", run)
		publishAll(t, env.Conn(), "jobs.a.b", deep)
		settle(t, env.Conn(), star, gt, lit)
		s, g, l := star.got(t), gt.got(t), lit.got(t)
		split := func(msgs []*nats.Msg, subj string) (out []*nats.Msg) {
			for _, m := range msgs {
				if m.Subject == subj {
					out = append(out, m)
				}
			}
			return out
		}
		sameTotal(t, "g on jobs.run", run, split(s, "jobs.run"), split(g, "jobs.run"), split(l, "jobs.run"))
		if d := split(g, "jobs.a.b"); len(d) != len(deep) || len(s)+len(l) != len(split(s, "jobs.run"))+len(split(l, "jobs.run")) {
			t.Errorf("jobs.a.b: the > member got %d of %d; the others got some too", len(d), len(deep))
		}
	})
}

// TestQueueSingleMember: a group of one gets every message, in order.
func TestQueueSingleMember(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		m := join(t, env, nil, "solo", "g")
		interest(t, env, "solo", 1)
		want := seq("s", 100)
		publishAll(t, env.Conn(), "solo", want)
		settle(t, env.Conn(), m)
		if got := datas(m.got(t)); !slices.Equal(got, want) {
			t.Errorf("got %d messages %v..., want all %d in order", len(got), got[:min(3, len(got))], len(want))
		}
	})
}

// TestQueueMembersOnOneConnection: two members of a group on the same connection still share
// the messages, each delivered once.
func TestQueueMembersOnOneConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		a, b := join(t, env, nc, "work", "g"), join(t, env, nc, "work", "g")
		interest(t, env, "work", 2)
		want := seq("w", 200)
		publishAll(t, env.Conn(), "work", want)
		settle(t, env.Conn(), a, b)
		sameTotal(t, "g", want, a.got(t), b.got(t))
	})
}

// TestQueueMemberLeaves: after a member unsubscribes, the remaining member gets every message.
func TestQueueMemberLeaves(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		a, b := join(t, env, nil, "work", "g"), join(t, env, nil, "work", "g")
		interest(t, env, "work", 2)
		before := seq("before", 100)
		publishAll(t, env.Conn(), "work", before)
		settle(t, env.Conn(), a, b)
		sameTotal(t, "g", before, a.got(t), b.got(t))

		if err := a.sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		flush(t, a.nc)
		after := seq("after", 100)
		publishAll(t, env.Conn(), "work", after)
		settle(t, env.Conn(), a, b)
		if got := datas(b.got(t)); !slices.Equal(got, after) {
			t.Errorf("remaining member got %d messages, want all %d in order", len(got), len(after))
		}
	})
}

// TestQueueMemberDisconnects: once a member's connection is closed, the server drops its
// membership and the remaining members share every message.
func TestQueueMemberDisconnects(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		a, b, c := join(t, env, nil, "work", "g"), join(t, env, nil, "work", "g"), join(t, env, nil, "work", "g")
		interest(t, env, "work", 3)
		a.nc.Close()
		// The server learns of the close on its own time: until then a may still be picked, and
		// what it is sent is lost. Wait until two rounds in a row reach b and c whole (with a
		// still a member, each message would have a one in three chance of going to it).
		deadline := time.Now().Add(patience)
		for ok, round := 0, 0; ok < 2; round++ {
			if time.Now().After(deadline) {
				t.Fatal("the closed member still gets messages")
			}
			probe := seq(fmt.Sprintf("probe%d-", round), 50)
			publishAll(t, env.Conn(), "work", probe)
			settle(t, env.Conn(), b, c)
			if got := gots(t, b, c); len(got[0])+len(got[1]) == len(probe) {
				ok++
			} else {
				ok = 0
			}
		}
		want := seq("w", 200)
		publishAll(t, env.Conn(), "work", want)
		settle(t, env.Conn(), b, c)
		sameTotal(t, "g", want, gots(t, b, c)...)
	})
}

// TestQueueNamesAreCaseSensitive: "workers" and "Workers" are two groups.
func TestQueueNamesAreCaseSensitive(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		lower, upper := join(t, env, nil, "work", "workers"), join(t, env, nil, "work", "Workers")
		interest(t, env, "work", 2)
		want := seq("w", 50)
		publishAll(t, env.Conn(), "work", want)
		settle(t, env.Conn(), lower, upper)
		sameTotal(t, "workers", want, lower.got(t))
		sameTotal(t, "Workers", want, upper.got(t))
	})
}

// TestQueueNoEchoSkipsOwnMember: a no-echo publisher that is itself a member of the group never
// gets its own messages; the server gives each to another member instead of dropping it.
func TestQueueNoEchoSkipsOwnMember(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		quiet := env.Connect(nats.NoEcho())
		self := join(t, env, quiet, "work", "g")
		other := join(t, env, nil, "work", "g")
		interest(t, env, "work", 2)
		want := seq("w", 100)
		publishAll(t, quiet, "work", want)
		// Once the server has answered quiet's flush, it has routed everything quiet published:
		// a marker published after that from another connection arrives after it.
		flush(t, quiet)
		settle(t, env.Conn(), other, self)
		if got := datas(other.got(t)); !slices.Equal(got, want) {
			t.Errorf("other member got %d messages, want all %d", len(got), len(want))
		}
		nothingMore(t, self.sub)
	})
}

// TestQueueRequestOneResponder: a request to a queue group is answered by exactly one member.
func TestQueueRequestOneResponder(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		served := make(chan string, 10)
		for _, name := range []string{"r1", "r2", "r3"} {
			if _, err := env.Connect().QueueSubscribe("svc", "g", func(m *nats.Msg) {
				served <- name
				_ = m.Respond([]byte(name))
			}); err != nil {
				t.Fatal(err)
			}
		}
		interest(t, env, "svc", 3)
		for range 20 {
			resp, err := env.Conn().Request("svc", nil, patience)
			if err != nil {
				t.Fatal(err)
			}
			if by := await(t, served, "a member to serve"); by != string(resp.Data) {
				t.Errorf("served by %s, answered by %s", by, resp.Data)
			}
		}
		// Every request was served once: a marker request proves nothing else is in flight.
		if _, err := env.Conn().Request("svc", nil, patience); err != nil {
			t.Fatal(err)
		}
		await(t, served, "the last request to be served")
		select {
		case by := <-served:
			t.Errorf("a request was served twice, again by %s", by)
		default:
		}
	})
}

// TestQueueAndPlainOnSameConnection: a connection with a plain subscription and a queue
// membership on the same subject gets the message on both.
func TestQueueAndPlainOnSameConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		plain := subSync(t, nc, "work")
		q := join(t, env, nc, "work", "g")
		interest(t, env, "work", 2)
		publish(t, env.Conn(), "work", "w")
		settle(t, env.Conn(), q)
		if got := datas(takeQueued(t, plain)); !slices.Equal(got, []string{"w"}) {
			t.Errorf("plain got %q", got)
		}
		anyMember(t, "g", "w", q.got(t))
	})
}
