// Package timefmt is the one parser and formatter of timestamp text: JSON
// decoding and encoding (connectors/jsonfmt) and CAST between TEXT and
// TIMESTAMP (engine/expr) both use it, so a text one of them accepts the
// other accepts too. strftime.go and strptime.go add chrono-style layouts
// (%Y-%m-%d %H:%M:%S) for to_char and to_timestamp(text, format).
//
// Timestamps are int64 nanoseconds since the Unix epoch, UTC: the range is
// 1677-09-21 to 2262-04-11. Conversion uses Howard Hinnant's civil-date
// algorithms instead of package time, so both directions are a few integer
// operations without allocation.
//
// It imports only the standard library.
package timefmt

import "math"

const (
	nanosPerSec = 1_000_000_000
	secsPerDay  = 86400
	maxSecs     = math.MaxInt64 / nanosPerSec
)

// Problems Parse reports. They are constant strings so that parsing a good
// timestamp allocates nothing; callers add the offending text.
const (
	ErrSyntax     = "invalid timestamp (expected RFC 3339, e.g. 2023-01-02T03:04:05.123Z, or 2023-01-02 03:04:05)"
	ErrField      = "invalid timestamp (field out of range)"
	ErrZone       = "invalid timestamp (zone offset out of range)"
	ErrOutOfRange = "timestamp out of range (1677-09-21 to 2262-04-11)"
)

// Parse parses a timestamp in any of these forms:
//
//	YYYY-MM-DD
//	YYYY-MM-DD<sep>HH:MM[:SS[.fraction]][ ][zone]
//
// where sep is 'T', 't' or ' ', and zone is 'Z', 'z', ±HH, ±HHMM or
// ±HH:MM; without a zone the time is UTC. Fraction digits beyond
// nanoseconds are truncated. It returns nanoseconds since the epoch, or ""
// and one of the Err constants.
func Parse(s []byte) (int64, string) {
	var c Cache
	return c.Parse(s)
}

// Cache is a Parse that remembers the last "YYYY-MM-DDTHH:MM" prefix it
// parsed: the timestamps of a stream mostly share their minute, and the
// prefix is most of the work. The zero value is ready to use; a Cache is
// not safe for concurrent use.
type Cache struct {
	prefix [16]byte
	secs   int64
	ok     bool
}

// Parse is the package's Parse.
func (c *Cache) Parse(s []byte) (int64, string) {
	if c.ok && len(s) >= 16 && string(s[:16]) == string(c.prefix[:]) {
		return parseRest(s, 16, c.secs)
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, ErrSyntax
	}
	y, ok1 := digits(s, 0, 4)
	mo, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 {
		return 0, ErrSyntax
	}
	if mo < 1 || mo > 12 || d < 1 || d > DaysIn(y, mo) {
		return 0, ErrField
	}
	base := DaysFromCivil(y, mo, d) * secsPerDay
	if len(s) == 10 {
		return toNanos(base, 0)
	}
	if sep := s[10]; sep != 'T' && sep != 't' && sep != ' ' {
		return 0, ErrSyntax
	}
	if len(s) < 16 || s[13] != ':' {
		return 0, ErrSyntax
	}
	h, ok1 := digits(s, 11, 2)
	mi, ok2 := digits(s, 14, 2)
	if !ok1 || !ok2 {
		return 0, ErrSyntax
	}
	if h > 23 || mi > 59 {
		return 0, ErrField
	}
	base += h*3600 + mi*60
	copy(c.prefix[:], s[:16])
	c.secs, c.ok = base, true
	return parseRest(s, 16, base)
}

// parseRest parses what follows "YYYY-MM-DDTHH:MM" (at s[i:]), whose
// seconds since the epoch are base.
func parseRest(s []byte, i int, base int64) (int64, string) {
	var sec, frac int64
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = digits(s, i+1, 2); !ok {
			return 0, ErrSyntax
		}
		if sec > 59 {
			return 0, ErrField
		}
		i += 3
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
				return 0, ErrSyntax
			}
			for ; n < 9; n++ {
				frac *= 10
			}
		}
	}
	if i < len(s) && s[i] == ' ' {
		i++
		if i == len(s) {
			return 0, ErrSyntax
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
				return 0, ErrSyntax
			}
			j := i + 3
			var zm int64
			if j < len(s) {
				if s[j] == ':' {
					j++
				}
				if zm, ok = digits(s, j, 2); !ok {
					return 0, ErrSyntax
				}
				j += 2
			}
			if zh > 23 || zm > 59 {
				return 0, ErrZone
			}
			off = zh*3600 + zm*60
			if s[i] == '-' {
				off = -off
			}
			i = j
		default:
			return 0, ErrSyntax
		}
	}
	if i != len(s) {
		return 0, ErrSyntax
	}
	return toNanos(base+sec-off, frac)
}

// toNanos returns secs seconds plus frac nanoseconds since the epoch, or
// ErrOutOfRange.
func toNanos(secs, frac int64) (int64, string) {
	if secs > maxSecs || secs < -maxSecs-1 {
		return 0, ErrOutOfRange
	}
	var n int64
	if secs < 0 {
		// (secs+1)*1e9 cannot overflow; the sum wraps to a positive value
		// if it is below math.MinInt64.
		if n = (secs+1)*nanosPerSec + (frac - nanosPerSec); n > 0 {
			return 0, ErrOutOfRange
		}
	} else if n = secs*nanosPerSec + frac; n < 0 {
		return 0, ErrOutOfRange
	}
	return n, ""
}

// AppendRFC3339 appends the timestamp nanos in RFC 3339 form in UTC, with as
// many fractional digits as needed in groups of three (like chrono's
// SecondsFormat::AutoSi): 2023-01-02T03:04:05Z, 2023-01-02T03:04:05.120Z,
// 2023-01-02T03:04:05.000001Z. It is what JSON encoding writes.
func AppendRFC3339(dst []byte, nanos int64) []byte {
	return append(AppendNaive(dst, nanos), 'Z')
}

// AppendNaive appends the timestamp nanos in UTC without a zone, as Arrow
// casts a timestamp to text: 2023-01-02T03:04:05, followed by 3, 6 or 9
// fractional digits when the fraction is not zero.
func AppendNaive(dst []byte, nanos int64) []byte {
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
	y, m, d := CivilFromDays(days)
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
	return dst
}

// DaysFromCivil returns the number of days from 1970-01-01 to y-m-d
// (proleptic Gregorian).
func DaysFromCivil(y, m, d int64) int64 {
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

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int64) (y, m, d int64) {
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

// DaysIn returns the number of days in month m of year y.
func DaysIn(y, m int64) int64 {
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
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

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
