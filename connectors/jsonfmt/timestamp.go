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
