// Package bubble tells whether code runs in a testing/synctest bubble, and keeps bubbles apart
// from nats.go's process-wide timer pool.
package bubble

import "time"

// processStart is the wall-clock time the process started, read outside any bubble (package
// initialisation never runs in one).
var processStart = time.Now().Round(0)

// In reports whether the calling goroutine runs in a testing/synctest bubble. Go offers no
// public call for it; a bubble's clock does tell: it starts in the year 2000, decades before the
// process did, while a real clock never reads a day earlier than when the process started. (It
// would be wrong only after more than 25 years of a bubble's virtual time, or with the system
// clock set back a day during the run.)
func In() bool {
	return time.Now().Round(0).Before(processStart.Add(-24 * time.Hour))
}
