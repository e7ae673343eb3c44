package jsonfmt

import (
	"math"

	"github.com/arroyogo/arroyo/engine/timefmt"
)

// Timestamps are int64 nanoseconds since the Unix epoch, UTC. Their text
// forms are engine/timefmt's, shared with CAST, so a timestamp a JSON
// record may carry is exactly what CAST('...' AS TIMESTAMP) accepts.

const (
	nanosPerSec  = 1_000_000_000
	nanosPerMs   = 1_000_000
	maxUnixMilli = math.MaxInt64 / nanosPerMs
)

// AppendTimestampRFC3339 appends the timestamp nanos in RFC 3339 form in
// UTC (see timefmt.AppendRFC3339).
func AppendTimestampRFC3339(dst []byte, nanos int64) []byte {
	return timefmt.AppendRFC3339(dst, nanos)
}

// appendN appends v zero-padded to n digits.
func appendN(dst []byte, v int64, n int) []byte {
	var buf [9]byte
	for k := n - 1; k >= 0; k-- {
		buf[k] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:n]...)
}

// tsCache is AppendTimestampRFC3339 remembering the text of the last
// minute it wrote ("2023-11-14T22:13:"): the timestamps of a batch mostly
// share their minute, and the calendar conversion is most of the work.
type tsCache struct {
	min    int64 // minutes since the epoch of prefix
	ok     bool
	prefix [17]byte
}

// minCachedSecs keeps the cache away from the start of the range, where
// the minute's first nanosecond is below math.MinInt64.
const minCachedSecs = math.MinInt64/nanosPerSec + 60

func (c *tsCache) appendRFC3339(dst []byte, nanos int64) []byte {
	secs, frac := nanos/nanosPerSec, nanos%nanosPerSec
	if frac < 0 {
		secs--
		frac += nanosPerSec
	}
	if secs < minCachedSecs {
		return timefmt.AppendRFC3339(dst, nanos)
	}
	m, sec := secs/60, secs%60
	if sec < 0 {
		m--
		sec += 60
	}
	if !c.ok || m != c.min {
		p := timefmt.AppendNaive(c.prefix[:0:len(c.prefix)], m*60*nanosPerSec)
		if len(p) != len("2006-01-02T15:04:05") {
			return timefmt.AppendRFC3339(dst, nanos)
		}
		copy(c.prefix[:], p)
		c.min, c.ok = m, true
	}
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, byte('0'+sec/10), byte('0'+sec%10))
	if frac != 0 {
		dst = append(dst, '.')
		switch {
		case frac%1_000_000 == 0:
			ms := frac / 1_000_000
			dst = append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		case frac%1_000 == 0:
			dst = appendN(dst, frac/1_000, 6)
		default:
			dst = appendN(dst, frac, 9)
		}
	}
	return append(dst, 'Z')
}
