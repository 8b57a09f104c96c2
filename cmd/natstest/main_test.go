package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

// The test binary doubles as the command when asked, so the tests run the real main.
func TestMain(m *testing.M) {
	if os.Getenv("NATSTEST_RUN_CLIENT") == "1" {
		os.Exit(client())
	}
	if os.Getenv("NATSTEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// client is a program that natstest run runs: it connects to NATS_URL and reports what it finds.
func client() int {
	nc, err := nats.Connect(os.Getenv("NATS_URL"))
	if err != nil {
		fmt.Println("connect:", err)
		return 1
	}
	defer nc.Close()
	if os.Getenv("NATSTEST_RUN_JETSTREAM") == "1" {
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := js.AccountInfo(ctx); err != nil {
			fmt.Println("jetstream:", err)
			return 1
		}
		fmt.Println("connected to", nc.ConnectedUrl(), "with JetStream")
		return 0
	}
	sub, err := nc.SubscribeSync("ping")
	if err != nil {
		fmt.Println("subscribe:", err)
		return 1
	}
	if err := nc.Publish("ping", []byte("pong")); err != nil {
		fmt.Println("publish:", err)
		return 1
	}
	if _, err := sub.NextMsg(10 * time.Second); err != nil {
		fmt.Println("receive:", err)
		return 1
	}
	fmt.Println("connected to", nc.ConnectedUrl())
	return 0
}

type command struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	url    string
}

// start runs the command with args and reads the URL from its first line of output.
func start(t *testing.T, args ...string) *command {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NATSTEST_RUN_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &command{cmd: cmd, stderr: &stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Scan()
		line <- s.Text()
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case c.url = <-line:
	case <-time.After(30 * time.Second):
		t.Fatalf("no URL printed in 30s; stderr: %s", stderr.String())
	}
	return c
}

// stop sends sig and returns the exit code.
func (c *command) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func TestServe(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			store := t.TempDir()
			c := start(t, "serve", "--backend", "embedded", "--addr", "127.0.0.1:0", "--store", store)
			if !strings.HasPrefix(c.url, "nats://127.0.0.1:") || strings.HasSuffix(c.url, ":0") {
				t.Fatalf("first line %q, want nats://127.0.0.1:PORT", c.url)
			}
			nc, err := nats.Connect(c.url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			sub, err := nc.SubscribeSync("hello")
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Publish("hello", []byte("world")); err != nil {
				t.Fatal(err)
			}
			if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "world" {
				t.Fatalf("NextMsg = %v, %v", m, err)
			}
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(store, "jetstream")); err != nil {
				t.Errorf("--store not used: %v", err)
			}
			nc.Close()
			if code := c.stop(t, sig); code != 0 {
				t.Errorf("exit code %d after %v, want 0; stderr: %s", code, sig, c.stderr)
			}
			if nc, err := nats.Connect(c.url, nats.Timeout(time.Second)); err == nil {
				nc.Close()
				t.Error("server still up after the command exited")
			}
		})
	}
}

// TestServeFake: serve runs the fake by default, for core NATS from any client.
func TestServeFake(t *testing.T) {
	c := start(t, "serve", "--addr", "127.0.0.1:0", "--log")
	nc, err := nats.Connect(c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe("svc.*", func(m *nats.Msg) { m.Respond(append([]byte("re "), m.Data...)) }); err != nil {
		t.Fatal(err)
	}
	if m, err := nc.Request("svc.echo", []byte("hi"), 5*time.Second); err != nil || string(m.Data) != "re hi" {
		t.Fatalf("request = %v, %v", m, err)
	}
	if _, err := nc.Request("nobody", nil, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request to nobody: %v, want no responders", err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg"})
	if err != nil {
		t.Fatalf("the fake serves JetStream: %v", err)
	}
	if _, err := kv.PutString(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "k"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("kv get = %v, %v", e, err)
	}
	nc.Close()
	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if !strings.Contains(c.stderr.String(), "fake: listening for client connections on nats://127.0.0.1:") {
		t.Errorf("--log: stderr %q has no server log", c.stderr)
	}
}

func TestServeJetStreamOff(t *testing.T) {
	c := start(t, "serve", "--backend", "embedded", "--addr", "127.0.0.1:0", "--jetstream=false", "--log")
	nc, err := nats.Connect(c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		t.Errorf("AccountInfo with --jetstream=false: %v", err)
	}
	nc.Close()
	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if !strings.Contains(c.stderr.String(), "Starting nats-server") {
		t.Errorf("--log: stderr %q has no server log", c.stderr)
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   string
		reason string
	}{
		{nil, "unknown or missing command", "no command"},
		{[]string{"run"}, "run needs a command", "run without a command"},
		{[]string{"serv"}, "unknown or missing command", "misspelt command"},
		{[]string{"serve", "--backend", "mock"}, `unknown backend "mock": valid backends are fake, embedded`, "unknown backend"},
		{[]string{"serve", "--addr", "nohost"}, `address "nohost"`, "address without a port"},
		{[]string{"serve", "extra"}, "serve takes no arguments", "stray argument"},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus", "unknown flag"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: run(%q) = %v, want an error containing %q", tc.reason, tc.args, err, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed %q on stdout", tc.reason, stdout.String())
		}
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"serve", "-h"}, io.Discard, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("serve -h: %v", err)
	}
	if !strings.Contains(stderr.String(), "-addr host:port") {
		t.Errorf("serve -h printed %q", stderr.String())
	}
}

func TestRunCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	script := `nats_url="$NATS_URL"; case "$nats_url" in nats://127.0.0.1:*) echo "$nats_url";; *) exit 9;; esac`
	if err := run(context.Background(), []string{"run", "--jetstream=false", "--", "sh", "-c", script}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v; stderr: %s", err, stderr.String())
	}
	url := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":4222") {
		t.Errorf("the command saw NATS_URL=%q, want a free loopback port", url)
	}
	if nc, err := nats.Connect(url, nats.Timeout(time.Second)); err == nil {
		nc.Close()
		t.Error("server still up after run returned")
	}

	// A real client reaches the server through NATS_URL.
	stdout.Reset()
	for _, tc := range []struct{ backend, env, want string }{
		{"fake", "", "connected to nats://127.0.0.1:"},
		{"embedded", "NATSTEST_RUN_JETSTREAM=1", "connected to nats://127.0.0.1:"},
	} {
		stdout.Reset()
		args := []string{"run", "--backend", tc.backend, "--", "env", "NATSTEST_RUN_CLIENT=1"}
		if tc.env != "" {
			args = append(args, tc.env)
		}
		c := exec.Command(os.Args[0], append(args, os.Args[0])...)
		c.Env = append(os.Environ(), "NATSTEST_RUN_MAIN=1")
		c.Stdout = &stdout
		if err := c.Run(); err != nil {
			t.Fatalf("natstest run --backend %s -- client: %v; it printed %q", tc.backend, err, stdout.String())
		}
		if got := stdout.String(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: client printed %q", tc.backend, got)
		}
	}

	// The command's exit code is the exit code of natstest run.
	c := exec.Command(os.Args[0], "run", "--", "sh", "-c", "exit 3")
	c.Env = append(os.Environ(), "NATSTEST_RUN_MAIN=1")
	err := c.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("natstest run -- sh -c 'exit 3': %v, want exit code 3", err)
	}
}
