package natstest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A failover test on a 3-node JetStream cluster in the test process: an R3 stream, its leader's
// node stopped, the stream still taking messages, the node back and caught up.
func ExampleNewCluster() {
	testStreamSurvivesLeaderLoss := func(t *testing.T) {
		c := natstest.NewCluster(t, 3) // n1, n2, n3; a JetStream meta leader; gone at the end of the test
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		js := c.JetStream() // on a connection that knows every node and fails over
		s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
		if err != nil {
			t.Fatal(err)
		}
		leader := c.Index(s.CachedInfo().Cluster.Leader)
		c.StopNode(leader) // its store stays
		if _, err := js.Publish(ctx, "orders.new", []byte("1"), jetstream.WithMsgID("1")); err != nil {
			t.Fatal(err) // a real test retries until the new leader acks
		}
		c.RestartNode(leader) // same name, ports and store; returns once it has rejoined
		if err := c.WaitForStreamCurrent(ctx, "ORDERS"); err != nil {
			t.Fatal(err)
		}
	}
	_ = testStreamSurvivesLeaderLoss
}

// Two clusters joined by gateways: a message published in one reaches a subscriber in the other.
func ExampleNewSuperCluster() {
	testAcrossGateway := func(t *testing.T) {
		sc := natstest.NewSuperCluster(t, 2, 3) // clusters c1 and c2, nodes c1-n1 … c2-n3
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sub, err := sc.Cluster(1).ConnectTo(0).SubscribeSync("events.>")
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Cluster(1).WaitForInterest(ctx, "events.x"); err != nil {
			t.Fatal(err)
		}
		if err := sc.Cluster(0).ConnectTo(2).Publish("events.x", []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.NextMsgWithContext(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_ = testAcrossGateway
}

// An Env on a 3-node JetStream cluster: the same Conn, JetStream and WaitForInterest as on one
// server, and nodes to stop and start. New(t, natstest.WithCluster(3)) does the same for a test.
func ExampleWithCluster() {
	env, err := natstest.Start(natstest.WithCluster(3)) // embedded, unless NATSTEST_BACKEND=container
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	js := env.JetStream() // its connection knows every node and reconnects to whichever is up
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Stop the stream leader's node (n1 is node 0); its store stays.
	info, err := s.Info(ctx)
	for err == nil && info.Cluster.Leader == "" { // the stream's replicas are still electing
		info, err = s.Info(ctx)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	leader, _ := strconv.Atoi(strings.TrimPrefix(info.Cluster.Leader, "n"))
	env.StopNode(leader - 1)
	// Publish until the stream has a new leader; the Msg-Id makes retries safe.
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		_, err = js.Publish(pctx, "orders.new", []byte("1"), jetstream.WithMsgID("1"))
		pcancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		fmt.Println("publish:", err)
		return
	}
	env.StartNode(leader - 1) // returns once the node has rejoined
	info, err = s.Info(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("nodes:", env.Nodes(), "messages:", info.State.Msgs)
	// Output: nodes: 3 messages: 1
}
