// Command natstest serves a NATS server for clients in any language and for CI: the real
// nats-server embedded, with JetStream, on a loopback port.
//
//	natstest serve [--addr 127.0.0.1:4222] [--backend embedded] [--jetstream=true] [--store DIR] [--log]
//	natstest run [flags] -- COMMAND [ARG...]
//
// serve prints the client URL as the first line on stdout, serves until SIGINT or SIGTERM, then
// shuts the server down and exits. run starts the server on a free port, runs COMMAND with
// NATS_URL set to the client URL, stops the server and exits with COMMAND's exit code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/natskit/natskit/natstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var exit *exec.ExitError
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "natstest:", err)
		os.Exit(2)
	}
}

const usage = `usage: natstest serve [flags]
       natstest run [flags] -- COMMAND [ARG...]

serve serves a NATS server until SIGINT or SIGTERM; the client URL is the first line on stdout.
run serves one on a free port while COMMAND runs with NATS_URL set, and exits with its code.
`

// run carries out the command line args, serving until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "run") {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return errors.New("unknown or missing command; the commands are serve and run")
	}
	verb := args[0]
	fs := flag.NewFlagSet("natstest "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage, "\nflags:\n")
		fs.PrintDefaults()
	}
	defAddr := "127.0.0.1:4222"
	if verb == "run" {
		defAddr = "127.0.0.1:0"
	}
	addr := fs.String("addr", defAddr, "`host:port` to listen on; port 0 picks a free port")
	backend := fs.String("backend", natstest.DefaultBackend().String(), "server to run: "+backendNames())
	js := fs.Bool("jetstream", true, "enable JetStream")
	store := fs.String("store", "", "JetStream store `directory` (default: a temporary one, removed on exit)")
	logs := fs.Bool("log", false, "write the server's log to stderr")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if verb == "serve" && fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if verb == "run" && fs.NArg() == 0 {
		return errors.New("run needs a command: natstest run [flags] -- COMMAND [ARG...]")
	}
	b, err := natstest.ParseBackend(*backend)
	if err != nil {
		return err
	}
	opts := []natstest.Option{natstest.WithBackend(b), natstest.WithAddr(*addr), natstest.WithJetStream(*js)}
	if *store != "" {
		opts = append(opts, natstest.WithStoreDir(*store))
	}
	if *logs {
		opts = append(opts, natstest.WithLogOutput(stderr))
	}
	env, err := natstest.Start(opts...)
	if err != nil {
		return err
	}
	defer env.Close()
	if verb == "run" {
		cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
		cmd.Env = append(os.Environ(), "NATS_URL="+env.URL())
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		return cmd.Run()
	}
	if _, err := fmt.Fprintln(stdout, env.URL()); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func backendNames() string {
	var names []string
	for _, b := range natstest.Backends() {
		names = append(names, b.String())
	}
	return strings.Join(names, ", ")
}
