package containers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/natskit/natskit/internal/mesh"
	"github.com/natskit/natskit/internal/monitor"
)

// ClusterName is the nats-server cluster name of RunCluster's clusters.
const ClusterName = "natskit"

// A Cluster is n nats-server containers on a Docker network of their own, routed to one another
// by name (n1, n2, ...), with JetStream clustered (on unless WithJetStream(false)). Each node's
// client and monitoring ports are mapped to 127.0.0.1. Nodes are numbered from 0: Node(0) is
// the server named n1.
type Cluster struct {
	nodes     []*Server
	net       *testcontainers.DockerNetwork
	cli       *client.Client
	jetStream bool

	mu         sync.Mutex
	terminated bool
}

// RunCluster starts an n-node cluster and returns once it is ready as WaitReady says: every
// node accepts clients and has all its routes to every other node and, with JetStream on,
// every node follows one meta leader that can place a replica on each of them.
func RunCluster(ctx context.Context, n int, opts ...Option) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("containers: a cluster of %d nodes", n)
	}
	o := newOptions(opts)
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("containers: docker: %w", err)
	}
	removeOrphans(ctx, cli)
	img, err := resolveImage(ctx, cli, o)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("containers: %w", err)
	}
	nw, err := tcnetwork.New(ctx, tcnetwork.WithLabels(ownerLabels("cluster")))
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("containers: network: %w", err)
	}
	c := &Cluster{nodes: make([]*Server, n), net: nw, cli: cli, jetStream: o.jetStream}
	routes := make([]string, n)
	for i := range routes {
		routes[i] = fmt.Sprintf("nats://n%d:6222", i+1)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		no := *o
		no.args = append([]string{
			"--cluster_name", ClusterName,
			"--cluster", "nats://0.0.0.0:6222",
			"--routes", strings.Join(routes, ","),
		}, o.args...)
		no.network, no.alias, no.serverName = nw.Name, fmt.Sprintf("n%d", i+1), fmt.Sprintf("n%d", i+1)
		no.labels = map[string]string{Label + ".cluster": nw.Name}
		wg.Go(func() { c.nodes[i], errs[i] = run(ctx, img, &no) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Terminate(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := c.WaitReady(ctx); err != nil {
		c.Terminate(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// Size is the number of nodes.
func (c *Cluster) Size() int { return len(c.nodes) }

// Node is node i (from 0; its server name is n<i+1>).
func (c *Cluster) Node(i int) *Server { return c.nodes[i] }

// ClientURLs are the nodes' client URLs, in node order: a client given them all fails over
// between nodes.
func (c *Cluster) ClientURLs() []string {
	urls := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		urls[i] = s.ClientURL()
	}
	return urls
}

// ClientURL is ClientURLs joined with commas, as nats.Connect takes them.
func (c *Cluster) ClientURL() string { return strings.Join(c.ClientURLs(), ",") }

// StopNode stops node i; its container, and its JetStream store, stay for StartNode.
func (c *Cluster) StopNode(ctx context.Context, i int) error { return c.nodes[i].Stop(ctx) }

// StartNode starts node i again and returns once it accepts clients, on the same ports as
// before. WaitReady says when it has rejoined the cluster.
func (c *Cluster) StartNode(ctx context.Context, i int) error { return c.nodes[i].Start(ctx) }

// Disconnect cuts node i off the cluster's network: the other nodes lose their routes to it,
// and clients lose it too (its mapped ports go through that network). The node keeps running.
func (c *Cluster) Disconnect(ctx context.Context, i int) error {
	_, err := c.cli.NetworkDisconnect(ctx, c.net.ID, client.NetworkDisconnectOptions{Container: c.nodes[i].ContainerID(), Force: true})
	if err != nil {
		return fmt.Errorf("containers: disconnect n%d: %w", i+1, err)
	}
	return nil
}

// Reconnect puts node i back on the cluster's network, under its name, after Disconnect. Its
// ports are mapped again to the same host ports. WaitReady says when it has rejoined the
// cluster.
func (c *Cluster) Reconnect(ctx context.Context, i int) error {
	_, err := c.cli.NetworkConnect(ctx, c.net.ID, client.NetworkConnectOptions{
		Container:      c.nodes[i].ContainerID(),
		EndpointConfig: &network.EndpointSettings{Aliases: []string{fmt.Sprintf("n%d", i+1)}},
	})
	if err != nil {
		return fmt.Errorf("containers: reconnect n%d: %w", i+1, err)
	}
	// Docker maps the ports again when the container rejoins the network.
	if err := c.nodes[i].refreshURLs(ctx); err != nil {
		return fmt.Errorf("containers: reconnect n%d: %w", i+1, err)
	}
	return nil
}

// WaitReady returns once every running node is joined to every other running node by all the
// routes nats-server opens between two nodes (the pool, and one for each pinned account) and,
// with JetStream on, the condition of WaitForMetaLeader holds and a stream with a replica on
// every running node can be placed (checked by creating and deleting an in-memory stream
// natskit_ready_<unique>). Without the first, a cluster whose nodes all follow one meta leader
// may still lack, between two followers, the route that carries an account's messages while
// duplicate routes are replaced: a reply sent across it is lost, so a stream created at that
// moment never hears back from its new leader. Without a deadline in ctx it waits at most a
// minute.
func (c *Cluster) WaitReady(ctx context.Context) error {
	ctx, cancel := withReadyTimeout(ctx)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	pools := map[int]int{} // by node: its route pool size, read once
	if err := until(ctx, "cluster not routed", func() error { return c.routed(ctx, hc, pools) }); err != nil {
		return err
	}
	if !c.jetStream {
		return nil
	}
	if err := c.WaitForMetaLeader(ctx); err != nil {
		return err
	}
	return c.placeable(ctx)
}

// jsErrCodeNoPeers is nats-server's error code for "no suitable peers for placement".
const jsErrCodeNoPeers = 10005

// placeable returns once a stream with a replica on every running node can be created. The
// meta leader places replicas only on nodes it has had a statistics report from, which each
// node sends on a timer that backs off from 250 ms: a cluster whose nodes all follow the
// leader may still answer a create with "no suitable peers for placement" for a few seconds.
// It creates a stream in memory, named natskit_ready_<unique> with no other subject, and
// deletes it. A cluster it cannot log in to, whose account has no JetStream or may not use its
// API, or that refuses the stream for another reason (a stream of the user's that takes every
// subject, a limit), is not probed.
func (c *Cluster) placeable(ctx context.Context) error {
	running := c.running()
	urls := make([]string, len(running))
	for k, i := range running {
		urls[k] = c.nodes[i].ClientURL()
	}
	denied := make(chan struct{})
	var once sync.Once
	opts := append([]nats.Option{
		nats.Name("natskit-ready"), nats.Timeout(2 * time.Second), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				once.Do(func() { close(denied) })
			}
		}),
	}, c.nodes[0].opts.credentials()...)
	start := time.Now()
	var last error
	// try runs op until it succeeds, or it fails for a reason other than placement or a lost
	// answer (then the cluster is not probed), or ctx ends.
	try := func(what string, op func(context.Context) error) (probed bool, err error) {
		for {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := op(actx)
			cancel()
			var apiErr *jetstream.APIError
			switch {
			case err == nil:
				return true, nil
			case errors.As(err, &apiErr) && apiErr.ErrorCode != jsErrCodeNoPeers,
				errors.Is(err, nats.ErrNoResponders), authRefused(err):
				return false, nil
			}
			last = err
			select {
			case <-denied:
				return false, nil
			case <-ctx.Done():
				return false, fmt.Errorf("containers: %s after %v: %w (%v)", what, time.Since(start).Round(time.Millisecond), ctx.Err(), last)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	var nc *nats.Conn
	defer func() {
		if nc != nil {
			nc.Close()
		}
	}()
	if ok, err := try("connect to the cluster", func(context.Context) (err error) {
		nc, err = nats.Connect(strings.Join(urls, ","), opts...)
		return err
	}); !ok {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil
	}
	name := "natskit_ready_" + nuid.Next()
	what := fmt.Sprintf("place a stream of %d replicas", len(running))
	if ok, err := try(what, func(actx context.Context) error {
		_, err := js.CreateStream(actx, jetstream.StreamConfig{Name: name, Storage: jetstream.MemoryStorage, Replicas: len(running)})
		return err
	}); !ok {
		return err
	}
	_, err = try("delete the readiness stream "+name, func(actx context.Context) error {
		err := js.DeleteStream(actx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil
		}
		return err
	})
	return err
}

// running is the indices of the nodes whose containers run.
func (c *Cluster) running() []int {
	var out []int
	for i, s := range c.nodes {
		if s.ctr.IsRunning() {
			out = append(out, i)
		}
	}
	return out
}

// routed returns nil if every running node is joined to every other running node by every
// route nats-server opens between two nodes (see internal/mesh), and otherwise what is missing.
// pools holds each node's route pool size (from /varz); routed reads the ones it lacks.
func (c *Cluster) routed(ctx context.Context, hc *http.Client, pools map[int]int) error {
	running := c.running()
	peers := make([]string, len(running))
	lists := make([][]mesh.Route, len(running))
	for k, i := range running {
		peers[k] = c.nodes[i].opts.serverName
		var rz struct {
			Routes []mesh.Route `json:"routes"`
		}
		if err := monitor.Get(ctx, hc, c.nodes[i].MonitoringURL(), "/routez", &rz); err != nil {
			return fmt.Errorf("n%d: %w", i+1, err)
		}
		lists[k] = rz.Routes
		if _, ok := pools[i]; !ok {
			var vz struct {
				Cluster struct {
					PoolSize int `json:"pool_size"`
				} `json:"cluster"`
			}
			if err := monitor.Get(ctx, hc, c.nodes[i].MonitoringURL(), "/varz", &vz); err != nil {
				return fmt.Errorf("n%d: %w", i+1, err)
			}
			pools[i] = vz.Cluster.PoolSize
		}
	}
	pinned := mesh.Pinned(lists...)
	for k, i := range running {
		if err := mesh.Missing(peers[k], lists[k], peers, pools[i], pinned); err != nil {
			return err
		}
	}
	return nil
}

// WaitForMetaLeader returns once every running node names the same JetStream meta leader and
// the leader sees every running follower current (their monitoring /jsz says so). Without a
// deadline in ctx it waits at most a minute.
func (c *Cluster) WaitForMetaLeader(ctx context.Context) error {
	ctx, cancel := withReadyTimeout(ctx)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	return until(ctx, "no JetStream meta leader", func() error {
		leader, err := c.metaLeader(ctx, hc)
		if err == nil && leader == "" {
			err = errors.New("the running nodes do not all follow one leader that hears from each of them")
		}
		return err
	})
}

// until calls check every 100 ms until it returns nil. Once ctx ends, it returns an error that
// says what it waited for, for how long, and what check said last.
func until(ctx context.Context, what string, check func() error) error {
	start := time.Now()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containers: %s after %v: %w (%v)", what, time.Since(start).Round(time.Millisecond), ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// metaLeader is the meta leader every running node agrees on, or "".
func (c *Cluster) metaLeader(ctx context.Context, hc *http.Client) (string, error) {
	leader, running, current := "", 0, 0
	for _, i := range c.running() {
		s := c.nodes[i]
		running++
		var jsz struct {
			Meta *struct {
				Leader   string `json:"leader"`
				Replicas []struct {
					Name    string `json:"name"`
					Current bool   `json:"current"`
				} `json:"replicas"`
			} `json:"meta_cluster"`
		}
		if err := monitor.Get(ctx, hc, s.MonitoringURL(), "/jsz", &jsz); err != nil {
			return "", fmt.Errorf("n%d: %w", i+1, err)
		}
		if jsz.Meta == nil || jsz.Meta.Leader == "" || (leader != "" && jsz.Meta.Leader != leader) {
			return "", nil
		}
		leader = jsz.Meta.Leader
		if s.opts.serverName == leader {
			for _, r := range jsz.Meta.Replicas {
				if r.Current {
					current++
				}
			}
		}
	}
	if current < running-1 { // the leader does not hear from every running follower yet
		return "", nil
	}
	return leader, nil
}

// Terminate removes every node's container, then the network. It is safe to call more than once.
func (c *Cluster) Terminate(ctx context.Context) error {
	c.mu.Lock()
	if c.terminated {
		c.mu.Unlock()
		return nil
	}
	c.terminated = true
	c.mu.Unlock()
	var errs []error
	for _, s := range c.nodes {
		if s != nil {
			errs = append(errs, s.Terminate(ctx))
		}
	}
	if err := c.net.Remove(ctx); err != nil {
		errs = append(errs, fmt.Errorf("containers: remove network: %w", err))
	}
	c.cli.Close()
	return errors.Join(errs...)
}

// RunClusterT starts a cluster as RunCluster does, for a test: it fails tb if it cannot (skips
// it if Docker is not available, unless NATSTEST_REQUIRE_DOCKER=1), and terminates the cluster
// in tb.Cleanup.
func RunClusterT(tb testing.TB, n int, opts ...Option) *Cluster {
	tb.Helper()
	SkipIfUnavailable(tb)
	c, err := RunCluster(context.Background(), n, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			tb.Errorf("containers: terminate cluster: %v", err)
		}
	})
	return c
}
