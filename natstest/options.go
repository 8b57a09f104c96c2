package natstest

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
)

// An Option configures New, Each and Serve.
type Option func(*config)

type config struct {
	backend     Backend
	jetStream   bool
	fileStore   bool
	storeDir    string
	inProcess   bool
	addr        string
	serverOpts  *server.Options
	configFile  string
	connectOpts []nats.Option
	logOutput   io.Writer
	readyWait   time.Duration
	users       []fake.User
	token       string
	maxPayload  int32
	pingEvery   time.Duration
	maxPingsOut int
	authTimeout time.Duration
	fakeOpts    []fake.Option
	noReuse     bool
	proxy       bool
	nodes       int  // 0 or 1: a single server
	nodesGiven  bool // WithCluster was given

	// set by New and Serve, not by options
	log func(line string)
	tb  testing.TB // the test New runs for; nil in Start
}

func newConfig(opts []Option) *config {
	c := &config{jetStream: true, readyWait: 10 * time.Second}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithBackend runs the environment on b, whatever NATSTEST_BACKEND says.
func WithBackend(b Backend) Option { return func(c *config) { c.backend = b } }

// WithJetStream turns JetStream on or off (on by default).
func WithJetStream(on bool) Option { return func(c *config) { c.jetStream = on } }

// WithFileStore keeps JetStream's store on disk, in a directory of t.TempDir(), instead of in
// memory-backed storage.
func WithFileStore() Option { return func(c *config) { c.fileStore = true } }

// WithStoreDir keeps JetStream's store in dir, which natstest neither creates nor removes.
func WithStoreDir(dir string) Option { return func(c *config) { c.storeDir = dir; c.fileStore = true } }

// WithCluster runs the environment on an n-node cluster of real servers, routed to one another,
// with JetStream clustered (unless WithJetStream(false)): on the embedded backend, or in
// containers. The fake is one server, so when no WithBackend picks it the cluster runs embedded;
// WithBackend(natstest.Fake) with a cluster is an error. The Env's connections know every node
// and reconnect, without end, to whichever is up. WithCluster(1), like no WithCluster, is a
// single server. See Env.StopNode and Env.StartNode.
func WithCluster(n int) Option { return func(c *config) { c.nodes, c.nodesGiven = n, true } }

// WithInProcess serves clients through in-memory pipes (nats.InProcessServer) and opens no port;
// Env.URL is then "".
func WithInProcess() Option { return func(c *config) { c.inProcess = true } }

// WithAddr listens on addr ("127.0.0.1:4222"; port 0 picks a free one) from the start. Without
// it the embedded and container backends listen on 127.0.0.1 on a free port, and the fake serves
// the Env's own connections in process and opens 127.0.0.1 on a free port the first time
// Env.URL is called.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithServerOptions runs the embedded server with a copy of opts, for accounts, auth, limits
// and the rest. natstest still fills in what opts leaves empty: host 127.0.0.1, a free port,
// a store directory, logging. JetStream follows opts.JetStream.
func WithServerOptions(opts *server.Options) Option {
	return func(c *config) { c.serverOpts = opts }
}

// WithConfigFile runs the embedded server with a nats-server configuration file, filled in as
// for WithServerOptions. On the container backend the file is copied into the container and
// passed with -c.
func WithConfigFile(path string) Option { return func(c *config) { c.configFile = path } }

// WithConnectOptions adds options to every client connection the environment opens (Conn,
// Connect, the recorders'), before the options given to Connect itself: credentials, for example.
func WithConnectOptions(opts ...nats.Option) Option {
	return func(c *config) { c.connectOpts = append(c.connectOpts, opts...) }
}

// WithLogOutput writes the server's log to w as it happens. By default New keeps the log and
// prints it through t.Log only if the test fails, and Serve discards it.
func WithLogOutput(w io.Writer) Option { return func(c *config) { c.logOutput = w } }

// WithUsers requires clients to connect as one of users, on every backend. The Env's own
// connections (Conn, Connect, Dial, the recorders') connect as the first user unless their
// options say otherwise.
func WithUsers(users ...fake.User) Option {
	return func(c *config) { c.users = append(c.users, users...) }
}

// WithToken requires clients to connect with token, on every backend. The Env's own connections
// present it.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithMaxPayload sets the largest message payload, headers included, the server accepts.
func WithMaxPayload(n int32) Option { return func(c *config) { c.maxPayload = n } }

// WithPingInterval sets how often the server PINGs each client (nats-server's ping_interval), on
// every backend: on the fake the PINGs run on its clock. A client that leaves more than
// max-pings-out of them unanswered is closed with -ERR 'Stale Connection'.
func WithPingInterval(d time.Duration) Option { return func(c *config) { c.pingEvery = d } }

// WithMaxPingsOut sets how many server PINGs may go unanswered before the server closes the
// connection as stale (nats-server's ping_max), on every backend.
func WithMaxPingsOut(n int) Option { return func(c *config) { c.maxPingsOut = n } }

// WithAuthTimeout sets how long a connection may go without CONNECT when authentication is
// required (WithUsers, WithToken), on every backend. Without authentication there is no such
// timeout, on nats-server as on the fake.
func WithAuthTimeout(d time.Duration) Option { return func(c *config) { c.authTimeout = d } }

// credentials are the connect options that present the configured user or token.
func (c *config) credentials() []nats.Option {
	switch {
	case len(c.users) > 0:
		return []nats.Option{nats.UserInfo(c.users[0].Name, c.users[0].Password)}
	case c.token != "":
		return []nats.Option{nats.Token(c.token)}
	}
	return nil
}

// WithFakeOptions passes options to the fake server (ignored on the other backends): a seed, a
// queue policy.
func WithFakeOptions(opts ...fake.Option) Option {
	return func(c *config) { c.fakeOpts = append(c.fakeOpts, opts...) }
}

// fmtLine formats a log line.
func fmtLine(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// WithoutReuse gives the Env a container of its own, removed when the Env closes, even where
// ReuseContainers lets Envs share them: for a test that reads what a reset cannot put back (the
// server's counters in /varz, its log from the start). Other backends ignore it.
func WithoutReuse() Option { return func(c *config) { c.noReuse = true } }

// WithProxy routes every connection of the Env through a proxy of natstest's on 127.0.0.1 that
// reads the protocol both ways, so that the Env knows which message reached which connection and
// subscription (Env.Delivered, for assert.QueueGroup), on every backend. It needs TCP: not with
// WithInProcess, nor on a cluster.
func WithProxy() Option { return func(c *config) { c.proxy = true } }
