package jsonfmt

import "math"

// Timestamps are int64 nanoseconds since the Unix epoch, UTC: the range is
// 1677-09-21 to 2262-04-11. Conversion uses Howard Hinnant's civil-date
// algorithms instead of package time so that both directions are a few
// integer operations without allocation.

const (
	nanosPerSec  = 1_000_000_000
	nanosPerMs   = 1_000_000
	secsPerDay   = 86400
	maxSecs      = math.MaxInt64 / nanosPerSec
	maxUnixMilli = math.MaxInt64 / nanosPerMs
)

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysIn(y, m int64) int64 {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// digits parses s[i:i+n] as a decimal number.
func digits(s []byte, i, n int) (int64, bool) {
	if i+n > len(s) {
		return 0, false
	}
	var v int64
	for _, c := range s[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseTimestamp parses an RFC 3339 timestamp ("2023-01-02T03:04:05.123Z",
// "...+02:00") or the SQL form without zone ("2023-01-02 03:04:05.5",
// taken as UTC). The separator may be 'T', 't' or ' '; the zone 'Z', 'z',
// ±HH:MM, ±HHMM or ±HH; fractions beyond nanoseconds are truncated. The
// problem is returned as a message (allocation-free on success).
func parseTimestamp(s []byte) (int64, string) {
	var c tsCache
	return c.parse(s)
}

// tsCache remembers the last "YYYY-MM-DDTHH:MM" prefix parsed and its
// seconds since the epoch: the timestamps of a stream mostly share their
// minute, and the prefix is most of the parsing work.
type tsCache struct {
	prefix [16]byte
	secs   int64
	ok     bool
}

func (c *tsCache) parse(s []byte) (int64, string) {
	const bad = "invalid timestamp (expected RFC 3339, e.g. 2023-01-02T03:04:05.123Z)"
	if len(s) < 19 || s[16] != ':' {
		return 0, bad
	}
	var base int64
	if c.ok && string(s[:16]) == string(c.prefix[:]) {
		base = c.secs
	} else {
		if s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' {
			return 0, bad
		}
		for _, k := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15} {
			if s[k]-'0' > 9 {
				return 0, bad
			}
		}
		d2 := func(k int) int64 { return int64(s[k]-'0')*10 + int64(s[k+1]-'0') }
		y := d2(0)*100 + d2(2)
		mo, d, h, mi := d2(5), d2(8), d2(11), d2(14)
		if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 {
			return 0, "invalid timestamp (field out of range)"
		}
		base = daysFromCivil(y, mo, d)*secsPerDay + h*3600 + mi*60
		copy(c.prefix[:], s[:16])
		c.secs, c.ok = base, true
	}
	if s[17]-'0' > 9 || s[18]-'0' > 9 {
		return 0, bad
	}
	sec := int64(s[17]-'0')*10 + int64(s[18]-'0')
	if sec > 59 {
		return 0, "invalid timestamp (field out of range)"
	}
	i := 19
	var frac int64
	if i < len(s) && s[i] == '.' {
		i++
		n := 0
		for i < len(s) && isDigit(s[i]) {
			if n < 9 {
				frac = frac*10 + int64(s[i]-'0')
			}
			n++
			i++
		}
		if n == 0 {
			return 0, bad
		}
		for ; n < 9; n++ {
			frac *= 10
		}
	}
	var off int64 // zone offset in seconds east of UTC
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			zh, ok := digits(s, i+1, 2)
			if !ok {
				return 0, bad
			}
			j := i + 3
			var zm int64
			if j < len(s) {
				if s[j] == ':' {
					j++
				}
				if zm, ok = digits(s, j, 2); !ok {
					return 0, bad
				}
				j += 2
			}
			if zh > 23 || zm > 59 {
				return 0, "invalid timestamp (zone offset out of range)"
			}
			off = zh*3600 + zm*60
			if s[i] == '-' {
				off = -off
			}
			i = j
		default:
			return 0, bad
		}
	}
	if i != len(s) {
		return 0, bad
	}
	secs := base + sec - off
	const outOfRange = "timestamp out of range (1677-09-21 to 2262-04-11)"
	if secs > maxSecs || secs < -maxSecs-1 {
		return 0, outOfRange
	}
	var n int64
	if secs < 0 {
		// (secs+1)*1e9 cannot overflow; the sum wraps to a positive value
		// if it is below math.MinInt64.
		if n = (secs+1)*nanosPerSec + (frac - nanosPerSec); n > 0 {
			return 0, outOfRange
		}
	} else if n = secs*nanosPerSec + frac; n < 0 {
		return 0, outOfRange
	}
	return n, ""
}

// AppendTimestampRFC3339 appends the timestamp nanos (nanoseconds since the
// Unix epoch) in RFC 3339 form in UTC, with as many fractional digits as
// needed in groups of three (like chrono's SecondsFormat::AutoSi):
// 2023-01-02T03:04:05Z, 2023-01-02T03:04:05.120Z, 2023-01-02T03:04:05.000001Z.
func AppendTimestampRFC3339(dst []byte, nanos int64) []byte {
	secs := nanos / nanosPerSec
	frac := nanos % nanosPerSec
	if frac < 0 {
		secs--
		frac += nanosPerSec
	}
	days := secs / secsPerDay
	sod := secs % secsPerDay
	if sod < 0 {
		days--
		sod += secsPerDay
	}
	y, m, d := civilFromDays(days)
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, sod/3600)
	dst = append(dst, ':')
	dst = append2(dst, sod/60%60)
	dst = append(dst, ':')
	dst = append2(dst, sod%60)
	if frac != 0 {
		dst = append(dst, '.')
		switch {
		case frac%1_000_000 == 0:
			dst = appendN(dst, frac/1_000_000, 3)
		case frac%1_000 == 0:
			dst = appendN(dst, frac/1_000, 6)
		default:
			dst = appendN(dst, frac, 9)
		}
	}
	return append(dst, 'Z')
}

func append2(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

func append4(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
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
