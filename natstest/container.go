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

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/internal/subject"
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

// EnvEachContainer, set to 1, makes Each run its body on the container backend too (where Docker
// answers). Off by default: each subtest starts a container of its own, about a second, so a
// suite of hundreds of Each tests would take minutes. NATSTEST_BACKEND=container and
// WithBackend(natstest.Container) need no such switch.
const EnvEachContainer = "NATSTEST_EACH_CONTAINER"

// eachLeavesOut reports whether Each leaves b out although it may be available: the container
// backend, unless NATSTEST_EACH_CONTAINER=1 or NATSTEST_BACKEND=container asks for it.
func eachLeavesOut(b Backend) bool {
	if b != Container {
		return false
	}
	if v := os.Getenv(EnvEachContainer); v == "1" || strings.EqualFold(v, "true") {
		return false
	}
	if v, _ := os.LookupEnv(EnvBackend); strings.EqualFold(strings.TrimSpace(v), Container.String()) {
		return false
	}
	return true
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
	}
	opts := []containers.Option{containers.WithJetStream(c.jetStream)}
	var tmp string
	if len(c.users) > 0 || c.maxPayload != 0 {
		if c.configFile != "" {
			return nil, errors.New("WithConfigFile cannot be combined with WithUsers or WithMaxPayload on the container backend: put them in the file")
		}
		var err error
		if tmp, err = os.MkdirTemp("", "natstest-container-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp) // copied into the container when it is created
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
	s, err := containers.Run(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &containerInstance{srv: s, log: c.log, http: &http.Client{Timeout: DefaultTimeout}}, nil
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
	if c.maxPayload != 0 {
		conf["max_payload"] = c.maxPayload
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // nats-server's parser knows no \u escapes: '>' must stay '>'
	enc.SetIndent("", "  ")
	enc.Encode(conf)
	return []byte(b.String())
}

type containerInstance struct {
	srv  *containers.Server
	log  func(string)
	http *http.Client
	once sync.Once
}

func (ci *containerInstance) url() string                { return ci.srv.ClientURL() }
func (ci *containerInstance) dialOptions() []nats.Option { return nil }

// connz is the part of the monitoring endpoint's /connz answer natstest reads.
type connz struct {
	Conns []struct {
		Cid        uint64   `json:"cid"`
		Subs       []string `json:"subscriptions_list"`
		SubsDetail []struct {
			Subject string `json:"subject"`
		} `json:"subscriptions_list_detail"`
	} `json:"connections"`
}

func (ci *containerInstance) connz(ctx context.Context, query url.Values) (*connz, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ci.srv.MonitoringURL()+"/connz?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := ci.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("monitoring /connz: %s", resp.Status)
	}
	var cz connz
	if err := json.NewDecoder(resp.Body).Decode(&cz); err != nil {
		return nil, fmt.Errorf("monitoring /connz: %w", err)
	}
	return &cz, nil
}

func (ci *containerInstance) interest(ctx context.Context, subj string, skip map[uint64]bool) (int, error) {
	cz, err := ci.connz(ctx, url.Values{"subs": {"detail"}, "limit": {strconv.Itoa(1 << 30)}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cz.Conns {
		if skip[c.Cid] {
			continue
		}
		for _, sd := range c.SubsDetail {
			if subject.Matches(sd.Subject, subj) {
				n++
			}
		}
	}
	return n, nil
}

func (ci *containerInstance) subscriptions(cid uint64) ([]string, error) {
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

func (ci *containerInstance) disconnect(uint64) error {
	return errors.New("not supported on the container backend: nats-server has no way to close one client's connection from its monitoring port")
}

// shutdown hands the server's log to the Env, then removes the container.
func (ci *containerInstance) shutdown() {
	ci.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if ci.log != nil {
			if logs, err := ci.srv.Logs(ctx); err == nil {
				for line := range strings.Lines(logs) {
					ci.log(strings.TrimRight(line, "\r\n"))
				}
			}
		}
		ci.srv.Terminate(ctx)
		ci.http.CloseIdleConnections()
	})
}

// ContainerServer is the container under the Env, or nil on another backend: for its logs, its
// monitoring URL, and Stop and Start.
func (e *Env) ContainerServer() *containers.Server {
	if ci, ok := e.srv.(*containerInstance); ok {
		return ci.srv
	}
	return nil
}
