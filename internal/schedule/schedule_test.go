package schedule_test

import (
	"testing"
	"time"

	"github.com/natskit/natskit/internal/schedule"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := mustTime(t, "2026-03-28T10:00:00.6Z")
	cases := []struct {
		pattern string
		loc     *time.Location
		ts      string
		next    string // RFC3339Nano; "" for no time
		repeat  bool
		ok      bool
	}{
		{"", nil, "2026-03-28T10:00:00Z", "", false, true},
		{"@at 2026-04-01T00:00:00Z", nil, "2026-03-28T10:00:00Z", "2026-04-01T00:00:00Z", false, true},
		{"@at 2020-01-01T00:00:00+01:00", nil, "2026-03-28T10:00:00Z", "2020-01-01T00:00:00+01:00", false, true},
		{"@at 2026-04-01T00:00:00Z", ams, "2026-03-28T10:00:00Z", "", false, false},
		{"@at tomorrow", nil, "2026-03-28T10:00:00Z", "", false, false},
		{"@every 5s", nil, "2026-03-28T10:00:00.6Z", "2026-03-28T10:00:06Z", true, true},
		{"@every 5s", nil, "2026-03-28T10:00:00.4Z", "2026-03-28T10:00:05Z", true, true},
		{"@every 5s", nil, "2026-03-28T09:00:00Z", "2026-03-28T10:00:06Z", true, true}, // catches up once
		{"@every 500ms", nil, "2026-03-28T10:00:00Z", "", false, false},
		{"@every 5s", ams, "2026-03-28T10:00:00Z", "", false, false},
		{"@hourly", nil, "2026-03-28T10:00:00.6Z", "2026-03-28T11:00:00Z", true, true},
		{"@daily", ams, "2026-03-28T10:00:00.6Z", "2026-03-29T00:00:00+01:00", true, true},
		{"0 30 2 * * *", ams, "2026-03-28T10:00:00.6Z", "2026-03-30T02:30:00+02:00", true, true}, // 2:30 does not exist on the 29th
		{"*/15 * * * * *", nil, "2026-03-28T10:00:00.6Z", "2026-03-28T10:00:15Z", true, true},
		{"0 0 0 30 2 *", nil, "2026-03-28T10:00:00Z", "", false, false},
		{"0 0 0 * * *", nil, "2026-03-28T09:00:00Z", "2026-03-29T00:00:00Z", true, true},
		{"* * * * *", nil, "2026-03-28T10:00:00Z", "", false, false},
	}
	for _, c := range cases {
		next, repeat, ok := schedule.Next(c.pattern, c.loc, mustTime(t, c.ts).UnixNano(), now)
		got := ""
		if !next.IsZero() {
			got = next.Format(time.RFC3339Nano)
		}
		if got != c.next || repeat != c.repeat || ok != c.ok {
			t.Errorf("Next(%q, %v, %s) = %q, %v, %v; want %q, %v, %v", c.pattern, c.loc, c.ts, got, repeat, ok, c.next, c.repeat, c.ok)
		}
	}
}

func TestCronErrors(t *testing.T) {
	for p, want := range map[string]string{
		"* * * * *":       "pattern requires 6 fields, got 5",
		"61 * * * * *":    "end of range (61) above maximum (59): 61",
		"* * * 0 * *":     "beginning of range (0) below minimum (1): 0",
		"5-1 * * * * *":   "beginning of range (5) beyond end of range (1): 5-1",
		"*/0 * * * * *":   "step of range should be a positive number: */0",
		"1-2-3 * * * * *": "too many hyphens: 1-2-3",
		"1/2/3 * * * * *": "too many slashes: 1/2/3",
		"0 0 0 31 2 *":    "pattern exceeds maximum range",
	} {
		if _, err := schedule.Cron(p, nil, 0); err == nil || err.Error() != want {
			t.Errorf("Cron(%q): %v, want %q", p, err, want)
		}
	}
}

// FuzzNext reads untrusted patterns: it must not panic, and a valid repeating schedule lies
// after the time it was computed from.
func FuzzNext(f *testing.F) {
	for _, p := range serverPatterns {
		f.Add(p, int64(1_800_000_000_000_000_000))
	}
	f.Fuzz(func(t *testing.T, pattern string, ts int64) {
		now := time.Unix(0, ts)
		next, repeat, ok := schedule.Next(pattern, nil, ts, now)
		if ok && repeat && !next.After(now.Add(-time.Second)) {
			t.Fatalf("Next(%q, %d) = %v, before %v", pattern, ts, next, now)
		}
		if !ok && !next.IsZero() {
			t.Fatalf("Next(%q) invalid but gives %v", pattern, next)
		}
	})
}
