package assert

import (
	"github.com/natskit/natskit/internal/subject"
)

// SubjectMatches checks that a subscription on pattern receives messages published on subj.
// An invalid pattern fails.
func SubjectMatches(t TB, pattern, subj string) bool {
	t.Helper()
	if !subject.ValidPattern(pattern) {
		t.Errorf("assert.SubjectMatches: invalid pattern %q (checked against %q)", pattern, subj)
		return false
	}
	if subject.Matches(pattern, subj) {
		return true
	}
	if !publishable(subj) {
		t.Errorf("assert.SubjectMatches: %q does not match %q: no client can publish on %q (empty token, space, tab, CR or LF)",
			pattern, subj, subj)
		return false
	}
	t.Errorf("assert.SubjectMatches: %q does not match %q", pattern, subj)
	return false
}

// SubjectNotMatches checks that a subscription on pattern does not receive messages published
// on subj. An invalid pattern fails too: the server refuses such a subscription, so the check
// would prove nothing. A subject no client can publish passes.
func SubjectNotMatches(t TB, pattern, subj string) bool {
	t.Helper()
	if !subject.ValidPattern(pattern) {
		t.Errorf("assert.SubjectNotMatches: invalid pattern %q (checked against %q)", pattern, subj)
		return false
	}
	if subject.Matches(pattern, subj) {
		t.Errorf("assert.SubjectNotMatches: %q matches %q", pattern, subj)
		return false
	}
	return true
}

// publishable reports whether a client can publish on subj: ">" receives every such subject.
func publishable(subj string) bool { return subject.Matches(">", subj) }
