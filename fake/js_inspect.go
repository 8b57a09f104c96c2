package fake

import "time"

// AckState is where a delivered message stands with a consumer.
type AckState int

const (
	// AckPending: delivered, waiting for an acknowledgement.
	AckPending AckState = iota
	// Acked: acknowledged (Ack, DoubleAck, or an ack-all of a later message).
	Acked
	// AckedByPolicy: the consumer's ack policy is none; delivery is acknowledgement.
	AckedByPolicy
	// Naked: negatively acknowledged, waiting for redelivery.
	Naked
	// InProgress: the client said it is still working on it (InProgress); its ack wait restarted.
	InProgress
	// Termed: terminated (Term or TermWithReason); it is never redelivered.
	Termed
	// AckExpired: its ack wait passed without an acknowledgement; it waits for redelivery.
	AckExpired
)

func (a AckState) String() string {
	switch a {
	case AckPending:
		return "pending"
	case Acked:
		return "acked"
	case AckedByPolicy:
		return "acked by policy"
	case Naked:
		return "nak'd"
	case InProgress:
		return "in progress"
	case Termed:
		return "termed"
	case AckExpired:
		return "ack wait expired"
	}
	return "unknown"
}

// MessageState is the story of one stream message with one consumer.
type MessageState struct {
	Stream        uint64 // stream sequence
	Subject       string
	Consumer      uint64 // consumer sequence of its latest delivery
	Deliveries    int    // how many times it was delivered
	LastDelivered time.Time
	Ack           AckState
	TermReason    string
	// MaxDeliveriesReached is set once the consumer gave up on it after max deliver attempts.
	MaxDeliveriesReached bool
}

// Redelivered reports whether it was delivered more than once.
func (m MessageState) Redelivered() bool { return m.Deliveries > 1 }
