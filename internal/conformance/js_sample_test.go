package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A consumer's sample_freq: the server publishes an ack metric for that share of the explicit
// acks of pending messages, on $JS.EVENT.METRIC.CONSUMER.ACK.<stream>.<consumer>.

type ackMetric struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	Time        time.Time `json:"timestamp"`
	Stream      string    `json:"stream"`
	Consumer    string    `json:"consumer"`
	ConsumerSeq uint64    `json:"consumer_seq"`
	StreamSeq   uint64    `json:"stream_seq"`
	Delay       int64     `json:"ack_time"`
	Deliveries  uint64    `json:"deliveries"`
}

// sampleSetup is stream S (s.>) with n messages, a sampled pull consumer C made of cfg, and a
// subscription to its ack metrics.
func sampleSetup(t *testing.T, env *natstest.Env, n int, cfg jetstream.ConsumerConfig) (jetstream.Consumer, *nats.Subscription) {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	for i := range n {
		spPub(t, env, "s."+string(rune('a'+i)), "x")
	}
	cfg.Durable = "C"
	c := spConsumer(t, s, cfg)
	sub := subSync(t, env.Conn(), "$JS.EVENT.METRIC.CONSUMER.ACK.>")
	flush(t, env.Conn())
	return c, sub
}

// metric is the next ack metric on sub, checked for what every metric carries.
func metric(t *testing.T, sub *nats.Subscription) ackMetric {
	t.Helper()
	m := next(t, sub)
	if m.Subject != "$JS.EVENT.METRIC.CONSUMER.ACK.S.C" {
		t.Fatalf("metric on %q", m.Subject)
	}
	var got ackMetric
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatalf("metric %s: %v", m.Data, err)
	}
	if got.Type != "io.nats.jetstream.metric.v1.consumer_ack" || got.ID == "" || got.Time.IsZero() ||
		got.Stream != "S" || got.Consumer != "C" || got.Delay < 0 {
		t.Errorf("metric %s", m.Data)
	}
	return got
}

// fetchN pulls n messages from c.
func fetchN(t *testing.T, c jetstream.Consumer, n int) []jetstream.Msg {
	t.Helper()
	b, err := c.Fetch(n, jetstream.FetchMaxWait(patience))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != n {
		t.Fatalf("fetched %d of %d: %v", len(msgs), n, b.Error())
	}
	return msgs
}

func ackSync(t *testing.T, m jetstream.Msg) {
	t.Helper()
	if err := m.DoubleAck(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// Every ack sampled at 100%: the metric names the delivery, its stream sequence and count.
func TestJSSampleEveryAck(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c, sub := sampleSetup(t, env, 2, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100%"})
		msgs := fetchN(t, c, 2)
		ackSync(t, msgs[1])
		ackSync(t, msgs[0])
		for _, want := range []struct{ cseq, sseq uint64 }{{2, 2}, {1, 1}} {
			if got := metric(t, sub); got.ConsumerSeq != want.cseq || got.StreamSeq != want.sseq || got.Deliveries != 1 {
				t.Errorf("metric %+v, want consumer seq %d, stream seq %d, 1 delivery", got, want.cseq, want.sseq)
			}
		}
		nothingMore(t, sub)
		if got := spCInfo(t, c).Config.SampleFrequency; got != "100%" {
			t.Errorf("sample_freq in info %q, want it as given", got)
		}
	})
}

// "100" without the percent sign samples every ack too; a redelivery's ack carries its count and
// its own consumer sequence.
func TestJSSampleRedeliveredAck(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c, sub := sampleSetup(t, env, 1, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100"})
		first := fetchN(t, c, 1)[0]
		if err := first.Nak(); err != nil {
			t.Fatal(err)
		}
		again := fetchN(t, c, 1)[0]
		ackSync(t, again)
		if got := metric(t, sub); got.ConsumerSeq != 2 || got.StreamSeq != 1 || got.Deliveries != 2 {
			t.Errorf("metric %+v, want consumer seq 2, stream seq 1, 2 deliveries", got)
		}
		nothingMore(t, sub)
	})
}

// Naks, terms and progress reports are not sampled, nor is a second ack of the same message; the
// metric that comes is the one of the ack after them.
func TestJSSampleOnlyAcks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c, sub := sampleSetup(t, env, 3, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100"})
		msgs := fetchN(t, c, 3)
		if err := msgs[0].InProgress(); err != nil {
			t.Fatal(err)
		}
		if err := msgs[0].Term(); err != nil {
			t.Fatal(err)
		}
		if err := msgs[1].NakWithDelay(time.Hour); err != nil {
			t.Fatal(err)
		}
		ackSync(t, msgs[2])
		if _, err := env.Conn().Request(msgs[2].Reply(), []byte("+ACK"), patience); err != nil { // a second ack of an acked message
			t.Fatal(err)
		}
		if got := metric(t, sub); got.StreamSeq != 3 {
			t.Errorf("first metric for stream seq %d, want 3: the term, nak and progress report were sampled", got.StreamSeq)
		}
		nothingMore(t, sub)
	})
}

// +NXT (an ack and a pull request in one) is sampled as an ack.
func TestJSSampleAckNext(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c, sub := sampleSetup(t, env, 2, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100"})
		m := fetchN(t, c, 1)[0]
		inbox := subSync(t, env.Conn(), nats.NewInbox())
		if err := env.Conn().PublishRequest(m.Reply(), inbox.Subject, []byte("+NXT")); err != nil {
			t.Fatal(err)
		}
		if got := next(t, inbox); got.Subject != "s.b" {
			t.Errorf("+NXT brought %q, want s.b", got.Subject)
		}
		if got := metric(t, sub); got.StreamSeq != 1 || got.ConsumerSeq != 1 {
			t.Errorf("metric %+v, want the ack of stream seq 1", got)
		}
	})
}

// An ack-all consumer, and a sampling of 0, publish no metrics: the ack of an explicit
// consumer sampled at 100% on the same stream afterwards is the first metric to come.
func TestJSSampleNotForAckAllOrZero(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		spPub(t, env, "s.a", "x")
		sub := subSync(t, env.Conn(), "$JS.EVENT.METRIC.CONSUMER.ACK.>")
		flush(t, env.Conn())
		for name, cfg := range map[string]jetstream.ConsumerConfig{
			"ALL":  {AckPolicy: jetstream.AckAllPolicy, SampleFrequency: "100"},
			"ZERO": {AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "0"},
		} {
			cfg.Durable = name
			ackSync(t, fetchN(t, spConsumer(t, s, cfg), 1)[0])
		}
		ackSync(t, fetchN(t, spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100"}), 1)[0])
		if got := next(t, sub); got.Subject != "$JS.EVENT.METRIC.CONSUMER.ACK.S.C" {
			t.Errorf("first metric on %q, want consumer C's", got.Subject)
		}
		nothingMore(t, sub)
	})
}

// Sampling set on an update takes effect for the next ack.
func TestJSSampleByUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		c, sub := sampleSetup(t, env, 2, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
		msgs := fetchN(t, c, 2)
		ackSync(t, msgs[0]) // not sampled
		s, err := env.JetStream().Stream(waitCtx(t), "S")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "100%"}); err != nil {
			t.Fatal(err)
		}
		ackSync(t, msgs[1])
		if got := metric(t, sub); got.StreamSeq != 2 {
			t.Errorf("metric for stream seq %d, want 2", got.StreamSeq)
		}
		nothingMore(t, sub)
	})
}

// A sampling that does not parse, or is negative, is the server's error.
func TestJSSampleBadValue(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := refConsumer(t, env, jetstream.ConsumerConfig{Durable: "B", SampleFrequency: "abc"})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10095,
			Description: `failed to parse consumer sampling configuration: strconv.Atoi: parsing "abc": invalid syntax`})
		_, err = refConsumer(t, env, jetstream.ConsumerConfig{Durable: "N", SampleFrequency: "-5%"})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10095,
			Description: `failed to parse consumer sampling configuration: <nil>`}) // nats-server's words for a negative one
	})
}
