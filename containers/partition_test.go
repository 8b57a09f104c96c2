package containers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/containers"
	"github.com/natskit/natskit/internal/monitor"
)

// jszStreamMsgs is how many messages node i's own replica of stream holds, from its /jsz.
func jszStreamMsgs(ctx context.Context, c *containers.Cluster, i int, stream string) (uint64, error) {
	var jz struct {
		Accounts []struct {
			Streams []struct {
				Name  string `json:"name"`
				State struct {
					Msgs uint64 `json:"messages"`
				} `json:"state"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := monitor.Get(ctx, http.DefaultClient, c.Node(i).MonitoringURL(), "/jsz?streams=true", &jz); err != nil {
		return 0, err
	}
	for _, a := range jz.Accounts {
		for _, s := range a.Streams {
			if s.Name == stream {
				return s.State.Msgs, nil
			}
		}
	}
	return 0, nil
}

// A network cut of the stream leader's node: the two other nodes elect a leader and keep taking
// publishes; once the node is back on the network, its replica catches up.
func TestClusterPartitionOfTheStreamLeader(t *testing.T) {
	c := containers.RunClusterT(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nc, err := nats.Connect(c.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s := createStream(ctx, t, js, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
	const n = 20
	for i := range n {
		publish(ctx, t, js, "orders.new", fmt.Sprint("before-", i))
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cut := -1
	for i := range c.Size() {
		if info.Cluster.Leader == fmt.Sprintf("n%d", i+1) {
			cut = i
		}
	}
	if cut < 0 {
		t.Fatalf("stream leader %q is no node", info.Cluster.Leader)
	}
	// The majority's clients: connected to the two other nodes only.
	var majority []string
	for i, u := range c.ClientURLs() {
		if i != cut {
			majority = append(majority, u)
		}
	}
	mc, err := nats.Connect(strings.Join(majority, ","), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	mjs, _ := jetstream.New(mc)
	start := time.Now()
	if err := c.Disconnect(ctx, cut); err != nil {
		t.Fatal(err)
	}
	t.Logf("cut n%d, the stream leader, off the network", cut+1)
	for i := range n {
		publish(ctx, t, mjs, "orders.new", fmt.Sprint("during-", i))
	}
	if s, err = mjs.Stream(ctx, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	info, err = s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster.Leader == fmt.Sprintf("n%d", cut+1) || info.State.Msgs != 2*n {
		t.Fatalf("during the cut: leader %s, %d messages; want another leader and %d", info.Cluster.Leader, info.State.Msgs, 2*n)
	}
	t.Logf("new stream leader %s, %d messages stored, %v after the cut", info.Cluster.Leader, info.State.Msgs, time.Since(start).Round(time.Millisecond))

	if err := c.Reconnect(ctx, cut); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for {
		got, err := jszStreamMsgs(ctx, c, cut, "ORDERS")
		if err == nil && got == 2*n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("n%d's replica holds %d messages (%v) %v after it came back, want %d", cut+1, got, err, time.Since(start).Round(time.Second), 2*n)
		}
		<-time.After(200 * time.Millisecond) // look again, within ctx's deadline
	}
	t.Logf("n%d's replica caught up %v after it came back", cut+1, time.Since(start).Round(time.Millisecond))
}
