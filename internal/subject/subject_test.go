package subject_test

import (
	"testing"

	"github.com/natskit/natskit/internal/subject"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
		reason           string
	}{
		{"foo", "foo", true, "equal literals"},
		{"foo", "bar", false, "different literals"},
		{"foo.bar", "foo", false, "pattern longer than subject"},
		{"foo", "foo.bar", false, "subject longer than pattern"},
		{"Foo", "foo", false, "tokens are case-sensitive"},
		{"*", "foo", true, "* matches one token"},
		{"*", "foo.bar", false, "* matches exactly one token"},
		{"foo.*", "foo", false, "* needs a token to match"},
		{"foo.*.baz", "foo.bar.baz", true, "* in the middle"},
		{"*.*", "a.b", true, "two single wildcards"},
		{">", "foo", true, "> matches one token"},
		{">", "foo.bar.baz", true, "> matches many tokens"},
		{"foo.>", "foo", false, "> needs at least one token"},
		{"foo.>", "foo.bar.baz", true, "> after a literal"},
		{"*.>", "a.b", true, "* then >"},
		{"*.>", "a", false, "* then > needs two tokens"},
		{"foo*", "foo*", true, "* inside a token is literal"},
		{"foo*", "foox", false, "* inside a token is not a wildcard"},
		{"foo>", "foo>", true, "> inside a token is literal"},
		{"foo.>x", "foo.bar", false, ">x is a literal token"},
		{"wc.>", "wc.*", true, "published * is literal text, routed to >"},
		{"wc.*", "wc.*", true, "published * is literal text, routed to *"},
		{"wc.foo", "wc.*", false, "published * is not a wildcard"},
		{"wc.*", "wc.>", true, "published > is literal text, routed to *"},
		{"wc.>", "wc.>.x", true, "published > need not be last"},
		{"$JS.API.CONSUMER.CREATE.*.*.>", "$JS.API.CONSUMER.CREATE.S.c.$KV.x.>", true, "JetStream API subject with a literal >"},
		{"a.\fb", "a.\fb", false, "form feed makes the pattern invalid"},
		{">", "a.\fb", true, "form feed is literal text in a published subject"},
		{"", "foo", false, "empty pattern"},
		{"foo", "", false, "empty subject"},
		{"", "", false, "both empty"},
		{"foo.>.bar", "foo.x.bar", false, "> not last makes the pattern invalid"},
		{"foo.>.", "foo.x.", false, "> not last, trailing dot"},
		{">.>", "a.b", false, "> twice"},
		{"foo..bar", "foo..bar", false, "empty pattern token"},
		{".foo", ".foo", false, "leading dot"},
		{"foo.", "foo.", false, "trailing dot"},
		{"*", ".", false, "subject of one dot"},
		{">", "foo..bar", false, "empty subject token under >"},
		{">", "foo.", false, "trailing dot under >"},
		{">", ".foo", false, "leading dot under >"},
		{"foo.*", "foo.", false, "* against an empty token"},
		{"foo bar", "foo bar", false, "space in the pattern"},
		{"foo\tbar", "foo\tbar", false, "tab in the pattern"},
		{">", "foo bar", false, "space in the subject"},
		{">", "foo.bar\r\n", false, "CRLF in the subject"},
		{"foo.*", "foo.b\nr", false, "LF in a subject token matched by *"},
	}
	for _, tt := range tests {
		if got := subject.Matches(tt.pattern, tt.subject); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v: %s", tt.pattern, tt.subject, got, tt.want, tt.reason)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		s            string
		pattern, lit bool
		reason       string
	}{
		{"foo", true, true, "one token"},
		{"foo.bar.baz", true, true, "three tokens"},
		{"*", true, false, "single wildcard"},
		{">", true, false, "full wildcard"},
		{"foo.*.bar", true, false, "* in the middle"},
		{"foo.>", true, false, "> last"},
		{"foo*.bar>", true, true, "wildcard characters inside tokens are literal"},
		{"$JS.API.INFO", true, true, "dollar prefix"},
		{"", false, false, "empty"},
		{".", false, false, "one dot"},
		{"foo..bar", false, false, "empty token"},
		{".foo", false, false, "leading dot"},
		{"foo.", false, false, "trailing dot"},
		{"foo.>.bar", false, false, "> not last"},
		{">.foo", false, false, "> first of two"},
		{"foo bar", false, false, "space"},
		{" ", false, false, "space token"},
		{"foo\t", false, false, "tab"},
		{"foo\r", false, false, "CR"},
		{"\n", false, false, "LF token"},
		{"a.\f", false, false, "form feed"},
		{"a.\v", true, true, "vertical tab is not rejected by the server"},
		{"a.\x00", true, true, "NUL is not rejected by the server"},
		{"ä.ö", true, true, "UTF-8"},
	}
	for _, tt := range tests {
		if got := subject.ValidPattern(tt.s); got != tt.pattern {
			t.Errorf("ValidPattern(%q) = %v, want %v: %s", tt.s, got, tt.pattern, tt.reason)
		}
		if got := subject.ValidLiteral(tt.s); got != tt.lit {
			t.Errorf("ValidLiteral(%q) = %v, want %v: %s", tt.s, got, tt.lit, tt.reason)
		}
	}
}

func TestMatchesDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		subject.Matches("orders.*.>", "orders.eu.created.1")
		subject.Matches(">", "a.b.c.d.e")
		subject.Matches("a.b.c", "a.b.d")
	})
	if n != 0 {
		t.Errorf("Matches allocated %v times per run, want 0", n)
	}
}

func BenchmarkMatches(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		subject.Matches("orders.*.created.>", "orders.eu.created.2024.42")
	}
}
