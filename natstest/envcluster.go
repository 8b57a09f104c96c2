package natstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/internal/freeport"
	"github.com/natskit/natskit/internal/monitor"
)

// An Env on a cluster (WithCluster): the embedded and container cluster instances, and the Env's
// methods for the cluster's nodes.

// cluster reports whether the configuration asks for more than one server.
func (c *config) cluster() bool { return c.nodes > 1 }

// what names what New starts, for its errors: "server", or "3-node cluster".
func (c *config) what() string {
	if c.cluster() {
		return fmt.Sprintf("%d-node cluster", c.nodes)
	}
	return "server"
}

// checkCluster refuses a WithCluster no cluster on b can honour, or the options that go with it.
func (c *config) checkCluster(b Backend) error {
	if c.nodesGiven && c.nodes < 1 {
		return fmt.Errorf("natstest: WithCluster(%d): a cluster has at least one node", c.nodes)
	}
	if !c.cluster() {
		return nil
	}
	var why string
	switch {
	case b == Fake:
		why = "the fake backend is a single server: leave the backend unset (the cluster then runs embedded), or use WithBackend(natstest.Embedded) or WithBackend(natstest.Container)"
	case c.inProcess:
		why = "WithInProcess is not supported on a cluster: its nodes reach one another, and clients reach them, over TCP"
	case c.serverOpts != nil:
		why = "WithServerOptions configures one server: for a cluster's nodes use NewCluster with WithNodeOptions"
	case c.configFile != "" && b == Embedded:
		why = "WithConfigFile configures one server: for a cluster's nodes use NewCluster with WithNodeOptions"
	case c.addr != "":
		why = "WithAddr names one address: a cluster's nodes listen on free ports of 127.0.0.1"
	default:
		return nil
	}
	return fmt.Errorf("natstest: WithCluster(%d): %s", c.nodes, why)
}

// start starts the server, or the cluster, the configuration asks for on b.
func (c *config) start(b Backend) (instance, error) {
	if err := c.bubbleCheck(b); err != nil {
		return nil, err
	}
	if c.proxy && c.cluster() {
		return nil, errors.New("WithProxy is not supported on a cluster")
	}
	if c.proxy && c.inProcess {
		return nil, errors.New("WithProxy needs TCP: it cannot be combined with WithInProcess")
	}
	if !c.cluster() {
		srv, err := b.start(c)
		if err != nil || !c.proxy || b == Container { // a container's proxy is its own
			return srv, err
		}
		return newProxiedInstance(srv)
	}
	switch b {
	case Embedded:
		return startEmbeddedCluster(c)
	case Container:
		return startContainerCluster(c)
	}
	return nil, fmt.Errorf("WithCluster is not supported on the %s backend", b)
}

// clusterDialOptions let a connection outlive the loss of any node of a cluster: it reconnects
// without end, after 25ms (give or take 10), to whichever node is up.
func clusterDialOptions() []nats.Option {
	return []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(25 * time.Millisecond),
		nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond),
	}
}

// nodeControl is what an Env on a cluster can do with the cluster's nodes.
type nodeControl interface {
	size() int
	nodeURL(i int) string
	stopNode(i int) error
	startNode(i int) error
	waitReady(ctx context.Context) error
}

// noTB stands in for the test in a cluster that an Env made by Start owns: what would fail the
// test panics, as the Env's own methods do. Nothing else of testing.TB may be called on it.
type noTB struct{ testing.TB }

func (noTB) Helper()                           {}
func (noTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (noTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// embeddedCluster is an Env's cluster on the embedded backend: a Cluster the Env owns.
type embeddedCluster struct {
	c *Cluster
}

func startEmbeddedCluster(c *config) (instance, error) {
	cfg := newClusterConfig(nil)
	cfg.jetStream, cfg.fileStore = c.jetStream, c.fileStore
	cfg.connectOpts = append(c.credentials(), c.connectOpts...)
	cfg.nodeOpts = append(cfg.nodeOpts, func(_ string, o *server.Options) {
		for _, u := range c.users {
			o.Users = append(o.Users, &server.User{Username: u.Name, Password: u.Password, Permissions: serverPermissions(u.Permissions)})
		}
		o.Authorization = c.token
		o.MaxPayload = c.maxPayload
		c.liveness(o)
	})
	set := &clusterSet{tb: c.tb, cfg: cfg, write: c.log, storeRoot: c.storeDir}
	if set.tb == nil {
		set.tb, set.ownDirs = noTB{}, true
	}
	if set.write == nil {
		set.write = func(string) {}
	}
	ports, err := freeport.Loopback(2 * c.nodes)
	if err != nil {
		return nil, err
	}
	cl, err := set.addCluster(cfg.name, "n", c.nodes, ports, nil)
	if err == nil {
		err = set.run()
	}
	if err != nil {
		set.close()
		return nil, err
	}
	return &embeddedCluster{c: cl}, nil
}

func (ec *embeddedCluster) url() string                { return strings.Join(ec.c.URLs(), ",") }
func (ec *embeddedCluster) dialOptions() []nats.Option { return clusterDialOptions() }

func (ec *embeddedCluster) interest(_ context.Context, subj string, skip []clientID) (int, error) {
	total := 0
	for _, srv := range ec.c.running() {
		n, err := connzInterest(srv, subj, cidsOn(srv.ID(), skip))
		if err != nil {
			return 0, fmt.Errorf("node %s: %w", srv.Name(), err)
		}
		total += n
	}
	return total, nil
}

// cidsOn is the client IDs in ids of connections to the server with ID server.
func cidsOn(server string, ids []clientID) map[uint64]bool {
	set := map[uint64]bool{}
	for _, id := range ids {
		if id.server == server {
			set[id.cid] = true
		}
	}
	return set
}

// server is the running node whose server ID is id.
func (ec *embeddedCluster) server(id string) (*server.Server, error) {
	for _, srv := range ec.c.running() {
		if srv.ID() == id {
			return srv, nil
		}
	}
	return nil, fmt.Errorf("no running node of the cluster is server %s", id)
}

func (ec *embeddedCluster) subscriptions(id clientID) ([]string, error) {
	srv, err := ec.server(id.server)
	if err != nil {
		return nil, err
	}
	return connzSubscriptions(srv, id.cid)
}

func (ec *embeddedCluster) disconnect(id clientID) error {
	srv, err := ec.server(id.server)
	if err != nil {
		return err
	}
	return srv.DisconnectClientByID(id.cid)
}

// shutdown closes the Cluster's own connections, stops every node and removes the stores the
// cluster made for itself.
func (ec *embeddedCluster) shutdown() { ec.c.set.close() }

func (ec *embeddedCluster) size() int            { return ec.c.Size() }
func (ec *embeddedCluster) nodeURL(i int) string { return ec.c.nodes[i].url }

func (ec *embeddedCluster) stopNode(i int) error {
	ec.c.stopNode(ec.c.nodes[i])
	return nil
}

func (ec *embeddedCluster) startNode(i int) error {
	n := ec.c.nodes[i]
	if _, alive := ec.c.set.nodeServer(n); alive {
		return nil
	}
	return ec.c.restartNode(n)
}

func (ec *embeddedCluster) waitReady(ctx context.Context) error { return ec.c.WaitReady(ctx) }

// containerCluster is an Env's cluster on the container backend.
type containerCluster struct {
	cl   *containers.Cluster
	log  func(string)
	http *http.Client
	once sync.Once

	mu      sync.Mutex
	stopped []bool // by node: stopped by StopNode
}

func startContainerCluster(c *config) (instance, error) {
	opts := []containers.Option{containers.WithJetStream(c.jetStream)}
	if len(c.users) > 0 || c.maxPayload != 0 || c.pingEvery != 0 || c.maxPingsOut != 0 || c.authTimeout != 0 {
		if c.configFile != "" {
			return nil, errors.New("WithConfigFile cannot be combined with WithUsers, WithMaxPayload, WithPingInterval, WithMaxPingsOut or WithAuthTimeout on the container backend: put them in the file")
		}
		tmp, err := os.MkdirTemp("", "natstest-container-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp) // copied into each container when it is created
		path := filepath.Join(tmp, "nats.conf")
		if err := os.WriteFile(path, containerConfig(c), 0o644); err != nil {
			return nil, err
		}
		opts = append(opts, containers.WithConfigFile(path))
	} else if c.configFile != "" {
		opts = append(opts, containers.WithConfigFile(c.configFile))
	}
	if c.token != "" {
		opts = append(opts, containers.WithToken(c.token))
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(c.readyWait, containerStartTimeout))
	defer cancel()
	cl, err := containers.RunCluster(ctx, c.nodes, opts...)
	if err != nil {
		return nil, err
	}
	return &containerCluster{
		cl: cl, log: c.log,
		http:    &http.Client{Timeout: DefaultTimeout},
		stopped: make([]bool, c.nodes),
	}, nil
}

func (cc *containerCluster) url() string                { return cc.cl.ClientURL() }
func (cc *containerCluster) dialOptions() []nats.Option { return clusterDialOptions() }

// running is the numbers of the nodes not stopped by StopNode.
func (cc *containerCluster) running() []int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out []int
	for i, stopped := range cc.stopped {
		if !stopped {
			out = append(out, i)
		}
	}
	return out
}

// monitor reads node i's monitoring endpoint path (with its query) into v.
func (cc *containerCluster) monitor(ctx context.Context, i int, path string, v any) error {
	if err := monitor.Get(ctx, cc.http, cc.cl.Node(i).MonitoringURL(), path, v); err != nil {
		return fmt.Errorf("node n%d: %w", i+1, err)
	}
	return nil
}

func (cc *containerCluster) interest(ctx context.Context, subj string, skip []clientID) (int, error) {
	query := "/connz?" + url.Values{"subs": {"detail"}, "limit": {strconv.Itoa(1 << 30)}}.Encode()
	total := 0
	for _, i := range cc.running() {
		var cz server.Connz
		if err := cc.monitor(ctx, i, query, &cz); err != nil {
			return 0, err
		}
		total += connzCount(&cz, subj, cidsOn(cz.ID, skip))
	}
	return total, nil
}

func (cc *containerCluster) subscriptions(id clientID) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	query := "/connz?" + url.Values{"cid": {strconv.FormatUint(id.cid, 10)}, "subs": {"1"}}.Encode()
	for _, i := range cc.running() {
		var cz server.Connz
		if err := cc.monitor(ctx, i, query, &cz); err != nil {
			return nil, err
		}
		if cz.ID != id.server {
			continue
		}
		var out []string
		for _, ci := range cz.Conns {
			out = append(out, ci.Subs...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("no running node of the cluster is server %s", id.server)
}

func (cc *containerCluster) disconnect(clientID) error {
	return errors.New("not supported on a container cluster: nats-server has no way to close one client's connection from its monitoring port (stop the node instead)")
}

// shutdown hands every node's log to the Env, each line prefixed with the node's name, then
// removes the containers and their network.
func (cc *containerCluster) shutdown() {
	cc.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if cc.log != nil {
			for i := range cc.cl.Size() {
				logs, err := cc.cl.Node(i).Logs(ctx)
				if err != nil {
					continue
				}
				prefix := fmt.Sprintf("[n%d] ", i+1)
				for line := range strings.Lines(logs) {
					cc.log(prefix + strings.TrimRight(line, "\r\n"))
				}
			}
		}
		cc.cl.Terminate(ctx)
		cc.http.CloseIdleConnections()
	})
}

func (cc *containerCluster) size() int            { return cc.cl.Size() }
func (cc *containerCluster) nodeURL(i int) string { return cc.cl.Node(i).ClientURL() }

func (cc *containerCluster) stopNode(i int) error {
	cc.mu.Lock()
	stopped := cc.stopped[i]
	cc.stopped[i] = true
	cc.mu.Unlock()
	if stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cc.cl.StopNode(ctx, i)
}

func (cc *containerCluster) startNode(i int) error {
	cc.mu.Lock()
	stopped := cc.stopped[i]
	cc.mu.Unlock()
	if !stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cc.cl.StartNode(ctx, i); err != nil {
		return err
	}
	cc.mu.Lock()
	cc.stopped[i] = false
	cc.mu.Unlock()
	return cc.waitReady(ctx)
}

// waitReady returns once the cluster is ready as containers.Cluster.WaitReady says (within a
// minute if ctx has no deadline).
func (cc *containerCluster) waitReady(ctx context.Context) error { return cc.cl.WaitReady(ctx) }

// Nodes is the number of servers under the Env: WithCluster's n, or 1.
func (e *Env) Nodes() int {
	if ns, ok := e.srv.(nodeControl); ok {
		return ns.size()
	}
	return 1
}

// clusterNodes is the Env's cluster, checking that it has node i; it fails the test if the Env
// is a single server or has no node i.
func (e *Env) clusterNodes(do string, i int) nodeControl {
	if e.tb != nil {
		e.tb.Helper()
	}
	ns, ok := e.srv.(nodeControl)
	if !ok {
		e.fatalf("natstest: %s node %d: the Env is a single server (see WithCluster)", do, i)
		return nil
	}
	if i < 0 || i >= ns.size() {
		e.fatalf("natstest: %s node %d: the cluster has nodes 0 to %d", do, i, ns.size()-1)
		return nil
	}
	return ns
}

// StopNode shuts node i of the Env's cluster down, keeping its JetStream store for StartNode.
// The leaders it held are handed to other nodes as it goes, and the Env's connections to it
// reconnect to another node. Stopping a stopped node does nothing. It fails the test on a single
// server, or if the node does not stop.
func (e *Env) StopNode(i int) {
	if e.tb != nil {
		e.tb.Helper()
	}
	ns := e.clusterNodes("stop", i)
	if err := ns.stopNode(i); err != nil {
		e.fatalf("natstest: stop node %d: %v", i, err)
	}
}

// StartNode starts node i, stopped by StopNode, again from its store, and returns once it has
// rejoined: routes up and, with JetStream, following the meta leader. Its stream and consumer
// replicas may still be catching up. A node comes back on its ports: NodeURL and the Env's
// connections' server lists stay right. Starting a running node does nothing. It fails the test on a single
// server, or if the node is not back within the ready timeout.
func (e *Env) StartNode(i int) {
	if e.tb != nil {
		e.tb.Helper()
	}
	ns := e.clusterNodes("start", i)
	if err := ns.startNode(i); err != nil {
		e.fatalf("natstest: start node %d: %v", i, err)
	}
}

// NodeURL is node i's client URL; on a single server, node 0's is URL.
func (e *Env) NodeURL(i int) string {
	if e.tb != nil {
		e.tb.Helper()
	}
	if _, ok := e.srv.(nodeControl); !ok && i == 0 {
		return e.URL()
	}
	return e.clusterNodes("url of", i).nodeURL(i)
}

// WaitClusterReady returns once every running node of the Env's cluster routes to the others
// and, with JetStream, follows one meta leader that sees them all: after StopNode, once the
// remaining nodes agree on a leader. On a single server it returns nil at once. Without a
// deadline in ctx it waits up to the ready timeout.
func (e *Env) WaitClusterReady(ctx context.Context) error {
	ns, ok := e.srv.(nodeControl)
	if !ok {
		return nil
	}
	if err := ns.waitReady(ctx); err != nil {
		return fmt.Errorf("natstest: cluster: %w", err)
	}
	return nil
}

// Cluster is the embedded cluster under the Env (WithCluster on the embedded backend), or nil:
// for its servers and node names. The Env owns it: it stops with the Env.
func (e *Env) Cluster() *Cluster {
	if ec, ok := e.srv.(*embeddedCluster); ok {
		return ec.c
	}
	return nil
}

// ContainerCluster is the container cluster under the Env (WithCluster on the container
// backend), or nil: for its nodes' logs and monitoring URLs, and network cuts. The Env owns it:
// it is removed with the Env.
func (e *Env) ContainerCluster() *containers.Cluster {
	if cc, ok := e.srv.(*containerCluster); ok {
		return cc.cl
	}
	return nil
}
