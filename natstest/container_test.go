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
	if err := env.Disconnect(env.Conn()); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("Disconnect = %v, want not supported", err)
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
