package natstest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/fake"
)

func requireContainer(t *testing.T) {
	t.Helper()
	if err := Container.available(); err != nil {
		var req requiredError
		if errors.As(err, &req) {
			t.Fatal(err)
		}
		t.Skipf("natstest: backend container is not available here: %v", err)
	}
}

func TestContainerBackend(t *testing.T) {
	requireContainer(t)
	if b, err := ParseBackend("container"); err != nil || b != Container {
		t.Fatalf("ParseBackend(container) = %v, %v", b, err)
	}
	start := time.Now()
	env := New(t, WithBackend(Container))
	t.Logf("container Env ready in %v", time.Since(start).Round(time.Millisecond))
	if env.ContainerServer() == nil || env.Server() != nil {
		t.Fatal("ContainerServer() should be the container, Server() nil")
	}
	if !strings.HasPrefix(env.URL(), "nats://127.0.0.1:") {
		t.Fatalf("URL %q", env.URL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	rec := env.Record("orders.>")
	sub := env.Connect()
	s1, _ := sub.SubscribeSync("orders.*")
	s2, _ := sub.QueueSubscribeSync("orders.new", "q")
	defer s1.Unsubscribe()
	defer s2.Unsubscribe()
	if err := env.WaitForInterest(ctx, "orders.new", 2); err != nil {
		t.Fatal(err)
	}
	if n, err := env.srv.interest(ctx, "orders.new", nil); err != nil || n != 3 {
		t.Fatalf("interest with the recorder = %d, %v; want 3", n, err)
	}
	if err := env.Conn().Publish("orders.new", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.Messages()); got != 1 {
		t.Fatalf("recorded %d messages, want 1", got)
	}
	if _, err := env.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.JetStream().Publish(ctx, "s.1", nil); err != nil {
		t.Fatal(err)
	}
	// Disconnect cuts the client off at natstest's proxy; it reconnects with a new client ID.
	nc := env.Conn()
	before, _ := nc.GetClientID()
	reconnected := nc.StatusChanged(nats.CONNECTED)
	defer nc.RemoveStatusListener(reconnected)
	if err := env.Disconnect(nc); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("no reconnect after Disconnect")
	}
	if after, _ := nc.GetClientID(); after == before || nc.Reconnects != 1 {
		t.Fatalf("client ID %d -> %d, %d reconnects", before, after, nc.Reconnects)
	}
	if _, err := env.JetStream().Publish(ctx, "s.2", nil); err != nil {
		t.Fatal(err)
	}
}

// With ReuseContainers (this package's TestMain), an Env takes the container an earlier Env of
// the same configuration left, put back as it was: no stream, no connection.
func TestContainerReuse(t *testing.T) {
	requireContainer(t)
	if !reusing() {
		t.Fatal("TestMain does not run the tests under ReuseContainers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := []Option{WithBackend(Container), WithToken("reuse")}
	first := New(t, opts...)
	id := first.ContainerServer().ContainerID()
	js := first.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LEFT", Subjects: []string{"left.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "kv"}); err != nil {
		t.Fatal(err)
	}
	stray := first.Connect()
	if _, err := stray.SubscribeSync("left.>"); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := New(t, opts...)
	if got := second.ContainerServer().ContainerID(); got != id {
		t.Fatalf("the second Env got container %.12s, want the first's %.12s", got, id)
	}
	names := second.JetStream().StreamNames(ctx)
	var left []string
	for n := range names.Name() {
		left = append(left, n)
	}
	if err := names.Err(); err != nil || len(left) != 0 {
		t.Fatalf("streams left from the first Env: %v, %v", left, err)
	}
	if n, err := second.srv.interest(ctx, "left.x", nil); err != nil || n != 0 {
		t.Fatalf("interest left from the first Env: %d, %v", n, err)
	}
	ci := second.srv.(*containerInstance)
	if cz, err := ci.connz(ctx, nil); err != nil || cz.NumConns != 1 {
		t.Fatalf("connections on the reused server: %+v, %v; want only the second Env's", cz, err)
	}

	// Another configuration, or one with users, gets a container of its own.
	other := New(t, WithBackend(Container), WithToken("other"))
	if other.ContainerServer().ContainerID() == id {
		t.Fatal("an Env with another token got the same container")
	}
	second.Close()
	users := New(t, WithBackend(Container), WithToken("reuse"), WithUsers(fake.User{Name: "u", Password: "p"}))
	if users.ContainerServer().ContainerID() == id {
		t.Fatal("an Env with users got a reused container")
	}
	own := New(t, WithBackend(Container), WithToken("reuse"), WithoutReuse())
	if own.ContainerServer().ContainerID() == id {
		t.Fatal("an Env WithoutReuse got a reused container")
	}
	if third := New(t, opts...); third.ContainerServer().ContainerID() != id {
		t.Fatal("the kept container was not handed to the next Env")
	}
}

// A container whose server the test stopped and did not start again is not reused.
func TestContainerNotReusedWhenStopped(t *testing.T) {
	requireContainer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := []Option{WithBackend(Container), WithToken("stopped")}
	first := New(t, opts...)
	id := first.ContainerServer().ContainerID()
	if err := first.ContainerServer().Stop(ctx); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := New(t, opts...)
	if second.ContainerServer().ContainerID() == id {
		t.Fatal("a stopped container was handed to the next Env")
	}
}

func TestContainerBackendStartClose(t *testing.T) {
	requireContainer(t)
	const n = 3
	start := time.Now()
	for range n {
		env, err := Start(WithBackend(Container))
		if err != nil {
			t.Fatal(err)
		}
		env.Conn()
		env.Close()
	}
	t.Logf("container Env start+close: %v each (mean of %d)", (time.Since(start) / n).Round(time.Millisecond), n)
}

func TestContainerBackendOptions(t *testing.T) {
	requireContainer(t)
	t.Run("users", func(t *testing.T) {
		env := New(t, WithBackend(Container), WithJetStream(false), WithMaxPayload(2048),
			WithUsers(fake.User{Name: "app", Password: "pw"},
				fake.User{Name: "ro", Password: "pw", Permissions: &fake.Permissions{Publish: &fake.SubjectPermission{Deny: []string{">"}}}}))
		if got := env.Conn().MaxPayload(); got != 2048 {
			t.Fatalf("max payload %d", got)
		}
		if _, err := env.Dial(nats.UserInfo("app", "bad"), nats.NoReconnect()); err == nil {
			t.Fatal("a wrong password connected")
		}
		errs := make(chan error, 1)
		ro := env.Connect(nats.UserInfo("ro", "pw"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		ro.Publish("x", nil)
		ro.Flush()
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) {
				t.Fatalf("publish error %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no permissions violation")
		}
	})
	t.Run("token and config file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "n.conf")
		os.WriteFile(path, []byte("max_payload: 1000\n"), 0o644)
		env := New(t, WithBackend(Container), WithToken("tk"), WithConfigFile(path))
		if got := env.Conn().MaxPayload(); got != 1000 {
			t.Fatalf("max payload %d", got)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, opts := range [][]Option{{WithInProcess()}, {WithServerOptions(&server.Options{})}} {
			if _, err := Start(append(opts, WithBackend(Container))...); err == nil {
				t.Fatal("Start accepted an option the container backend does not support")
			} else {
				t.Log(err)
			}
		}
	})
}

// The container package's label is on what the backend starts, so nothing is left behind.
var _ = containers.Label
