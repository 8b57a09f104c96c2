package fake

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A create or update request with "pedantic": true asks the server to refuse a config it would
// otherwise adjust. The checks below read the config as the client sent it and refuse what
// nats-server's pedantic mode refuses, with its errors, in its order; what they let through is
// then normalised and checked as any other request.

// pedanticStream is nats-server's pedantic refusal of a stream config, or nil. A config the
// server refuses for its name or replicas before it comes to what pedantic mode looks at is left
// to the ordinary checks.
func (j *jetStream) pedanticStream(cfg *jetstream.StreamConfig) *apiError {
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, ".*> \t\r\n/\\") || cfg.Replicas > 1 || cfg.Replicas < 0 {
		return nil
	}
	pedantic := func(what string) *apiError { return jsPedanticErrF.err(what) }
	switch {
	case cfg.MaxMsgs < -1:
		return pedantic("max_msgs must be set to -1")
	case cfg.MaxMsgsPerSubject < -1:
		return pedantic("max_msgs_per_subject must be set to -1")
	case cfg.MaxBytes < -1:
		return pedantic("max_bytes must be set to -1")
	case cfg.MaxMsgSize < -1:
		return pedantic("max_msg_size must be set to -1")
	case cfg.MaxConsumers < -1:
		return pedantic("max_consumers must be set to -1")
	case cfg.MaxAge < 0 || (cfg.MaxAge != 0 && cfg.MaxAge < 100*time.Millisecond):
		return nil // refused as in any mode
	case cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 && cfg.MaxAge != 0 && cfg.MaxAge < defaultDuplicates:
		return pedantic("duplicate window cannot be bigger than max age")
	}
	if cfg.SubjectDeleteMarkerTTL >= time.Second {
		if !cfg.AllowMsgTTL {
			return jsStreamInvalidConfigF.err("subject delete marker cannot be set if message TTLs are disabled")
		}
		if !cfg.AllowRollup {
			return jsStreamInvalidConfigF.err("subject delete marker cannot be set if roll-ups are disabled")
		}
	}
	if cfg.AllowMsgSchedules && cfg.Discard != jetstream.DiscardNew && !cfg.AllowRollup {
		return jsStreamInvalidConfigF.err("message scheduling cannot be set if roll-ups are disabled")
	}
	if m := cfg.Mirror; m != nil && m.External == nil {
		if o, ok := j.streams[m.Name]; ok && cfg.MirrorDirect != o.cfg.AllowDirect {
			return pedantic("origin stream has direct get set, mirror has it disabled")
		}
	}
	if rp := cfg.RePublish; rp != nil {
		if rp.Source == "" {
			return pedantic("republish source can not be empty")
		}
		if rp.Destination == ">" && rp.Source == ">" && cfg.SubjectTransform != nil &&
			len(cfg.Subjects) == 1 && cfg.SubjectTransform.Source == cfg.Subjects[0] {
			return pedantic("implicit republish based on subject transform")
		}
	}
	return nil
}

// pedanticConsumer is nats-server's pedantic refusal of a consumer config on stream st, or nil.
func (st *stream) pedanticConsumer(cfg *jetstream.ConsumerConfig) *apiError {
	pedantic := func(what string) *apiError { return jsPedanticErrF.err(what) }
	switch {
	case cfg.MaxDeliver < -1:
		return pedantic("max_deliver must be set to -1")
	case cfg.MaxWaiting < 0:
		return pedantic("max_waiting must not be negative")
	case cfg.MaxAckPending < -1:
		return pedantic("max_ack_pending must be set to -1")
	case cfg.MaxRequestBatch < 0:
		return pedantic("max_batch must not be negative")
	case cfg.MaxRequestExpires < 0:
		return pedantic("max_expires must not be negative")
	case cfg.MaxRequestMaxBytes < 0:
		return pedantic("max_bytes must not be negative")
	case cfg.IdleHeartbeat < 0:
		return pedantic("idle_heartbeat must not be negative")
	case cfg.InactiveThreshold < 0:
		return pedantic("inactive_threshold must not be negative")
	case cfg.PinnedTTL < 0:
		return pedantic("priority_timeout must not be negative")
	}
	if len(cfg.BackOff) > 0 {
		ackWait := cfg.AckWait
		if ackWait == 0 && (cfg.AckPolicy == jetstream.AckExplicitPolicy || cfg.AckPolicy == jetstream.AckAllPolicy) {
			ackWait = defaultAckWait
		}
		if ackWait != cfg.BackOff[0] {
			return pedantic("first backoff value has to equal batch AckWait")
		}
	}
	if cfg.MaxAckPending == 0 && st.cfg.ConsumerLimits.MaxAckPending > 0 {
		return pedantic("max_ack_pending must be set if it's configured in stream limits")
	}
	if cfg.InactiveThreshold == 0 && st.cfg.ConsumerLimits.InactiveThreshold > 0 {
		return pedantic("inactive_threshold must be set if it's configured in stream limits")
	}
	return nil
}
