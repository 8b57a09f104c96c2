package fake

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// defaultAckWait is the ack wait of a consumer that acks and names none.
const defaultAckWait = 30 * time.Second

// normaliseConsumer fills in the defaults nats-server fills in and checks what it checks.
func (st *stream) normaliseConsumer(cfg *jetstream.ConsumerConfig) *apiError {
	if strings.ContainsAny(cfg.Name, ".*>\\/ \t") || strings.ContainsAny(cfg.Durable, ".*>\\/ \t") {
		return jsStreamInvalidConfigF.err("consumer name can not contain '.', '*', '>', '\\', '/'")
	}
	if e := checkAckFlowControl(cfg); e != nil {
		return e
	}
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return jsConsumerDuplicateFilterSubjects.err()
	}
	filters := cfg.FilterSubjects
	if cfg.FilterSubject != "" {
		filters = []string{cfg.FilterSubject}
	}
	for i, f := range filters {
		if f == "" {
			return jsConsumerEmptyFilter.err()
		}
		if !subject.ValidPattern(f) {
			return jsStreamInvalidConfigF.err("invalid subject")
		}
		for _, g := range filters[i+1:] {
			if patternSubset(f, g) || patternSubset(g, f) {
				return jsConsumerOverlappingSubjectFilters.err()
			}
		}
	}
	if cfg.DeliverSubject != "" {
		if hasWildcard(cfg.DeliverSubject) {
			return jsConsumerDeliverToWildcardsErr.err()
		}
		if cfg.MaxWaiting != 0 {
			return jsConsumerPushMaxWaitingErr.err()
		}
	} else {
		if cfg.RateLimit > 0 {
			return jsConsumerPullWithRateLimitErr.err()
		}
		if cfg.IdleHeartbeat > 0 {
			return jsConsumerHBRequiresPushErr.err()
		}
		if cfg.FlowControl {
			return jsConsumerFCRequiresPushErr.err()
		}
	}
	if cfg.IdleHeartbeat > 0 && cfg.IdleHeartbeat < 100*time.Millisecond {
		return jsConsumerSmallHeartbeatErr.err()
	}
	if cfg.MaxAckPending > 0 && cfg.AckPolicy == jetstream.AckNonePolicy {
		return jsConsumerMaxPendingAckPolicyRequiredErr.err()
	}
	if cfg.MaxDeliver == 0 || cfg.MaxDeliver < -1 {
		cfg.MaxDeliver = -1
	}
	if len(cfg.BackOff) > 0 && cfg.MaxDeliver != -1 && cfg.MaxDeliver < len(cfg.BackOff) {
		return jsConsumerMaxDeliverBackoffErr.err()
	}
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = 512
	}
	if cfg.AckWait == 0 && (cfg.AckPolicy == jetstream.AckExplicitPolicy || cfg.AckPolicy == jetstream.AckAllPolicy) {
		cfg.AckWait = defaultAckWait
	}
	if len(cfg.BackOff) > 0 {
		cfg.AckWait = cfg.BackOff[0]
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = st.cfg.ConsumerLimits.MaxAckPending
	}
	if cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = st.cfg.ConsumerLimits.InactiveThreshold
	}
	if cfg.MaxAckPending == 0 && cfg.AckPolicy != jetstream.AckNonePolicy {
		cfg.MaxAckPending = 1000
	}
	if cfg.Durable == "" && cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = 5 * time.Second
	}
	if e := checkStartPolicy(cfg, len(filters) > 0); e != nil {
		return e
	}
	if e := checkSampling(cfg.SampleFrequency); e != nil {
		return e
	}
	if e := checkPriority(cfg); e != nil {
		return e
	}
	if cfg.Replicas > 1 {
		return jsStreamReplicasNotSupportedErr.err()
	}
	if e := unsupportedConsumerField(cfg); e != nil {
		return e
	}
	if cfg.Metadata == nil {
		cfg.Metadata = make(map[string]string)
	}
	delete(cfg.Metadata, "_nats.ver")
	delete(cfg.Metadata, "_nats.level")
	setRequiredLevel(cfg)
	return nil
}

// checkStartPolicy checks the deliver policy against the optional start sequence and time, in
// nats-server's order and words.
func checkStartPolicy(cfg *jetstream.ConsumerConfig, filtered bool) *apiError {
	badStart := func(dp, start string) *apiError {
		return jsConsumerInvalidPolicyErrF.err("consumer delivery policy is deliver " + dp + ", but optional start " + start + " is also set")
	}
	notSet := func(dp, what string) *apiError {
		return jsConsumerInvalidPolicyErrF.err("consumer delivery policy is deliver " + dp + ", but optional " + what + " is not set")
	}
	names := map[jetstream.DeliverPolicy]string{
		jetstream.DeliverAllPolicy: "all", jetstream.DeliverLastPolicy: "last",
		jetstream.DeliverLastPerSubjectPolicy: "last per subject", jetstream.DeliverNewPolicy: "new",
	}
	switch p := cfg.DeliverPolicy; p {
	case jetstream.DeliverAllPolicy, jetstream.DeliverLastPolicy, jetstream.DeliverLastPerSubjectPolicy, jetstream.DeliverNewPolicy:
		if cfg.OptStartSeq > 0 {
			return badStart(names[p], "sequence")
		}
		if cfg.OptStartTime != nil {
			return badStart(names[p], "time")
		}
		if p == jetstream.DeliverLastPerSubjectPolicy && !filtered {
			return notSet(names[p], "filter subject")
		}
	case jetstream.DeliverByStartSequencePolicy:
		if cfg.OptStartSeq == 0 {
			return notSet("by start sequence", "start sequence")
		}
		if cfg.OptStartTime != nil {
			return badStart("by start sequence", "time")
		}
	case jetstream.DeliverByStartTimePolicy:
		if cfg.OptStartTime == nil {
			return notSet("by start time", "start time")
		}
		if cfg.OptStartSeq != 0 {
			return badStart("by start time", "start sequence")
		}
	}
	return nil
}

// checkWorkQueue applies a work queue's rules to a new consumer.
func (st *stream) checkWorkQueue(cfg *jetstream.ConsumerConfig) *apiError {
	if st.cfg.Retention != jetstream.WorkQueuePolicy {
		return nil
	}
	if cfg.AckPolicy != jetstream.AckExplicitPolicy {
		return jsConsumerWQRequiresExplicitAckErr.err()
	}
	if cfg.DeliverPolicy != jetstream.DeliverAllPolicy {
		return jsConsumerWQConsumerNotDeliverAllErr.err()
	}
	filters := consumerFilters(*cfg)
	for _, other := range st.consumers {
		if len(filters) == 0 || len(other.filters) == 0 {
			if len(filters) == 0 && len(other.filters) == 0 {
				return jsConsumerWQMultipleUnfilteredErr.err()
			}
			return jsConsumerWQConsumerNotUniqueErr.err()
		}
		for _, a := range filters {
			for _, b := range other.filters {
				if subjectsCollide(a, b) {
					return jsConsumerWQConsumerNotUniqueErr.err()
				}
			}
		}
	}
	return nil
}

func consumerFilters(cfg jetstream.ConsumerConfig) []string {
	if cfg.FilterSubject != "" {
		return []string{cfg.FilterSubject}
	}
	var out []string
	for _, f := range cfg.FilterSubjects {
		if f != ">" {
			out = append(out, f)
		}
	}
	if len(out) == 0 && len(cfg.FilterSubjects) > 0 {
		return nil
	}
	return out
}

// update applies an updated config to an existing consumer.
func (c *consumer) update(cfg jetstream.ConsumerConfig) *apiError {
	old := c.cfg
	fail := func(desc string) *apiError { return jsConsumerCreateErrF.err(desc) }
	sameTime := (old.OptStartTime == nil) == (cfg.OptStartTime == nil) &&
		(old.OptStartTime == nil || old.OptStartTime.Equal(*cfg.OptStartTime))
	switch {
	case cfg.DeliverPolicy != old.DeliverPolicy:
		return fail("deliver policy can not be updated")
	case cfg.MemoryStorage != old.MemoryStorage:
		return fail("storage type can not be updated")
	case cfg.OptStartSeq != old.OptStartSeq:
		return fail("start sequence can not be updated")
	case !sameTime:
		return fail("start time can not be updated")
	case cfg.AckPolicy != old.AckPolicy:
		return fail("ack policy can not be updated")
	case cfg.ReplayPolicy != old.ReplayPolicy:
		return fail("replay policy can not be updated")
	case cfg.IdleHeartbeat != old.IdleHeartbeat:
		return fail("heart beats can not be updated")
	case cfg.FlowControl != old.FlowControl:
		return fail("flow control can not be updated")
	case old.DeliverSubject == "" && cfg.DeliverSubject != "":
		return fail("can not update pull consumer to push based")
	case old.DeliverSubject != "" && cfg.DeliverSubject == "":
		return fail("can not update push consumer to pull based")
	case cfg.DeliverSubject != old.DeliverSubject && c.st.j.s.hasInterest(old.DeliverSubject):
		// someone listens on the current deliver subject: JSConsumerNameExistErr
		return jsConsumerNameExistErr.err()
	case cfg.MaxWaiting != old.MaxWaiting:
		return fail("max waiting can not be updated")
	}
	if cfg.RateLimit != old.RateLimit {
		c.resetRate()
	}
	c.cfg = cfg
	c.setFilters()
	if cfg.DeliverSubject != old.DeliverSubject {
		c.expirePending()
	}
	c.kick()
	if c.isPush() {
		c.startHeartbeats()
	}
	return nil
}

// sourceHeartbeat is the idle heartbeat of the consumers that feed mirrors and sources, the
// only one a consumer that acks by flow control may have.
const sourceHeartbeat = time.Second

// defaultAckFlowControl fills in what a consumer that acks by flow control needs, as
// nats-server does outside pedantic mode.
func defaultAckFlowControl(cfg *jetstream.ConsumerConfig) {
	if cfg.AckPolicy == jetstream.AckFlowControlPolicy {
		cfg.FlowControl, cfg.IdleHeartbeat = true, sourceHeartbeat
	}
}

// checkAckFlowControl makes nats-server's checks of a consumer that acks by flow control (a
// push consumer feeding a durable source or mirror).
func checkAckFlowControl(cfg *jetstream.ConsumerConfig) *apiError {
	if cfg.AckPolicy != jetstream.AckFlowControlPolicy {
		return nil
	}
	switch {
	case cfg.DeliverSubject == "":
		return jsConsumerAckFCRequiresPushErr.err()
	case !cfg.FlowControl:
		return jsConsumerAckFCRequiresFCErr.err()
	case cfg.IdleHeartbeat != sourceHeartbeat:
		return jsStreamInvalidConfigF.err("flow control ack policy heartbeat needs to be 1s")
	case cfg.MaxAckPending < 0:
		return jsConsumerAckFCRequiresMaxAckPendingErr.err()
	case cfg.AckWait != 0 || len(cfg.BackOff) > 0:
		return jsConsumerAckFCRequiresNoAckWaitErr.err()
	case cfg.MaxDeliver > 0:
		return jsConsumerAckFCRequiresNoMaxDeliverErr.err()
	}
	return nil
}
