package fake

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Consumer pause, as nats-server does it: a consumer whose pause_until lies ahead on the server's
// clock delivers nothing (pull requests wait, and expire; heartbeats go on), resumes by itself
// when the time comes, and each change of the pause is announced on
// $JS.EVENT.ADVISORY.CONSUMER.PAUSE.<stream>.<consumer>. A resume through the API does not wake
// the consumer (nor does the server's): it delivers at the next thing that does.

// pauseResponse is CONSUMER.PAUSE's answer.
type pauseResponse struct {
	apiHead
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}

// pauseRequest is CONSUMER.PAUSE's body: no time, or a zero one, resumes.
type pauseRequest struct {
	PauseUntil time.Time `json:"pause_until,omitempty"`
}

type pauseAdvisory struct {
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	Time       time.Time `json:"timestamp"`
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Paused     bool      `json:"paused"`
	PauseUntil time.Time `json:"pause_until,omitempty"`
}

// paused reports whether the consumer's pause lies ahead on the server's clock.
func (c *consumer) paused() bool {
	p := c.cfg.PauseUntil
	return p != nil && !p.IsZero() && c.st.j.s.clock.Now().Before(*p)
}

// pauseRemaining is how long the pause still lasts, 0 if the consumer is not paused.
func (c *consumer) pauseRemaining() time.Duration {
	if !c.paused() {
		return 0
	}
	return c.cfg.PauseUntil.Sub(c.st.j.s.clock.Now())
}

// schedulePause arms the timer that resumes the consumer when its pause ends, if it is paused.
func (c *consumer) schedulePause() {
	c.pauseTimer.Stop()
	c.pauseTimer = nil
	if !c.paused() {
		return
	}
	clk := c.st.j.s.clock
	c.pauseTimer = clk.AfterFunc(c.cfg.PauseUntil.Sub(clk.Now()), c.pauseEnded)
}

// pauseEnded resumes the consumer when its pause runs out: an advisory, then whatever waits.
// nats-server does not stop the timer when it deletes a consumer: the advisory of a deleted
// consumer's resume comes all the same.
func (c *consumer) pauseEnded() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed {
		return
	}
	c.pauseTimer = nil
	c.advisePause()
	c.kick()
}

// advisePause announces the consumer's pause as it stands.
func (c *consumer) advisePause() {
	j := c.st.j
	a := pauseAdvisory{Type: "io.nats.jetstream.advisory.v1.consumer_pause", ID: nuid.Next(), Time: j.now(),
		Stream: c.st.name(), Consumer: c.name}
	if c.cfg.PauseUntil != nil {
		a.PauseUntil = *c.cfg.PauseUntil
		a.Paused = c.paused()
	}
	j.advise("$JS.EVENT.ADVISORY.CONSUMER.PAUSE."+c.st.name()+"."+c.name, a)
}

// setRequiredLevel sets the API level a consumer config needs, as nats-server records it in its
// metadata: 1 for a pause.
func setRequiredLevel(cfg *jetstream.ConsumerConfig) {
	level := "0"
	if (cfg.PauseUntil != nil && !cfg.PauseUntil.IsZero()) || usesPriority(cfg) {
		level = "1"
	}
	if cfg.AckPolicy == jetstream.AckFlowControlPolicy {
		level = "4"
	}
	if cfg.Metadata == nil {
		cfg.Metadata = make(map[string]string)
	}
	cfg.Metadata["_nats.req.level"] = level
}

// consumerPause answers CONSUMER.PAUSE in nats-server's order: the request's JSON, the stream,
// the consumer; then it pauses until the time given (in UTC), or resumes without one.
func (j *jetStream) consumerPause(r *apiRequest) bool {
	const typ = "consumer_pause_response"
	var req pauseRequest
	if objectOrArray(r.body) {
		if err := decodeRequest(r.body, &req); err != nil {
			j.replyErrShaped(r.reply, typ, jsInvalidJSONErr.err(err))
			return true
		}
	}
	if levelRefused(r.hdr) {
		j.replyErrShaped(r.reply, typ, jsRequiredApiLevelErr.err())
		return true
	}
	if e := j.lookupConsumer(r.arg(2), r.arg(3)); e != nil {
		j.replyErrShaped(r.reply, typ, e)
		return true
	}
	c := j.streams[r.arg(2)].consumers[r.arg(3)]
	until := req.PauseUntil.UTC()
	var old time.Time
	if c.cfg.PauseUntil != nil {
		old = *c.cfg.PauseUntil
	}
	cfg := c.cfg
	cfg.Metadata = maps(cfg.Metadata)
	cfg.PauseUntil = nil
	if !until.IsZero() {
		cfg.PauseUntil = &until
	}
	setRequiredLevel(&cfg)
	c.cfg = cfg
	if !old.Equal(until) {
		c.schedulePause()
		c.advisePause()
	}
	resp := pauseResponse{apiHead: apiHead{Type: typePrefix + typ}, PauseUntil: until}
	if resp.Paused = c.paused(); resp.Paused {
		resp.PauseRemaining = c.pauseRemaining()
	}
	j.reply(r.reply, resp)
	// nats-server's delivery loop is not woken by the change: what the consumer holds goes out
	// when something else wakes it (a message, a request, an ack, a heartbeat or expiry due).
	c.asleep = !resp.Paused
	return true
}
