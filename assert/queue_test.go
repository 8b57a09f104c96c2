package assert_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

var _ assert.Deliveries = (*natstest.Env)(nil)

// workers starts n members of queue group "workers" on jobs.*, named worker-1..n, each counting
// what it handles; plainToo makes the last one also subscribe outside the group, as a
// double-handling bug would.
func workers(t *testing.T, env *natstest.Env, n int, plainToo bool) *atomic.Int64 {
	t.Helper()
	var handled atomic.Int64
	count := func(*nats.Msg) { handled.Add(1) }
	for i := 1; i <= n; i++ {
		nc := env.Connect(nats.Name(fmt.Sprintf("worker-%d", i)))
		if _, err := nc.QueueSubscribe("jobs.*", "workers", count); err != nil {
			t.Fatal(err)
		}
		if plainToo && i == n {
			if _, err := nc.Subscribe("jobs.*", count); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := n
	if plainToo {
		want++
	}
	if err := env.WaitForInterest(t.Context(), "jobs.x", want); err != nil {
		t.Fatal(err)
	}
	return &handled
}

func publishJobs(t *testing.T, env *natstest.Env, n int) {
	t.Helper()
	for i := range n {
		if err := env.Conn().Publish("jobs.x", fmt.Appendf(nil, "job-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// A worker pool on a queue group: every job reaches exactly one worker, and all three work.
func TestQueueGroupOnEveryBackend(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		rec := env.Record("jobs.>")
		workers(t, env, 3, false)
		publishJobs(t, env, 60)
		tb := &recTB{}
		tb.passed(t, assert.QueueGroup(tb, rec, env, "jobs.*", "workers",
			assert.Members("worker-1", "worker-2", "worker-3"), assert.Balanced(0.9)))
	}, natstest.WithProxy(), natstest.WithJetStream(false))
}

// A worker that also subscribes outside the group handles every job a second time.
func TestQueueGroupDoubleHandling(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		rec := env.Record("jobs.>")
		workers(t, env, 2, true)
		publishJobs(t, env, 3)
		tb := &recTB{}
		r := tb.failed(t, assert.QueueGroup(tb, rec, env, "jobs.*", "workers", assert.Members("worker-1", "worker-2"), short))
		contains(t, r, `assert.QueueGroup: queue group "workers" on "jobs.*"`,
			`outside the group: worker-2 also got jobs.x payload "job-0" on its subscription to "jobs.*"`,
			"which is in no queue group", "shares: worker-")
	}, natstest.WithProxy(), natstest.WithJetStream(false))
}

// The fake's round-robin policy splits exactly; lost messages and idle members are named.
func TestQueueGroupOnTheFake(t *testing.T) {
	env := natstest.New(t, natstest.WithBackend(natstest.Fake), natstest.WithProxy(),
		natstest.WithFakeOptions(fake.WithQueuePolicy(fake.QueueRoundRobin)))
	rec := env.Record("jobs.>")
	workers(t, env, 3, false)
	publishJobs(t, env, 9)
	tb := &recTB{}
	tb.passed(t, assert.QueueGroup(tb, rec, env, "jobs.*", "workers", assert.Even()))

	// The members take jobs.*, so a job on jobs.x.urgent reaches none of them.
	for _, p := range []string{"job-lost", "a", "b", "c", "d", "e", "f"} {
		if err := env.Conn().Publish("jobs.x.urgent", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	tb = &recTB{}
	r := tb.failed(t, assert.QueueGroup(tb, rec, env, "jobs.>", "workers", assert.Members("worker-4"), short))
	contains(t, r, `lost: jobs.x.urgent payload "job-lost" reached no member`, "  ... and 2 more\n", "took no part: worker-4",
		"shares: worker-1 3, worker-2 3, worker-3 3 (of 9)")
}

func TestQueueGroupUneven(t *testing.T) {
	env := natstest.New(t, natstest.WithBackend(natstest.Fake), natstest.WithProxy())
	rec := env.Record("jobs.>")
	workers(t, env, 1, false)
	lazy := env.Connect(nats.Name("lazy"))
	if _, err := lazy.QueueSubscribeSync("jobs.none", "workers"); err != nil { // joins, but on another subject
		t.Fatal(err)
	}
	publishJobs(t, env, 4)
	tb := &recTB{}
	r := tb.failed(t, assert.QueueGroup(tb, rec, env, "jobs.*", "workers", assert.Members("worker-1", "lazy"), assert.Even(), short))
	contains(t, r, "took no part: lazy", "uneven: worker-1 took 4 of 4, want 2 to 2")

	tb = &recTB{}
	r = tb.failed(t, assert.QueueGroup(tb, rec, env, "nothing.here", "workers", assert.Within(10*time.Millisecond)))
	contains(t, r, `nothing was published on "nothing.here" within 10ms`)
}
