package scenarios

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/assert"
	"github.com/natskit/natskit/natstest"
)

// The application: resize workers share the jobs on "jobs.resize" through the queue group
// "resizers" and publish each result on "jobs.done".
type resizer struct {
	nc         *nats.Conn
	doubleSubs bool // the bug of the broken variant: it also takes every job outside the group
}

func (r resizer) start() error {
	handle := func(m *nats.Msg) {
		r.nc.Publish("jobs.done", append([]byte("resized "), m.Data...))
	}
	if _, err := r.nc.QueueSubscribe("jobs.resize", "resizers", handle); err != nil {
		return err
	}
	if r.doubleSubs {
		if _, err := r.nc.Subscribe("jobs.resize", handle); err != nil {
			return err
		}
	}
	return r.nc.Flush()
}

// startPool starts n resizers named resizer-1..n; the last has the double-subscription bug if
// broken.
func startPool(t *testing.T, env *natstest.Env, n int, broken bool) []string {
	t.Helper()
	var names []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("resizer-%d", i)
		names = append(names, name)
		if err := (resizer{nc: env.Connect(nats.Name(name)), doubleSubs: broken && i == n}).start(); err != nil {
			t.Fatal(err)
		}
	}
	subs := n
	if broken {
		subs++
	}
	if err := env.WaitForInterest(waitCtx(t), "jobs.resize", subs); err != nil {
		t.Fatal(err)
	}
	return names
}

func publishImages(t *testing.T, env *natstest.Env, n int) {
	t.Helper()
	for i := range n {
		if err := env.Conn().Publish("jobs.resize", fmt.Appendf(nil, "image-%02d.jpg", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// Every job reaches exactly one worker, every worker takes part, and every job is done once.
func TestWorkerPool(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		rec := env.Record("jobs.>")
		workers := startPool(t, env, 3, false)
		publishImages(t, env, 30)
		assert.QueueGroup(t, rec, env, "jobs.resize", "resizers", assert.Members(workers...), assert.Balanced(1))
		for i := range 30 {
			assert.Published(t, rec, "jobs.done", fmt.Sprintf("resized image-%02d.jpg", i))
		}
	}, natstest.WithProxy(), natstest.WithJetStream(false))
}

// Broken: one worker also subscribes outside the group, so it resizes every image a second time.
func TestWorkerPoolBroken(t *testing.T) {
	natstest.Each(t, func(t *testing.T, env *natstest.Env) {
		rec := env.Record("jobs.>")
		workers := startPool(t, env, 3, true)
		publishImages(t, env, 8)
		tb := &reportTB{}
		tb.failedWith(t, assert.QueueGroup(tb, rec, env, "jobs.resize", "resizers", assert.Members(workers...)),
			`outside the group: resizer-3 also got jobs.resize payload "image-00.jpg" on its subscription to "jobs.resize"`,
			"which is in no queue group")
	}, natstest.WithProxy(), natstest.WithJetStream(false))
}
