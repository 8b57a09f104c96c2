package assert_test

import (
	"fmt"
	"testing"

	"github.com/natskit/natskit/assert"
)

func TestSubjectMatching(t *testing.T) {
	tests := []struct {
		pattern, subject string
		matches          bool   // whether SubjectMatches passes
		notMatches       bool   // whether SubjectNotMatches passes
		report           string // what the failing one reports
		reason           string
	}{
		{"orders.*.created", "orders.42.created", true, false,
			`assert.SubjectNotMatches: "orders.*.created" matches "orders.42.created"`, "* matches one token"},
		{"orders.>", "orders.42.created", true, false,
			`assert.SubjectNotMatches: "orders.>" matches "orders.42.created"`, "> matches the rest"},
		{"orders.*", "orders.42.created", false, true,
			`assert.SubjectMatches: "orders.*" does not match "orders.42.created"`, "* matches only one token"},
		{"orders.>", "orders", false, true,
			`assert.SubjectMatches: "orders.>" does not match "orders"`, "> needs at least one token"},
		{"wc.>", "wc.*", true, false,
			`assert.SubjectNotMatches: "wc.>" matches "wc.*"`, "a published * is literal text"},
		{"wc.foo", "wc.*", false, true,
			`assert.SubjectMatches: "wc.foo" does not match "wc.*"`, "a published * is no wildcard"},
		{"foo*", "foox", false, true,
			`assert.SubjectMatches: "foo*" does not match "foox"`, "* inside a token is literal"},
		{"a.>.b", "a.x.b", false, false,
			`invalid pattern "a.>.b" (checked against "a.x.b")`, "> not last: invalid pattern fails both"},
		{"a..b", "a..b", false, false,
			`invalid pattern "a..b" (checked against "a..b")`, "empty token: invalid pattern fails both"},
		{"", "a", false, false,
			`invalid pattern "" (checked against "a")`, "empty pattern fails both"},
		{">", "a..b", false, true,
			`assert.SubjectMatches: ">" does not match "a..b": no client can publish on "a..b"`, "unpublishable subject"},
		{">", "a b", false, true,
			`no client can publish on "a b"`, "space in the subject"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			m, n := &recTB{}, &recTB{}
			okM := assert.SubjectMatches(m, tt.pattern, tt.subject)
			okN := assert.SubjectNotMatches(n, tt.pattern, tt.subject)
			if okM != tt.matches || okN != tt.notMatches {
				t.Fatalf("SubjectMatches = %v, SubjectNotMatches = %v; want %v, %v", okM, okN, tt.matches, tt.notMatches)
			}
			for _, c := range []struct {
				tb   *recTB
				ok   bool
				name string
			}{{m, okM, "SubjectMatches"}, {n, okN, "SubjectNotMatches"}} {
				if c.tb.helpers == 0 {
					t.Errorf("%s never called Helper", c.name)
				}
				if c.ok {
					if len(c.tb.errs) > 0 {
						t.Errorf("%s passed but reported %q", c.name, c.tb.errs)
					}
					continue
				}
				contains(t, c.tb.report(t), tt.report)
			}
		})
	}
}

// printTB prints failures, standing in for a *testing.T.
type printTB struct{}

func (printTB) Helper() {}

func (printTB) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func ExampleSubjectMatches() {
	t := printTB{} // in a test: the *testing.T
	assert.SubjectMatches(t, "orders.*.created", "orders.42.created")
	assert.SubjectMatches(t, "orders.*", "orders.42.created")
	assert.SubjectNotMatches(t, "orders.>", "orders.42.created")
	// Output:
	// assert.SubjectMatches: "orders.*" does not match "orders.42.created"
	// assert.SubjectNotMatches: "orders.>" matches "orders.42.created"
}
