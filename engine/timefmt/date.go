package timefmt

import "strconv"

// DATE is days since 1970-01-01 (int32) and TIME nanoseconds since
// midnight (int64). Their text forms are Arrow's: 2024-01-31 and
// 13:45:00, 13:45:00.500 (a fraction of 3, 6 or 9 digits when not zero).

// Problems ParseDate and ParseTime report.
const (
	ErrDateSyntax = "invalid date (expected YYYY-MM-DD, e.g. 2024-01-31)"
	ErrDateField  = "invalid date (field out of range)"
	ErrTimeSyntax = "invalid time (expected HH:MM[:SS[.fraction]], e.g. 13:45:00.5)"
	ErrTimeField  = "invalid time (field out of range)"
)

// NanosPerDay is the number of nanoseconds in a day.
const NanosPerDay = secsPerDay * nanosPerSec

// ParseDate parses YYYY-MM-DD and returns days since 1970-01-01, or "" and
// one of the ErrDate constants.
func ParseDate(s []byte) (int32, string) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, ErrDateSyntax
	}
	y, ok1 := digits(s, 0, 4)
	mo, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 {
		return 0, ErrDateSyntax
	}
	if mo < 1 || mo > 12 || d < 1 || d > DaysIn(y, mo) {
		return 0, ErrDateField
	}
	return int32(DaysFromCivil(y, mo, d)), ""
}

// ParseTime parses HH:MM[:SS[.fraction]] (fraction digits beyond
// nanoseconds are truncated) and returns nanoseconds since midnight, or ""
// and one of the ErrTime constants.
func ParseTime(s []byte) (int64, string) {
	if len(s) < 5 || s[2] != ':' {
		return 0, ErrTimeSyntax
	}
	h, ok1 := digits(s, 0, 2)
	m, ok2 := digits(s, 3, 2)
	if !ok1 || !ok2 {
		return 0, ErrTimeSyntax
	}
	var sec, frac int64
	i := 5
	if i < len(s) {
		if s[i] != ':' {
			return 0, ErrTimeSyntax
		}
		var ok bool
		if sec, ok = digits(s, i+1, 2); !ok {
			return 0, ErrTimeSyntax
		}
		i += 3
		if i < len(s) {
			if s[i] != '.' {
				return 0, ErrTimeSyntax
			}
			i++
			n := 0
			for ; i < len(s); i++ {
				if !isDigit(s[i]) {
					return 0, ErrTimeSyntax
				}
				if n < 9 {
					frac = frac*10 + int64(s[i]-'0')
				}
				n++
			}
			if n == 0 {
				return 0, ErrTimeSyntax
			}
			for ; n < 9; n++ {
				frac *= 10
			}
		}
	}
	if h > 23 || m > 59 || sec > 59 {
		return 0, ErrTimeField
	}
	return (h*3600+m*60+sec)*nanosPerSec + frac, ""
}

// AppendDate appends days since 1970-01-01 as YYYY-MM-DD, as chrono
// writes dates: a negative year has a '-' before its (at least 4) digits, a
// year past 9999 all its digits.
func AppendDate(dst []byte, days int32) []byte {
	y, m, d := CivilFromDays(int64(days))
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	if y <= 9999 {
		dst = append4(dst, y)
	} else {
		dst = strconv.AppendInt(dst, y, 10)
	}
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	return append2(dst, d)
}

// AppendTime appends nanoseconds since midnight as HH:MM:SS with 3, 6 or 9
// fractional digits when the fraction is not zero. Values outside one day
// are taken modulo a day.
func AppendTime(dst []byte, nanos int64) []byte {
	nanos %= NanosPerDay
	if nanos < 0 {
		nanos += NanosPerDay
	}
	secs, frac := nanos/nanosPerSec, nanos%nanosPerSec
	dst = append2(dst, secs/3600)
	dst = append(dst, ':')
	dst = append2(dst, secs/60%60)
	dst = append(dst, ':')
	dst = append2(dst, secs%60)
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

// DayOf returns the day (days since 1970-01-01) of the timestamp nanos,
// rounding toward negative infinity, and the nanoseconds since that day's
// midnight.
func DayOf(nanos int64) (days int64, tod int64) {
	days, tod = nanos/NanosPerDay, nanos%NanosPerDay
	if tod < 0 {
		days--
		tod += NanosPerDay
	}
	return days, tod
}
