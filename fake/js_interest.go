package fake

import (
	"slices"
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
			j.deliverPushTo(subjects, all)
		}
		j.unlock()
	}
}

// deliverPushTo lets the push consumers whose deliver subject one of subjects matches deliver,
// or all of them. j.mu is held.
func (j *jetStream) deliverPushTo(subjects []string, all bool) {
	push := j.pushConsumers()
	if all {
		for _, cs := range push {
			for _, c := range cs {
				c.deliverPush()
			}
		}
		return
	}
	if len(push) == 0 {
		return
	}
	// an inbox comes and goes: its subject twice (a consumer that a wildcard finds twice
	// delivers what it has the first time, and finds nothing more the second)
	slices.Sort(subjects)
	for _, subj := range slices.Compact(subjects) {
		if !hasWildcard(subj) {
			for _, c := range push[subj] {
				c.deliverPush()
			}
			continue
		}
		for target, cs := range push {
			if subject.Matches(subj, target) {
				for _, c := range cs {
					c.deliverPush()
				}
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
