package fake

import (
	"slices"
	"strings"
)

// trieNode is one level of the wildcard index: a subscription subject's tokens are a path from
// the root, "*" taking the node's pwc branch and a final ">" ending in its fwc list. A published
// subject walks it token by token, so a match costs its depth and the branches its tokens take,
// not the number of wildcard subscriptions.
type trieNode struct {
	lit map[string]*trieNode
	pwc *trieNode
	fwc []*subscription // subjects that end in ">" after this node's path
	end []*subscription // subjects that end at this node
}

func (n *trieNode) empty() bool {
	return len(n.lit) == 0 && n.pwc == nil && len(n.fwc) == 0 && len(n.end) == 0
}

// add files sub under its subject, which insertable has accepted.
func (n *trieNode) add(sub *subscription) {
	rest := sub.subject
	for {
		tok, tail, more := strings.Cut(rest, ".")
		switch {
		case tok == ">":
			n.fwc = append(n.fwc, sub)
			return
		case tok == "*":
			if n.pwc == nil {
				n.pwc = &trieNode{}
			}
			n = n.pwc
		default:
			c := n.lit[tok]
			if c == nil {
				if n.lit == nil {
					n.lit = make(map[string]*trieNode)
				}
				c = &trieNode{}
				n.lit[tok] = c
			}
			n = c
		}
		if !more {
			n.end = append(n.end, sub)
			return
		}
		rest = tail
	}
}

// drop removes sub, and the nodes it leaves empty; it reports whether sub was there.
func (n *trieNode) drop(sub *subscription, rest string) bool {
	tok, tail, more := strings.Cut(rest, ".")
	if tok == ">" {
		var ok bool
		n.fwc, ok = without(n.fwc, sub)
		return ok
	}
	c := n.pwc
	if tok != "*" {
		c = n.lit[tok]
	}
	if c == nil {
		return false
	}
	var ok bool
	if more {
		ok = c.drop(sub, tail)
	} else {
		c.end, ok = without(c.end, sub)
	}
	if ok && c.empty() {
		if tok == "*" {
			n.pwc = nil
		} else {
			delete(n.lit, tok)
		}
	}
	return ok
}

// without removes sub from list, keeping the order of the rest.
func without(list []*subscription, sub *subscription) ([]*subscription, bool) {
	i := slices.Index(list, sub)
	if i < 0 {
		return list, false
	}
	if len(list) == 1 {
		return nil, true
	}
	return append(list[:i:i], list[i+1:]...), true
}

// match appends the subscriptions rest reaches below n. rest is the part of a routable published
// subject not yet walked ("" once every token is), and has no protocol whitespace.
func (n *trieNode) match(rest string, hits []*subscription) []*subscription {
	if rest == "" {
		return append(hits, n.end...)
	}
	hits = append(hits, n.fwc...)
	tok, tail, _ := strings.Cut(rest, ".")
	if c := n.lit[tok]; c != nil {
		hits = c.match(tail, hits)
	}
	if n.pwc != nil {
		hits = n.pwc.match(tail, hits)
	}
	return hits
}

// each calls f for every subscription below n.
func (n *trieNode) each(f func(*subscription)) {
	for _, sub := range n.end {
		f(sub)
	}
	for _, sub := range n.fwc {
		f(sub)
	}
	for _, c := range n.lit {
		c.each(f)
	}
	if n.pwc != nil {
		n.pwc.each(f)
	}
}
