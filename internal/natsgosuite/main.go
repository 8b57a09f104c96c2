// Command natsgosuite serves the tester protocol that nats.go's own integration tests drive
// (github.com/synadia-io/orbit.go/ntf-client: the "tester.*" requests), with every server it
// creates an in-memory fake from package fake on a loopback port. nats.go's test packages then run
// against the fake by pointing TESTER_NATS_URL at it; .ci/natsgo-suites does that.
//
// Only what the fake can stand for is served: single servers with or without JetStream, their
// stop and start (fake.Server.Stop: 409 Server Shutdown to waiting pull requests, clients
// dropped and refused, state kept as a server with a file store keeps it over a restart), status,
// list, destroy and reset. Clusters, super-clusters,
// config snippets and templates, generated TLS, trace capture and traffic shaping are refused
// with a service error naming what was asked, so a test that needs them fails at once and says why.
//
// Usage: natsgosuite [-addr 127.0.0.1:0] [-log FILE]. It prints the tester's URL on its first line
// of standard output and serves until interrupted.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address of the tester's own server")
	logPath := flag.String("log", "", "append one line per refused request to this file")
	flag.Parse()

	t, err := start(*addr, *logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsgosuite:", err)
		os.Exit(1)
	}
	fmt.Println(t.url())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	t.close()
}
