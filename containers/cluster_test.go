package containers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/internal/mesh"
	"github.com/natskit/natskit/internal/monitor"
)

// createStream creates the stream cfg, each attempt with a timeout of its own: a request whose
// answer is lost (a route that has just dropped, a group still electing its leader) is sent
// again rather than waited on until ctx ends. Creating the same stream again is no error.
func createStream(ctx context.Context, t *testing.T, js jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	t.Helper()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := js.CreateStream(actx, cfg)
		cancel()
		if err == nil {
			return s
		}
		if ctx.Err() != nil {
			t.Fatalf("create stream %s: %d attempts in %v, the last: %v", cfg.Name, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		t.Logf("create stream %s, attempt %d: %v", cfg.Name, attempt, err)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond): // the next attempt, within ctx's deadline
		}
	}
}

// publish publishes payload with a message ID, retrying through a failover: the ID makes a
// retried publish that did land a duplicate the stream drops.
func publish(ctx context.Context, t *testing.T, js jetstream.JetStream, subj, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.Publish(pctx, subj, []byte(id), jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish %s: %v", id, err)
		}
		<-time.After(100 * time.Millisecond) // the next try, within the deadline above
	}
}

func TestClusterStopNodeLosesNothing(t *testing.T) {
	containers.SkipIfUnavailable(t)
	ctx := context.Background()
	start := time.Now()
	c, err := containers.RunCluster(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3-node cluster with a meta leader in %v: %v", time.Since(start).Round(time.Millisecond), c.ClientURLs())
	ids := make([]string, c.Size())
	for i := range ids {
		ids[i] = c.Node(i).ContainerID()
	}
	defer func() {
		if t.Failed() {
			for i := range c.Size() {
				logs, _ := c.Node(i).Logs(ctx)
				t.Logf("n%d log:\n%s", i+1, logs)
			}
		}
		if err := c.Terminate(ctx); err != nil {
			t.Error(err)
		}
		if left := leftovers(t, ids...); len(left) > 0 {
			t.Errorf("containers left after Terminate: %v", left)
		}
	}()

	nc, err := nats.Connect(c.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	createStream(sctx, t, js, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
	cons, err := js.CreateOrUpdateConsumer(sctx, "ORDERS", jetstream.ConsumerConfig{Durable: "billing", AckPolicy: jetstream.AckExplicitPolicy, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	const half = 50
	for i := range half {
		publish(ctx, t, js, "orders.new", fmt.Sprint("m", i))
	}

	// Stop the node the client is on, so that it must fail over.
	stopped := 0
	for i, u := range c.ClientURLs() {
		if u == nc.ConnectedUrl() {
			stopped = i
		}
	}
	stoppedURL := c.Node(stopped).ClientURL()
	if err := c.StopNode(ctx, stopped); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped n%d", stopped+1)
	for i := half; i < 2*half; i++ {
		publish(ctx, t, js, "orders.new", fmt.Sprint("m", i))
	}

	got := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < 2*half && time.Now().Before(deadline) {
		batch, err := cons.Fetch(2*half, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			got[string(m.Data())] = true
			m.Ack()
		}
	}
	for i := range 2 * half {
		if !got[fmt.Sprint("m", i)] {
			t.Errorf("message m%d was lost", i)
		}
	}

	start = time.Now()
	if err := c.StartNode(ctx, stopped); err != nil {
		t.Fatal(err)
	}
	if got := c.Node(stopped).ClientURL(); got != stoppedURL {
		t.Errorf("n%d's client URL after StartNode: %s, want the same as before, %s", stopped+1, got, stoppedURL)
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("n%d back in %v", stopped+1, time.Since(start).Round(time.Millisecond))
	info, err := js.Stream(sctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 2*half {
		t.Errorf("the stream holds %d messages, want %d", n, 2*half)
	}
}

func TestClusterDisconnectReconnect(t *testing.T) {
	c := containers.RunClusterT(t, 3, containers.WithJetStream(false))
	// peers is the set of servers node i has a route to, from its monitoring /routez.
	peers := func(i int) map[string]bool {
		out := map[string]bool{}
		for _, r := range routez(t, c, i) {
			out[r.RemoteName] = true
		}
		return out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("n1 routes %v: want %s", peers(0), what)
			}
			<-time.After(100 * time.Millisecond) // look again, within the deadline above
		}
	}
	waitFor("n2 and n3", func() bool { p := peers(0); return p["n2"] && p["n3"] })
	ctx := context.Background()
	n3 := c.Node(2).ClientURL()
	if err := c.Disconnect(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// Off the network, n3 is out of clients' reach too: its mapped port goes through it.
	waitFor("n3 unreachable after Disconnect", func() bool {
		nc, err := nats.Connect(n3, nats.Timeout(500*time.Millisecond), nats.NoReconnect())
		if err == nil {
			nc.Close()
		}
		return err != nil
	})
	if err := c.Reconnect(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := c.Node(2).ClientURL(); got != n3 {
		t.Errorf("n3's client URL after Reconnect: %s, want the same as before, %s", got, n3)
	}
	start := time.Now()
	var sub *nats.Conn
	waitFor("n3 reachable after Reconnect", func() bool {
		var err error
		sub, err = nats.Connect(c.Node(2).ClientURL(), nats.Timeout(500*time.Millisecond))
		return err == nil
	})
	defer sub.Close()
	t.Logf("n3 reachable again in %v", time.Since(start).Round(time.Millisecond))
	s, _ := sub.SubscribeSync("across")
	sub.Flush()
	pub, err := nats.Connect(c.Node(0).ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	waitFor("a message from n1 to reach n3", func() bool {
		pub.Publish("across", []byte("x"))
		_, err := s.NextMsg(200 * time.Millisecond)
		return err == nil
	})
	t.Logf("n1 routes to n3 again %v after Reconnect", time.Since(start).Round(time.Millisecond))
}

// routez is node i's routes, from its monitoring /routez.
func routez(t *testing.T, c *containers.Cluster, i int) []mesh.Route {
	t.Helper()
	var rz struct {
		Routes []mesh.Route `json:"routes"`
	}
	if err := monitor.Get(context.Background(), http.DefaultClient, c.Node(i).MonitoringURL(), "/routez", &rz); err != nil {
		t.Fatal(err)
	}
	return rz.Routes
}

// A cluster RunCluster returns is ready for an R3 stream at once: every pair of nodes has its
// whole route pool and the system account's route, the meta leader can place a replica on every
// node, and the create is answered on the first attempt. The readiness probe leaves no stream.
func TestClusterReadyForAnR3StreamAtOnce(t *testing.T) {
	c := containers.RunClusterT(t, 3)
	names := []string{"n1", "n2", "n3"}
	lists := make([][]mesh.Route, c.Size())
	for i := range lists {
		lists[i] = routez(t, c, i)
	}
	pinned := mesh.Pinned(lists...)
	if !slices.Contains(pinned, "$SYS") {
		t.Errorf("no node has a route pinned to the system account: %v", lists)
	}
	for i, routes := range lists {
		if err := mesh.Missing(names[i], routes, names, 3, pinned); err != nil {
			t.Errorf("RunCluster returned before the mesh was whole: %v", err)
		}
	}

	js := readyClient(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lister := js.StreamNames(ctx)
	var streams []string
	for name := range lister.Name() {
		streams = append(streams, name)
	}
	if err := lister.Err(); err != nil {
		t.Fatal(err)
	}
	if len(streams) != 0 {
		t.Errorf("streams after RunCluster: %v, want none", streams)
	}
	if s := createR3AtOnce(t, js); s != nil {
		if got := len(s.CachedInfo().Cluster.Replicas); got != 2 {
			t.Errorf("the stream has %d replicas besides its leader, want 2", got)
		}
	}
}

// readyClient is JetStream on a connection to every node of c, logged in with opts.
func readyClient(t *testing.T, c *containers.Cluster, opts ...nats.Option) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(connect(t, c.ClientURL(), opts...))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// createR3AtOnce creates the R3 stream ORDERS with one request, which a ready cluster answers.
func createR3AtOnce(t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
	if err != nil {
		t.Errorf("create an R3 stream on a cluster RunCluster calls ready: %v", err)
	}
	return s
}

// The readiness probe logs in as the cluster's user: a cluster with one is ready for an R3
// stream at once too.
func TestClusterWithUserReadyForAnR3StreamAtOnce(t *testing.T) {
	c := containers.RunClusterT(t, 3, containers.WithUser("app", "s3cret"))
	if nc, err := nats.Connect(c.ClientURL(), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a client without the user's password was let in")
	}
	createR3AtOnce(t, readyClient(t, c, nats.UserInfo("app", "s3cret")))
}
