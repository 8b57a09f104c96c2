package fake

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/internal/subject"
)

func validLiteral(s string) bool { return subject.ValidLiteral(s) }

func (s *Server) logf(format string, args ...any) {
	if s.opts.logf != nil {
		s.opts.logf(format, args...)
	}
}

// A ClientInfo describes one connected client.
type ClientInfo struct {
	ID            uint64 // the client_id the server sent it in INFO (nc.GetClientID())
	Name          string // the name it gave in CONNECT (nats.Name)
	User          string // the user it authenticated as, if any
	Lang, Version string // the client library and its version
	Start         time.Time
	Subscriptions []SubscriptionInfo
	InMsgs        int64 // messages it published
	OutMsgs       int64 // messages delivered to it
	InBytes       int64
	OutBytes      int64
	Pending       int // bytes queued for it, not yet written
}

// A SubscriptionInfo describes one subscription.
type SubscriptionInfo struct {
	Subject   string
	Queue     string // "" for a plain subscription
	SID       string // the client's subscription ID
	ClientID  uint64
	Client    string // the client's name
	Delivered int64  // messages delivered so far
	Max       int64  // the count after which it ends (UNSUB with max), 0 for none
}

// Clients lists the connected clients, by ID.
func (s *Server) Clients() []ClientInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ClientInfo, 0, len(s.clients))
	for _, c := range s.clients {
		c.outMu.Lock()
		pending, closing := c.out.len()+c.inFlight, c.closing
		c.outMu.Unlock()
		if closing {
			continue // on its way out: no longer a client of the server's
		}
		meta := c.meta.Load()
		ci := ClientInfo{
			ID: c.id, Name: meta.name, Lang: meta.lang, Version: meta.version, User: c.user, Start: c.start,
			InMsgs: c.inMsgs.Load(), OutMsgs: c.outMsgs.Load(),
			InBytes: c.inBytes.Load(), OutBytes: c.outBytes.Load(), Pending: pending,
		}
		for _, sub := range c.subs {
			ci.Subscriptions = append(ci.Subscriptions, sub.info())
		}
		sortSubs(ci.Subscriptions)
		out = append(out, ci)
	}
	slices.SortFunc(out, func(a, b ClientInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// Client returns the connected client named name (the first by ID if several share it).
func (s *Server) Client(name string) (ClientInfo, bool) {
	for _, c := range s.Clients() {
		if c.Name == name {
			return c, true
		}
	}
	return ClientInfo{}, false
}

func (sub *subscription) info() SubscriptionInfo {
	return SubscriptionInfo{
		Subject: sub.subject, Queue: sub.queue, SID: sub.sid,
		ClientID: sub.client.id, Client: sub.client.Name(),
		Delivered: sub.delivered.Load(), Max: sub.max.Load(),
	}
}

func sortSubs(subs []SubscriptionInfo) {
	slices.SortFunc(subs, func(a, b SubscriptionInfo) int {
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		if a.ClientID != b.ClientID {
			return int(a.ClientID) - int(b.ClientID)
		}
		return strings.Compare(a.SID, b.SID)
	})
}

// Subscriptions lists the subscriptions that would receive a message published on subj, or
// every subscription if subj is "", by subject then client.
func (s *Server) Subscriptions(subj string) []SubscriptionInfo {
	s.mu.Lock()
	var out []SubscriptionInfo
	for _, sub := range s.subs.all() {
		if sub.internal == nil && (subj == "" || matchSub(sub.subject, subj)) {
			out = append(out, sub.info())
		}
	}
	s.mu.Unlock()
	sortSubs(out)
	return out
}

// Stats are the server's totals since it started.
type Stats struct {
	Connections      int   // connected now
	TotalConnections int64 // ever accepted
	Subscriptions    int
	InMsgs, OutMsgs  int64 // messages published, and deliveries made
	InBytes          int64
	OutBytes         int64
	SlowConsumers    int64 // connections closed because they did not read fast enough
}

// Stats returns the server's totals.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	subs := 0
	t := s.stats.gone
	for _, c := range s.clients {
		subs += len(c.subs)
		t.add(c.traffic())
	}
	st := Stats{Connections: len(s.clients), Subscriptions: subs}
	s.mu.Unlock()
	st.TotalConnections = s.stats.totalConns.Load()
	st.InMsgs, st.OutMsgs = t.inMsgs+s.stats.ownMsgs.Load(), t.outMsgs
	st.InBytes, st.OutBytes = t.inBytes+s.stats.ownBytes.Load(), t.outBytes
	st.SlowConsumers = s.stats.slowConsumers.Load()
	return st
}

// Publish delivers data on subject from the server itself, as a client's PUB would be.
func (s *Server) Publish(subj string, data []byte) error {
	return s.PublishMsg(&nats.Msg{Subject: subj, Data: data})
}

// PublishMsg delivers m (subject, reply, headers, data) from the server itself.
func (s *Server) PublishMsg(m *nats.Msg) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	if !validLiteral(m.Subject) {
		return fmt.Errorf("fake: publish: invalid subject %q", m.Subject)
	}
	var hdr []byte
	if len(m.Header) > 0 {
		var err error
		if hdr, err = encodeHeader(m.Header); err != nil {
			return fmt.Errorf("fake: publish on %q: %w", m.Subject, err)
		}
	}
	if len(hdr)+len(m.Data) > int(s.opts.maxPayload) {
		return fmt.Errorf("fake: publish on %q: %w", m.Subject, nats.ErrMaxPayload)
	}
	s.stats.ownMsgs.Add(1)
	s.stats.ownBytes.Add(int64(len(hdr) + len(m.Data)))
	s.route(&message{subject: m.Subject, reply: m.Reply, hdr: hdr, data: m.Data})
	return nil
}

// encodeHeader writes h as a NATS/1.0 header block. A "Status" key (and "Description") becomes
// the status line, as the client reads it back.
func encodeHeader(h nats.Header) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("NATS/1.0")
	if st := h.Get("Status"); st != "" {
		b.WriteString(" " + st)
		if d := h.Get("Description"); d != "" {
			b.WriteString(" " + d)
		}
	}
	b.WriteString("\r\n")
	keys := make([]string, 0, len(h))
	for k := range h {
		if k != "Status" && k != "Description" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.ContainsAny(k, ":\r\n ") {
			return nil, errors.New("invalid header key " + fmt.Sprintf("%q", k))
		}
		for _, v := range h[k] {
			if strings.ContainsAny(v, "\r\n") {
				return nil, fmt.Errorf("invalid value for header %q", k)
			}
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// Disconnect closes the connections of every client named name, as a network failure would, and
// returns how many it closed. The clients see the connection drop and, if allowed, reconnect.
func (s *Server) Disconnect(name string) int {
	return s.disconnect(func(c *client) bool { return c.Name() == name })
}

// DisconnectAll closes every client connection and returns how many it closed.
func (s *Server) DisconnectAll() int { return s.disconnect(func(*client) bool { return true }) }

// DisconnectClient closes the connection of the client with ID id (nc.GetClientID()).
func (s *Server) DisconnectClient(id uint64) error {
	if s.disconnect(func(c *client) bool { return c.id == id }) == 0 {
		return fmt.Errorf("fake: no client with ID %d", id)
	}
	return nil
}

func (s *Server) disconnect(which func(*client) bool) int {
	s.mu.Lock()
	var hit []*client
	for _, c := range s.clients {
		if which(c) {
			hit = append(hit, c)
		}
	}
	s.mu.Unlock()
	for _, c := range hit {
		s.logf("fake: client %d (%s): disconnected by the test", c.id, c.Name())
		c.close(closeKicked)
	}
	return len(hit)
}
