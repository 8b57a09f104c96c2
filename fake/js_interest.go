package fake

import (
	"sync"

	"github.com/natskit/natskit/internal/subject"
)

// Push consumers wait for interest in their deliver subject. A subscription that comes or goes
// is noted with its subject, and the interest watcher looks only at the push consumers whose
// deliver subject it matches.

// watchInterest lets push consumers deliver once a subscription for them appears: those whose
// deliver subject a subscription that came or went matches, not every push consumer.
func (j *jetStream) watchInterest() {
	defer j.wg.Done()
	for {
		select {
		case <-j.done:
			return
		case <-j.kick:
		}
		subjects, all := j.interest.take()
		j.lock()
		if !j.closed {
			if all {
				for _, st := range j.streams {
					for _, c := range st.consumers {
						if c.isPush() {
							c.deliverPush()
						}
					}
				}
			} else {
				j.deliverPushTo(subjects)
			}
		}
		j.unlock()
	}
}

// deliverPushTo lets the push consumers whose deliver subject one of subjects matches deliver,
// each once. j.mu is held.
func (j *jetStream) deliverPushTo(subjects []string) {
	push := j.pushConsumers()
	if len(push) == 0 {
		return
	}
	var seen map[string]bool
	kick := func(target string) {
		if seen[target] {
			return
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		seen[target] = true
		for _, c := range push[target] {
			c.deliverPush()
		}
	}
	for _, subj := range subjects {
		if !hasWildcard(subj) {
			kick(subj)
			continue
		}
		for target := range push {
			if subject.Matches(subj, target) {
				kick(target)
			}
		}
	}
}

// interestChanges are the subjects of the subscriptions that came or went, for the interest
// watcher. It has its own mutex: the server's is held when they are noted, and JetStream's mutex
// is taken before the server's.
type interestChanges struct {
	mu       sync.Mutex
	subjects []string
	all      bool // too many to keep: every push consumer is to look
}

// maxInterestChanges is how many subjects the watcher is given one by one; beyond it, every
// push consumer looks.
const maxInterestChanges = 256

func (j *jetStream) interestChanged(subjects []string) {
	ic := &j.interest
	ic.mu.Lock()
	if !ic.all {
		if len(ic.subjects)+len(subjects) > maxInterestChanges {
			ic.all, ic.subjects = true, nil
		} else {
			ic.subjects = append(ic.subjects, subjects...)
		}
	}
	ic.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// take returns the changes noted so far and forgets them.
func (ic *interestChanges) take() (subjects []string, all bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	subjects, all = ic.subjects, ic.all
	ic.subjects, ic.all = nil, false
	return subjects, all
}

// pushMoved notes that a push consumer was made or deleted, or changed its deliver subject.
// j.mu is held.
func (j *jetStream) pushMoved() { j.pushGen++ }

// pushConsumers is the push consumers by deliver subject. j.mu is held.
func (j *jetStream) pushConsumers() map[string][]*consumer {
	if j.push != nil && j.pushFor == j.pushGen {
		return j.push
	}
	j.push = make(map[string][]*consumer)
	for _, st := range j.streams {
		for _, c := range st.consumers {
			if c.isPush() {
				j.push[c.cfg.DeliverSubject] = append(j.push[c.cfg.DeliverSubject], c)
			}
		}
	}
	j.pushFor = j.pushGen
	return j.push
}
