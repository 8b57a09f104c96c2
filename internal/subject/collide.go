package subject

import "strings"

// Collide reports whether some literal subject could match both a and b, as nats-server's
// SubjectsCollide decides it (stream subjects that overlap, a republish that forms a cycle).
// Like the server, it takes any token that starts with '*' or '>' as a wildcard when it
// compares two tokens, although only a token that is just '*' or '>' is one.
func Collide(a, b string) bool {
	if a == b {
		return true
	}
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	pa, fa := wildcards(ta)
	pb, fb := wildcards(tb)
	la, lb := !pa && !fa, !pb && !fb
	switch {
	case la && lb:
		return false
	case la:
		return subsetMatch(ta, tb)
	case lb:
		return subsetMatch(tb, ta)
	}
	// both have wildcards: without '>' they must be as long; the shorter must end in '>'
	if len(ta) != len(tb) && (len(ta) < len(tb) && !fa || len(tb) < len(ta) && !fb) {
		return false
	}
	for i := 0; i < len(ta) && i < len(tb); i++ {
		if !tokensCanMatch(ta[i], tb[i]) {
			return false
		}
	}
	return true
}

// SubsetMatch reports whether every subject that subj matches, pattern matches too, as
// nats-server's subjectIsSubsetMatch decides it.
func SubsetMatch(subj, pattern string) bool {
	return subsetMatch(strings.Split(subj, "."), strings.Split(pattern, "."))
}

// wildcards reports whether toks hold a '*' token and a '>' token.
func wildcards(toks []string) (pwc, fwc bool) {
	for _, t := range toks {
		switch t {
		case "*":
			pwc = true
		case ">":
			fwc = true
		}
	}
	return pwc, fwc
}

// tokensCanMatch is nats-server's test of two tokens of subjects that both hold wildcards.
func tokensCanMatch(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if c, d := a[0], b[0]; c == '*' || d == '*' || c == '>' || d == '>' {
		return true
	}
	return a == b
}

// subsetMatch is nats-server's isSubsetMatchTokenized: whether every subject the literal
// tokens lit match, the pattern tokens pat match too.
func subsetMatch(lit, pat []string) bool {
	for i, p := range pat {
		if i >= len(lit) || p == "" {
			return false
		}
		if p == ">" {
			return true
		}
		l := lit[i]
		if l == "" || l == ">" {
			return false
		}
		if l == "*" {
			if p != "*" {
				return false
			}
			continue
		}
		if p[0] != '*' && l != p {
			return false
		}
	}
	return len(lit) == len(pat)
}
