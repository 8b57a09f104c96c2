package fake

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A Fault changes what happens to the messages published on the subjects matching its pattern.
// Inject puts faults in force; each is small and they compose: a message may be both duplicated
// and delayed.
type Fault struct {
	kind    faultKind
	pattern string
	left    int // messages still to affect; -1 for every one until removed
	n       int // left as made
	delay   time.Duration
	err     *apiError
}

type faultKind int

const (
	faultDrop faultKind = iota
	faultDelay
	faultDuplicate
	faultRefuse
	faultFail
	faultIgnorePings
)

func newFault(k faultKind, pattern string, n int, d time.Duration) *Fault {
	if n <= 0 {
		n = -1
	}
	return &Fault{kind: k, pattern: pattern, left: n, n: n, delay: d}
}

// Drop loses the next n messages published on subjects matching pattern (every one if n <= 0):
// no subscriber receives them, and a request among them gets no answer, not even a 503.
func Drop(pattern string, n int) *Fault { return newFault(faultDrop, pattern, n, 0) }

// Delay holds back the next n messages published on subjects matching pattern (every one if
// n <= 0) for d on the server's clock before delivering them; later messages may overtake them.
func Delay(pattern string, n int, d time.Duration) *Fault {
	return newFault(faultDelay, pattern, n, d)
}

// Duplicate delivers the next n messages published on subjects matching pattern (every one if
// n <= 0) twice to each subscriber that receives them.
func Duplicate(pattern string, n int) *Fault { return newFault(faultDuplicate, pattern, n, 0) }

// Refuse answers the next n requests (messages with a reply subject) published on subjects
// matching pattern (every one if n <= 0) as if nobody were subscribed: the requester gets a 503
// (nats.ErrNoResponders) and no subscriber sees the request.
func Refuse(pattern string, n int) *Fault { return newFault(faultRefuse, pattern, n, 0) }

// FailJetStream answers the next n requests (every one if n <= 0) on subjects matching pattern
// with err, as nats-server answers a JetStream call that fails: no subscriber, stream or consumer
// sees the request, and the client returns a *jetstream.APIError for which errors.Is matches the
// error code. The pattern is a JetStream API subject ("$JS.API.STREAM.INFO.ORDERS",
// "$JS.API.CONSUMER.CREATE.>") or a stream's subject, where the publisher's PubAck carries the
// error. Drop, on the same subjects, makes a call go unanswered.
func FailJetStream(pattern string, err jetstream.APIError, n int) *Fault {
	f := newFault(faultFail, pattern, n, 0)
	f.err = injectedError(err)
	return f
}

// IgnorePings leaves the next n PINGs (every one if n <= 0) of the clients named client
// (every client if client is "") unanswered: no PONG comes back, as from a server that has
// stopped responding, so the client's own stale-connection detection (nats.PingInterval,
// nats.MaxPingsOutstanding) closes or reconnects it with nats.ErrStaleConnection. Messages flow
// as before. client is the connection name (nats.Name), not a subject.
func IgnorePings(client string, n int) *Fault { return newFault(faultIgnorePings, client, n, 0) }

// A FaultSpec is what a Fault does, for applying it in front of another server: natstest's
// proxy applies faults to what clients publish to a real nats-server.
type FaultSpec struct {
	// Kind is "drop", "delay", "duplicate", "refuse", "fail" or "ignore-pings" (whose Pattern
	// is a client name, "" for every client).
	Kind string
	// Pattern is the subjects the fault applies to.
	Pattern string
	// N is how many messages it affects; 0 for every one until it is removed.
	N int
	// Delay is how long a "delay" fault holds a message back.
	Delay time.Duration
	// Err is the error a "fail" fault answers with.
	Err *jetstream.APIError
}

// Spec describes f as it was made.
func (f *Fault) Spec() FaultSpec {
	names := [...]string{"drop", "delay", "duplicate", "refuse", "fail", "ignore-pings"}
	spec := FaultSpec{Kind: names[f.kind], Pattern: f.pattern, N: max(f.n, 0), Delay: f.delay}
	if f.err != nil {
		spec.Err = &jetstream.APIError{Code: f.err.Code, ErrorCode: jetstream.ErrorCode(f.err.ErrCode), Description: f.err.Description}
	}
	return spec
}

func (f *Fault) String() string {
	names := [...]string{"drop", "delay", "duplicate", "refuse", "fail", "ignore-pings"}
	s := fmt.Sprintf("%s %q", names[f.kind], f.pattern)
	switch f.kind {
	case faultDelay:
		s += " by " + f.delay.String()
	case faultFail:
		s += fmt.Sprintf(" with %d %d %q", f.err.Code, f.err.ErrCode, f.err.Description)
	}
	return s
}

// Inject puts faults in force until they have affected their n messages or remove is called.
func (s *Server) Inject(faults ...*Fault) (remove func()) {
	s.mu.Lock()
	s.faults = append(s.faults, faults...)
	s.faultsOn.Store(len(s.faults) > 0)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, f := range faults {
			s.removeFaultLocked(f)
		}
	}
}

func (s *Server) removeFaultLocked(f *Fault) {
	for i, g := range s.faults {
		if g == f {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			s.faultsOn.Store(len(s.faults) > 0)
			return
		}
	}
}

// applyFaultsLocked works out what the faults in force do to m and uses them up. s.mu is held.
func (s *Server) applyFaultsLocked(m *message) effect {
	eff := effect{copies: 1}
	for _, f := range append([]*Fault(nil), s.faults...) {
		if f.kind == faultIgnorePings || !matchSub(f.pattern, m.subject) || ((f.kind == faultRefuse || f.kind == faultFail) && m.reply == "") {
			continue
		}
		switch f.kind {
		case faultDrop:
			eff.drop = true
		case faultDelay:
			eff.delay += f.delay
		case faultDuplicate:
			eff.copies++
		case faultRefuse:
			eff.refuse = true
		case faultFail:
			if eff.fail == nil {
				eff.fail = f.err
			}
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.removeFaultLocked(f)
			}
		}
	}
	if eff.drop {
		eff.copies = 0
	}
	return eff
}

// Faults lists the faults in force, each as its String.
func (s *Server) Faults() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.faults))
	for i, f := range s.faults {
		out[i] = f.String()
	}
	return out
}
