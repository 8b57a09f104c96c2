package fake

import (
	"slices"
	"strings"
)

// trieNode is one level of a wildcard index (of subscriptions, or of consumers by filter): a
// pattern's tokens are a path from the root, "*" taking the node's pwc branch and a final ">"
// ending in its fwc list. A published subject walks it token by token, so a match costs its
// depth and the branches its tokens take, not the number of patterns.
type trieNode[T comparable] struct {
	lit map[string]*trieNode[T]
	pwc *trieNode[T]
	fwc []T // patterns that end in ">" after this node's path
	end []T // patterns that end at this node
}

func (n *trieNode[T]) empty() bool {
	return len(n.lit) == 0 && n.pwc == nil && len(n.fwc) == 0 && len(n.end) == 0
}

// add files v under pattern, which has no empty token and ">" only last.
func (n *trieNode[T]) add(pattern string, v T) {
	rest := pattern
	for {
		tok, tail, more := strings.Cut(rest, ".")
		switch {
		case tok == ">":
			n.fwc = append(n.fwc, v)
			return
		case tok == "*":
			if n.pwc == nil {
				n.pwc = &trieNode[T]{}
			}
			n = n.pwc
		default:
			c := n.lit[tok]
			if c == nil {
				if n.lit == nil {
					n.lit = make(map[string]*trieNode[T])
				}
				c = &trieNode[T]{}
				n.lit[tok] = c
			}
			n = c
		}
		if !more {
			n.end = append(n.end, v)
			return
		}
		rest = tail
	}
}

// drop removes v, filed under rest, and the nodes it leaves empty; it reports whether v was there.
func (n *trieNode[T]) drop(v T, rest string) bool {
	tok, tail, more := strings.Cut(rest, ".")
	if tok == ">" {
		var ok bool
		n.fwc, ok = without(n.fwc, v)
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
		ok = c.drop(v, tail)
	} else {
		c.end, ok = without(c.end, v)
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

// without removes v from list, keeping the order of the rest.
func without[T comparable](list []T, v T) ([]T, bool) {
	i := slices.Index(list, v)
	if i < 0 {
		return list, false
	}
	if len(list) == 1 {
		return nil, true
	}
	return append(list[:i:i], list[i+1:]...), true
}

// match appends what rest reaches below n. rest is the part of a routable published subject not
// yet walked ("" once every token is). Tokens compare as they are, whitespace included, as in
// nats-server's sublist.
func (n *trieNode[T]) match(rest string, hits []T) []T {
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

// each calls f for everything filed below n.
func (n *trieNode[T]) each(f func(T)) {
	for _, v := range n.end {
		f(v)
	}
	for _, v := range n.fwc {
		f(v)
	}
	for _, c := range n.lit {
		c.each(f)
	}
	if n.pwc != nil {
		n.pwc.each(f)
	}
}
