// Package schedule reads the Nats-Schedule patterns of JetStream message schedules as
// nats-server v2.15 reads them: "@at <RFC3339 time>", "@every <duration>", the predefined
// "@yearly", "@monthly", "@weekly", "@daily", "@hourly" (and their aliases), and cron patterns
// of six fields. The time it compares with is a parameter, so that a fake clock drives it.
package schedule

import (
	"strings"
	"time"
)

// Next is when a schedule given by pattern fires after ts (nanoseconds since the epoch), in
// loc for a cron pattern (nil when the schedule names no time zone; "@at" and "@every" take
// none), whether it repeats, and whether the pattern is valid. A repeating schedule whose
// next time is already before now fires once, a period after now, rather than catching up.
// An empty pattern is valid and names no time.
func Next(pattern string, loc *time.Location, ts int64, now time.Time) (next time.Time, repeat, ok bool) {
	if pattern == "" {
		return time.Time{}, false, true
	}
	if at, found := strings.CutPrefix(pattern, "@at "); found {
		if loc != nil {
			return time.Time{}, false, false
		}
		t, err := time.Parse(time.RFC3339, at)
		return t, false, err == nil
	}
	if every, found := strings.CutPrefix(pattern, "@every "); found {
		if loc != nil {
			return time.Time{}, false, false
		}
		dur, err := time.ParseDuration(every)
		if err != nil || dur.Seconds() < 1 {
			return time.Time{}, false, false
		}
		next := time.Unix(0, ts).UTC().Round(time.Second).Add(dur)
		if now := now.UTC(); next.Before(now) {
			next = now.Round(time.Second).Add(dur)
		}
		return next, true, true
	}
	switch pattern {
	case "@yearly", "@annually":
		pattern = "0 0 0 1 1 *"
	case "@monthly":
		pattern = "0 0 0 1 * *"
	case "@weekly":
		pattern = "0 0 0 * * 0"
	case "@daily", "@midnight":
		pattern = "0 0 0 * * *"
	case "@hourly":
		pattern = "0 0 * * * *"
	}
	next, err := Cron(pattern, loc, ts)
	if err != nil {
		return time.Time{}, false, false
	}
	if now := now.UTC(); next.Before(now) {
		next, err = Cron(pattern, loc, now.Round(time.Second).UnixNano())
		if err != nil {
			return time.Time{}, false, false
		}
	}
	return next, true, true
}
