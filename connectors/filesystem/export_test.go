package filesystem

import "time"

// SetClock makes sinks built afterwards read the time from now; it returns
// a function that restores the wall clock.
func SetClock(now func() time.Time) (restore func()) {
	old := clock
	clock = now
	return func() { clock = old }
}
