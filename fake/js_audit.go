package fake

import (
	"time"

	"github.com/nats-io/nuid"
)

// nats-server publishes an audit advisory on $JS.EVENT.ADVISORY.API for each API answer it sends
// (not for pull requests, direct gets or acks, which it does not answer as API requests): the
// request, the answer, and who asked.

const auditSubject = "$JS.EVENT.ADVISORY.API"

// apiCall is the API request being answered, for its audit advisory.
type apiCall struct {
	subject string
	body    []byte
	from    *client
}

type auditAdvisory struct {
	Type     string           `json:"type"`
	ID       string           `json:"id"`
	Time     time.Time        `json:"timestamp"`
	Server   string           `json:"server"`
	Client   *auditClientInfo `json:"client,omitempty"`
	Subject  string           `json:"subject"`
	Request  string           `json:"request,omitempty"`
	Response string           `json:"response"`
}

// auditClientInfo is what nats-server's advisories tell of a client (its ClientInfo); the fake
// measures no round trip time.
type auditClientInfo struct {
	Start      *time.Time `json:"start,omitempty"`
	Host       string     `json:"host,omitempty"`
	ID         uint64     `json:"id,omitempty"`
	Account    string     `json:"acc,omitempty"`
	User       string     `json:"user,omitempty"`
	Name       string     `json:"name,omitempty"`
	Lang       string     `json:"lang,omitempty"`
	Version    string     `json:"ver,omitempty"`
	Server     string     `json:"server,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	ClientType string     `json:"client_type,omitempty"`
}

// audit queues the audit advisory for the answer to the API request being served, if anyone
// listens for it. j.mu is held.
func (j *jetStream) audit(response []byte) {
	call := j.call
	if call == nil || !j.s.hasInterest(auditSubject) {
		return
	}
	adv := auditAdvisory{
		Type: "io.nats.jetstream.advisory.v1.api_audit", ID: nuid.Next(), Time: j.now(),
		Server: j.s.opts.name, Subject: call.subject, Request: string(call.body), Response: string(response),
	}
	if c := call.from; c != nil {
		start := c.start.UTC()
		ci := &auditClientInfo{
			Start: &start, Host: c.host, ID: c.id, Account: "$G", User: c.user,
			Server: j.s.opts.name, Kind: "Client", ClientType: "nats",
		}
		if m := c.meta.Load(); m != nil {
			ci.Name, ci.Lang, ci.Version = m.name, m.lang, m.version
		}
		adv.Client = ci
	}
	j.advise(auditSubject, adv)
}
