package natstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/internal/freeport"
	"github.com/natskit/natskit/internal/mesh"
)

// A ClusterOption configures NewCluster and NewSuperCluster.
type ClusterOption func(*clusterConfig)

type clusterConfig struct {
	name        string
	jetStream   bool
	fileStore   bool
	connectOpts []nats.Option
	logOutput   io.Writer
	readyWait   time.Duration
	nodeOpts    []func(node string, o *server.Options)
}

func newClusterConfig(opts []ClusterOption) *clusterConfig {
	c := &clusterConfig{name: "natstest", jetStream: true, readyWait: 30 * time.Second}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithClusterName names the cluster ("natstest" by default). NewSuperCluster names its clusters
// NAME-c1, NAME-c2, … when it is given, and c1, c2, … otherwise.
func WithClusterName(name string) ClusterOption { return func(c *clusterConfig) { c.name = name } }

// WithClusterJetStream turns JetStream on or off on every node (on by default). Without it the
// cluster is ready once its routes (and gateways) are up.
func WithClusterJetStream(on bool) ClusterOption { return func(c *clusterConfig) { c.jetStream = on } }

// WithClusterFileStore keeps each node's JetStream store on disk, in a directory of t.TempDir(),
// instead of in memory-backed storage (/dev/shm on Linux, when there is room).
func WithClusterFileStore() ClusterOption { return func(c *clusterConfig) { c.fileStore = true } }

// WithClusterConnectOptions adds options to every connection Conn and ConnectTo open, before
// the options given to them.
func WithClusterConnectOptions(opts ...nats.Option) ClusterOption {
	return func(c *clusterConfig) { c.connectOpts = append(c.connectOpts, opts...) }
}

// WithClusterLogOutput writes the servers' logs, each line prefixed with the node's name, to w
// as they happen. By default they are kept and printed through t.Log only if the test fails.
func WithClusterLogOutput(w io.Writer) ClusterOption {
	return func(c *clusterConfig) { c.logOutput = w }
}

// WithClusterReadyTimeout bounds how long NewCluster, NewSuperCluster and RestartNode wait for
// the nodes to be ready (30s by default).
func WithClusterReadyTimeout(d time.Duration) ClusterOption {
	return func(c *clusterConfig) { c.readyWait = d }
}

// WithNodeOptions lets fn change each node's server options before it starts (and again before
// each restart): limits, accounts, tags, debug logging. natstest has filled in the server name,
// host, ports, store directory, cluster, routes and gateways; fn should leave them alone.
func WithNodeOptions(fn func(node string, o *server.Options)) ClusterOption {
	return func(c *clusterConfig) { c.nodeOpts = append(c.nodeOpts, fn) }
}

// A Cluster is a cluster of real nats-servers inside the test process: every node listens on
// 127.0.0.1 on ports of its own, routes to all the others, and, with JetStream (the default),
// takes part in one JetStream meta group with a store of its own. NewCluster starts one for a
// test and releases it in t.Cleanup. Nodes are numbered from 0: node i is the server named
// n<i+1> (n1, n2, …).
type Cluster struct {
	set   *clusterSet
	name  string
	nodes []*clusterNode

	mu    sync.Mutex
	conns []*nats.Conn
	conn  *nats.Conn
	js    jetstream.JetStream
}

// A SuperCluster is clusters of real nats-servers joined by gateways, inside the test process,
// sharing one JetStream meta group. NewSuperCluster starts one for a test and releases it in
// t.Cleanup.
type SuperCluster struct {
	set      *clusterSet
	clusters []*Cluster
}

type clusterNode struct {
	name  string
	opts  *server.Options // the template each start clones; ports fixed
	url   string          // client URL
	store string          // the store directory natstest made, "" if none
	srv   *server.Server  // guarded by clusterSet.mu
	alive bool            // guarded by clusterSet.mu
}

// clusterSet is the servers of a cluster or super-cluster, which start, stop and are ready
// together.
type clusterSet struct {
	tb        testing.TB // the test; for a cluster an Env made by Start owns, a noTB
	cfg       *clusterConfig
	logs      *lineBuffer
	write     func(line string) // where the servers' log goes, if not to logs
	clusters  []*Cluster
	ownDirs   bool     // the set makes its store directories itself and close removes them
	storeRoot string   // if set, node N's store is storeRoot/N, made if need be and left in place
	dirs      []string // the store directories close removes
	once      sync.Once

	mu sync.Mutex // guards the nodes' srv and alive
}

// NewCluster starts an n-node cluster for the test and returns once every node is ready for
// clients, routes to every other node and, with JetStream, once the JetStream meta group has a
// leader that every node follows and that sees every node: a stream of up to n replicas can be
// created at once. It fails the test if the cluster is not ready within the ready timeout
// (WithClusterReadyTimeout). Everything is released in t.Cleanup: the connections Conn and
// ConnectTo opened are drained, the servers stopped, the stores removed. The servers' logs are
// printed through t.Log if the test fails.
func NewCluster(tb testing.TB, n int, opts ...ClusterOption) *Cluster {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("natstest: cluster of %d nodes", n)
	}
	cfg := newClusterConfig(opts)
	set := newClusterSet(tb, cfg)
	ports, err := freeport.Loopback(2 * n)
	if err != nil {
		tb.Fatalf("natstest: %v", err)
	}
	c, err := set.addCluster(cfg.name, "n", n, ports, nil)
	if err != nil {
		tb.Fatalf("natstest: start cluster: %v", err)
	}
	set.start()
	return c
}

// NewSuperCluster starts clusters clusters of nodesPerCluster nodes each, joined by gateways,
// and returns once every node is ready, every gateway is connected and, with JetStream, the meta
// group (one for the whole super-cluster) has a leader that every node follows. Cluster i is
// named c<i+1> (see WithClusterName) and its node j is the server c<i+1>-n<j+1>.
//
// To make gateways form at once, NewSuperCluster sets nats-server's gateway solicit delay, a
// process-wide setting, to 50ms (from 1s).
func NewSuperCluster(tb testing.TB, clusters, nodesPerCluster int, opts ...ClusterOption) *SuperCluster {
	tb.Helper()
	if clusters < 2 || nodesPerCluster < 1 {
		tb.Fatalf("natstest: super-cluster of %d clusters of %d nodes", clusters, nodesPerCluster)
	}
	shortenGatewaySolicitDelay()
	cfg := newClusterConfig(opts)
	set := newClusterSet(tb, cfg)
	ports, err := freeport.Loopback(3 * clusters * nodesPerCluster)
	if err != nil {
		tb.Fatalf("natstest: %v", err)
	}
	var gwPorts [][]int
	for i := range clusters {
		k := (2*clusters + i) * nodesPerCluster
		gwPorts = append(gwPorts, ports[k:k+nodesPerCluster])
	}
	names := make([]string, clusters)
	for i := range clusters {
		names[i] = fmt.Sprintf("c%d", i+1)
		if cfg.name != "natstest" {
			names[i] = cfg.name + "-" + names[i]
		}
	}
	sc := &SuperCluster{set: set}
	for i := range clusters {
		gw := &server.GatewayOpts{Name: names[i], Host: "127.0.0.1"}
		for j := range clusters {
			if j == i {
				continue
			}
			var urls []*url.URL
			for _, p := range gwPorts[j] {
				urls = append(urls, &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))})
			}
			gw.Gateways = append(gw.Gateways, &server.RemoteGatewayOpts{Name: names[j], URLs: urls})
		}
		k := 2 * i * nodesPerCluster
		c, err := set.addCluster(names[i], names[i]+"-n", nodesPerCluster, ports[k:k+2*nodesPerCluster], func(node int, o *server.Options) {
			o.Gateway = *gw
			o.Gateway.Gateways = slices.Clone(gw.Gateways)
			o.Gateway.Port = gwPorts[i][node]
		})
		if err != nil {
			tb.Fatalf("natstest: start super-cluster: %v", err)
		}
		sc.clusters = append(sc.clusters, c)
	}
	set.start()
	return sc
}

var gatewayDelayOnce sync.Once

func shortenGatewaySolicitDelay() {
	gatewayDelayOnce.Do(func() { server.SetGatewaysSolicitDelay(50 * time.Millisecond) })
}

func newClusterSet(tb testing.TB, cfg *clusterConfig) *clusterSet {
	s := &clusterSet{tb: tb, cfg: cfg, logs: &lineBuffer{max: 20000}}
	tb.Cleanup(func() {
		if tb.Failed() && cfg.logOutput == nil {
			tb.Logf("natstest: cluster servers' log:\n%s", s.logs)
		}
	})
	return s
}

func (s *clusterSet) log(line string) {
	if s.write != nil {
		s.write(line)
		return
	}
	s.logs.add(line)
	if s.cfg.logOutput != nil {
		fmt.Fprintln(s.cfg.logOutput, line)
	}
}

// addCluster configures a cluster of n nodes named prefix1…prefixN, with client ports ports[:n]
// and route ports ports[n:2n]; mod adds what else node i needs (gateways).
func (s *clusterSet) addCluster(name, prefix string, n int, ports []int, mod func(node int, o *server.Options)) (*Cluster, error) {
	c := &Cluster{set: s, name: name}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[n+i]))})
	}
	for i := range n {
		nn := fmt.Sprintf("%s%d", prefix, i+1)
		o := &server.Options{
			ServerName: nn,
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  s.cfg.jetStream,
			Cluster:    server.ClusterOpts{Name: name, Host: "127.0.0.1", Port: ports[n+i]},
			// Every node lists every route, its own included (the server skips it), as
			// nats-server's own cluster tests do: the JetStream meta group then expects n peers.
			Routes: slices.Clone(routes),
			NoSigs: true,
		}
		var store string
		if s.cfg.jetStream {
			var err error
			if store, err = s.storeDir(nn); err != nil {
				return nil, fmt.Errorf("node %s: store directory: %w", nn, err)
			}
			o.StoreDir = store
			if s.storeRoot != "" {
				store = "" // not natstest's: start never empties it
			}
		}
		if mod != nil {
			mod(i, o)
		}
		for _, fn := range s.cfg.nodeOpts {
			fn(nn, o)
		}
		c.nodes = append(c.nodes, &clusterNode{name: nn, opts: o, store: store, url: "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i]))})
	}
	s.clusters = append(s.clusters, c)
	return c, nil
}

// storeDir makes node's store directory: one in storeRoot, one removed at the end of the test,
// or, when the set owns its directories, one close removes.
func (s *clusterSet) storeDir(node string) (string, error) {
	if s.storeRoot != "" {
		dir := filepath.Join(s.storeRoot, node)
		return dir, os.MkdirAll(dir, 0o750)
	}
	if !s.ownDirs {
		return testStoreDir(s.tb, s.cfg.fileStore), nil
	}
	dir := ""
	if !s.cfg.fileStore {
		dir = memoryDir()
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "natstest-"); err != nil {
			return "", err
		}
	}
	s.dirs = append(s.dirs, dir)
	return dir, nil
}

// A fresh meta group elects its first leader only with the votes of all its nodes (their logs
// are empty), in a campaign that each node starts 100 to 800ms after JetStream does. If two
// nodes campaign together, or one campaigns before it is connected to all the others, no one
// wins, and the next election comes only 4 to 9 seconds later. start then begins again: a
// cluster with no meta leader metaFormation after its nodes listen starts again from empty
// stores, up to startAttempts times in all.
const (
	metaFormation = 1500 * time.Millisecond
	startAttempts = 4
)

// errNoMetaLeader is check's error when no node is the JetStream meta leader.
var errNoMetaLeader = errors.New("no JetStream meta leader")

// start starts every node, registers their release in t.Cleanup and waits until all are ready.
func (s *clusterSet) start() {
	s.tb.Helper()
	s.tb.Cleanup(s.close)
	if err := s.run(); err != nil {
		s.tb.Fatalf("natstest: start cluster: %v", err)
	}
}

// run starts every node and waits until all are ready. After an error, close stops the nodes
// that run started.
func (s *clusterSet) run() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.readyWait)
	defer cancel()
	var nodes []*clusterNode
	for _, c := range s.clusters {
		nodes = append(nodes, c.nodes...)
	}
	for attempt := 1; ; attempt++ {
		// All at once: a node dials its routes once it listens itself, so of any two nodes the
		// one that listens last reaches the other at once (a failed dial is retried only a second
		// later).
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Go(func() { errs[i] = s.startNode(ctx, n) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		formation := time.Duration(0)
		if s.cfg.jetStream && attempt < startAttempts {
			formation = metaFormation
		}
		err := s.waitReady(ctx, formation)
		if err == nil {
			return nil
		}
		if formation == 0 || !errors.Is(err, errNoMetaLeader) || ctx.Err() != nil {
			return err
		}
		s.log(fmt.Sprintf("[natstest] %v: the first JetStream meta election failed; starting the cluster again, from empty stores", err))
		s.stopAll()
		for _, n := range nodes {
			if dir := n.store; dir != "" && dir == n.opts.StoreDir {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
				if err := os.MkdirAll(dir, 0o750); err != nil {
					return err
				}
			}
		}
	}
}

// startNode starts a server for n from its options, and waits until it listens.
func (s *clusterSet) startNode(ctx context.Context, n *clusterNode) error {
	opts := n.opts.Clone()
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("node %s: %w", n.name, err)
	}
	prefix := "[" + n.name + "] "
	srv.SetLoggerV2(&logger{write: func(line string) { s.log(prefix + line) }}, opts.Debug, opts.Trace, false)
	s.mu.Lock()
	n.srv, n.alive = srv, true
	s.mu.Unlock()
	srv.Start()
	err = poll(ctx, func() (bool, error) {
		return srv.Addr() != nil && srv.ClusterAddr() != nil && (opts.Gateway.Name == "" || srv.GatewayAddr() != nil), nil
	})
	if err != nil {
		return fmt.Errorf("node %s does not listen: %w", n.name, err)
	}
	return nil
}

// close stops every server, in parallel, after the clusters' connections are closed, and then
// removes the store directories the set made for itself. It is safe to call more than once.
func (s *clusterSet) close() {
	s.once.Do(func() {
		var conns []*nats.Conn
		for _, c := range s.clusters {
			c.mu.Lock()
			conns = append(conns, c.conns...)
			c.conns, c.conn, c.js = nil, nil, nil
			c.mu.Unlock()
		}
		drainAll(conns)
		s.stopAll()
		for _, dir := range s.dirs {
			os.RemoveAll(dir)
		}
	})
}

// stopAll stops every running server, in parallel.
func (s *clusterSet) stopAll() {
	s.mu.Lock()
	var srvs []*server.Server
	for _, c := range s.clusters {
		for _, n := range c.nodes {
			if n.srv != nil && n.alive {
				srvs = append(srvs, n.srv)
			}
			n.alive = false
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range srvs {
		wg.Go(func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		})
	}
	wg.Wait()
}

// waitReady waits until every running node is ready, or ctx ends. With formation > 0, it gives
// up after that long if there is still no meta leader, with an error that is errNoMetaLeader.
func (s *clusterSet) waitReady(ctx context.Context, formation time.Duration) error {
	start := time.Now()
	var last error
	err := poll(ctx, func() (bool, error) {
		last = s.check()
		if formation > 0 && errors.Is(last, errNoMetaLeader) && time.Since(start) > formation {
			return false, last
		}
		return last == nil, nil
	})
	switch {
	case err == nil:
		return nil
	case err == last:
		return fmt.Errorf("after %v: %w", time.Since(start).Round(time.Millisecond), err)
	}
	return fmt.Errorf("not ready after %v: %w", time.Since(start).Round(time.Millisecond), last)
}

// check returns nil if every running node listens, is joined to every other running node of
// its cluster by every route nats-server opens between two nodes (see internal/mesh), has its
// gateways to every other cluster, and follows the one JetStream meta leader, which sees every
// running node; and otherwise what is missing.
func (s *clusterSet) check() error {
	type live struct {
		srv     *server.Server
		name    string
		cluster int
		pool    int // the route pool size
	}
	var all []live
	running := make([][]string, len(s.clusters)) // node names, by cluster
	s.mu.Lock()
	for ci, c := range s.clusters {
		for _, n := range c.nodes {
			if n.alive {
				pool := n.opts.Cluster.PoolSize
				if pool == 0 {
					pool = server.DEFAULT_ROUTE_POOL_SIZE
				}
				all = append(all, live{n.srv, n.name, ci, pool})
				running[ci] = append(running[ci], n.name)
			}
		}
	}
	s.mu.Unlock()
	gateways := len(s.clusters) > 1
	for _, l := range all {
		if l.srv.Addr() == nil || l.srv.ClusterAddr() == nil || (gateways && l.srv.GatewayAddr() == nil) {
			return fmt.Errorf("node %s does not listen yet", l.name)
		}
	}
	routes := make([][]mesh.Route, len(all))
	for k, l := range all {
		rz, err := l.srv.Routez(nil)
		if err != nil {
			return fmt.Errorf("node %s: routez: %w", l.name, err)
		}
		for _, r := range rz.Routes {
			routes[k] = append(routes[k], mesh.Route{RemoteName: r.RemoteName, Account: r.Account})
		}
	}
	pinned := mesh.Pinned(routes...)
	for k, l := range all {
		if err := mesh.Missing(l.name, routes[k], running[l.cluster], l.pool, pinned); err != nil {
			return err
		}
	}
	if gateways {
		inbound := make([]map[string]int, len(s.clusters)) // by cluster: inbound gateways by remote cluster
		for _, l := range all {
			if got, want := l.srv.NumOutboundGateways(), len(s.clusters)-1; got < want {
				return fmt.Errorf("node %s has %d of %d outbound gateways", l.name, got, want)
			}
			gz, err := l.srv.Gatewayz(nil)
			if err != nil {
				return fmt.Errorf("node %s: gatewayz: %w", l.name, err)
			}
			if inbound[l.cluster] == nil {
				inbound[l.cluster] = map[string]int{}
			}
			for name, gws := range gz.InboundGateways {
				inbound[l.cluster][name] += len(gws)
			}
		}
		for ci, c := range s.clusters {
			for cj, other := range s.clusters {
				// every running node of other has one outbound gateway to a node of c
				if ci != cj && inbound[ci][other.name] < len(running[cj]) {
					return fmt.Errorf("cluster %s has %d of %d inbound gateways from %s", c.name, inbound[ci][other.name], len(running[cj]), other.name)
				}
			}
		}
	}
	if !s.cfg.jetStream {
		return nil
	}
	var leader *server.Server
	for _, l := range all {
		if l.srv.JetStreamIsLeader() {
			if leader != nil {
				return fmt.Errorf("two JetStream meta leaders: %s and %s", leader.Name(), l.name)
			}
			leader = l.srv
		}
	}
	if leader == nil {
		return errNoMetaLeader
	}
	if peers := leader.JetStreamClusterPeers(); len(peers) != len(all) {
		return fmt.Errorf("JetStream meta leader %s sees %d of %d nodes: %v", leader.Name(), len(peers), len(all), peers)
	}
	for _, l := range all {
		if !l.srv.JetStreamIsCurrent() {
			return fmt.Errorf("node %s: JetStream meta group not current", l.name)
		}
		jz, err := l.srv.Jsz(nil)
		if err != nil {
			return fmt.Errorf("node %s: jsz: %w", l.name, err)
		}
		if jz.Meta == nil || jz.Meta.Leader != leader.Name() {
			return fmt.Errorf("node %s does not follow JetStream meta leader %s yet", l.name, leader.Name())
		}
	}
	return nil
}

func (s *clusterSet) nodeServer(n *clusterNode) (*server.Server, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return n.srv, n.alive
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Size is the number of nodes, running or stopped.
func (c *Cluster) Size() int { return len(c.nodes) }

// URLs are the nodes' client URLs (nats://127.0.0.1:PORT), node 0 first; a node keeps its URL
// across restarts.
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = n.url
	}
	return urls
}

// NodeName is the server name of node i (n1 for node 0).
func (c *Cluster) NodeName(i int) string { return c.node(i).name }

// Index is the number of the node whose server name is name (what StreamInfo's Cluster.Leader
// reports, for example), or -1.
func (c *Cluster) Index(name string) int {
	return slices.IndexFunc(c.nodes, func(n *clusterNode) bool { return n.name == name })
}

func (c *Cluster) node(i int) *clusterNode {
	c.set.tb.Helper()
	if i < 0 || i >= len(c.nodes) {
		c.set.tb.Fatalf("natstest: cluster %s has no node %d (it has %d)", c.name, i, len(c.nodes))
	}
	return c.nodes[i]
}

// Server is node i's server: the one running, or the last one stopped.
func (c *Cluster) Server(i int) *server.Server {
	c.set.tb.Helper()
	srv, _ := c.set.nodeServer(c.node(i))
	return srv
}

// Running reports whether node i is running.
func (c *Cluster) Running(i int) bool {
	c.set.tb.Helper()
	_, alive := c.set.nodeServer(c.node(i))
	return alive
}

// Conn is the cluster's connection, opened on first use with every node's URL in its server
// list, reconnecting without end and without delay worth the name (25ms) to whichever node is
// up: a connection for failover tests. It is drained at the end of the test.
func (c *Cluster) Conn() *nats.Conn {
	c.set.tb.Helper()
	c.mu.Lock()
	nc := c.conn
	c.mu.Unlock()
	if nc != nil {
		return nc
	}
	nc = c.Connect(nats.Name("natstest"))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		c.conn = nc
	}
	return c.conn
}

// Connect opens another connection as Conn's, with the options WithClusterConnectOptions gave
// and then opts. It fails the test if it cannot.
func (c *Cluster) Connect(opts ...nats.Option) *nats.Conn {
	c.set.tb.Helper()
	all := append(clusterDialOptions(), c.set.cfg.connectOpts...)
	return c.dial(strings.Join(c.URLs(), ","), append(all, opts...))
}

// ConnectTo opens a connection to node i alone, with the options WithClusterConnectOptions gave
// and then opts (by default it does not reconnect to another node). It fails the test if it
// cannot; it is drained at the end of the test.
func (c *Cluster) ConnectTo(i int, opts ...nats.Option) *nats.Conn {
	c.set.tb.Helper()
	n := c.node(i)
	all := append([]nats.Option{nats.DontRandomize(), nats.ReconnectWait(25 * time.Millisecond)}, c.set.cfg.connectOpts...)
	return c.dial(n.url, append(all, opts...))
}

func (c *Cluster) dial(urls string, opts []nats.Option) *nats.Conn {
	c.set.tb.Helper()
	nc, err := nats.Connect(urls, opts...)
	if err != nil {
		c.set.tb.Fatalf("natstest: connect to cluster %s (%s): %v", c.name, urls, err)
	}
	c.mu.Lock()
	c.conns = append(c.conns, nc)
	c.mu.Unlock()
	return nc
}

// JetStream is a JetStream context on Conn.
func (c *Cluster) JetStream() jetstream.JetStream {
	c.set.tb.Helper()
	nc := c.Conn()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.js == nil {
		js, err := jetstream.New(nc)
		if err != nil {
			c.set.tb.Fatalf("natstest: jetstream: %v", err)
		}
		c.js = js
	}
	return c.js
}

// StopNode shuts node i down and waits until it has stopped; its store stays for RestartNode.
// The leaders it held (of the meta group, streams and consumers) are handed to other nodes as
// it goes. Stopping a stopped node does nothing.
func (c *Cluster) StopNode(i int) {
	c.set.tb.Helper()
	c.stopNode(c.node(i))
}

func (c *Cluster) stopNode(n *clusterNode) {
	c.set.mu.Lock()
	srv, alive := n.srv, n.alive
	n.alive = false
	c.set.mu.Unlock()
	if !alive {
		return
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}

// RestartNode starts node i again, stopped by StopNode: a new server with the same name, ports,
// store and routes. It returns once the node has rejoined, as NewCluster does once the cluster
// is ready: routes (and gateways) up, the JetStream meta group current on every node. The
// node's stream and consumer replicas may still be catching up: see WaitForStreamCurrent.
func (c *Cluster) RestartNode(i int) {
	c.set.tb.Helper()
	n := c.node(i)
	if _, alive := c.set.nodeServer(n); alive {
		c.set.tb.Fatalf("natstest: restart node %s: it is running (StopNode first)", n.name)
	}
	if err := c.restartNode(n); err != nil {
		c.set.tb.Fatalf("natstest: restart node %s: %v", n.name, err)
	}
}

// restartNode starts the stopped node n again and waits until every running node is ready.
func (c *Cluster) restartNode(n *clusterNode) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.set.cfg.readyWait)
	defer cancel()
	if err := c.set.startNode(ctx, n); err != nil {
		return err
	}
	return c.set.waitReady(ctx, 0)
}

// WaitReady returns once every running node is ready, as NewCluster waits: after a node was
// stopped, for example, once the others agree on a meta leader among themselves. Without a
// deadline in ctx it waits up to the ready timeout.
func (c *Cluster) WaitReady(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.set.cfg.readyWait)
		defer cancel()
	}
	if err := c.set.waitReady(ctx, 0); err != nil {
		return fmt.Errorf("natstest: cluster %s: %w", c.name, err)
	}
	return nil
}

// running is the servers of the running nodes.
func (c *Cluster) running() []*server.Server {
	c.set.mu.Lock()
	defer c.set.mu.Unlock()
	var srvs []*server.Server
	for _, n := range c.nodes {
		if n.alive {
			srvs = append(srvs, n.srv)
		}
	}
	return srvs
}

// WaitForInterest returns once every running node of the cluster knows of a subscription, of a
// client of any node, that would receive a message published on subject in the default account
// ($G): a message published on any node then reaches it. Without a deadline in ctx it waits at
// most DefaultTimeout.
func (c *Cluster) WaitForInterest(ctx context.Context, subject string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var missing string
	err := poll(ctx, func() (bool, error) {
		for _, srv := range c.running() {
			if srv.GlobalAccount().Interest(subject) == 0 {
				missing = srv.Name()
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("natstest: cluster %s: node %s knows no interest in %q: %w", c.name, missing, subject, err)
	}
	return nil
}

// WaitForStreamCurrent returns once stream, of the default account ($G), has a leader and every
// running node that holds a replica of it is current: after RestartNode, once the node has
// caught up. Without a deadline in ctx it waits at most DefaultTimeout.
func (c *Cluster) WaitForStreamCurrent(ctx context.Context, stream string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	const acc = server.DEFAULT_GLOBAL_ACCOUNT
	var why string
	err := poll(ctx, func() (bool, error) {
		leader, replicas := false, 0
		for _, srv := range c.running() {
			if !srv.JetStreamIsStreamAssigned(acc, stream) {
				continue
			}
			replicas++
			if !srv.JetStreamIsStreamCurrent(acc, stream) {
				why = "the replica on " + srv.Name() + " is not current"
				return false, nil
			}
			leader = leader || srv.JetStreamIsStreamLeader(acc, stream)
		}
		switch {
		case replicas == 0:
			why = "no running node holds it"
		case !leader:
			why = "it has no leader"
		default:
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("natstest: cluster %s: stream %q: %s: %w", c.name, stream, why, err)
	}
	return nil
}

// Cluster is cluster i, from 0.
func (sc *SuperCluster) Cluster(i int) *Cluster {
	sc.set.tb.Helper()
	if i < 0 || i >= len(sc.clusters) {
		sc.set.tb.Fatalf("natstest: super-cluster has no cluster %d (it has %d)", i, len(sc.clusters))
	}
	return sc.clusters[i]
}

// Clusters is the clusters, in order.
func (sc *SuperCluster) Clusters() []*Cluster { return slices.Clone(sc.clusters) }

// WaitReady returns once every running node of every cluster is ready, gateways included, as
// NewSuperCluster waits.
func (sc *SuperCluster) WaitReady(ctx context.Context) error { return sc.clusters[0].WaitReady(ctx) }
