package connector

import (
	"math"
	"time"
)

// MinEventRate is the smallest event_rate a generator accepts: one event
// every 10^9 seconds (about 31.7 years). Intervals and event times are
// int64 nanoseconds, whose range is about 292 years: below about 1.1e-10
// events per second the interval itself does not fit, and converting it
// wrapped to a negative duration that made every event due at once. The
// round bound leaves room for several intervals.
const MinEventRate = 1e-9

// The range of a TIMESTAMP: int64 nanoseconds since the Unix epoch.
var (
	MinTimestamp = time.Unix(0, math.MinInt64).UTC()
	MaxTimestamp = time.Unix(0, math.MaxInt64).UTC()
)

// Spacing maps event numbers to their offset from event 0 for a generator
// producing rate events per second: event n is n*1e9/rate nanoseconds
// after event 0. It is exact when the interval is a whole number of
// nanoseconds and truncates toward zero otherwise; either way it is
// monotonic in n.
type Spacing struct {
	// whole is the interval when it is a whole number of nanoseconds (so
	// that n*whole is exact for any n), else 0.
	whole int64
	ns    float64
}

// NewSpacing returns the spacing of events at rate events per second
// (rate >= MinEventRate).
func NewSpacing(rate float64) Spacing {
	d := 1e9 / rate
	s := Spacing{ns: d}
	if d >= 1 && d < 1<<53 && d == math.Trunc(d) {
		s.whole = int64(d)
	}
	return s
}

// Interval is the time between events in nanoseconds.
func (s Spacing) Interval() float64 { return s.ns }

// At is event n's offset without an overflow check, for hot paths over
// events known to be below First(math.MaxInt64).
func (s Spacing) At(n int64) int64 {
	if s.whole > 0 {
		return n * s.whole
	}
	return int64(float64(n) * s.ns)
}

// Offset is event n's offset (n >= 0), or false if it exceeds the int64
// range.
func (s Spacing) Offset(n int64) (int64, bool) {
	if s.whole > 0 {
		if n > math.MaxInt64/s.whole {
			return 0, false
		}
		return n * s.whole, true
	}
	// 1<<63 is the first float64 past MaxInt64; the comparison also
	// rejects NaN.
	f := float64(n) * s.ns
	if !(f < 1<<63) {
		return 0, false
	}
	return int64(f), true
}

// Due is event n's offset as a duration, saturating at the largest
// duration (about 292 years: never, for a pacer) instead of wrapping.
func (s Spacing) Due(n int64) time.Duration {
	off, ok := s.Offset(n)
	if !ok {
		return math.MaxInt64
	}
	return time.Duration(off)
}

// First returns the first event n >= 0 whose offset exceeds limit (or
// does not fit int64), or -1 if no event up to math.MaxInt64 does.
func (s Spacing) First(limit int64) int64 {
	over := func(n int64) bool {
		off, ok := s.Offset(n)
		return !ok || off > limit
	}
	if !over(math.MaxInt64) {
		return -1
	}
	// Offsets are monotonic: binary search for the first n that is over.
	lo, hi := int64(0), int64(math.MaxInt64)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if over(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
