// Package subject holds NATS subject rules as nats-server applies them.
package subject

// Matches reports whether a subscription on pattern receives a message published on subj: a
// pattern token "*" matches one token, a last pattern token ">" matches one or more; wildcard
// characters inside a longer token, and any wildcard in subj, are literal text.
func Matches(pattern, subj string) bool {
	if pattern == "" || subj == "" {
		return false
	}
	for {
		pt, prest, pmore := cut(pattern)
		st, srest, smore := cut(subj)
		if pt == "" || st == "" {
			return false
		}
		switch {
		case pt == ">":
			return !pmore && validTokens(subj)
		case pt == "*" || pt == st:
		default:
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subj = prest, srest
	}
}

// cut splits s at its first '.', reporting whether there was one.
func cut(s string) (token, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// validTokens reports whether s has no empty token.
func validTokens(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

// ValidPattern reports whether p is a valid subscription subject, as nats-server's
// IsValidSubject judges it: no empty token, no whitespace, ">" only as the last token.
func ValidPattern(p string) bool {
	if p == "" {
		return false
	}
	rest, more := p, true
	for more {
		var t string
		t, rest, more = cut(rest)
		switch {
		case t == "":
			return false
		case t == ">":
			if more {
				return false
			}
		case hasSpace(t):
			return false
		}
	}
	return true
}

// ValidLiteral reports whether s is a valid subject to publish on, as nats-server's
// IsValidPublishSubject judges it: a valid subject with no "*" or ">" token.
func ValidLiteral(s string) bool {
	if !ValidPattern(s) {
		return false
	}
	rest, more := s, true
	for more {
		var t string
		t, rest, more = cut(rest)
		if t == "*" || t == ">" {
			return false
		}
	}
	return true
}

func hasSpace(t string) bool {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ' ', '\t', '\n', '\r', '\f':
			return true
		}
	}
	return false
}
