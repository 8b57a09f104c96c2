// Package containers runs the real nats-server in Docker, through testcontainers-go: single
// servers and clusters, with stop, start and network cuts of a node. When the official image
// cannot be pulled (no registry reachable), it builds one locally from the nats-server module
// that go.mod pins.
//
// Tests that use it need a Docker engine; Available says whether one answers. natskit's own
// tests run with TESTCONTAINERS_RYUK_DISABLED=true and remove every container themselves
// (Terminate, or RunT's t.Cleanup).
package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/nats-io/nats.go"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/natskit/natskit/internal/freeport"
)

// Label is set on every container (and locally built image) natskit creates, so that
// `docker ps -a --filter label=io.natskit` finds what a run left behind.
const Label = "io.natskit"

// EnvRequireDocker, set to 1, makes natskit's container tests fail instead of skipping when no
// Docker engine answers: for CI machines that must run them.
const EnvRequireDocker = "NATSTEST_REQUIRE_DOCKER"

const (
	clientPort  = "4222/tcp"
	monitorPort = "8222/tcp"
	readyLine   = "Server is ready"
	// defaultReadyTimeout bounds the wait for a started server when ctx has no deadline.
	defaultReadyTimeout = 60 * time.Second
	configPath          = "/etc/nats/natskit.conf"
)

// An Option configures Run and RunCluster.
type Option func(*options)

type options struct {
	image      string
	localImage bool
	args       []string
	configFile string
	user, pass string
	token      string
	jetStream  bool

	// set by RunCluster
	network    string
	alias      string
	serverName string
	labels     map[string]string
}

// WithImage runs image instead of the default (nats:<version of nats-server in go.mod>, or
// what NATSTEST_NATS_IMAGE says). An image that is neither present nor pullable is an error.
func WithImage(ref string) Option { return func(o *options) { o.image = ref } }

// WithLocalImage runs the image natskit builds from the nats-server module pinned in go.mod
// (natskit/nats-server:<version>), building it once per machine: for machines that reach no
// registry. NATSTEST_NATS_IMAGE=local does the same for a whole run.
func WithLocalImage() Option { return func(o *options) { o.localImage = true } }

// WithArgs passes extra command-line arguments to nats-server, after natskit's own.
func WithArgs(args ...string) Option { return func(o *options) { o.args = append(o.args, args...) } }

// WithConfigFile copies the nats-server configuration file at path into the container and runs
// the server with -c. Command-line flags (monitoring, JetStream, WithUser) take precedence over it.
func WithConfigFile(path string) Option { return func(o *options) { o.configFile = path } }

// WithUser requires clients to log in as user with pass.
func WithUser(user, pass string) Option { return func(o *options) { o.user, o.pass = user, pass } }

// WithToken requires clients to present tok.
func WithToken(tok string) Option { return func(o *options) { o.token = tok } }

// WithJetStream turns JetStream on (the default; the store is inside the container, in /data)
// or off.
func WithJetStream(on bool) Option { return func(o *options) { o.jetStream = on } }

func newOptions(opts []Option) *options {
	o := &options{jetStream: true}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// cmd is the server's command line.
func (o *options) cmd() []string {
	args := []string{"-m", "8222"}
	if o.configFile != "" {
		args = append(args, "-c", configPath)
	}
	if o.serverName != "" {
		args = append(args, "--name", o.serverName)
	}
	if o.jetStream {
		args = append(args, "-js", "-sd", StoreDir)
	}
	if o.user != "" {
		args = append(args, "--user", o.user, "--pass", o.pass)
	}
	if o.token != "" {
		args = append(args, "--auth", o.token)
	}
	return append(args, o.args...)
}

// credentials are the connect options that log in as the options say.
func (o *options) credentials() []nats.Option {
	switch {
	case o.user != "":
		return []nats.Option{nats.UserInfo(o.user, o.pass)}
	case o.token != "":
		return []nats.Option{nats.Token(o.token)}
	}
	return nil
}

// Available reports why no Docker engine answers here (within 2 seconds), or nil.
func Available() error {
	settleReaper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { // the client's constructor may not honour ctx everywhere
		cli, err := dockerClient(ctx)
		if os.Getenv("DOCKER_HOST") != "" {
			// The engine DOCKER_HOST names, and no other: testcontainers would fall back to
			// the default socket, hiding a DOCKER_HOST that does not answer.
			if err == nil {
				cli.Close()
			}
			cli, err = client.New(client.FromEnv)
		}
		if err == nil {
			_, err = cli.Ping(ctx, client.PingOptions{})
			cli.Close()
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("no Docker engine answers: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no Docker engine answers within 2s: %w", ctx.Err())
	}
}

// RequireDocker reports whether NATSTEST_REQUIRE_DOCKER asks that container tests fail, rather
// than skip, when Docker is not available.
func RequireDocker() bool {
	v := strings.TrimSpace(os.Getenv(EnvRequireDocker))
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// SkipIfUnavailable skips tb when Available reports an error, or fails it if
// NATSTEST_REQUIRE_DOCKER=1.
func SkipIfUnavailable(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		if RequireDocker() {
			tb.Fatalf("containers: %v (%s=1 requires Docker)", err, EnvRequireDocker)
		}
		tb.Skipf("containers: skipped: %v (set %s=1 to fail instead)", err, EnvRequireDocker)
	}
}

// A Server is a nats-server running in a container, its ports mapped to 127.0.0.1.
type Server struct {
	opts  *options
	image string
	ctr   *testcontainers.DockerContainer

	mu         sync.Mutex
	clientURL  string
	monitorURL string
	readies    int // "Server is ready" lines seen so far
	terminated bool
}

// Run starts a nats-server container and returns once a client can connect to it: its log says
// it is ready and a connection to the mapped port has made a round trip.
func Run(ctx context.Context, opts ...Option) (*Server, error) {
	o := newOptions(opts)
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("containers: docker: %w", err)
	}
	removeOrphans(ctx, cli)
	img, err := resolveImage(ctx, cli, o)
	cli.Close()
	if err != nil {
		return nil, fmt.Errorf("containers: %w", err)
	}
	return run(ctx, img, o)
}

func run(ctx context.Context, img string, o *options) (*Server, error) {
	labels := ownerLabels("nats-server")
	for k, v := range o.labels {
		labels[k] = v
	}
	for attempt := 1; ; attempt++ {
		s, err := runOnPorts(ctx, img, o, labels)
		if err == nil || attempt == portAttempts || !portTaken(err) {
			return s, err
		}
	}
}

// portAttempts is how many times run picks host ports again when one was taken meanwhile.
const portAttempts = 3

// portTaken says whether err is Docker's refusal to bind a host port another process holds.
func portTaken(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use")
}

// pickPorts chooses the host ports a new container binds; tests replace it.
var pickPorts = freeport.Loopback

// runOnPorts starts the container with its client and monitoring ports bound to free ports of
// 127.0.0.1 and waits until it is ready.
func runOnPorts(ctx context.Context, img string, o *options, labels map[string]string) (*Server, error) {
	picked, err := pickPorts(2)
	if err != nil {
		return nil, fmt.Errorf("containers: %w", err)
	}
	// fixed host ports stay across Stop and Start; Docker gives a binding to port 0 a new one
	// at every start
	ports := []string{strconv.Itoa(picked[0]), strconv.Itoa(picked[1])}
	copts := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		testcontainers.WithCmd(o.cmd()...),
		testcontainers.WithExposedPorts(clientPort, monitorPort),
		testcontainers.WithLabels(labels),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort(clientPort):  {{HostIP: loopback, HostPort: ports[0]}},
				network.MustParsePort(monitorPort): {{HostIP: loopback, HostPort: ports[1]}},
			}
		}),
	}
	if o.configFile != "" {
		if _, err := os.Stat(o.configFile); err != nil {
			return nil, fmt.Errorf("containers: config file: %w", err)
		}
		copts = append(copts, testcontainers.WithFiles(testcontainers.ContainerFile{
			HostFilePath: o.configFile, ContainerFilePath: configPath, FileMode: 0o644,
		}))
	}
	if o.network != "" {
		copts = append(copts, testcontainers.CustomizeRequestOption(func(req *testcontainers.GenericContainerRequest) error {
			req.Networks = append(req.Networks, o.network)
			if req.NetworkAliases == nil {
				req.NetworkAliases = map[string][]string{}
			}
			req.NetworkAliases[o.network] = []string{o.alias}
			return nil
		}))
	}
	ctr, err := testcontainers.Run(ctx, img, copts...)
	if err != nil && strings.Contains(err.Error(), "reaper") && os.Getenv(EnvRyukDisabled) != "true" {
		if ctr != nil {
			ctr.Terminate(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("containers: run %s: %w (testcontainers' reaper cannot be started here: set %s=true; natskit removes its containers itself)", img, err, EnvRyukDisabled)
	}
	if ctr == nil && err != nil {
		return nil, fmt.Errorf("containers: run %s: %w", img, err)
	}
	s := &Server{opts: o, image: img, ctr: ctr}
	if err == nil {
		err = s.waitReady(ctx, 0)
	}
	if err != nil {
		logs, _ := s.Logs(context.WithoutCancel(ctx))
		s.Terminate(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("containers: run %s: %w\nserver log:\n%s", img, err, logs)
	}
	return s, nil
}

var loopback = mustAddr("127.0.0.1")

// RunT starts a server as Run does, for a test: it fails tb if it cannot (skips it if Docker is
// not available, unless NATSTEST_REQUIRE_DOCKER=1), and terminates the container in tb.Cleanup.
func RunT(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	SkipIfUnavailable(tb)
	s, err := Run(context.Background(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Terminate(context.Background()); err != nil {
			tb.Errorf("containers: terminate: %v", err)
		}
	})
	return s
}

// Image is the image the server runs.
func (s *Server) Image() string { return s.image }

// ContainerID is the Docker container's ID.
func (s *Server) ContainerID() string { return s.ctr.GetContainerID() }

// ClientURL is the URL clients connect to: nats://127.0.0.1:<mapped port>. The port is chosen
// when the container is created and kept across Stop and Start, so a client that reconnects
// finds the server again.
func (s *Server) ClientURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clientURL
}

// MonitoringURL is the base URL of the server's HTTP monitoring: http://127.0.0.1:<mapped port>.
func (s *Server) MonitoringURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.monitorURL
}

// Logs is everything the server has logged, across restarts.
func (s *Server) Logs(ctx context.Context) (string, error) {
	rc, err := s.ctr.Logs(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// WriteFile writes data to path inside the container (its directory must exist), as a file of
// mode 0644.
func (s *Server) WriteFile(ctx context.Context, path string, data []byte) error {
	if err := s.ctr.CopyToContainer(ctx, data, path, 0o644); err != nil {
		return fmt.Errorf("containers: write %s: %w", path, err)
	}
	return nil
}

// StoreDir is where the server keeps its JetStream store inside the container.
const StoreDir = "/data"

// Stop stops the server (SIGTERM, then SIGKILL after 10s). The container stays, with its
// JetStream store, for Start.
func (s *Server) Stop(ctx context.Context) error {
	timeout := 10 * time.Second
	if err := s.ctr.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("containers: stop: %w", err)
	}
	return nil
}

// Start starts a stopped server again, in the same container (the same JetStream state), and
// returns once it is ready, on the same host ports as before. Should another process have taken
// one of them meanwhile, Start fails.
func (s *Server) Start(ctx context.Context) error {
	logs, err := s.Logs(ctx)
	if err != nil {
		return fmt.Errorf("containers: start: %w", err)
	}
	seen := strings.Count(logs, readyLine)
	if err := s.ctr.Start(ctx); err != nil {
		return fmt.Errorf("containers: start: %w", err)
	}
	if err := s.waitReady(ctx, seen); err != nil {
		return fmt.Errorf("containers: start: %w", err)
	}
	return nil
}

// withReadyTimeout is ctx, bounded by defaultReadyTimeout if it has no deadline.
func withReadyTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultReadyTimeout)
}

// waitReady waits until the log holds more than seen "Server is ready" lines, reads the mapped
// ports, and makes a round trip on a client connection.
func (s *Server) waitReady(ctx context.Context, seen int) error {
	ctx, cancel := withReadyTimeout(ctx)
	defer cancel()
	wait := 20 * time.Millisecond
	for {
		logs, err := s.Logs(ctx)
		if err == nil && strings.Count(logs, readyLine) > seen {
			break
		}
		if st, err := s.ctr.State(ctx); err == nil && !st.Running && (st.Status == "exited" || st.Status == "dead") {
			return fmt.Errorf("server exited (code %d) before it was ready", st.ExitCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %q in the log: %w", readyLine, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
	if err := s.refreshURLs(ctx); err != nil {
		return err
	}
	url := s.ClientURL()
	for {
		err := ping(ctx, url, s.opts.credentials())
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no round trip with %s: %v", url, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// refreshURLs reads the container's mapped ports: Docker maps them again when the container
// starts or rejoins its network (to the same host ports, which run fixed).
func (s *Server) refreshURLs(ctx context.Context) error {
	cp, err := s.ctr.MappedPort(ctx, clientPort)
	if err != nil {
		return err
	}
	mp, err := s.ctr.MappedPort(ctx, monitorPort)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientURL = fmt.Sprintf("nats://127.0.0.1:%d", cp.Num())
	s.monitorURL = fmt.Sprintf("http://127.0.0.1:%d", mp.Num())
	return nil
}

// ping connects to url and makes a round trip. A server that refuses the credentials has
// answered, so that counts as ready too.
func ping(ctx context.Context, url string, creds []nats.Option) error {
	opts := append([]nats.Option{nats.Name("natskit-ready"), nats.Timeout(2 * time.Second), nats.NoReconnect()}, creds...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if authRefused(err) {
			return nil
		}
		return err
	}
	defer nc.Close()
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return nc.FlushWithContext(fctx)
}

// authRefused says whether err is a server's refusal of a client's credentials.
func authRefused(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization violation")
}

// Terminate stops the server and removes its container and volumes. It is safe to call more
// than once.
func (s *Server) Terminate(ctx context.Context) error {
	s.mu.Lock()
	if s.terminated {
		s.mu.Unlock()
		return nil
	}
	s.terminated = true
	s.mu.Unlock()
	if err := s.ctr.Terminate(ctx); err != nil {
		return fmt.Errorf("containers: terminate: %w", err)
	}
	return nil
}
