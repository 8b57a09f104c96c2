package fake

import (
	"crypto/subtle"
	"strings"
)

// perms are one user's permissions, ready to check.
type perms struct {
	pubAllow, pubDeny []permEntry
	subAllow, subDeny []permEntry
	subAllowSet       bool // an empty allow list allows everything
	pubAllowSet       bool
}

// permEntry is one pattern of a permission list: a subject, and for subscribe lists an optional
// queue ("foo.* workers").
type permEntry struct{ subject, queue string }

func compilePerms(p *Permissions) *perms {
	if p == nil {
		return nil
	}
	out := &perms{}
	entries := func(list []string) []permEntry {
		var es []permEntry
		for _, s := range list {
			f := strings.Fields(s)
			switch len(f) {
			case 1:
				es = append(es, permEntry{subject: f[0]})
			case 2:
				es = append(es, permEntry{subject: f[0], queue: f[1]})
			}
		}
		return es
	}
	if p.Publish != nil {
		out.pubAllow, out.pubDeny = entries(p.Publish.Allow), entries(p.Publish.Deny)
		out.pubAllowSet = len(p.Publish.Allow) > 0
	}
	if p.Subscribe != nil {
		out.subAllow, out.subDeny = entries(p.Subscribe.Allow), entries(p.Subscribe.Deny)
		out.subAllowSet = len(p.Subscribe.Allow) > 0
	}
	return out
}

// matchEntries returns whether any plain entry matches subj, and the queue entries that do.
func matchEntries(es []permEntry, subj string) (plain bool, queues []string) {
	for _, e := range es {
		if !matchSub(e.subject, subj) {
			continue
		}
		if e.queue == "" {
			plain = true
		} else {
			queues = append(queues, e.queue)
		}
	}
	return plain, queues
}

// queueMatches reports whether queue is one of the queue names, which may hold wildcards.
func queueMatches(queue string, names []string) bool {
	for _, n := range names {
		if queue == n || (hasWildcard(n) && matchSub(n, queue)) {
			return true
		}
	}
	return false
}

// canPublish reports whether the user may publish to subj. A nil *perms allows everything.
func (p *perms) canPublish(subj string) bool {
	if p == nil {
		return true
	}
	if p.pubAllowSet {
		if ok, _ := matchEntries(p.pubAllow, subj); !ok {
			return false
		}
	}
	ok, _ := matchEntries(p.pubDeny, subj)
	return !ok
}

// canSubscribe reports whether the user may subscribe to subj, in queue if it is not empty, as
// nats-server decides it.
func (p *perms) canSubscribe(subj, queue string) bool {
	if p == nil {
		return true
	}
	allowed := true
	if p.subAllowSet {
		plain, queues := matchEntries(p.subAllow, subj)
		allowed = plain
		if queue != "" && len(queues) > 0 {
			allowed = queueMatches(queue, queues)
		}
	}
	if allowed && len(p.subDeny) > 0 {
		plain, queues := matchEntries(p.subDeny, subj)
		allowed = !plain
		if allowed && queue != "" && len(queues) > 0 {
			allowed = !queueMatches(queue, queues)
		}
	}
	return allowed
}

// canReceive reports whether a message on subj may be delivered to a wildcard subscription of
// the user: nats-server filters deliveries against the subscribe deny list.
func (p *perms) canReceive(subj string) bool {
	if p == nil || len(p.subDeny) == 0 {
		return true
	}
	ok, _ := matchEntries(p.subDeny, subj)
	return !ok
}

func (s *Server) authRequired() bool { return len(s.opts.users) > 0 || s.opts.token != "" }

// authenticate checks a CONNECT's credentials, returning the user's permissions and name.
func (s *Server) authenticate(o *connectOpts) (*perms, string, bool) {
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	if len(s.opts.users) > 0 {
		for i := range s.opts.users {
			u := &s.opts.users[i]
			if o.User == u.Name && eq(o.Pass, u.Password) {
				return compilePerms(u.Permissions), u.Name, true
			}
		}
		// nats-server also accepts the token when both a token and users are configured only
		// with users; a token alone does not pass.
		return nil, "", false
	}
	if s.opts.token != "" && eq(o.Token, s.opts.token) {
		return nil, "", true
	}
	return nil, "", false
}

// reservedPublish reports subjects no client may publish to (gateway-routed replies).
func reservedPublish(subj string) bool {
	return len(subj) > 5 && subj[:5] == "_GR_." || len(subj) > 4 && subj[:4] == "$GR."
}

// reservedReply reports reply subjects no client may use: service imports, JetStream acks,
// gateway-routed replies.
func reservedReply(reply string) bool {
	return len(reply) > 4 && reply[:4] == "_R_." || len(reply) > 8 && reply[:8] == "$JS.ACK." || reservedPublish(reply)
}
