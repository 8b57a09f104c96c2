package natstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// roundTrip subscribes on one connection, publishes on another, and fails unless the message
// arrives.
func roundTrip(t *testing.T, sub, pub *nats.Conn, subj, data string) {
	t.Helper()
	s, err := sub.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unsubscribe()
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(subj, []byte(data)); err != nil {
		t.Fatal(err)
	}
	m, err := s.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("waiting for %q on %s: %v", data, subj, err)
	}
	if string(m.Data) != data {
		t.Fatalf("got %q on %s, want %q", m.Data, subj, data)
	}
}

func TestNewEmbeddedTCP(t *testing.T) {
	env := New(t, WithBackend(Embedded))
	if env.Backend() != Embedded {
		t.Errorf("Backend() = %v, want embedded", env.Backend())
	}
	if !strings.HasPrefix(env.URL(), "nats://127.0.0.1:") || strings.HasSuffix(env.URL(), ":4222") {
		t.Errorf("URL() = %q, want nats://127.0.0.1:<free port>", env.URL())
	}
	if got := env.Conn().ConnectedUrl(); got != env.URL() {
		t.Errorf("Conn() is connected to %q, want %q", got, env.URL())
	}
	roundTrip(t, env.Conn(), env.Connect(nats.Name("other")), "greet.tcp", "hello")

	// A plain client with nothing but the URL gets through.
	nc, err := nats.Connect(env.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	roundTrip(t, nc, env.Conn(), "greet.plain", "hi")
}

func TestNewInProcess(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		if env.URL() != "" {
			t.Errorf("URL() = %q, want \"\" for an in-process server", env.URL())
		}
		if got := env.Conn().ConnectedAddr(); got != "pipe" {
			t.Errorf("ConnectedAddr() = %q, want pipe", got)
		}
		roundTrip(t, env.Conn(), env.Connect(), "greet.pipe", "hello")
		if _, err := env.JetStream().AccountInfo(ctxT(t)); err != nil {
			t.Errorf("JetStream over a pipe: %v", err)
		}
	}, WithInProcess())
}

func TestJetStreamPublishFetch(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		ctx := ctxT(t)
		js := env.JetStream()
		if js != env.JetStream() {
			t.Error("JetStream() returned a new context on the second call")
		}
		s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "orders.new", []byte("one")); err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "work", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for m := range batch.Messages() {
			got = append(got, string(m.Data()))
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != 1 || got[0] != "one" {
			t.Fatalf("fetched %q, want [one]", got)
		}
	})
}

func TestJetStreamOff(t *testing.T) {
	env := New(t, WithJetStream(false))
	_, err := env.JetStream().AccountInfo(ctxT(t))
	if !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		t.Fatalf("AccountInfo with JetStream off: %v, want ErrJetStreamNotEnabled", err)
	}
}

func TestStoreDir(t *testing.T) {
	dir := t.TempDir()
	env := New(t, WithBackend(Embedded), WithStoreDir(dir))
	ctx := ctxT(t)
	if _, err := env.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		t.Fatalf("file store not in the given directory: %v", err)
	}
}

func TestCleanupDrainsThenStopsThenRemoves(t *testing.T) {
	const n = 200
	var (
		handled  atomic.Int64
		url      string
		storeDir string
		conn     *nats.Conn
	)
	t.Run("env", func(t *testing.T) {
		// Registered before New, so it runs after the Env's own cleanup.
		t.Cleanup(func() {
			if got := handled.Load(); got != n {
				t.Errorf("handler saw %d of %d messages: the connection was not drained", got, n)
			}
			if !conn.IsClosed() {
				t.Error("Conn() is still open after cleanup")
			}
			if nc, err := nats.Connect(url, nats.Timeout(time.Second)); err == nil {
				nc.Close()
				t.Errorf("server at %s still accepts clients after cleanup", url)
			}
			if _, err := os.Stat(storeDir); !os.IsNotExist(err) {
				t.Errorf("store directory %s still there after cleanup (stat: %v)", storeDir, err)
			}
		})
		env := New(t, WithBackend(Embedded), WithFileStore())
		url, storeDir, conn = env.URL(), env.cfg.storeDir, env.Conn()
		if _, err := env.JetStream().CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		// Registered after New, so it runs first: the handler is still blocked until then.
		t.Cleanup(func() { close(release) })
		sub, err := env.Conn().Subscribe("work", func(*nats.Msg) {
			<-release
			handled.Add(1)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Conn().Flush(); err != nil { // the server has the subscription
			t.Fatal(err)
		}
		pub := env.Connect()
		for range n {
			if err := pub.Publish("work", nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.Flush(); err != nil {
			t.Fatal(err)
		}
		// The round trip on the subscriber's connection delivers every message to the client
		// before the test ends; the handler has not taken them yet.
		if err := env.Conn().Flush(); err != nil {
			t.Fatal(err)
		}
		// nats-server may write the messages to this connection after the PONG: wait until all
		// have reached the client (the handler holds one, the rest are pending)
		deadline := time.Now().Add(DefaultTimeout)
		for pending, _, _ := sub.Pending(); pending < n-1; pending, _, _ = sub.Pending() {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d messages pending at the end of the test: the check below would prove nothing", pending, n-1)
			}
			runtime.Gosched()
		}
	})
}

func TestServerOptionsAndConnectOptions(t *testing.T) {
	env := New(t, WithBackend(Embedded),
		WithServerOptions(&server.Options{Username: "app", Password: "s3cret", JetStream: true}),
		WithConnectOptions(nats.UserInfo("app", "s3cret")))
	roundTrip(t, env.Conn(), env.Connect(nats.Name("second")), "auth.ok", "in")
	if _, err := env.JetStream().AccountInfo(ctxT(t)); err != nil {
		t.Errorf("JetStream from server options: %v", err)
	}
	_, err := env.Dial(nats.UserInfo("app", "wrong"), nats.NoReconnect())
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("Dial with a wrong password: %v, want nats.ErrAuthorization", err)
	}
}

func TestConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(conf, []byte("authorization { token: \"t0ken\" }\nmax_payload: 2048\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := New(t, WithBackend(Embedded), WithConfigFile(conf), WithConnectOptions(nats.Token("t0ken")))
	if got := env.Conn().MaxPayload(); got != 2048 {
		t.Errorf("MaxPayload() = %d, want 2048 from the config file", got)
	}
	if !strings.HasPrefix(env.URL(), "nats://127.0.0.1:") {
		t.Errorf("URL() = %q, want loopback on a free port", env.URL())
	}
	if _, err := env.Dial(nats.Token("nope"), nats.NoReconnect()); err == nil {
		t.Error("Dial with a wrong token succeeded")
	}
}

func TestConfigFileMissing(t *testing.T) {
	tb := newFakeTB(t)
	tb.run(func() {
		New(tb, WithBackend(Embedded), WithConfigFile(filepath.Join(t.TempDir(), "nope.conf")))
	})
	tb.finish()
	if got := tb.errorText(); !strings.Contains(got, "natstest: start embedded server: config file:") {
		t.Errorf("failure = %q, want it to name the config file", got)
	}
}

func TestLogsOnlyOnFailure(t *testing.T) {
	for _, fail := range []bool{false, true} {
		tb := newFakeTB(t)
		tb.run(func() {
			New(tb)
			if fail {
				tb.Errorf("the test failed")
			}
		})
		tb.finish()
		logs := tb.logText()
		_, body, found := strings.Cut(logs, "server log:\n")
		if fail && (!found || strings.TrimSpace(body) == "") {
			t.Errorf("failed test: logs = %q, want the server log", logs)
		}
		if !fail && logs != "" {
			t.Errorf("passing test: logs = %q, want none", logs)
		}
	}
}

func TestBackendSelection(t *testing.T) {
	t.Run("unknown NATSTEST_BACKEND", func(t *testing.T) {
		t.Setenv(EnvBackend, "mock")
		tb := newFakeTB(t)
		tb.run(func() { New(tb); t.Error("New returned with an unknown backend") })
		tb.finish()
		want := `natstest: unknown backend "mock": valid backends are fake, embedded, container (from NATSTEST_BACKEND)`
		if got := tb.errorText(); got != want {
			t.Errorf("failure:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("NATSTEST_BACKEND picks", func(t *testing.T) {
		t.Setenv(EnvBackend, " Embedded ")
		if b := New(t).Backend(); b != Embedded {
			t.Errorf("Backend() = %v, want embedded", b)
		}
	})
	t.Run("WithBackend wins over NATSTEST_BACKEND", func(t *testing.T) {
		t.Setenv(EnvBackend, "mock")
		if b := New(t, WithBackend(Embedded)).Backend(); b != Embedded {
			t.Errorf("Backend() = %v, want embedded", b)
		}
	})
	t.Run("default", func(t *testing.T) {
		t.Setenv(EnvBackend, "")
		if b := New(t).Backend(); b != DefaultBackend() {
			t.Errorf("Backend() = %v, want %v", b, DefaultBackend())
		}
	})
	t.Run("ParseBackend", func(t *testing.T) {
		for _, b := range Backends() {
			got, err := ParseBackend(b.String())
			if err != nil || got != b {
				t.Errorf("ParseBackend(%q) = %v, %v", b, got, err)
			}
		}
		if _, err := ParseBackend(""); err == nil {
			t.Error(`ParseBackend("") succeeded`)
		}
	})
}

func TestEachRunsEveryBackend(t *testing.T) {
	var ran []string
	Each(t, func(t *testing.T, env *Env) {
		if !strings.HasSuffix(t.Name(), "/"+env.Backend().String()) {
			t.Errorf("subtest %q does not carry the backend's name %q", t.Name(), env.Backend())
		}
		if _, err := env.JetStream().AccountInfo(ctxT(t)); !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
			t.Errorf("Each did not pass its options on: AccountInfo = %v", err)
		}
		ran = append(ran, env.Backend().String())
	}, WithJetStream(false))
	var want []string
	for _, b := range Backends() {
		if b.available() == nil && !eachLeavesOut(b) {
			want = append(want, b.String())
		}
	}
	if strings.Join(ran, ",") != strings.Join(want, ",") {
		t.Errorf("Each ran %v, want %v", ran, want)
	}
}

// isolated checks that env sees only its own traffic and JetStream state.
func isolated(t *testing.T, env *Env, i int) {
	t.Helper()
	ctx := ctxT(t)
	rec := env.Record("shared.>")
	js := env.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SAME", Subjects: []string{"shared.>"}}); err != nil {
		t.Fatal(err)
	}
	want := []byte{byte(i)}
	ack, err := js.Publish(ctx, "shared.subject", want)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Sequence != 1 {
		t.Errorf("stream sequence %d, want 1: another test's message is in this stream", ack.Sequence)
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := rec.Messages()
	if len(msgs) != 1 || string(msgs[0].Data) != string(want) {
		t.Errorf("recorded %v, want only this test's message %v", msgs, want)
	}
}

func TestParallelEnvsDoNotInterfere(t *testing.T) {
	const n = 50
	var (
		mu   sync.Mutex
		live = map[string]bool{}
		seen int
	)
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run("env", func(t *testing.T) {
				t.Parallel()
				var url string
				t.Cleanup(func() { // runs after the Env's cleanup: the port is free again
					mu.Lock()
					delete(live, url)
					mu.Unlock()
				})
				env := New(t, WithBackend(Embedded))
				url = env.URL()
				mu.Lock()
				if live[url] {
					t.Errorf("two live environments share %s", url)
				}
				live[url] = true
				seen++
				mu.Unlock()
				isolated(t, env, i)
			})
		}
	})
	if seen != n {
		t.Errorf("%d environments started, want %d", seen, n)
	}
}

// Fifty environments alive at the same time, whatever -parallel says: t.Run from many goroutines.
func TestFiftyEnvsAtOnce(t *testing.T) {
	const n = 50
	var (
		up, done sync.WaitGroup
		mu       sync.Mutex
		urls     = map[string]bool{}
	)
	up.Add(n)
	allUp := make(chan struct{})
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			t.Run(fmt.Sprint("env", i), func(t *testing.T) {
				var once sync.Once
				ready := func() { once.Do(up.Done) }
				defer ready() // even if New fails the test, so that the others go on
				env := New(t, WithBackend(Embedded))
				mu.Lock()
				if urls[env.URL()] {
					t.Errorf("two live environments share %s", env.URL())
				}
				urls[env.URL()] = true
				mu.Unlock()
				ready()
				<-allUp
				isolated(t, env, i)
			})
		}()
	}
	up.Wait()
	close(allUp)
	done.Wait()
	if len(urls) != n {
		t.Errorf("%d distinct URLs, want %d", len(urls), n)
	}
}

func TestStart(t *testing.T) {
	var logs strings.Builder
	env, err := Start(WithAddr("127.0.0.1:0"), WithBackend(Embedded), WithLogOutput(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	storeDir := env.cfg.storeDir
	if !strings.HasPrefix(env.URL(), "nats://127.0.0.1:") || env.Backend() != Embedded {
		t.Errorf("URL() = %q, Backend() = %v", env.URL(), env.Backend())
	}
	if !strings.Contains(logs.String(), "Starting nats-server") {
		t.Errorf("WithLogOutput got %q", logs.String())
	}
	nc, err := nats.Connect(env.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	roundTrip(t, nc, env.Conn(), "start.ok", "up")
	rec := env.Record("start.>")
	if err := env.Conn().Publish("start.rec", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Wait(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.JetStream().AccountInfo(ctxT(t)); err != nil {
		t.Errorf("JetStream: %v", err)
	}
	nc.Close()
	env.Close()
	env.Close()
	if _, err := nats.Connect(env.URL(), nats.Timeout(time.Second)); err == nil {
		t.Error("server still accepts clients after Close")
	}
	if _, err := os.Stat(storeDir); !os.IsNotExist(err) {
		t.Errorf("temporary store %s still there after Close (stat: %v)", storeDir, err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "natstest: record: connect:") {
				t.Errorf("Record after Close: recovered %v, want a natstest panic", r)
			}
		}()
		env.Record("late")
	}()
}

func TestStartErrors(t *testing.T) {
	for _, tc := range []struct {
		opts   []Option
		want   string
		reason string
	}{
		{[]Option{WithBackend(Fake), WithAddr("127.0.0.1:notaport")}, `natstest: start fake server: address "127.0.0.1:notaport": invalid port "notaport"`, "bad port"},
		{[]Option{WithBackend(Embedded), WithAddr("127.0.0.1:notaport")}, `natstest: start embedded server: address "127.0.0.1:notaport": invalid port "notaport"`, "bad port, embedded"},
		{[]Option{WithBackend(Embedded), WithConfigFile("/nonexistent/natstest.conf")}, "natstest: start embedded server: config file:", "missing config file"},
		{[]Option{WithBackend(Fake), WithConfigFile("/nonexistent/natstest.conf")}, "natstest: start fake server: WithConfigFile configures nats-server: add WithBackend(natstest.Embedded)", "config file on the fake"},
		{[]Option{WithBackend(Fake), WithServerOptions(&server.Options{})}, "natstest: start fake server: WithServerOptions configures nats-server: add WithBackend(natstest.Embedded)", "server options on the fake"},
	} {
		env, err := Start(tc.opts...)
		if err == nil {
			env.Close()
			t.Errorf("%s: Start succeeded", tc.reason)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Start: %v, want %q", tc.reason, err, tc.want)
		}
	}
	t.Setenv(EnvBackend, "mock")
	if _, err := Start(); err == nil || !strings.Contains(err.Error(), "valid backends are fake, embedded") {
		t.Errorf("Start with NATSTEST_BACKEND=mock: %v", err)
	}
}

// missingBackend stands for a backend this machine cannot run (Docker absent, say).
type missingBackend struct{}

func (missingBackend) String() string                  { return "missing" }
func (missingBackend) available() error                { return errors.New("no engine here") }
func (missingBackend) start(*config) (instance, error) { return nil, errors.New("unreachable") }

func TestUnavailableBackend(t *testing.T) {
	saved := backends
	backends = append(backends[:len(backends):len(backends)], missingBackend{})
	t.Cleanup(func() { backends = saved })

	var ran []string
	t.Run("each", func(t *testing.T) {
		Each(t, func(t *testing.T, env *Env) { ran = append(ran, env.Backend().String()) })
	})
	want := "fake,embedded"
	if Container.available() == nil && !eachLeavesOut(Container) {
		want += ",container"
	}
	if strings.Join(ran, ",") != want {
		t.Errorf("Each ran the body on %v, want only the available backends", ran)
	}

	tb := newFakeTB(t)
	tb.run(func() { New(tb, WithBackend(missingBackend{})) })
	tb.finish()
	if got, want := tb.errorText(), "natstest: backend missing is not available here: no engine here"; got != want {
		t.Errorf("New on a missing backend: %q, want %q", got, want)
	}
	if _, err := ParseBackend("MISSING"); err != nil {
		t.Errorf("ParseBackend of a registered backend: %v", err)
	}
}

func TestConnectFailure(t *testing.T) {
	tb := newFakeTB(t)
	tb.run(func() {
		env := New(tb, WithBackend(Embedded), WithServerOptions(&server.Options{Username: "app", Password: "right"}),
			WithConnectOptions(nats.UserInfo("app", "right")))
		env.Connect(nats.UserInfo("app", "wrong"), nats.NoReconnect())
		t.Error("Connect returned with a wrong password")
	})
	tb.finish()
	if got, want := tb.errorText(), "natstest: connect to embedded server: nats: Authorization Violation"; got != want {
		t.Errorf("failure = %q, want %q", got, want)
	}
}

func TestServerIsTheFake(t *testing.T) {
	Each(t, func(t *testing.T, env *Env) {
		s := env.Server()
		if (s != nil) != (env.Backend() == Fake) {
			t.Fatalf("Server() = %v on %s", s, env.Backend())
		}
		if s == nil {
			return
		}
		sub, err := env.Conn().SubscribeSync("from.server")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.WaitForInterest(ctxT(t), "from.server", 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish("from.server", []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hi" {
			t.Fatalf("NextMsg = %v, %v", m, err)
		}
		sub.Unsubscribe()
	})
}
