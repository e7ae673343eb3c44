package dialect

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrCalendarInterval is returned (wrapped) by ParseInterval for months,
// years and longer units, whose length depends on the calendar.
var ErrCalendarInterval = errors.New("calendar intervals (months, years) are not supported")

// intervalUnits maps unit spellings (lower case) to their length.
var intervalUnits = map[string]time.Duration{
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond, "ns": time.Nanosecond, "nsec": time.Nanosecond, "nsecs": time.Nanosecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond, "us": time.Microsecond, "µs": time.Microsecond, "usec": time.Microsecond, "usecs": time.Microsecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond, "ms": time.Millisecond, "msec": time.Millisecond, "msecs": time.Millisecond, "millis": time.Millisecond,
	"second": time.Second, "seconds": time.Second, "s": time.Second, "sec": time.Second, "secs": time.Second,
	"minute": time.Minute, "minutes": time.Minute, "m": time.Minute, "min": time.Minute, "mins": time.Minute,
	"hour": time.Hour, "hours": time.Hour, "h": time.Hour, "hr": time.Hour, "hrs": time.Hour,
	"day": 24 * time.Hour, "days": 24 * time.Hour, "d": 24 * time.Hour,
	"week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

var calendarUnits = map[string]bool{
	"month": true, "months": true, "mon": true, "mons": true,
	"quarter": true, "quarters": true,
	"year": true, "years": true, "y": true, "yr": true, "yrs": true,
	"decade": true, "decades": true, "century": true, "centuries": true, "millennium": true, "millennia": true,
}

// ParseInterval parses the text of an interval: the argument of an
// __interval call ("1 HOUR") or a Postgres-style interval string such as
// "1 hour 30 minutes", "10 seconds", "2 days", "500 milliseconds", "1.5
// seconds", "10s" or "01:30:00". Each number may carry a sign. Months, years
// and longer units are an error wrapping ErrCalendarInterval.
func ParseInterval(s string) (time.Duration, error) {
	d, err := parseInterval(s)
	if err != nil {
		if errors.Is(err, ErrCalendarInterval) {
			return 0, err
		}
		return 0, fmt.Errorf("invalid interval '%s': %w", s, err)
	}
	return d, nil
}

func parseInterval(s string) (time.Duration, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return 0, errors.New("empty interval")
	}
	var total time.Duration
	for in != "" {
		neg := false
		if in[0] == '+' || in[0] == '-' {
			neg = in[0] == '-'
			in = strings.TrimLeft(in[1:], " \t")
		}
		num, rest := splitNumber(in)
		if num == "" {
			return 0, fmt.Errorf("expected a number at '%s'", in)
		}
		var d time.Duration
		var err error
		if strings.HasPrefix(rest, ":") {
			// A clock component: HH:MM[:SS[.fff]].
			clock := num
			for rest != "" && rest[0] != ' ' && rest[0] != '\t' {
				clock += rest[:1]
				rest = rest[1:]
			}
			if d, err = parseClock(clock); err != nil {
				return 0, err
			}
		} else {
			rest = strings.TrimLeft(rest, " \t")
			unit := rest
			if i := strings.IndexAny(unit, " \t,0123456789+-"); i >= 0 {
				unit = unit[:i]
			}
			rest = rest[len(unit):]
			if unit == "" {
				return 0, fmt.Errorf("missing unit after %s (use e.g. '%s seconds')", num, num)
			}
			if calendarUnits[unit] {
				return 0, ErrCalendarInterval
			}
			u, ok := intervalUnits[unit]
			if !ok {
				return 0, fmt.Errorf("unknown unit '%s' (use nanoseconds, microseconds, milliseconds, seconds, minutes, hours, days or weeks)", unit)
			}
			if d, err = scale(num, u); err != nil {
				return 0, err
			}
		}
		if neg {
			d = -d
		}
		if (d > 0 && total > math.MaxInt64-d) || (d < 0 && total < math.MinInt64-d) {
			return 0, errors.New("interval out of range")
		}
		total += d
		in = strings.TrimLeft(rest, " \t,")
	}
	return total, nil
}

// splitNumber splits a leading decimal number (digits with an optional
// fraction) off s.
func splitNumber(s string) (num, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j > i+1 || i > 0 {
			i = j
		}
	}
	if i == 0 || s[:i] == "." {
		return "", s
	}
	return s[:i], s[i:]
}

// scale multiplies the decimal number num by unit, exactly for integers and
// to the nearest nanosecond for fractions.
func scale(num string, unit time.Duration) (time.Duration, error) {
	intPart, frac, _ := strings.Cut(num, ".")
	var n time.Duration
	for _, c := range intPart {
		digit := time.Duration(c - '0')
		if n > (math.MaxInt64-digit)/10 {
			return 0, errors.New("interval out of range")
		}
		n = n*10 + digit
	}
	if n != 0 && n > math.MaxInt64/unit {
		return 0, errors.New("interval out of range")
	}
	d := n * unit
	if frac != "" {
		f := 0.0
		scaleF := 1.0
		for _, c := range frac {
			scaleF /= 10
			f += float64(c-'0') * scaleF
		}
		extra := time.Duration(math.Round(f * float64(unit)))
		if d > math.MaxInt64-extra {
			return 0, errors.New("interval out of range")
		}
		d += extra
	}
	return d, nil
}

// parseClock parses HH:MM or HH:MM:SS[.fff].
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("bad time '%s' (use HH:MM:SS)", s)
	}
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	var total time.Duration
	for i, p := range parts {
		num, rest := splitNumber(p)
		if num == "" || rest != "" || (i < len(parts)-1 || i < 2) && strings.Contains(num, ".") {
			return 0, fmt.Errorf("bad time '%s' (use HH:MM:SS)", s)
		}
		d, err := scale(num, units[i])
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}
