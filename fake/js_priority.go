package fake

import (
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Priority groups on pull consumers, as nats-server v2.15 has them. A consumer names its groups
// and one policy: overflow (a request with min_pending or min_ack_pending is served only while
// the consumer is that far behind), pinned_client (one client, the pinned one, gets every message
// until it stops asking for priority_timeout or an admin unpins it) or prioritized (requests with
// a lower priority are served first). Like the server, the fake keeps one pin per consumer.

// defaultPinnedTTL is how long a pinned client may go without asking before it loses its pin,
// when the consumer does not say.
const defaultPinnedTTL = 2 * time.Minute

// priorityState is a consumer's pin: who holds it, since when, and the timer that takes it away.
type priorityState struct {
	pinID    string
	pinnedTS time.Time
	group    string
	timer    *clockTimer
}

// validGroupName is nats-server's rule for priority group names.
var validGroupName = regexp.MustCompile(`^[a-zA-Z0-9/_=-]{1,16}$`)

// usesPriority reports whether a consumer config asks for priority groups.
func usesPriority(cfg *jetstream.ConsumerConfig) bool {
	return cfg.PriorityPolicy != jetstream.PriorityPolicyNone || cfg.PinnedTTL != 0 || len(cfg.PriorityGroups) > 0
}

// checkPriority fills in the pinned TTL as nats-server does and makes its checks of a consumer's
// priority policy and groups, in its order.
func checkPriority(cfg *jetstream.ConsumerConfig) *apiError {
	if cfg.PinnedTTL < 0 {
		cfg.PinnedTTL = 0
	}
	if cfg.PriorityPolicy == jetstream.PriorityPolicyPinned && cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = defaultPinnedTTL
	}
	if cfg.PriorityPolicy != jetstream.PriorityPolicyNone {
		if cfg.DeliverSubject != "" {
			return jsConsumerPushWithPriorityGroupErr.err()
		}
		if len(cfg.PriorityGroups) == 0 {
			return jsConsumerPriorityPolicyWithoutGroup.err()
		}
		for _, g := range cfg.PriorityGroups {
			if g == "" {
				return jsConsumerEmptyGroupName.err()
			}
			if !validGroupName.MatchString(g) {
				return jsConsumerInvalidGroupNameErr.err()
			}
		}
		return nil
	}
	if len(cfg.PriorityGroups) > 0 {
		return jsConsumerPriorityGroupWithPolicyNone.err()
	}
	if cfg.PinnedTTL > 0 {
		return jsConsumerPinnedTTLWithoutPriorityPolicyNone.err()
	}
	return nil
}

// nextPriority is what a pull request carries about priority groups.
type nextPriority struct {
	Group         string `json:"group,omitempty"`
	MinPending    int64  `json:"min_pending,omitempty"`
	MinAckPending int64  `json:"min_ack_pending,omitempty"`
	ID            string `json:"id,omitempty"`
	Priority      int    `json:"priority,omitempty"`
}

// checkPriorityRequest answers a pull request's priority fields as nats-server does, in its
// order; pg is nil when the request was not JSON. A request from the pinned client keeps the pin
// alive. It returns the status line of a refusal, or "".
func (c *consumer) checkPriorityRequest(pg *nextPriority) string {
	if pg == nil {
		return ""
	}
	policy := c.cfg.PriorityPolicy
	switch {
	case (pg.MinPending != 0 || pg.MinAckPending != 0) && policy != jetstream.PriorityPolicyOverflow:
		return "400 Bad Request - Not a Overflow Priority consumer"
	case pg.ID != "" && policy != jetstream.PriorityPolicyPinned:
		return "400 Bad Request - Not a Pinned Client Priority consumer"
	case pg.Priority < 0 || pg.Priority > 9:
		return "400 Bad Request - Priority must be between 0 and 9"
	}
	if policy == jetstream.PriorityPolicyNone {
		return ""
	}
	if pg.Group == "" {
		return "400 Bad Request - Priority Group missing"
	}
	if !slices.Contains(c.cfg.PriorityGroups, pg.Group) {
		return "400 Bad Request - Invalid Priority Group"
	}
	if c.prio.pinID != "" {
		if pg.ID == c.prio.pinID {
			c.setPinnedTimer()
		} else if pg.ID != "" {
			return "423 Nats-Pin-Id mismatch"
		}
	}
	return ""
}

// priorityOf is where a request stands in a prioritized consumer's queue: lower first, a
// request without priority fields last.
func priorityOf(w *pullRequest) int {
	if w.pg == nil {
		return math.MaxInt32
	}
	return w.pg.Priority
}

// enqueue adds a pull request to the consumer's queue: at the end, or on a prioritized consumer
// after every request of the same or a lower priority.
func (c *consumer) enqueue(w *pullRequest) {
	if c.cfg.PriorityPolicy != jetstream.PriorityPolicyPrioritized {
		c.waiting = append(c.waiting, w)
		return
	}
	p := priorityOf(w)
	i := 0
	for i < len(c.waiting) && priorityOf(c.waiting[i]) <= p {
		i++
	}
	c.waiting = slices.Insert(c.waiting, i, w)
}

// cycle moves the request at the head of the queue to its end.
func (c *consumer) cycle() {
	w := c.waiting[0]
	c.waiting = append(c.waiting[1:], w)
}

// requeue puts the head request, served and still wanting more, where nats-server puts it: at
// the end of the queue, or on a prioritized consumer at the end of its priority.
func (c *consumer) requeue() {
	if len(c.waiting) < 2 {
		return
	}
	w := c.waiting[0]
	c.waiting = c.waiting[1:]
	if c.cfg.PriorityPolicy == jetstream.PriorityPolicyPrioritized {
		c.enqueue(w)
		return
	}
	c.waiting = append(c.waiting, w)
}

// servePriority hands available messages to the waiting requests of a consumer with a priority
// policy, choosing each message's request as nats-server does. A message no request may take
// stays for later.
func (c *consumer) servePriority() {
	for len(c.waiting) > 0 && c.hasNext() {
		sseq, lps, rdq := c.sseq, c.lps, c.rdq
		m, dc := c.next()
		if m == nil {
			break
		}
		size := c.wireSize(m, dc)
		w := c.nextWaiting(size)
		if w == nil {
			if dc > 1 {
				c.rdc[m.seq]--
			}
			c.sseq, c.lps, c.rdq = sseq, lps, rdq
			// nats-server ends the no-wait requests as at the end of the stream
			c.endNoWait()
			return
		}
		ended, held := c.deliverPull(w, m, dc)
		if held {
			return
		}
		if !ended {
			c.requeue()
		}
	}
}

// nextWaiting is the request the next message goes to, at the head of the queue, or nil when
// none may take it now: nats-server's choice, with the pin given to the first request that
// does not name one, requests naming an old pin ended with 423, others of a pinned consumer and
// overflow requests whose thresholds are not met passed over.
func (c *consumer) nextWaiting(size int) *pullRequest {
	j := c.st.j
	policy := c.cfg.PriorityPolicy
	needPin := c.prio.pinID == "" && policy == jetstream.PriorityPolicyPinned
	wrongPin := func(w *pullRequest) {
		j.status(w.reply, "423 Nats-Wrong-Pin-Id",
			"Nats-Pending-Messages", strconv.Itoa(w.n), "Nats-Pending-Bytes", strconv.Itoa(w.b))
		c.removeWaiting(w)
	}
	cycled := 0
	for len(c.waiting) > 0 {
		w := c.waiting[0]
		assigned := false
		if needPin {
			if w.pg != nil && w.pg.ID != "" {
				wrongPin(w)
				continue
			}
			assigned = c.assignPin(w)
		} else if c.prio.pinID != "" && (w.pg == nil || w.pg.ID != c.prio.pinID) {
			if w.pg != nil && w.pg.ID != "" {
				wrongPin(w)
				continue
			}
			c.cycle()
			if cycled++; cycled >= len(c.waiting) {
				return nil
			}
			continue
		}
		if policy == jetstream.PriorityPolicyOverflow && w.pg != nil && !w.pg.overflowMet(c) {
			c.cycle()
			if cycled++; cycled >= len(c.waiting) {
				return nil
			}
			continue
		}
		if w.maxBytes && size > w.b {
			j.status(w.reply, "409 Message Size Exceeds MaxBytes",
				"Nats-Pending-Messages", strconv.Itoa(w.n), "Nats-Pending-Bytes", strconv.Itoa(w.b))
			if assigned {
				c.unassignPin()
			}
			c.removeWaiting(w)
			continue
		}
		if !j.s.hasInterest(w.reply) {
			c.removeWaiting(w)
			continue
		}
		return w
	}
	return nil
}

// overflowMet reports whether an overflow request may be served: it has no thresholds, or the
// consumer has at least min_pending messages still to deliver (the one at hand included) or at
// least min_ack_pending awaiting their acks.
func (pg *nextPriority) overflowMet(c *consumer) bool {
	if pg.MinPending <= 0 && pg.MinAckPending <= 0 {
		return true
	}
	return (pg.MinPending > 0 && pg.MinPending <= int64(c.numPending())+1) ||
		(pg.MinAckPending > 0 && pg.MinAckPending <= int64(len(c.pending)))
}

// assignPin pins the consumer to the request's client, as nats-server does for the first
// request of its group that names no pin. It reports whether it pinned.
func (c *consumer) assignPin(w *pullRequest) bool {
	if w.pg == nil || w.pg.Group == "" {
		return false
	}
	c.prio.pinID = nuid.Next()
	c.prio.pinnedTS = c.st.j.now()
	c.prio.group = w.pg.Group
	w.pg.ID = c.prio.pinID
	c.setPinnedTimer()
	c.advisePinned()
	return true
}

// unassignPin takes the pin away and stops its timer.
func (c *consumer) unassignPin() {
	c.prio.pinID, c.prio.pinnedTS = "", time.Time{}
	c.prio.timer.Stop()
	c.prio.timer = nil
}

// setPinnedTimer (re)starts the pin's time to live on the server's clock.
func (c *consumer) setPinnedTimer() {
	c.prio.timer.Stop()
	c.prio.timer = c.st.j.s.clock.AfterFunc(c.cfg.PinnedTTL, c.pinExpired)
}

// pinExpired unpins a client that stopped asking, announces it and serves the others. As on
// nats-server, deleting the consumer does not stop the pin's timer: the advisory still comes.
func (c *consumer) pinExpired() {
	j := c.st.j
	j.lock()
	defer j.unlock()
	if j.closed || c.prio.pinID == "" {
		return
	}
	c.unassignPin()
	c.adviseUnpinned(c.prio.group, "timeout")
	c.kick()
}

// pinHeader is what a delivered message carries on a pinned-client consumer: the pin.
func (c *consumer) pinHeader(hdr []byte) []byte {
	if c.cfg.PriorityPolicy != jetstream.PriorityPolicyPinned {
		return hdr
	}
	return appendHeaders(hdr, "Nats-Pin-Id", c.prio.pinID)
}

// priorityInfo is a consumer info's priority_groups: the first group and its pin, as
// nats-server reports them, for a consumer with groups.
func (c *consumer) priorityInfo() []jetstream.PriorityGroupState {
	if len(c.cfg.PriorityGroups) == 0 {
		return nil
	}
	return []jetstream.PriorityGroupState{{
		Group: c.cfg.PriorityGroups[0], PinnedClientID: c.prio.pinID, PinnedTS: c.prio.pinnedTS,
	}}
}

type pinnedAdvisory struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Time     time.Time `json:"timestamp"`
	Account  string    `json:"account,omitempty"`
	Stream   string    `json:"stream"`
	Consumer string    `json:"consumer"`
	Group    string    `json:"group"`
	PinnedID string    `json:"pinned_id"`
}

type unpinnedAdvisory struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Time     time.Time `json:"timestamp"`
	Account  string    `json:"account,omitempty"`
	Stream   string    `json:"stream"`
	Consumer string    `json:"consumer"`
	Group    string    `json:"group"`
	Reason   string    `json:"reason"`
}

// advisePinned announces a new pin on $JS.EVENT.ADVISORY.CONSUMER.PINNED.<stream>.<consumer>.
func (c *consumer) advisePinned() {
	j := c.st.j
	j.advise("$JS.EVENT.ADVISORY.CONSUMER.PINNED."+c.st.name()+"."+c.name, pinnedAdvisory{
		Type: "io.nats.jetstream.advisory.v1.consumer_group_pinned", ID: nuid.Next(), Time: j.now(),
		Account: "$G", Stream: c.st.name(), Consumer: c.name, Group: c.prio.group, PinnedID: c.prio.pinID,
	})
}

// adviseUnpinned announces a lost pin, by "timeout" or by "admin", on
// $JS.EVENT.ADVISORY.CONSUMER.UNPINNED.<stream>.<consumer>.
func (c *consumer) adviseUnpinned(group, reason string) {
	j := c.st.j
	j.advise("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED."+c.st.name()+"."+c.name, unpinnedAdvisory{
		Type: "io.nats.jetstream.advisory.v1.consumer_group_unpinned", ID: nuid.Next(), Time: j.now(),
		Account: "$G", Stream: c.st.name(), Consumer: c.name, Group: group, Reason: reason,
	})
}

// consumerUnpin answers CONSUMER.UNPIN in nats-server's order: the request (invalid JSON, a
// group is required, its name's form), the stream, the consumer, the group; then it unpins,
// announces it and lets the others be served.
func (j *jetStream) consumerUnpin(r *apiRequest) bool {
	const typ = "consumer_unpin_response"
	var req struct {
		Group string `json:"group"`
	}
	if err := json.Unmarshal(r.body, &req); err != nil {
		j.replyErr(r.reply, typ, jsInvalidJSONErr.err(err))
		return true
	}
	switch {
	case req.Group == "":
		j.replyErr(r.reply, typ, jsInvalidJSONErr.err(errors.New("consumer group not specified")))
		return true
	case !validGroupName.MatchString(req.Group):
		j.replyErr(r.reply, typ, jsConsumerInvalidGroupNameErr.err())
		return true
	}
	if e := j.lookupConsumer(r.arg(2), r.arg(3)); e != nil {
		j.replyErr(r.reply, typ, e)
		return true
	}
	c := j.streams[r.arg(2)].consumers[r.arg(3)]
	if !slices.Contains(c.cfg.PriorityGroups, req.Group) {
		j.replyErr(r.reply, typ, jsConsumerInvalidPriorityGroupErr.err())
		return true
	}
	c.unassignPin()
	c.adviseUnpinned(req.Group, "admin")
	j.reply(r.reply, apiHead{Type: typePrefix + typ})
	c.kick()
	return true
}
