package natstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/internal/monitor"
)

// Container runs the real nats-server in a Docker container (package containers): the image of
// the version pinned in go.mod, or one built locally from that module when no registry is
// reachable. It is available where a Docker engine answers; NATSTEST_REQUIRE_DOCKER=1 turns its
// absence into a failure instead of a skip.
var Container Backend = containerBackend{}

type containerBackend struct{}

func (containerBackend) String() string { return "container" }

func (containerBackend) available() error {
	err := containers.Available()
	if err != nil && containers.RequireDocker() {
		return requiredError{err}
	}
	return err
}

// EnvEachContainer, set to 0, makes Each leave the container backend out (no subtest), as on
// a machine without Docker it is a skipped one. Each runs its body on a container wherever
// Docker answers; a package with many Each tests wants ReuseContainers in its TestMain, or each
// subtest starts a container of its own (about a second).
const EnvEachContainer = "NATSTEST_EACH_CONTAINER"

// eachLeavesOut reports whether Each leaves b out: the container backend when
// NATSTEST_EACH_CONTAINER=0 (unless NATSTEST_BACKEND=container asks for it).
func eachLeavesOut(b Backend) bool {
	if b != Container {
		return false
	}
	if v, _ := os.LookupEnv(EnvBackend); strings.EqualFold(strings.TrimSpace(v), Container.String()) {
		return false
	}
	v := strings.TrimSpace(os.Getenv(EnvEachContainer))
	return v == "0" || strings.EqualFold(v, "false")
}

// requiredError is a backend that is not available but must be: Each fails instead of skipping.
type requiredError struct{ err error }

func (e requiredError) Error() string {
	return fmt.Sprintf("%v (%s=1 requires it)", e.err, containers.EnvRequireDocker)
}
func (e requiredError) Unwrap() error { return e.err }

// containerStartTimeout bounds a container's start: the first one on a machine may build the
// image.
const containerStartTimeout = 3 * time.Minute

func (containerBackend) start(c *config) (instance, error) {
	switch {
	case c.inProcess:
		return nil, errors.New("WithInProcess is not supported on the container backend: a container is reached over TCP")
	case c.serverOpts != nil:
		return nil, errors.New("WithServerOptions configures an embedded nats-server: use WithConfigFile on the container backend, or WithBackend(natstest.Embedded)")
	case c.addr != "" && !strings.HasSuffix(c.addr, ":0"):
		return nil, errors.New("WithAddr is not supported on the container backend: the container's port is mapped to a free port of 127.0.0.1")
	case c.configFile != "" && (len(c.users) > 0 || c.maxPayload != 0 || c.pingEvery != 0 || c.maxPingsOut != 0 || c.authTimeout != 0):
		return nil, errors.New("WithConfigFile cannot be combined with WithUsers, WithMaxPayload, WithPingInterval, WithMaxPingsOut or WithAuthTimeout on the container backend: put them in the file")
	}
	var generated []byte
	if len(c.users) > 0 || c.maxPayload != 0 || c.pingEvery != 0 || c.maxPingsOut != 0 || c.authTimeout != 0 {
		generated = containerConfig(c)
	}
	ci := &containerInstance{log: c.log, http: &http.Client{Timeout: DefaultTimeout}, creds: c.credentials(), jetStream: c.jetStream}
	if len(c.users) == 0 && c.configFile == "" && !c.noReuse {
		// With no users and no file of the test's own, natstest can put the server back as it
		// found it, so the container may serve another Env after this one.
		ci.key = fmt.Sprintf("jetstream=%t token=%q config=%q", c.jetStream, c.token, generated)
	}
	if p := takeIdle(ci.key); p != nil {
		ci.srv, ci.logFrom = p.srv, p.logFrom
	} else {
		s, err := runContainer(c, generated)
		if err != nil {
			return nil, err
		}
		ci.srv = s
	}
	proxy, err := newClientProxy(ci.srv.ClientURL, c.proxy)
	if err != nil {
		ci.terminate()
		return nil, err
	}
	ci.proxy = proxy
	return ci, nil
}

// runContainer starts a container configured as c asks, with generated as its configuration
// file if it is not nil.
func runContainer(c *config, generated []byte) (*containers.Server, error) {
	opts := []containers.Option{containers.WithJetStream(c.jetStream)}
	switch {
	case generated != nil:
		tmp, err := os.MkdirTemp("", "natstest-container-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp) // copied into the container when it is created
		path := filepath.Join(tmp, "nats.conf")
		if err := os.WriteFile(path, generated, 0o644); err != nil {
			return nil, err
		}
		opts = append(opts, containers.WithConfigFile(path))
	case c.configFile != "":
		opts = append(opts, containers.WithConfigFile(c.configFile))
	}
	if c.token != "" {
		opts = append(opts, containers.WithToken(c.token))
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(c.readyWait, containerStartTimeout))
	defer cancel()
	return containers.Run(ctx, opts...)
}

// containerConfig is a nats-server configuration (JSON is one) with the users and limits of c.
func containerConfig(c *config) []byte {
	type perm struct {
		Allow []string `json:"allow,omitempty"`
		Deny  []string `json:"deny,omitempty"`
	}
	type user struct {
		User        string          `json:"user"`
		Password    string          `json:"password"`
		Permissions map[string]perm `json:"permissions,omitempty"`
	}
	conf := map[string]any{}
	if len(c.users) > 0 {
		users := make([]user, 0, len(c.users))
		for _, u := range c.users {
			uu := user{User: u.Name, Password: u.Password}
			if p := u.Permissions; p != nil {
				uu.Permissions = map[string]perm{}
				for name, sp := range map[string]*fake.SubjectPermission{"publish": p.Publish, "subscribe": p.Subscribe} {
					if sp != nil {
						uu.Permissions[name] = perm{Allow: sp.Allow, Deny: sp.Deny}
					}
				}
			}
			users = append(users, uu)
		}
		conf["authorization"] = map[string]any{"users": users}
	}
	if c.authTimeout != 0 {
		a, _ := conf["authorization"].(map[string]any)
		if a == nil {
			a = map[string]any{}
			conf["authorization"] = a
		}
		a["timeout"] = c.authTimeout.Seconds()
	}
	if c.maxPayload != 0 {
		conf["max_payload"] = c.maxPayload
	}
	if c.pingEvery != 0 {
		conf["ping_interval"] = c.pingEvery.String()
	}
	if c.maxPingsOut != 0 {
		conf["ping_max"] = c.maxPingsOut
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // nats-server's parser knows no \u escapes: '>' must stay '>'
	enc.SetIndent("", "  ")
	enc.Encode(conf)
	return []byte(b.String())
}

// A containerInstance is an Env's server in a container. Clients reach it through a proxy of
// natstest's, so that Env.Disconnect can cut one off.
type containerInstance struct {
	srv       *containers.Server
	proxy     *clientProxy
	key       string // the configuration, for reuse; "" if the container cannot be reused
	logFrom   int    // the length of the server's log when this Env got the container
	log       func(string)
	http      *http.Client
	creds     []nats.Option
	jetStream bool
	once      sync.Once
}

func (ci *containerInstance) url() string                { return ci.proxy.url() }
func (ci *containerInstance) dialOptions() []nats.Option { return nil }

// connz is the server's monitoring /connz.
func (ci *containerInstance) connz(ctx context.Context, query url.Values) (*server.Connz, error) {
	var cz server.Connz
	if err := monitor.Get(ctx, ci.http, ci.srv.MonitoringURL(), "/connz?"+query.Encode(), &cz); err != nil {
		return nil, err
	}
	return &cz, nil
}

func (ci *containerInstance) interest(ctx context.Context, subj string, skip []clientID) (int, error) {
	cz, err := ci.connz(ctx, url.Values{"subs": {"detail"}, "limit": {strconv.Itoa(1 << 30)}})
	if err != nil {
		return 0, err
	}
	return connzCount(cz, subj, cidSet(skip)), nil
}

func (ci *containerInstance) subscriptions(id clientID) ([]string, error) {
	cid := id.cid
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cz, err := ci.connz(ctx, url.Values{"cid": {strconv.FormatUint(cid, 10)}, "subs": {"1"}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cz.Conns {
		out = append(out, c.Subs...)
	}
	return out, nil
}

func (ci *containerInstance) disconnect(id clientID) error { return ci.proxy.disconnect(id.cid) }

// shutdown cuts every client off and hands the server's log to the Env; then, with
// ReuseContainers on, it puts the server back as it found it (no connections, no streams) for
// the next Env with the same configuration, or else removes the container.
func (ci *containerInstance) shutdown() {
	ci.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ci.proxy.close()
		logs, err := ci.srv.Logs(ctx)
		if err == nil && ci.log != nil {
			// A reused container's log starts before this Env: all of it is handed over, with
			// a line where this Env's part begins.
			for line := range strings.Lines(logs[:min(ci.logFrom, len(logs))]) {
				ci.log(strings.TrimRight(line, "\r\n"))
			}
			if ci.logFrom > 0 {
				ci.log("[natstest] the lines above were logged before this Env took the container")
			}
			if ci.logFrom < len(logs) {
				for line := range strings.Lines(logs[ci.logFrom:]) {
					ci.log(strings.TrimRight(line, "\r\n"))
				}
			}
		}
		if err == nil && ci.key != "" && reusing() && ci.reset(ctx) == nil &&
			putIdle(ci.key, &idleContainer{srv: ci.srv, logFrom: len(logs)}) {
			ci.http.CloseIdleConnections()
			return
		}
		ci.terminate()
	})
}

func (ci *containerInstance) terminate() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ci.srv.Terminate(ctx)
	ci.http.CloseIdleConnections()
}

// reset deletes every stream (and so every consumer, Key-Value bucket and object store) and
// waits until the server has no client connection left.
func (ci *containerInstance) reset(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	opts := append([]nats.Option{nats.Name("natstest-reset"), nats.NoReconnect()}, ci.creds...)
	nc, err := nats.Connect(ci.srv.ClientURL(), opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	if ci.jetStream {
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		names := js.StreamNames(ctx)
		var all []string
		for name := range names.Name() {
			all = append(all, name)
		}
		if err := names.Err(); err != nil {
			return fmt.Errorf("list streams: %w", err)
		}
		if len(all) > 0 {
			// When an account's last stream is deleted, nats-server removes the account's
			// empty streams directory in the background; a stream created meanwhile fails
			// with "could not create storage directory" (10077). A file of natstest's own in
			// that directory keeps it from ever being empty, so the next Env cannot race the
			// removal that its predecessor's reset started.
			// (Only memory streams: no such directory, and nothing to race.)
			_ = ci.srv.WriteFile(ctx, containers.StoreDir+"/jetstream/$G/streams/.natstest", nil)
		}
		for _, name := range all {
			if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("delete stream %q: %w", name, err)
			}
		}
	}
	nc.Close()
	return poll(ctx, func() (bool, error) {
		cz, err := ci.connz(ctx, url.Values{"limit": {"1"}})
		if err != nil {
			return false, err
		}
		return cz.NumConns == 0, nil
	})
}

// An M runs a package's tests: *testing.M is one.
type M interface{ Run() int }

// ReuseContainers returns m with container reuse on while it runs, for a TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(natstest.ReuseContainers(m).Run()) }
//
// or, with goleak, goleak.VerifyTestMain(natstest.ReuseContainers(m)). An Env on the container
// backend then takes a container of the same configuration left by an earlier Env, if there is
// one, instead of starting one (about a second each): when an Env closes, its clients are cut
// off, every stream is deleted, and the container waits for the next Env. Envs with WithUsers
// or WithConfigFile always get a container of their own. When m.Run returns, every container
// kept is removed. Without ReuseContainers, each Env's container is removed when it closes.
func ReuseContainers(m M) M { return reuseM{m} }

type reuseM struct{ m M }

func (r reuseM) Run() int {
	pool.mu.Lock()
	pool.on++
	pool.mu.Unlock()
	defer func() {
		pool.mu.Lock()
		pool.on--
		var idle []*idleContainer
		if pool.on == 0 {
			for _, l := range pool.idle {
				idle = append(idle, l...)
			}
			pool.idle = nil
		}
		pool.mu.Unlock()
		var wg sync.WaitGroup
		for _, p := range idle {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				p.srv.Terminate(ctx)
			})
		}
		wg.Wait()
	}()
	return r.m.Run()
}

// pool is the containers kept for reuse, by configuration, while ReuseContainers runs.
var pool struct {
	mu   sync.Mutex
	on   int
	idle map[string][]*idleContainer
}

type idleContainer struct {
	srv     *containers.Server
	logFrom int
}

func reusing() bool {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	return pool.on > 0
}

// takeIdle takes a kept container of configuration key, or returns nil.
func takeIdle(key string) *idleContainer {
	if key == "" {
		return nil
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	l := pool.idle[key]
	if len(l) == 0 {
		return nil
	}
	p := l[len(l)-1]
	pool.idle[key] = l[:len(l)-1]
	return p
}

// putIdle keeps p for reuse, and reports whether it did (not once ReuseContainers has returned).
func putIdle(key string, p *idleContainer) bool {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.on == 0 {
		return false
	}
	if pool.idle == nil {
		pool.idle = map[string][]*idleContainer{}
	}
	pool.idle[key] = append(pool.idle[key], p)
	return true
}

// ContainerServer is the container under the Env, or nil on another backend: for its logs, its
// monitoring URL, and Stop and Start.
func (e *Env) ContainerServer() *containers.Server {
	if ci, ok := e.srv.(*containerInstance); ok {
		return ci.srv
	}
	return nil
}
