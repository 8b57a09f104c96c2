package natstest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/natstest"
)

func TestClusterStartsReady(t *testing.T) {
	start := time.Now()
	c := natstest.NewCluster(t, 3)
	t.Logf("3-node JetStream cluster ready in %v", time.Since(start).Round(time.Millisecond))

	if got := len(c.URLs()); got != 3 {
		t.Fatalf("URLs: %d, want 3", got)
	}
	for i := range 3 {
		srv := c.Server(i)
		if got, want := srv.Name(), fmt.Sprintf("n%d", i+1); got != want {
			t.Errorf("node %d is named %q, want %q", i, got, want)
		}
		if got := srv.ClusterName(); got != "natstest" {
			t.Errorf("node %d is in cluster %q", i, got)
		}
		if c.Index(srv.Name()) != i {
			t.Errorf("Index(%q) = %d, want %d", srv.Name(), c.Index(srv.Name()), i)
		}
	}
	// Ready means an R3 stream can be made at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.CachedInfo().Cluster.Replicas); got != 2 {
		t.Errorf("stream has %d replicas besides its leader, want 2", got)
	}
}

func TestClusterCorePubSubCrossesNodes(t *testing.T) {
	c := natstest.NewCluster(t, 3, natstest.WithClusterJetStream(false))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	sub, err := c.ConnectTo(2).SubscribeSync("greet.*")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForInterest(ctx, "greet.joe"); err != nil {
		t.Fatal(err)
	}
	pub := c.ConnectTo(0)
	if err := pub.Publish("greet.joe", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsgWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "greet.joe" || string(msg.Data) != "hi" {
		t.Errorf("got %q %q, want greet.joe hi", msg.Subject, msg.Data)
	}
	if got, want := pub.ConnectedServerName(), "n1"; got != want {
		t.Errorf("publisher on %s, want %s", got, want)
	}
	if got, want := sub.Subject, "greet.*"; got != want {
		t.Errorf("subject %q", got)
	}
}

func TestClusterStopAndRestartKeepsStore(t *testing.T) {
	c := natstest.NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kv, err := c.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "color", []byte("blue")); err != nil {
		t.Fatal(err)
	}
	c.StopNode(0)
	if c.Running(0) {
		t.Fatal("node 0 still running")
	}
	c.StopNode(0) // a no-op
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	c.RestartNode(0)
	if err := c.WaitForStreamCurrent(ctx, "KV_cfg"); err != nil {
		t.Fatal(err)
	}
	// Node 0 alone answers from its own store.
	js, err := jetstream.New(c.ConnectTo(0))
	if err != nil {
		t.Fatal(err)
	}
	kv0, err := js.KeyValue(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv0.Get(ctx, "color")
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Value()) != "blue" {
		t.Errorf("color = %q", e.Value())
	}
}

func TestSuperClusterMessageCrossesGateway(t *testing.T) {
	start := time.Now()
	sc := natstest.NewSuperCluster(t, 2, 2)
	t.Logf("2x2 JetStream super-cluster ready in %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := sc.Cluster(0), sc.Cluster(1)
	if a.Name() != "c1" || b.Name() != "c2" || b.NodeName(1) != "c2-n2" {
		t.Fatalf("names: %s, %s, %s", a.Name(), b.Name(), b.NodeName(1))
	}

	sub, err := b.ConnectTo(1).SubscribeSync("events.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitForInterest(ctx, "events.x"); err != nil {
		t.Fatal(err)
	}
	// interest crosses a gateway on its own schedule: until the other side has heard of the
	// subscription it may drop what it has been told nobody wants, so publish until it arrives
	pub := a.ConnectTo(0)
	var msg *nats.Msg
	for msg == nil {
		if err := pub.Publish("events.x", []byte("across")); err != nil {
			t.Fatal(err)
		}
		wait, stop := context.WithTimeout(ctx, 100*time.Millisecond)
		msg, err = sub.NextMsgWithContext(wait)
		stop()
		if ctx.Err() != nil {
			t.Fatalf("nothing crossed the gateway: %v", err)
		}
	}
	if string(msg.Data) != "across" {
		t.Errorf("got %q", msg.Data)
	}

	// One JetStream across both: a stream made through cluster A, placed in B, used from A.
	js := a.JetStream()
	// the meta leader learns that the other cluster's peers are online a moment after the
	// gateways connect: until then placement there is refused (10005); wait for it
	var s jetstream.Stream
	for {
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "B", Subjects: []string{"b.>"}, Replicas: 2, Placement: &jetstream.Placement{Cluster: "c2"},
		})
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode != 10005 || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Cluster.Name; got != "c2" {
		t.Errorf("stream placed in %q, want c2", got)
	}
	if _, err := js.Publish(ctx, "b.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestClusterConnFailsOver(t *testing.T) {
	c := natstest.NewCluster(t, 3, natstest.WithClusterJetStream(false))
	nc := c.Conn()
	if len(nc.Servers()) < 3 {
		t.Fatalf("server list %v", nc.Servers())
	}
	reconnected := make(chan struct{}, 1)
	nc.SetReconnectHandler(func(*nats.Conn) {
		select {
		case reconnected <- struct{}{}:
		default:
		}
	})
	at := c.Index(nc.ConnectedServerName())
	c.StopNode(at)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("no reconnect")
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	if got := nc.ConnectedServerName(); got == c.NodeName(at) || c.Index(got) < 0 {
		t.Errorf("reconnected to %q", got)
	}
}

// BenchmarkClusterStart: a 3-node JetStream cluster started until it is ready, then released:
// embedded in the test process, and in containers where Docker answers.
func BenchmarkClusterStart(b *testing.B) {
	b.Run("embedded/3", func(b *testing.B) {
		for b.Loop() {
			var tb benchTB
			tb.TB = b
			natstest.NewCluster(&tb, 3)
			tb.cleanup()
		}
	})
	b.Run("container/3", func(b *testing.B) {
		if err := containers.Available(); err != nil {
			b.Skipf("no container cluster without Docker: %v", err)
		}
		ctx := context.Background()
		for b.Loop() {
			c, err := containers.RunCluster(ctx, 3)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Terminate(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchTB runs the cleanups of one iteration at its end, not the benchmark's.
type benchTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

func (tb *benchTB) Cleanup(fn func()) {
	tb.mu.Lock()
	tb.cleanups = append(tb.cleanups, fn)
	tb.mu.Unlock()
}

func (tb *benchTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	tb.cleanups = nil
}
