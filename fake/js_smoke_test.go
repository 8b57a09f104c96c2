package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/fake"
)

func TestJetStreamSmoke(t *testing.T) {
	s := fake.Run(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := js.Publish(ctx, "s.a", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", AckWait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(2, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		n++
		m.Ack()
	}
	if n != 2 {
		t.Fatalf("got %d", n)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b", History: 3})
	if err != nil {
		t.Fatal(err)
	}
	kv.Put(ctx, "k", []byte("v1"))
	kv.Put(ctx, "k", []byte("v2"))
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v2" {
		t.Fatal(err, e)
	}
	keys, err := kv.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatal(keys, err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for e := range w.Updates() {
		if e == nil {
			break
		}
		got++
	}
	w.Stop()
	if got != 1 {
		t.Fatal(got)
	}
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "o"})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 300000)
	if _, err := obs.PutBytes(ctx, "f", data); err != nil {
		t.Fatal(err)
	}
	back, err := obs.GetBytes(ctx, "f")
	if err != nil || len(back) != len(data) {
		t.Fatal(err, len(back))
	}
	list, err := obs.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatal(err, list)
	}
	// redelivery on the fake clock
	m, err := c.Next(jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	md, _ := m.Metadata()
	s.FastForward(31 * time.Second)
	m2, err := c.Next(jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	md2, _ := m2.Metadata()
	if md2.Sequence.Stream != md.Sequence.Stream || md2.NumDelivered != 2 {
		t.Fatal(md, md2)
	}
}
