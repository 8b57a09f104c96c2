package natstest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// EnvBackend is the environment variable that picks the backend when no WithBackend option does.
const EnvBackend = "NATSTEST_BACKEND"

// A Backend is a kind of NATS server an Env can run on. Backends are values: Embedded, and the
// ones Backends lists.
type Backend interface {
	// String is the backend's name, as NATSTEST_BACKEND spells it and as Each names subtests.
	String() string

	// available reports why the backend cannot run on this machine, or nil.
	available() error
	// start runs a server with the given configuration.
	start(c *config) (instance, error)
}

// instance is one running server of a backend.
type instance interface {
	// url is the client URL, or "" for a server reached only in process.
	url() string
	// dialOptions are the nats.Options every client connection needs (an in-process dialer).
	dialOptions() []nats.Option
	// interest counts the client subscriptions that would receive subject, leaving out the
	// connections in skip.
	interest(ctx context.Context, subject string, skip []clientID) (int, error)
	// subscriptions are the subjects the client id subscribes to.
	subscriptions(id clientID) ([]string, error)
	// disconnect closes the server's side of the client connection id, as a network failure
	// would.
	disconnect(id clientID) error
	// shutdown stops the server and waits until it has stopped.
	shutdown()
}

// clientID names a client connection as a server knows it: the server's ID (nats.Conn's
// ConnectedServerId) and the client ID it gave the connection. Single-server instances need only
// the client ID.
type clientID struct {
	server string
	cid    uint64
}

// clientOf is nc's clientID on the server it is connected to.
func clientOf(nc *nats.Conn) (clientID, error) {
	cid, err := nc.GetClientID()
	if err != nil {
		return clientID{}, err
	}
	return clientID{server: nc.ConnectedServerId(), cid: cid}, nil
}

// cidSet is the client IDs of ids, for a single-server instance.
func cidSet(ids []clientID) map[uint64]bool {
	set := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		set[id.cid] = true
	}
	return set
}

// backends lists every backend in the order Each runs them.
var backends = []Backend{Fake, Embedded, Container}

// Backends returns every backend natskit knows, available here or not, in the order Each runs them.
func Backends() []Backend { return append([]Backend(nil), backends...) }

// DefaultBackend is the backend New uses when neither WithBackend nor NATSTEST_BACKEND picks one:
// Fake.
func DefaultBackend() Backend { return Fake }

// ParseBackend returns the backend named name ("embedded", ...). An unknown name is an error
// that lists the valid ones.
func ParseBackend(name string) (Backend, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	names := make([]string, 0, len(backends))
	for _, b := range backends {
		if b.String() == want {
			return b, nil
		}
		names = append(names, b.String())
	}
	return nil, fmt.Errorf("natstest: unknown backend %q: valid backends are %s", name, strings.Join(names, ", "))
}

// backendFromEnv returns the backend NATSTEST_BACKEND names, or DefaultBackend if it is unset.
func backendFromEnv() (Backend, error) {
	v, ok := os.LookupEnv(EnvBackend)
	if !ok || strings.TrimSpace(v) == "" {
		return DefaultBackend(), nil
	}
	b, err := ParseBackend(v)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, EnvBackend)
	}
	return b, nil
}

// Each runs body once per backend available on this machine, each as a subtest named after its
// backend with an Env of its own built from opts. A backend that is not available here is a
// skipped subtest that says why. A backend that cannot give what opts ask for is left out: the
// fake, a single server, with WithCluster(n > 1); a container with WithInProcess or
// WithServerOptions.
func Each(t *testing.T, body func(t *testing.T, env *Env), opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	for _, b := range backends {
		if eachLeavesOut(b) || cannotRun(b, c) {
			continue
		}
		t.Run(b.String(), func(t *testing.T) {
			if err := b.available(); err != nil {
				if _, required := err.(requiredError); required {
					t.Fatalf("natstest: backend %s is not available here: %v", b, err)
				}
				t.Skipf("natstest: backend %s is not available here: %v", b, err)
			}
			env := New(t, append(append([]Option(nil), opts...), WithBackend(b))...)
			body(t, env)
		})
	}
}

// cannotRun reports whether Each leaves b out because it cannot give what c asks for: the fake
// is a single server (no WithCluster); a container is reached over TCP (no WithInProcess) and is
// not an embedded nats-server (no WithServerOptions).
func cannotRun(b Backend, c *config) bool {
	switch b {
	case Fake:
		return c.cluster()
	case Container:
		return c.inProcess || c.serverOpts != nil
	}
	return false
}
