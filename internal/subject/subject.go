// Package subject holds NATS subject rules as nats-server applies them.
//
//	subject.Matches("orders.*.created", "orders.eu.created") // true
//	subject.Matches("wc.>", "wc.*")                          // true: "*" is literal when published
package subject

// Matches reports whether a subscription on pattern receives a message published on subj, as
// nats-server routes it. An invalid pattern, or a subj no client can publish (empty token, space,
// tab, CR, LF), matches nothing; wildcards in subj are literal text. It does not allocate.
func Matches(pattern, subj string) bool {
	np, ns := len(pattern), len(subj)
	if np == 0 || ns == 0 {
		return false
	}
	pi, si := 0, 0
	for {
		pe := pi
		for pe < np && pattern[pe] != '.' {
			if patternSpace(pattern[pe]) {
				return false
			}
			pe++
		}
		se := si
		for se < ns && subj[se] != '.' {
			if wireSpace(subj[se]) {
				return false
			}
			se++
		}
		if pe == pi || se == si {
			return false
		}
		switch pt := pattern[pi:pe]; {
		case pt == ">":
			return pe == np && publishable(subj[se:])
		case pt == "*" || pt == subj[si:se]:
		default:
			return false
		}
		pdone, sdone := pe == np, se == ns
		if pdone || sdone {
			return pdone && sdone
		}
		pi, si = pe+1, se+1
	}
}

// publishable reports whether rest, the remainder of a subject after a complete token (empty,
// or starting with '.'), has no empty token and no character that breaks the protocol line.
func publishable(rest string) bool {
	if rest == "" {
		return true
	}
	if rest[len(rest)-1] == '.' {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == '.' && i+1 < len(rest) && rest[i+1] == '.' || wireSpace(c) {
			return false
		}
	}
	return true
}

// ValidPattern reports whether p is a valid subscription subject, mirroring nats-server's
// IsValidSubject: non-empty, no empty token, no space, tab, CR, LF or form feed, and ">" only
// as the last token.
func ValidPattern(p string) bool {
	if p == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '.' {
			if patternSpace(p[i]) {
				return false
			}
			continue
		}
		switch t := p[start:i]; {
		case t == "":
			return false
		case t == ">" && i < len(p):
			return false
		}
		start = i + 1
	}
	return true
}

// ValidLiteral reports whether s is a valid subject without wildcards, mirroring nats-server's
// IsValidPublishSubject: ValidPattern holds and no token is exactly "*" or ">".
func ValidLiteral(s string) bool {
	if !ValidPattern(s) {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		if t := s[start:i]; t == "*" || t == ">" {
			return false
		}
		start = i + 1
	}
	return true
}

// patternSpace reports whether c is whitespace that nats-server's IsValidSubject rejects.
func patternSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// wireSpace reports whether c ends a subject on the protocol line, so no client can publish it.
func wireSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
