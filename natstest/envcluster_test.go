package natstest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/fake"
)

// failover is how streamLeaderFailover finds, stops and starts a cluster's nodes.
type failover struct {
	index func(name string) int // the node a server name is, or -1
	stop  func(i int)
	start func(i int) // nil: the node stays down
}

// nodeIndex is the node an Env's cluster names name (n1 is node 0), or -1.
func nodeIndex(env *Env) func(string) int {
	return func(name string) int {
		i, err := strconv.Atoi(strings.TrimPrefix(name, "n"))
		if err != nil || !strings.HasPrefix(name, "n") || i < 1 || i > env.Nodes() {
			return -1
		}
		return i - 1
	}
}

// streamLeaderFailover publishes n messages to a new R3 stream ORDERS, each with a Nats-Msg-Id
// and retried until acknowledged, and consumes them with a durable pull consumer that acks each
// one, while the stream leader's node is stopped once n/2 are published and, if f.start is set,
// started again once 3n/4 are. The publisher waits, at 3n/4, until the node is down, and at 7n/8
// until it is back: some messages go to the cluster without the node, some after it is back.
// It fails the test unless every message is consumed, each is stored once and any duplicate is a
// redelivery of the same stream message. It returns the stream and the node it stopped.
func streamLeaderFailover(ctx context.Context, t *testing.T, js jetstream.JetStream, n int, f failover) (jetstream.Stream, int) {
	t.Helper()
	// A JetStream API request to a cluster that has just formed may go unanswered while its
	// groups settle: each attempt has a timeout of its own, and is repeated until ctx ends.
	var stream jetstream.Stream
	retry(ctx, t, "create the R3 stream ORDERS", func(actx context.Context) (err error) {
		stream, err = js.CreateStream(actx, jetstream.StreamConfig{
			Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3, Storage: jetstream.FileStorage,
		})
		return err
	})
	var cons jetstream.Consumer
	retry(ctx, t, "create the durable consumer worker", func(actx context.Context) (err error) {
		cons, err = stream.CreateOrUpdateConsumer(actx, jetstream.ConsumerConfig{
			Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second,
		})
		return err
	})

	halfway, threeQuarters := make(chan struct{}), make(chan struct{})
	stopped, restarted := make(chan struct{}), make(chan struct{})
	pctx, cancel := context.WithCancel(ctx)
	var pubErr error
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	await := func(ch chan struct{}, what string) error {
		select {
		case <-ch:
			return nil
		case <-pctx.Done():
			return fmt.Errorf("publisher waiting until %s: %w", what, pctx.Err())
		}
	}
	wg.Go(func() { // every id until acked, retrying through the failover
		for i := range n {
			switch {
			case i == n/2:
				close(halfway)
			case i == 3*n/4:
				if pubErr = await(stopped, "the leader's node is stopped"); pubErr != nil {
					return
				}
				close(threeQuarters)
			case i == 7*n/8 && f.start != nil:
				if pubErr = await(restarted, "the node is back"); pubErr != nil {
					return
				}
			}
			id := "order-" + strconv.Itoa(i)
			for {
				actx, acancel := context.WithTimeout(pctx, time.Second)
				_, err := js.Publish(actx, "orders.new", []byte(id), jetstream.WithMsgID(id))
				acancel()
				if err == nil {
					break
				}
				if pctx.Err() != nil {
					pubErr = fmt.Errorf("publish %s: %w", id, err)
					return
				}
			}
		}
	})

	down, back := -1, false
	stopLeader := func() {
		info := streamInfo(ctx, t, stream)
		if down = f.index(info.Cluster.Leader); down < 0 {
			t.Fatalf("stream leader %q is no node of the cluster", info.Cluster.Leader)
		}
		t.Logf("stopping the stream leader, %s", info.Cluster.Leader)
		f.stop(down)
		close(stopped)
	}

	seen := map[string]int{}     // deliveries by id
	seqOf := map[string]uint64{} // stream sequence by id
	deliveries := 0
	for len(seen) < n {
		select {
		case <-halfway:
			if down < 0 {
				stopLeader()
			}
		default:
		}
		select {
		case <-threeQuarters:
			if f.start != nil && !back {
				t.Logf("starting node %d again", down)
				f.start(down)
				back = true
				close(restarted)
			}
		default:
		}
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d ids: %v", len(seen), n, ctx.Err())
		}
		batch, err := cons.Fetch(50, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			continue // the consumer's leader is moving: ask again
		}
		for msg := range batch.Messages() {
			id := msg.Headers().Get(jetstream.MsgIDHeader)
			if id != string(msg.Data()) {
				t.Fatalf("message %q has id %q", msg.Data(), id)
			}
			md, err := msg.Metadata()
			if err != nil {
				t.Fatalf("message %s: metadata: %v", id, err)
			}
			if seq, ok := seqOf[id]; ok && (seq != md.Sequence.Stream || md.NumDelivered < 2) {
				t.Errorf("%s delivered again as stream message %d, delivery %d; first as stream message %d",
					id, md.Sequence.Stream, md.NumDelivered, seq)
			}
			seqOf[id] = md.Sequence.Stream
			seen[id]++
			deliveries++
			// An ack lost in the failover means a redelivery after AckWait, which is allowed.
			_ = msg.DoubleAck(ctx)
		}
	}
	cancel()
	wg.Wait()
	if pubErr != nil {
		t.Fatal(pubErr)
	}
	if down < 0 {
		t.Fatal("consumed everything before the publisher was halfway")
	}
	for i := range n {
		if id := "order-" + strconv.Itoa(i); seen[id] == 0 {
			t.Errorf("%s lost", id)
		}
	}
	t.Logf("%d ids, %d deliveries", n, deliveries)

	// Dedup by Msg-Id: each id stored once, however often the publisher retried.
	if info := streamInfo(ctx, t, stream); info.State.Msgs != uint64(n) {
		t.Errorf("stream holds %d messages, want %d", info.State.Msgs, n)
	}
	return stream, down
}

// TestClusterStreamLeaderFailover runs streamLeaderFailover on a Cluster, with the stream
// leader's node down to the end; then restarts the node and waits until it has caught up.
func TestClusterStreamLeaderFailover(t *testing.T) {
	const n = 200
	c := NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	stream, stopped := streamLeaderFailover(ctx, t, c.JetStream(), n, failover{index: c.Index, stop: c.StopNode})

	// The stopped node comes back and catches up.
	c.RestartNode(stopped)
	if err := c.WaitForStreamCurrent(ctx, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	name := c.NodeName(stopped)
	var last *jetstream.StreamInfo
	eventually(ctx, t, func() bool {
		last = streamInfo(ctx, t, stream)
		current := last.Cluster.Leader == name
		for _, p := range last.Cluster.Replicas {
			current = current || p.Name == name && p.Current && !p.Offline
		}
		return current && replicaMsgs(t, c, stopped) == n
	}, func() string {
		return fmt.Sprintf("node %s has not caught up: leader %s, replicas %+v, %d messages on it",
			name, last.Cluster.Leader, last.Cluster.Replicas, replicaMsgs(t, c, stopped))
	})
}

// eventually polls cond every 10ms until it holds, and fails the test with what says when ctx ends.
func eventually(ctx context.Context, t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what(), ctx.Err())
		case <-tick.C:
		}
	}
}

// retry calls op, each time with a 5-second timeout, until it succeeds; it fails the test with
// the last error, saying what it tried, if ctx ends first.
func retry(ctx context.Context, t *testing.T, what string, op func(context.Context) error) {
	t.Helper()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := op(actx)
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: %d attempts in %v, the last: %v", what, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		select { // an error that comes at once (no responders while a leader is elected) is not retried in a busy loop
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func streamInfo(ctx context.Context, t *testing.T, s jetstream.Stream) *jetstream.StreamInfo {
	t.Helper()
	for {
		info, err := s.Info(ctx)
		if err == nil {
			return info
		}
		if ctx.Err() != nil {
			t.Fatalf("stream info: %v", err)
		}
	}
}

// replicaMsgs is how many messages node i's own replica of ORDERS holds.
func replicaMsgs(t *testing.T, c *Cluster, i int) uint64 {
	t.Helper()
	jz, err := c.Server(i).Jsz(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jz.Messages
}

// envStreamLeaderFailover runs streamLeaderFailover on env's cluster, the stream leader's node
// stopped and started again through the Env.
func envStreamLeaderFailover(t *testing.T, env *Env, within time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if got := len(env.Conn().Servers()); got < 3 {
		t.Errorf("the Env's connection knows %d servers, want 3: %v", got, env.Conn().Servers())
	}
	_, down := streamLeaderFailover(ctx, t, env.JetStream(), 200, failover{index: nodeIndex(env), stop: env.StopNode, start: env.StartNode})
	if err := env.WaitClusterReady(ctx); err != nil {
		t.Fatal(err)
	}
	if c := env.Cluster(); c != nil {
		if !c.Running(down) {
			t.Errorf("node %d is not running after StartNode", down)
		}
		if err := c.WaitForStreamCurrent(ctx, "ORDERS"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWithClusterRunsEmbeddedForTheFake(t *testing.T) {
	t.Setenv(EnvBackend, "fake")
	start := time.Now()
	env := New(t, WithCluster(3))
	t.Logf("3-node cluster Env ready in %v", time.Since(start).Round(time.Millisecond))
	if env.Backend() != Embedded {
		t.Errorf("Backend() = %v, want embedded", env.Backend())
	}
	if got := env.Nodes(); got != 3 {
		t.Errorf("Nodes() = %d, want 3", got)
	}
	if env.Cluster() == nil || env.ContainerCluster() != nil {
		t.Errorf("Cluster() = %v, ContainerCluster() = %v: want an embedded cluster only", env.Cluster(), env.ContainerCluster())
	}
	urls := strings.Split(env.URL(), ",")
	if len(urls) != 3 || urls[2] != env.NodeURL(2) || urls[0] != env.Cluster().URLs()[0] {
		t.Errorf("URL() = %q, NodeURL(2) = %q", env.URL(), env.NodeURL(2))
	}
	envStreamLeaderFailover(t, env, 30*time.Second)
}

func TestWithClusterOnContainers(t *testing.T) {
	containers.SkipIfUnavailable(t)
	start := time.Now()
	env := New(t, WithCluster(3), WithBackend(Container))
	t.Logf("3-node container cluster Env ready in %v", time.Since(start).Round(time.Millisecond))
	if env.Backend() != Container || env.Nodes() != 3 || env.ContainerCluster() == nil || env.Cluster() != nil {
		t.Fatalf("Backend() = %v, Nodes() = %d, ContainerCluster() = %v, Cluster() = %v: want a 3-node container cluster",
			env.Backend(), env.Nodes(), env.ContainerCluster(), env.Cluster())
	}
	// Interest counts across nodes, leaving the recorders out.
	env.Record("greet.>")
	if _, err := env.Connect().SubscribeSync("greet.*"); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitForInterest(ctxT(t), "greet.joe", 1); err != nil {
		t.Fatal(err)
	}
	if err := env.Disconnect(env.Conn()); err == nil || !strings.Contains(err.Error(), "container cluster") {
		t.Errorf("Disconnect on a container cluster: %v, want an error that says it is not supported", err)
	}
	envStreamLeaderFailover(t, env, 90*time.Second)
}

func TestWithClusterRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"fake", []Option{WithBackend(Fake), WithCluster(3)}, "natstest: WithCluster(3): the fake backend is a single server"},
		{"in process", []Option{WithInProcess(), WithCluster(3)}, "natstest: WithCluster(3): WithInProcess is not supported on a cluster"},
		{"no nodes", []Option{WithCluster(0)}, "natstest: WithCluster(0): a cluster has at least one node"},
		{"server options", []Option{WithBackend(Embedded), WithCluster(2), WithServerOptions(&server.Options{})}, "natstest: WithCluster(2): WithServerOptions configures one server"},
		{"address", []Option{WithCluster(2), WithAddr("127.0.0.1:4222")}, "natstest: WithCluster(2): WithAddr names one address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newFakeTB(t)
			tb.run(func() { New(tb, tc.opts...) })
			tb.finish()
			if got := tb.errorText(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("New: %q, want %q…", got, tc.want)
			}
			if _, err := Start(tc.opts...); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Start: %v, want %q…", err, tc.want)
			}
		})
	}
}

func TestEnvNodesOfASingleServer(t *testing.T) {
	tb := newFakeTB(t)
	var env *Env
	tb.run(func() { env = New(tb, WithBackend(Embedded), WithCluster(1)) })
	defer tb.finish()
	if env == nil {
		t.Fatalf("New: %s", tb.errorText())
	}
	if env.Nodes() != 1 || env.NodeURL(0) != env.URL() || env.Cluster() != nil {
		t.Errorf("Nodes() = %d, NodeURL(0) = %q (URL %q), Cluster() = %v", env.Nodes(), env.NodeURL(0), env.URL(), env.Cluster())
	}
	if err := env.WaitClusterReady(ctxT(t)); err != nil {
		t.Errorf("WaitClusterReady: %v", err)
	}
	tb.run(func() { env.StopNode(0) })
	if got, want := tb.errorText(), "natstest: stop node 0: the Env is a single server (see WithCluster)"; got != want {
		t.Errorf("StopNode on a single server: %q, want %q", got, want)
	}
}

func TestWithClusterStoreDir(t *testing.T) {
	dir := t.TempDir()
	env := New(t, WithBackend(Embedded), WithCluster(3), WithStoreDir(dir))
	for i := range env.Nodes() {
		node := filepath.Join(dir, "n"+strconv.Itoa(i+1))
		if got := env.Cluster().Server(i).JetStreamConfig().StoreDir; !strings.HasPrefix(got, node) {
			t.Errorf("node %d keeps its store in %q, want %q", i, got, node)
		}
	}
}

func TestEnvClusterWaitForInterestAcrossNodes(t *testing.T) {
	env := New(t, WithBackend(Embedded), WithCluster(3), WithJetStream(false))
	ctx := ctxT(t)
	env.Record("greet.>") // the recorders' subscription does not count, wherever it is
	c := env.Cluster()
	// No reconnect: the client would find another node, and take its subscription there.
	if _, err := c.ConnectTo(2, nats.NoReconnect()).SubscribeSync("greet.*"); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitForInterest(ctx, "greet.joe", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConnectTo(0).QueueSubscribeSync("greet.joe", "q"); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitForInterest(ctx, "greet.joe", 2); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := env.WaitForInterest(short, "greet.joe", 3)
	if err == nil || !strings.Contains(err.Error(), "have 2") {
		t.Errorf("WaitForInterest for 3 of 2 subscriptions: %v, want an error that says it has 2", err)
	}

	// A stopped node's subscriptions are gone with it.
	env.StopNode(2)
	if err := env.WaitForInterest(ctx, "greet.joe", 1); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitForInterest(short, "greet.joe", 2); err == nil {
		t.Error("WaitForInterest counts the subscription of a stopped node")
	}
	env.StartNode(2)
	env.StartNode(2) // a no-op
	if !c.Running(2) {
		t.Error("node 2 is not running after StartNode")
	}
}

func TestEnvClusterDisconnect(t *testing.T) {
	env := New(t, WithBackend(Embedded), WithCluster(3), WithJetStream(false))
	reconnected := make(chan struct{}, 1)
	nc := env.Connect(nats.ReconnectHandler(func(*nats.Conn) {
		select {
		case reconnected <- struct{}{}:
		default:
		}
	}))
	if err := env.Disconnect(nc); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("the client did not reconnect after Disconnect")
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWithClusterLogsIn(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		if err := env.Conn().FlushWithContext(ctxT(t)); err != nil {
			t.Fatalf("the Env's connection as the first user: %v", err)
		}
		for i := range env.Nodes() {
			if nc, err := nats.Connect(env.NodeURL(i), nats.UserInfo("bob", "wrong")); err == nil {
				nc.Close()
				t.Errorf("node %d let bob in with the wrong password", i)
			}
			nc, err := nats.Connect(env.NodeURL(i), nats.UserInfo("bob", "pw"))
			if err != nil {
				t.Fatalf("node %d: bob: %v", i, err)
			}
			err = nc.Publish("x", make([]byte, 2048))
			nc.Close()
			if !errors.Is(err, nats.ErrMaxPayload) {
				t.Errorf("node %d: a 2 KiB message with a 1 KiB max payload: %v, want %v", i, err, nats.ErrMaxPayload)
			}
		}
	}, WithCluster(2), WithJetStream(false), WithUsers(fake.User{Name: "ann", Password: "pw"}, fake.User{Name: "bob", Password: "pw"}), WithMaxPayload(1024))
}

func TestWithClusterToken(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		if err := env.Conn().FlushWithContext(ctxT(t)); err != nil {
			t.Fatalf("the Env's connection with the token: %v", err)
		}
		for i := range env.Nodes() {
			if nc, err := nats.Connect(env.NodeURL(i)); err == nil {
				nc.Close()
				t.Errorf("node %d let a client in without the token", i)
			}
		}
	}, WithCluster(2), WithJetStream(false), WithToken("s3cret"))
}

func TestEachWithClusterLeavesOutTheFake(t *testing.T) {
	var ran []string
	Each(t, func(t *testing.T, env *Env) {
		if env.Nodes() != 2 {
			t.Errorf("%s: Nodes() = %d, want 2", env.Backend(), env.Nodes())
		}
		ran = append(ran, env.Backend().String())
	}, WithCluster(2), WithJetStream(false))
	if len(ran) == 0 || ran[0] != Embedded.String() {
		t.Errorf("Each with WithCluster(2) ran %v, want embedded first and no fake", ran)
	}
}
