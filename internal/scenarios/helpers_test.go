package scenarios

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// patience bounds every wait: nothing here waits for time to pass.
const patience = 10 * time.Second

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	t.Cleanup(cancel)
	return ctx
}

// reportTB stands in for t in a broken variant: it keeps what the assertions report.
type reportTB struct{ reports []string }

func (r *reportTB) Helper() {}
func (r *reportTB) Errorf(format string, args ...any) {
	r.reports = append(r.reports, fmt.Sprintf(format, args...))
}

// failedWith fails t unless the assertion failed (ok is false) with a report holding each part;
// it logs the report, which is what a user of the broken application would read.
func (r *reportTB) failedWith(t *testing.T, ok bool, parts ...string) {
	t.Helper()
	if ok || len(r.reports) == 0 {
		t.Fatalf("the assertion passed on a broken application (reports %q)", r.reports)
	}
	report := strings.Join(r.reports, "\n")
	t.Logf("what the user reads:\n%s", report)
	for _, p := range parts {
		if !strings.Contains(report, p) {
			t.Errorf("the report lacks %q", p)
		}
	}
}
