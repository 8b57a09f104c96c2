package containers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
)

func connect(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// leftovers lists the containers carrying natskit's label whose IDs are in ids.
func leftovers(t *testing.T, ids ...string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "-q", "--no-trunc", "--filter", "label="+containers.Label).Output()
	if err != nil {
		// the check needs the docker command; where Docker is required, so is it
		if containers.RequireDocker() {
			t.Fatalf("docker CLI: %v", err)
		}
		t.Skipf("docker CLI (to list what is left behind): %v", err)
	}
	var left []string
	for _, id := range strings.Fields(string(out)) {
		for _, want := range ids {
			if id == want {
				left = append(left, id)
			}
		}
	}
	return left
}

func TestRunJetStreamStopStartTerminate(t *testing.T) {
	containers.SkipIfUnavailable(t)
	ctx := context.Background()
	start := time.Now()
	s, err := containers.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("container %s ready in %v at %s (monitoring %s)", s.Image(), time.Since(start).Round(time.Millisecond), s.ClientURL(), s.MonitoringURL())
	defer s.Terminate(ctx)
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") || !strings.HasPrefix(s.MonitoringURL(), "http://127.0.0.1:") {
		t.Fatalf("URLs %s %s are not on 127.0.0.1", s.ClientURL(), s.MonitoringURL())
	}

	nc := connect(t, s.ClientURL())
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, "orders.new", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()

	// A client that stays connected through the restart finds the server again at the same URL.
	url, monURL := s.ClientURL(), s.MonitoringURL()
	reconnected := make(chan struct{}, 1)
	stay := connect(t, url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted in %v at %s", time.Since(start).Round(time.Millisecond), s.ClientURL())
	if s.ClientURL() != url || s.MonitoringURL() != monURL {
		t.Errorf("after Start: URLs %s and %s, want the same as before, %s and %s", s.ClientURL(), s.MonitoringURL(), url, monURL)
	}
	select {
	case <-reconnected:
		t.Logf("the client that stayed reconnected to %s", stay.ConnectedUrl())
	case <-time.After(30 * time.Second):
		t.Errorf("the client that stayed did not reconnect within 30s (status %v)", stay.Status())
	}
	nc = connect(t, s.ClientURL())
	js, _ = jetstream.New(nc)
	st, err := js.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 3 {
		t.Fatalf("after restart the stream holds %d messages, want 3", n)
	}
	logs, err := s.Logs(ctx)
	if err != nil || strings.Count(logs, "Server is ready") != 2 {
		t.Fatalf("logs (%v) do not show two starts:\n%s", err, logs)
	}
	nc.Close()

	id := s.ContainerID()
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, id); len(left) > 0 {
		t.Fatalf("containers left after Terminate: %v", left)
	}
}

func TestRunOptions(t *testing.T) {
	t.Run("user", func(t *testing.T) {
		s := containers.RunT(t, containers.WithUser("alice", "secret"), containers.WithJetStream(false))
		if _, err := nats.Connect(s.ClientURL(), nats.NoReconnect()); err == nil {
			t.Fatal("connected without credentials")
		}
		nc := connect(t, s.ClientURL(), nats.UserInfo("alice", "secret"))
		if _, err := jetstream.New(nc); err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		if _, err := js.AccountInfo(context.Background()); err == nil {
			t.Fatal("JetStream answers with WithJetStream(false)")
		}
	})
	t.Run("token", func(t *testing.T) {
		s := containers.RunT(t, containers.WithToken("t0k"))
		connect(t, s.ClientURL(), nats.Token("t0k"))
	})
	t.Run("config file and args", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nats.conf")
		if err := os.WriteFile(path, []byte("max_payload: 4096\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := containers.RunT(t, containers.WithConfigFile(path), containers.WithArgs("-D"))
		nc := connect(t, s.ClientURL())
		if got := nc.MaxPayload(); got != 4096 {
			t.Fatalf("max payload %d, want 4096 from the config file", got)
		}
		if logs, _ := s.Logs(context.Background()); !strings.Contains(logs, "[DBG]") {
			t.Fatalf("no debug lines with WithArgs(\"-D\"):\n%s", logs)
		}
	})
}

func TestImages(t *testing.T) {
	containers.SkipIfUnavailable(t)
	if got, want := containers.DefaultImage(), "nats:"+containers.ServerVersion(); got != want {
		t.Errorf("DefaultImage() = %q, want %q", got, want)
	}
	t.Run("local", func(t *testing.T) {
		s := containers.RunT(t, containers.WithLocalImage(), containers.WithJetStream(false))
		if s.Image() != containers.LocalImage() {
			t.Fatalf("image %s, want %s", s.Image(), containers.LocalImage())
		}
	})
	t.Run("explicit image that cannot be had", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := containers.Run(ctx, containers.WithImage("natskit.invalid/no-such-image:0"))
		if err == nil || !strings.Contains(err.Error(), containers.EnvImage+"=local") {
			t.Fatalf("Run of a missing image: %v", err)
		}
		t.Logf("failed in %v: %v", time.Since(start).Round(time.Millisecond), err)
	})
}
