package natstest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
)

// Every part of natstest that can run on the fake, run in one bubble, cleanup included: each
// wait is one the bubble sees (a channel, a timer, a condition), so the bubble's clock moves
// through hours of virtual time and the test ends in milliseconds. A wait on the wall clock or a
// socket would hang it: runBubble's watchdog then fails it with every goroutine's stack.
func TestBubbleWholeSurface(t *testing.T) {
	runBubble(t, func(t *testing.T) {
		var log bytes.Buffer
		env := New(t, WithBackend(Fake), WithJetStream(true), WithUsers(fake.User{Name: "app", Password: "pw"}),
			WithMaxPayload(1<<18), WithPingInterval(time.Minute), WithMaxPingsOut(2), WithAuthTimeout(time.Second),
			WithConnectOptions(nats.Name("surface"), nats.ReconnectWait(2*time.Second)),
			WithLogOutput(&log), WithFakeOptions(fake.WithSeed(1)))
		ctx := context.Background()

		// what the Env is
		if env.Backend() != Fake || env.Nodes() != 1 || env.Cluster() != nil || env.ContainerServer() != nil ||
			env.ContainerCluster() != nil || env.Server() == nil {
			t.Fatalf("a fake Env: backend %v, %d nodes, cluster %v, containers %v %v, server %v",
				env.Backend(), env.Nodes(), env.Cluster(), env.ContainerServer(), env.ContainerCluster(), env.Server())
		}
		if err := env.WaitClusterReady(ctx); err != nil {
			t.Fatal(err)
		}
		if env.Server().Seed() != 1 {
			t.Errorf("seed %d, want 1", env.Server().Seed())
		}

		// connections, recorders, interest
		rec := env.Record("orders.>")
		only := rec.Filter("orders.new")
		nc := env.Connect()
		other, err := env.Dial()
		if err != nil {
			t.Fatal(err)
		}
		sub, err := other.SubscribeSync("orders.new")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.WaitForInterest(ctx, "orders.new", 1); err != nil { // sub (the recorders do not count)
			t.Fatal(err)
		}
		for _, subj := range []string{"orders.new", "orders.paid"} {
			if err := nc.Publish(subj, []byte(subj)); err != nil {
				t.Fatal(err)
			}
		}
		if err := rec.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if msgs, err := rec.Wait(ctx, 2); err != nil || len(msgs) != 2 || msgs[0].Msg().Subject != "orders.new" {
			t.Fatalf("Wait(2) = %v, %v", msgs, err)
		}
		if only.Len() != 1 || rec.Len() != 2 || len(rec.Messages()) != 2 || len(rec.Subjects()) != 1 || rec.String() == "" {
			t.Fatalf("recorders: %d filtered, %d in all, subjects %v", only.Len(), rec.Len(), rec.Subjects())
		}
		if snap, _ := rec.Snapshot(); len(snap) != 2 {
			t.Fatalf("Snapshot: %d messages", len(snap))
		}
		if _, err := sub.NextMsg(time.Second); err != nil {
			t.Fatal(err)
		}
		rec.Reset()
		waitCtx, cancel := context.WithTimeout(ctx, time.Hour)
		if _, err := rec.Wait(waitCtx, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait with nothing published for an hour: %v", err)
		}
		cancel()
		rec.Stop()

		// faults, and time: the fake's clock is the bubble's
		remove := env.Inject(fake.Drop("orders.lost", 1))
		if err := nc.Publish("orders.lost", nil); err != nil {
			t.Fatal(err)
		}
		remove()
		start := time.Now()
		env.FastForward(time.Minute)
		if since := env.Server().Now().Sub(start); since < time.Minute {
			t.Errorf("FastForward(1m) moved the fake's clock %v past the bubble's", since)
		}
		time.Sleep(3 * time.Hour) // the bubble's time: PINGs every minute, answered, for three hours
		if !nc.IsConnected() || !env.Conn().IsConnected() {
			t.Fatal("a connection did not live through three idle hours of PINGs")
		}

		// a network cut and the client's reconnect wait, on the bubble's clock
		reconnected := make(chan struct{}, 1)
		nc.SetReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} })
		cut := time.Now()
		if err := env.Disconnect(nc); err != nil {
			t.Fatal(err)
		}
		<-reconnected
		if waited := time.Since(cut); waited < 2*time.Second {
			t.Errorf("reconnected after %v, before the reconnect wait of 2s", waited)
		}

		// JetStream, KV and object store, timers included
		js := env.JetStream()
		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if e := <-w.Updates(); e == nil || e.Key() != "k" {
			t.Fatalf("watch: %v", e)
		}
		time.Sleep(61 * time.Minute) // past the bucket's TTL
		if _, err := kv.Get(ctx, "k"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("Get after the TTL: %v, want not found", err)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "files"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := obs.PutString(ctx, "a.txt", strings.Repeat("x", 100_000)); err != nil {
			t.Fatal(err)
		}

		// a second Env in the same bubble, started and closed by hand, and one left to cleanup
		second, err := Start(WithBackend(Fake))
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Conn().Publish("x", nil); err != nil {
			t.Fatal(err)
		}
		second.Close()
		New(t, WithBackend(Fake), WithInProcess(), WithJetStream(false))
		if !strings.Contains(log.String(), "fake") {
			t.Errorf("WithLogOutput got no server log: %q", log.String())
		}
	})
}
