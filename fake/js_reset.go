package fake

import (
	"encoding/json"
	"errors"
	"reflect"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Consumer reset, as nats-server does it: CONSUMER.RESET.<stream>.<consumer> moves a consumer
// back to its ack floor (an empty request) or to a sequence, forgetting what it had delivered.
// nats-server serves it from each consumer's own subscription, not its API dispatch: a missing
// consumer gets no answer, and the answer is neither audited nor counted as an API call.

// resetResponse is CONSUMER.RESET's answer: the consumer's info and where it starts again.
type resetResponse struct {
	apiHead
	*jetstream.ConsumerInfo
	ResetSeq uint64 `json:"reset_seq"`
}

// resetRequest is CONSUMER.RESET's body.
type resetRequest struct {
	Seq uint64 `json:"seq,omitempty"`
}

// consumerReset answers CONSUMER.RESET: the request is read (leniently, as the server reads it),
// the sequence checked against the consumer's deliver policy, and the consumer reset.
func (j *jetStream) consumerReset(r *apiRequest) bool {
	const typ = typePrefix + "consumer_reset_response"
	if len(r.tok) != 4 || j.lookupConsumer(r.arg(2), r.arg(3)) != nil || r.reply == "" {
		return true
	}
	if levelRefused(r.hdr) {
		j.send(r.reply, resetResponse{apiHead: apiHead{Type: typ, Error: jsRequiredApiLevelErr.err()}})
		return true
	}
	c := j.streams[r.arg(2)].consumers[r.arg(3)]
	var req resetRequest
	if len(r.body) > 0 {
		if err := json.Unmarshal(r.body, &req); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				err = serverTypeError(typeErr, reflect.TypeFor[resetRequest]())
			}
			j.send(r.reply, resetResponse{apiHead: apiHead{Type: typ, Error: jsInvalidJSONErr.err(err)}})
			return true
		}
	}
	seq, err := c.resetTo(req.Seq)
	if err != nil {
		j.send(r.reply, resetResponse{apiHead: apiHead{Type: typ, Error: jsConsumerInvalidResetErr.err(err)}})
		return true
	}
	info := c.info()
	j.send(r.reply, resetResponse{apiHead: apiHead{Type: typ}, ConsumerInfo: &info, ResetSeq: seq})
	c.kick()
	return true
}

// send answers a request with v as JSON, outside the API's accounting.
func (j *jetStream) send(to string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	j.s.sendTo(to, &message{subject: to, data: b})
}

// resetTo resets the consumer to seq, or to its ack floor when seq is 0, as nats-server's
// resetStartingSeq does: a sequence is allowed with deliver all, and with a start sequence or
// time not below it. It returns the sequence the consumer starts from.
func (c *consumer) resetTo(seq uint64) (uint64, error) {
	switch {
	case seq == 0:
		seq = c.asflr + 1
	case c.cfg.DeliverPolicy == jetstream.DeliverAllPolicy:
	case c.cfg.DeliverPolicy == jetstream.DeliverByStartSequencePolicy:
		if seq < c.cfg.OptStartSeq {
			return 0, errors.New("below start seq")
		}
	case c.cfg.DeliverPolicy == jetstream.DeliverByStartTimePolicy:
		if seq < c.st.seqFromTime(*c.cfg.OptStartTime) {
			return 0, errors.New("below start time")
		}
	default:
		return 0, errors.New("not allowed")
	}
	clear(c.pending)
	clear(c.rdc)
	c.rdq = nil
	c.lps, c.lpsResume = nil, 0
	c.sseq, c.dseq = seq, 0
	c.adflr, c.asflr = 0, seq-1
	c.delivered = seqPair{0, seq - 1}
	c.ackFloor = seqPair{0, seq - 1}
	c.scanFrom, c.scanTo = 0, 0
	c.lastDelivery, c.lastAck = time.Time{}, time.Time{}
	c.scheduleAck()
	c.st.j.retentionChanged(c.st)
	return seq, nil
}
