package fake

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// sampledAcks acks n messages of a consumer sampled at freq on a server seeded seed, and returns
// the stream sequences whose acks were sampled.
func sampledAcks(t *testing.T, seed uint64, freq string, n int) []uint64 {
	t.Helper()
	s := Run(t, WithoutListener(), WithSeed(seed))
	nc := inproc(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := js.Publish(ctxT(t), "s", nil); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CreateOrUpdateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: freq})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := nc.SubscribeSync("$JS.EVENT.METRIC.CONSUMER.ACK.S.C")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(n)
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		if err := m.DoubleAck(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for {
		m, err := sub.NextMsg(0)
		if err != nil {
			break
		}
		var metric struct {
			StreamSeq uint64 `json:"stream_seq"`
		}
		if err := json.Unmarshal(m.Data, &metric); err != nil {
			t.Fatal(err)
		}
		got = append(got, metric.StreamSeq)
	}
	return got
}

// A sampling between 0 and 100 samples some acks, chosen from the server's seed: the same seed
// samples the same acks.
func TestSampleFollowsSeed(t *testing.T) {
	a, b := sampledAcks(t, 3, "50%", 200), sampledAcks(t, 3, "50%", 200)
	if len(a) == 0 || len(a) == 200 {
		t.Fatalf("50%% sampled %d of 200 acks", len(a))
	}
	if !slices.Equal(a, b) {
		t.Fatalf("the same seed sampled different acks:\n%v\n%v", a, b)
	}
}
