package fake

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// The JetStream API level and version the fake reports, as nats-server v2.15.2 does.
const jsAPILevel = 5

// jetStream is the fake's JetStream: streams and their consumers, served to clients through
// internal subscriptions on the server's subject index ($JS.API.>, $JS.ACK.>, and each stream's
// subjects). One mutex guards all of it. Deliveries to clients are written to their outbound
// queues while it is held (they never block); anything that must be routed through the subject
// index again (advisories) waits in the outbox until the mutex is released.
type jetStream struct {
	s *Server

	mu       sync.Mutex
	streams  map[string]*stream
	outbox   []*message
	closed   bool
	api      struct{ total, errors uint64 }
	call     *apiCall      // the API request being answered
	kick     chan struct{} // interest changed: push consumers may deliver
	watching bool
	interest interestChanges // the subscriptions that came or went since the watcher last looked
	// push indexes the push consumers by deliver subject, rebuilt once pushGen has moved on
	// (a consumer made, deleted or updated: consumersChanged); under mu
	push             map[string][]*consumer
	pushGen, pushFor uint64
	done             chan struct{}
	wg               sync.WaitGroup
	apiSubs          []*subscription
	sampler          *rand.Rand // ack sampling (sample_freq), from the server's seed; under mu
	linked           int        // the mirrors and sources of all streams
}

func newJetStream(s *Server) *jetStream {
	j := &jetStream{
		s:       s,
		streams: make(map[string]*stream),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		sampler: rand.New(rand.NewPCG(s.opts.seed^0xbb67ae8584caa73b, s.opts.seed)),
	}
	for subj, h := range map[string]func(*message) bool{
		"$JS.API.>": j.handleAPI,
		"$JS.ACK.>": j.handleAck,
		"$JS.FC.>":  j.handleFlowControl,
	} {
		j.apiSubs = append(j.apiSubs, s.subscribeInternal(subj, h))
	}
	return j
}

// watchPushInterest starts, once, the goroutine that lets push consumers deliver when a
// subscription for them appears. j.mu is held.
func (j *jetStream) watchPushInterest() {
	if j.watching || j.closed {
		return
	}
	j.watching = true
	j.wg.Add(1)
	go j.watchInterest()
}

// close stops every timer and the interest watcher.
func (j *jetStream) close() {
	j.mu.Lock()
	j.closed = true
	for _, st := range j.streams {
		st.stopTimers()
		st.stopLinks()
	}
	j.mu.Unlock()
	close(j.done)
	j.wg.Wait()
}

// lock and unlock guard the JetStream state; unlock routes what was queued meanwhile.
func (j *jetStream) lock() { j.mu.Lock() }

func (j *jetStream) unlock() {
	out := j.outbox
	j.outbox = nil
	j.mu.Unlock()
	for _, m := range out {
		if m.direct {
			j.s.sendTo(m.subject, m)
		} else {
			j.s.route(m)
		}
	}
}

// subscribeInternal adds a subscription of the server's own to its subject index.
func (s *Server) subscribeInternal(subj string, h func(*message) bool) *subscription {
	sub := &subscription{subject: subj, internal: h}
	s.mu.Lock()
	s.subs.insert(sub)
	s.mu.Unlock()
	return sub
}

func (s *Server) unsubscribeInternal(sub *subscription) {
	s.mu.Lock()
	if !sub.gone.Swap(true) {
		s.subs.remove(sub)
	}
	s.mu.Unlock()
}

// sendTo delivers m to the client subscriptions matching target (one member per queue group),
// whatever m's own subject: JetStream deliveries keep the stored subject and go to an inbox or a
// deliver subject. It reports whether any client got it.
func (s *Server) sendTo(target string, m *message) bool {
	r := s.subs.match(target)
	var picks [4]*subscription
	queued := picks[:0]
	if len(r.groups) > 0 {
		s.mu.Lock()
		queued = s.pickAllLocked(r, nil, queued)
		s.mu.Unlock()
	}
	ok := false
	for _, sub := range r.plain {
		if sub.internal == nil {
			ok = s.deliver(sub, m) || ok
		}
	}
	for _, sub := range queued {
		ok = s.deliver(sub, m) || ok
	}
	return ok
}

// hasInterest reports whether a client subscription would receive target.
func (s *Server) hasInterest(target string) bool {
	r := s.subs.match(target)
	for _, sub := range r.plain {
		if sub.internal == nil {
			return true
		}
	}
	return len(r.groups) > 0
}

// hdrGet is the value of key in a raw header block, matched exactly as nats-server does.
func hdrGet(hdr []byte, key string) (string, bool) {
	v, ok := hdrFind(hdr, key)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(string(v)), true
}

// hdrFind is what follows "key:" on the first header line that starts so, the lines after the
// status line split at CRLF.
func hdrFind(hdr []byte, key string) ([]byte, bool) {
	i := indexCRLF(hdr)
	if i < 0 {
		return nil, false
	}
	for rest := hdr[i+2:]; len(rest) > 0; {
		e := indexCRLF(rest)
		if e < 0 {
			e = len(rest)
		}
		line := rest[:e]
		if len(line) > len(key) && line[len(key)] == ':' && string(line[:len(key)]) == key {
			return line[len(key)+1:], true
		}
		if e+2 > len(rest) {
			break
		}
		rest = rest[e+2:]
	}
	return nil, false
}

// indexCRLF is the index of the first "\r\n" in b, or -1: bytes.Index, without its set-up cost
// for a two-byte separator on short lines.
func indexCRLF(b []byte) int {
	for from := 0; ; {
		j := bytes.IndexByte(b[from:], '\n')
		if j < 0 {
			return -1
		}
		if j += from; j > 0 && b[j-1] == '\r' {
			return j - 1
		}
		from = j + 1
	}
}

// appendHeaders adds key/value pairs to a stored header block, making one if there is none.
func appendHeaders(hdr []byte, kv ...string) []byte {
	var b []byte
	if len(hdr) >= 4 && bytes.HasSuffix(hdr, []byte("\r\n\r\n")) {
		b = append(b, hdr[:len(hdr)-2]...)
	} else {
		b = append(b, "NATS/1.0\r\n"...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, kv[i]...)
		b = append(b, ": "...)
		b = append(b, kv[i+1]...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

func tsString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
