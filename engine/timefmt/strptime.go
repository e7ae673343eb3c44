package timefmt

import (
	"errors"
	"strings"
)

// ErrNoMatch is the error Layout.Parse returns when the text does not have
// the layout's form; the caller names the text and the format.
var ErrNoMatch = errors.New("text does not match the format")

// Parse reads a timestamp written in layout l, as chrono's parse_from_str
// does: numbers may have fewer digits than their width (%m reads 1 or 01),
// month and day names match without regard to case, a space in the format
// matches any run of spaces (none included), and the whole text must be
// used. Fields the format lacks default to 1970-01-01 00:00:00 UTC; a zone
// offset (%z, %:z) converts to UTC. %s reads seconds since the epoch.
// Week-based specifiers (%U %W %V %G %g %u %w) are not supported in parsing.
func (l *Layout) Parse(s []byte) (int64, error) {
	p := parseState{year: 1970, month: 1, day: 1}
	i := 0
	for _, it := range l.items {
		var ok bool
		if it.spec == 0 {
			i, ok = matchLiteral(s, i, it.lit)
		} else {
			i, ok = p.item(&it, s, i)
		}
		if !ok {
			return 0, ErrNoMatch
		}
	}
	if i != len(s) {
		return 0, ErrNoMatch
	}
	return p.result()
}

type parseState struct {
	year, month, day, yday   int64
	hour, minute, sec, nanos int64
	pm, hour12, hasEpoch     bool
	hasPM                    bool
	epoch, offset            int64
}

func matchLiteral(s []byte, i int, lit string) (int, bool) {
	for k := 0; k < len(lit); k++ {
		c := lit[k]
		if c == ' ' || c == '\t' || c == '\n' {
			for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
				i++
			}
			continue
		}
		if i >= len(s) || s[i] != c {
			return i, false
		}
		i++
	}
	return i, true
}

// num reads 1 to max digits after leading spaces (as chrono does) and,
// when signed, an optional sign; a signed number may have up to 19 digits
// (a year with a sign may be longer than 4).
func num(s []byte, i, max int, signed bool) (int64, int, bool) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	neg := false
	if signed && i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
		max = 18
	}
	start := i
	var v int64
	for i < len(s) && i-start < max && isDigit(s[i]) {
		v = v*10 + int64(s[i]-'0')
		i++
	}
	if i == start {
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// name matches one of names (case-insensitively, the longest first) and
// returns its index.
func name(s []byte, i int, long, short []string) (int, int, bool) {
	for _, names := range [][]string{long, short} {
		for k, n := range names {
			if len(s)-i >= len(n) && strings.EqualFold(string(s[i:i+len(n)]), n) {
				return k, i + len(n), true
			}
		}
	}
	return 0, i, false
}

func (p *parseState) item(it *item, s []byte, i int) (int, bool) {
	var ok bool
	skipSpace := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	switch it.spec {
	case 'Y':
		p.year, i, ok = num(s, i, 4, true)
	case 'y':
		var y int64
		if y, i, ok = num(s, i, 2, false); ok {
			// chrono's window: 00-69 are 2000-2069, 70-99 1970-1999.
			if y < 70 {
				p.year = 2000 + y
			} else {
				p.year = 1900 + y
			}
		}
	case 'C':
		var c int64
		if c, i, ok = num(s, i, 2, false); ok {
			p.year = c*100 + p.year%100
		}
	case 'm':
		p.month, i, ok = num(s, i, 2, false)
	case 'b', 'h', 'B':
		var k int
		k, i, ok = name(s, i, longMonths[:], shortMonths[:])
		p.month = int64(k) + 1
	case 'd':
		p.day, i, ok = num(s, i, 2, false)
	case 'e':
		skipSpace()
		p.day, i, ok = num(s, i, 2, false)
	case 'a', 'A':
		_, i, ok = name(s, i, longDays[:], shortDays[:])
	case 'j':
		p.yday, i, ok = num(s, i, 3, false)
		ok = ok && p.yday >= 1
	case 'H':
		p.hour, i, ok = num(s, i, 2, false)
	case 'k':
		skipSpace()
		p.hour, i, ok = num(s, i, 2, false)
	case 'I', 'l':
		if it.spec == 'l' {
			skipSpace()
		}
		p.hour, i, ok = num(s, i, 2, false)
		p.hour12 = true
	case 'p', 'P':
		if len(s)-i >= 2 {
			switch strings.ToUpper(string(s[i : i+2])) {
			case "AM":
				p.hasPM, p.pm, ok = true, false, true
			case "PM":
				p.hasPM, p.pm, ok = true, true, true
			}
			i += 2
		}
	case 'M':
		p.minute, i, ok = num(s, i, 2, false)
	case 'S':
		p.sec, i, ok = num(s, i, 2, false)
	case 'f', specFrac:
		p.nanos, i, ok = frac(s, i, it.frac)
	case specDotFrac:
		// The dot and the digits are optional together (chrono's %.f).
		if i < len(s) && s[i] == '.' {
			p.nanos, i, ok = frac(s, i+1, it.frac)
		} else {
			ok = it.frac == 0
		}
	case 's':
		p.epoch, i, ok = num(s, i, 18, true)
		p.hasEpoch = true
	case 'z', specColonZone:
		p.offset, i, ok = zone(s, i)
	default:
		return i, false // %Z and week-based fields cannot be parsed
	}
	return i, ok
}

// frac reads fraction digits as nanoseconds: exactly digits of them when
// digits > 0, else 1 to 9.
func frac(s []byte, i, digits int) (int64, int, bool) {
	start := i
	var v int64
	n := 0
	for i < len(s) && isDigit(s[i]) && (digits == 0 || n < digits) {
		if n < 9 {
			v = v*10 + int64(s[i]-'0')
		}
		n++
		i++
	}
	if n == 0 || digits > 0 && n != digits {
		return 0, start, false
	}
	for k := n; k < 9; k++ {
		v *= 10
	}
	return v, i, true
}

// zone reads +hh, +hhmm, +hh:mm or Z and returns the offset in seconds.
func zone(s []byte, i int) (int64, int, bool) {
	if i < len(s) && (s[i] == 'Z' || s[i] == 'z') {
		return 0, i + 1, true
	}
	if i >= len(s) || s[i] != '+' && s[i] != '-' {
		return 0, i, false
	}
	sign := int64(1)
	if s[i] == '-' {
		sign = -1
	}
	h, ok := digits(s, i+1, 2)
	if !ok {
		return 0, i, false
	}
	i += 3
	if i < len(s) && s[i] == ':' {
		i++
	}
	var m int64
	if mm, ok := digits(s, i, 2); ok {
		m = mm
		i += 2
	}
	if h > 23 || m > 59 {
		return 0, i, false
	}
	return sign * (h*3600 + m*60), i, true
}

func (p *parseState) result() (int64, error) {
	if p.hasEpoch {
		n, msg := toNanos(p.epoch, p.nanos)
		if msg != "" {
			return 0, errors.New(msg)
		}
		return n, nil
	}
	if p.hour12 {
		if p.hour < 1 || p.hour > 12 {
			return 0, errors.New(ErrField)
		}
		p.hour %= 12
		if p.pm {
			p.hour += 12
		}
	} else if p.hasPM && p.pm && p.hour < 12 {
		p.hour += 12
	}
	var days int64
	if p.yday > 0 {
		leap := DaysIn(p.year, 2) == 29
		if p.yday > 365 && !(leap && p.yday == 366) {
			return 0, errors.New(ErrField)
		}
		days = DaysFromCivil(p.year, 1, 1) + p.yday - 1
	} else {
		if p.month < 1 || p.month > 12 || p.day < 1 || p.day > DaysIn(p.year, p.month) {
			return 0, errors.New(ErrField)
		}
		days = DaysFromCivil(p.year, p.month, p.day)
	}
	if p.hour > 23 || p.minute > 59 || p.sec > 60 {
		return 0, errors.New(ErrField)
	}
	if p.year < -292000000 || p.year > 292000000 {
		return 0, errors.New(ErrOutOfRange)
	}
	secs := days*secsPerDay + p.hour*3600 + p.minute*60 + p.sec - p.offset
	n, msg := toNanos(secs, p.nanos)
	if msg != "" {
		return 0, errors.New(msg)
	}
	return n, nil
}
