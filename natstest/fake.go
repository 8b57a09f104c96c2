package natstest

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
)

// Fake runs natskit's in-memory server (package fake) inside the test process: the default
// backend. It serves core NATS and JetStream (streams, consumers, and through them the client's
// Key-Value and Object Store), with its timers on a clock the test moves (Env.FastForward).
var Fake Backend = fakeBackend{}

type fakeBackend struct{}

func (fakeBackend) String() string   { return "fake" }
func (fakeBackend) available() error { return nil }

func (fakeBackend) start(c *config) (instance, error) {
	switch {
	case c.configFile != "":
		return nil, errors.New("WithConfigFile configures nats-server: add WithBackend(natstest.Embedded)")
	case c.serverOpts != nil:
		return nil, errors.New("WithServerOptions configures nats-server: add WithBackend(natstest.Embedded)")
	}
	opts := []fake.Option{fake.WithUsers(c.users...), fake.WithToken(c.token)}
	if c.addr != "" {
		if _, _, err := splitAddr(c.addr); err != nil {
			return nil, err
		}
		opts = append(opts, fake.WithAddr(c.addr))
	}
	if c.inProcess {
		opts = append(opts, fake.WithoutListener())
	}
	if c.maxPayload != 0 {
		opts = append(opts, fake.WithMaxPayload(c.maxPayload))
	}
	if c.pingEvery != 0 {
		opts = append(opts, fake.WithPingInterval(c.pingEvery))
	}
	if c.maxPingsOut != 0 {
		opts = append(opts, fake.WithMaxPingsOut(c.maxPingsOut))
	}
	if c.authTimeout != 0 {
		opts = append(opts, fake.WithAuthTimeout(c.authTimeout))
	}
	if c.log != nil {
		log := c.log
		opts = append(opts, fake.WithLogf(func(format string, args ...any) { log(fmtLine(format, args...)) }))
	}
	if !c.jetStream {
		opts = append(opts, fake.WithoutJetStream())
	}
	opts = append(opts, c.fakeOpts...)
	s, err := fake.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	return &fakeInstance{srv: s}, nil
}

type fakeInstance struct{ srv *fake.Server }

func (f *fakeInstance) url() string { return f.srv.ClientURL() }

func (f *fakeInstance) dialOptions() []nats.Option {
	if f.srv.ClientURL() == "" {
		return []nats.Option{nats.InProcessServer(f.srv)}
	}
	return nil
}

func (f *fakeInstance) interest(_ context.Context, subj string, skip []clientID) (int, error) {
	ids := make([]uint64, 0, len(skip))
	for _, id := range skip {
		ids = append(ids, id.cid)
	}
	return f.srv.Interest(subj, ids...), nil
}

func (f *fakeInstance) subscriptions(id clientID) ([]string, error) {
	for _, c := range f.srv.Clients() {
		if c.ID == id.cid {
			out := make([]string, len(c.Subscriptions))
			for i, sub := range c.Subscriptions {
				out[i] = sub.Subject
			}
			return out, nil
		}
	}
	return nil, nil
}

func (f *fakeInstance) disconnect(id clientID) error { return f.srv.DisconnectClient(id.cid) }

func (f *fakeInstance) shutdown() { f.srv.Close() }

// Server is the fake server under the Env, or nil on another backend: for its state, faults and
// direct publishes.
func (e *Env) Server() *fake.Server {
	if f, ok := e.server().(*fakeInstance); ok {
		return f.srv
	}
	return nil
}

// FastForward moves time forward by d, as the server sees it. On the fake backend it moves the
// fake's clock and, before it returns, runs every timer that falls due (ack-wait and back-off
// redeliveries, nak delays, max age, TTLs), so a test of a 30-second ack wait takes milliseconds.
// A real server's clock cannot be moved: on the embedded and container backends FastForward
// waits d of real time, so the same test passes there too, only slower.
func (e *Env) FastForward(d time.Duration) {
	if f, ok := e.server().(*fakeInstance); ok {
		f.srv.FastForward(d)
		return
	}
	if d <= 0 {
		return
	}
	<-time.After(d) // a real server's timers run on real time: let d of it pass
}
