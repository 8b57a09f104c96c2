package fake

import (
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// A consumer's sample_freq ("30", "30%") has the server publish a metric for that share of its
// acks, on $JS.EVENT.METRIC.CONSUMER.ACK.<stream>.<consumer>: the time from delivery to ack. As
// nats-server: only explicit acks (+ACK, +OK, an empty ack, +NXT) of a pending message of an
// explicit-ack consumer are sampled; 100 and more samples every one; a share between draws a
// number in [0, 100) and samples when it is at most the share (so 50 samples 51 in 100).

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

// checkSampling parses sample_freq as nats-server does.
func checkSampling(freq string) *apiError {
	if freq == "" {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(freq, "%"))
	if err != nil || n < 0 {
		return jsConsumerInvalidSamplingErrF.err(errString(err))
	}
	return nil
}

// sampleFreq is the consumer's sample_freq as a share; 0 without one.
func (c *consumer) sampleFreq() int {
	n, _ := strconv.Atoi(strings.TrimSuffix(c.cfg.SampleFrequency, "%"))
	return n
}

// sampleAck publishes the ack metric of the pending message sseq, whose delivery dseq (the dc-th)
// the ack answers, if the consumer samples this ack.
func (c *consumer) sampleAck(sseq, dseq, dc uint64) {
	if c.cfg.AckPolicy != jetstream.AckExplicitPolicy {
		return
	}
	p, ok := c.pending[sseq]
	if !ok || !c.shouldSample() {
		return
	}
	j := c.st.j
	now := j.now()
	j.advise("$JS.EVENT.METRIC.CONSUMER.ACK."+c.st.name()+"."+c.name, ackMetric{
		Type: "io.nats.jetstream.metric.v1.consumer_ack", ID: nuid.Next(), Time: now,
		Stream: c.st.name(), Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq,
		Delay: now.Sub(p.ts).Nanoseconds(), Deliveries: dc,
	})
}

func (c *consumer) shouldSample() bool {
	switch f := c.sampleFreq(); {
	case f <= 0:
		return false
	case f >= 100:
		return true
	default:
		return c.st.j.sampler.IntN(100) <= f
	}
}
