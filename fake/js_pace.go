package fake

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A push consumer's pace, as nats-server's delivery loop sets it, on the server's clock:
//
//   - replay_policy "original": until it has caught up with what the stream held when the
//     consumer was created, each message waits the time between its own timestamp and the
//     previous delivered message's (when that is over a millisecond);
//   - rate_limit_bps: a token bucket of bps/8 bytes a second, as deep as the largest message
//     the stream takes (its max_msg_size, else the server's max payload), starting full. A
//     message reserves its size (subject, ack subject, headers, payload) and waits until the
//     bucket has it; one larger than the bucket never goes.
//
// A message that must wait is taken from the stream and held; a timer on the clock delivers it.
// (Replay "original" on pull consumers is in js_pace_pull.go; nats-server refuses a rate limit on
// one.)

type pacing struct {
	held      *storedMsg // the message taken and waiting for its time
	heldDC    uint64
	stage     int       // 0: replay wait due; 1: rate wait due; 2: may go
	until     time.Time // the held message waits until then
	never     bool      // the held message is larger than the rate limit's bucket
	timer     *clockTimer
	lastTS    time.Time // the previous delivered message's timestamp
	replayTo  uint64    // the stream's last sequence when the consumer was made
	caughtUp  bool
	tokens    float64 // the rate limit's bucket, at tokensAt
	tokensAt  time.Time
	bucketSet bool
	pull      *pullHold // a pull consumer's message waiting for its time
}

// paced reports whether the consumer paces its deliveries.
func (c *consumer) paced() bool {
	return c.isPush() && (c.replaysOriginal() || c.cfg.RateLimit > 0)
}

func (c *consumer) replaysOriginal() bool {
	return c.cfg.ReplayPolicy == jetstream.ReplayOriginalPolicy && !c.pace.caughtUp
}

// startPace notes where replay "original" catches up: called when the consumer is made.
func (c *consumer) startPace() {
	c.pace.replayTo = c.st.last
}

// nextPaced is next for a paced consumer: the held message first, else the next one; nil when
// there is none, or when the message taken must wait (a timer then brings it).
func (c *consumer) nextPaced() (*storedMsg, uint64) {
	now := c.st.j.s.clock.Now()
	m, dc := c.pace.held, c.pace.heldDC
	if m == nil {
		if m, dc = c.next(); m == nil {
			if c.sseq > c.pace.replayTo {
				c.pace.caughtUp = true
			}
			return nil, 0
		}
		c.pace.stage = 0
	} else if c.pace.never || now.Before(c.pace.until) {
		return nil, 0
	}
	var wait time.Duration
	if c.pace.stage == 0 {
		c.pace.stage = 1
		if c.replaysOriginal() && !c.pace.lastTS.IsZero() {
			if d := m.time().Sub(c.pace.lastTS); d > time.Millisecond {
				wait = d
			}
		}
	}
	if wait == 0 && c.pace.stage == 1 {
		c.pace.stage = 2
		if c.cfg.RateLimit > 0 {
			wait = c.reserve(now, m, dc)
			if wait < 0 {
				c.pace.held, c.pace.heldDC, c.pace.never = m, dc, true
				return nil, 0
			}
		}
	}
	if wait > 0 {
		c.pace.held, c.pace.heldDC, c.pace.until = m, dc, now.Add(wait)
		c.pace.timer.Stop()
		c.pace.timer = c.st.j.s.clock.AfterFunc(wait, c.paceDue)
		return nil, 0
	}
	c.pace.held, c.pace.heldDC = nil, 0
	c.pace.lastTS = m.time()
	return m, dc
}

// paceDue delivers the held message once its wait is over.
func (c *consumer) paceDue() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.gone {
		return
	}
	c.deliverPush()
}

// reserve takes m's size from the rate limit's bucket at now and returns how long until the
// bucket has it, or -1 if it never will.
func (c *consumer) reserve(now time.Time, m *storedMsg, dc uint64) time.Duration {
	rate := float64(c.cfg.RateLimit / 8)
	burst := float64(c.st.j.s.opts.maxPayload)
	if c.st.cfg.MaxMsgSize > 0 {
		burst = float64(c.st.cfg.MaxMsgSize)
	}
	if !c.pace.bucketSet {
		c.pace.tokens, c.pace.tokensAt, c.pace.bucketSet = burst, now, true
	}
	size := float64(len(m.subj) + len(c.ackSubject(m, dc, c.dseq+1, c.numPending())) + len(m.hdr) + len(m.data))
	if size > burst || rate <= 0 {
		return -1
	}
	c.pace.tokens = min(burst, c.pace.tokens+rate*now.Sub(c.pace.tokensAt).Seconds())
	c.pace.tokensAt = now
	c.pace.tokens -= size
	if c.pace.tokens >= 0 {
		return 0
	}
	return time.Duration(-c.pace.tokens / rate * float64(time.Second))
}

// resetRate starts the rate limit's bucket afresh, as nats-server makes a new limiter when an
// update changes the rate.
func (c *consumer) resetRate() {
	c.pace.bucketSet = false
	if c.pace.never {
		c.pace.never, c.pace.stage = false, 1
	}
}

// ackSubject is the reply subject of delivery dseq (the dc-th) of m, with pending messages left.
func (c *consumer) ackSubject(m *storedMsg, dc, dseq, pending uint64) string {
	if c.ackPrefix == "" {
		c.ackPrefix = "$JS.ACK." + c.st.name() + "." + c.name + "."
	}
	var buf [160]byte
	b := append(buf[:0], c.ackPrefix...)
	b = strconv.AppendUint(b, dc, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, m.seq, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, dseq, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, m.ns, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, pending, 10)
	return string(b)
}
