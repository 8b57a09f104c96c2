package natstest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/internal/subject"
)

// Embedded runs the real nats-server, the version pinned in go.mod, inside the test process.
var Embedded Backend = embeddedBackend{}

type embeddedBackend struct{}

func (embeddedBackend) String() string   { return "embedded" }
func (embeddedBackend) available() error { return nil }

func (embeddedBackend) start(c *config) (instance, error) {
	opts, err := c.embeddedOptions()
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	srv.SetLoggerV2(&logger{write: c.log}, opts.Debug, opts.Trace, false)
	srv.Start()
	if !srv.ReadyForConnections(c.readyWait) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("not ready for connections after %v", c.readyWait)
	}
	return &embedded{srv: srv, inProcess: opts.DontListen}, nil
}

// embeddedOptions builds the server options: the user's, filled in where they are silent.
func (c *config) embeddedOptions() (*server.Options, error) {
	var opts *server.Options
	switch {
	case c.configFile != "":
		o, err := server.ProcessConfigFile(c.configFile)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		opts = o
	case c.serverOpts != nil:
		opts = c.serverOpts.Clone()
	default:
		opts = &server.Options{JetStream: c.jetStream}
	}
	if c.addr != "" {
		host, port, err := splitAddr(c.addr)
		if err != nil {
			return nil, err
		}
		opts.Host, opts.Port = host, port
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if c.inProcess {
		opts.DontListen = true
	}
	if opts.ServerName == "" {
		opts.ServerName = "natstest-" + nuid.Next()
	}
	if opts.JetStream && opts.StoreDir == "" {
		opts.StoreDir = c.storeDir
	}
	for _, u := range c.users {
		opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: u.Password, Permissions: serverPermissions(u.Permissions)})
	}
	if c.token != "" {
		opts.Authorization = c.token
	}
	if c.maxPayload != 0 {
		opts.MaxPayload = c.maxPayload
	}
	c.liveness(opts)
	opts.NoSigs = true
	opts.NoLog = false
	return opts, nil
}

// liveness sets the ping and auth timeout options of opts that c gives.
func (c *config) liveness(opts *server.Options) {
	if c.pingEvery != 0 {
		opts.PingInterval = c.pingEvery
	}
	if c.maxPingsOut != 0 {
		opts.MaxPingsOut = c.maxPingsOut
	}
	if c.authTimeout != 0 {
		opts.AuthTimeout = c.authTimeout.Seconds()
	}
}

// serverPermissions is p as nats-server spells it.
func serverPermissions(p *fake.Permissions) *server.Permissions {
	if p == nil {
		return nil
	}
	sp := func(s *fake.SubjectPermission) *server.SubjectPermission {
		if s == nil {
			return nil
		}
		return &server.SubjectPermission{Allow: s.Allow, Deny: s.Deny}
	}
	return &server.Permissions{Publish: sp(p.Publish), Subscribe: sp(p.Subscribe)}
}

// splitAddr parses "host:port"; port 0 means a free port.
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: invalid port %q", addr, p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

type embedded struct {
	srv       *server.Server
	inProcess bool
	once      sync.Once
}

func (e *embedded) url() string {
	if e.inProcess {
		return ""
	}
	return e.srv.ClientURL()
}

func (e *embedded) dialOptions() []nats.Option {
	if e.inProcess {
		return []nats.Option{nats.InProcessServer(e.srv)}
	}
	return nil
}

func (e *embedded) interest(_ context.Context, subj string, skip []clientID) (int, error) {
	return connzInterest(e.srv, subj, cidSet(skip))
}

// connzInterest counts the client subscriptions of srv that would receive subj, leaving out the
// client IDs in skip.
func connzInterest(srv *server.Server, subj string, skip map[uint64]bool) (int, error) {
	cz, err := srv.Connz(&server.ConnzOptions{SubscriptionsDetail: true, Limit: 1 << 30})
	if err != nil {
		return 0, err
	}
	return connzCount(cz, subj, skip), nil
}

// connzCount counts the subscriptions in cz (a /connz with subscription details) that would
// receive subj, leaving out the client IDs in skip.
func connzCount(cz *server.Connz, subj string, skip map[uint64]bool) int {
	n := 0
	for _, ci := range cz.Conns {
		if skip[ci.Cid] {
			continue
		}
		for _, sd := range ci.SubsDetail {
			if subject.Matches(sd.Subject, subj) {
				n++
			}
		}
	}
	return n
}

func (e *embedded) subscriptions(id clientID) ([]string, error) {
	return connzSubscriptions(e.srv, id.cid)
}

// connzSubscriptions are the subjects srv's client cid subscribes to.
func connzSubscriptions(srv *server.Server, cid uint64) ([]string, error) {
	cz, err := srv.Connz(&server.ConnzOptions{CID: cid, Subscriptions: true})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ci := range cz.Conns {
		out = append(out, ci.Subs...)
	}
	return out, nil
}

func (e *embedded) disconnect(id clientID) error { return e.srv.DisconnectClientByID(id.cid) }

func (e *embedded) shutdown() {
	e.once.Do(func() {
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
	})
}

// logger hands every line the server logs to write.
type logger struct{ write func(string) }

func (l *logger) logf(level, format string, v []any) {
	if l.write != nil {
		l.write(level + " " + strings.TrimRight(fmt.Sprintf(format, v...), "\n"))
	}
}

func (l *logger) Noticef(format string, v ...any) { l.logf("[INF]", format, v) }
func (l *logger) Warnf(format string, v ...any)   { l.logf("[WRN]", format, v) }
func (l *logger) Fatalf(format string, v ...any)  { l.logf("[FTL]", format, v) }
func (l *logger) Errorf(format string, v ...any)  { l.logf("[ERR]", format, v) }
func (l *logger) Debugf(format string, v ...any)  { l.logf("[DBG]", format, v) }
func (l *logger) Tracef(format string, v ...any)  { l.logf("[TRC]", format, v) }
