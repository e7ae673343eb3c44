package timefmt

import (
	"fmt"
	"strconv"
)

// Layout is a compiled strftime-style format string, with the specifiers
// of Rust's chrono (which DataFusion's to_char uses): %Y-%m-%d %H:%M:%S%.3f.
// Compile it once and Append many timestamps; a Layout is immutable and
// safe for concurrent use.
type Layout struct {
	items []item
}

type item struct {
	lit  string // literal text (spec == 0)
	spec byte   // specifier letter, or one of the fraction forms below
	pad  byte   // 0: the specifier's default, '-': none, '_': spaces, '0': zeros
	frac int    // digits of a fixed fraction (%.3f, %6f); 0: automatic
}

// Fraction and zone forms, stored in item.spec.
const (
	specDotFrac   = 1 // %.f %.3f %.6f %.9f
	specFrac      = 2 // %3f %6f %9f
	specColonZone = 3 // %:z
)

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"}
)

// expansions are the specifiers that stand for others.
var expansions = map[byte]string{
	'D': "%m/%d/%y", 'x': "%m/%d/%y", 'F': "%Y-%m-%d", 'v': "%e-%b-%Y",
	'R': "%H:%M", 'T': "%H:%M:%S", 'X': "%H:%M:%S", 'r': "%I:%M:%S %p",
	'c': "%a %b %e %H:%M:%S %Y", '+': "%Y-%m-%dT%H:%M:%S%.f+00:00",
}

// simple are the specifiers that take no argument.
const simple = "YCymbhBdeaAwuUWGgVjHkIlPpMSfszZtn%"

// Compile parses a format string. Literal text is copied; an unknown
// specifier or a lone % at the end is an error naming it.
func Compile(format string) (*Layout, error) {
	l := &Layout{}
	if err := l.compile(format); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Layout) compile(format string) error {
	lit := func(s string) {
		if n := len(l.items); n > 0 && l.items[n-1].spec == 0 {
			l.items[n-1].lit += s
			return
		}
		l.items = append(l.items, item{lit: s})
	}
	for i := 0; i < len(format); {
		j := i
		for j < len(format) && format[j] != '%' {
			j++
		}
		if j > i {
			lit(format[i:j])
			i = j
			continue
		}
		// format[i] == '%'
		start := i
		i++
		bad := func() error {
			end := min(i+1, len(format))
			return fmt.Errorf("invalid format specifier '%s' in '%s'", format[start:end], format)
		}
		if i >= len(format) {
			return fmt.Errorf("format '%s' ends with a lone '%%'", format)
		}
		it := item{}
		if c := format[i]; c == '-' || c == '_' || c == '0' {
			it.pad = c
			i++
			if i >= len(format) {
				return bad()
			}
		}
		c := format[i]
		switch {
		case c == '.':
			// %.f %.3f %.6f %.9f
			it.spec = specDotFrac
			i++
			if i < len(format) && (format[i] == '3' || format[i] == '6' || format[i] == '9') {
				it.frac = int(format[i] - '0')
				i++
			}
			if i >= len(format) || format[i] != 'f' {
				return bad()
			}
		case c == '3' || c == '6' || c == '9':
			it.spec, it.frac = specFrac, int(c-'0')
			i++
			if i >= len(format) || format[i] != 'f' {
				return bad()
			}
		case c == ':':
			i++
			if i >= len(format) || format[i] != 'z' {
				return bad()
			}
			it.spec = specColonZone
		case expansions[c] != "":
			if err := l.compile(expansions[c]); err != nil {
				return err
			}
			i++
			continue
		case c < 0x80 && containsByte(simple, c):
			switch c {
			case 't':
				lit("\t")
				i++
				continue
			case 'n':
				lit("\n")
				i++
				continue
			case '%':
				lit("%")
				i++
				continue
			}
			it.spec = c
		default:
			return bad()
		}
		i++
		l.items = append(l.items, it)
	}
	return nil
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// Fields is a timestamp broken into its UTC calendar fields.
type Fields struct {
	Year, Month, Day     int64 // month 1-12, day 1-31
	Hour, Minute, Second int64
	Nanos                int64 // within the second
	Days                 int64 // since 1970-01-01 (floor)
	Secs                 int64 // since the epoch (floor)
}

// Split breaks nanos (since the epoch) into UTC calendar fields.
func Split(nanos int64) Fields {
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
	return Fields{Year: y, Month: m, Day: d, Hour: sod / 3600, Minute: sod / 60 % 60, Second: sod % 60,
		Nanos: frac, Days: days, Secs: secs}
}

// Weekday is the day of the week, 0 for Sunday.
func (f *Fields) Weekday() int64 {
	w := (f.Days + 4) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return w
}

// YearDay is the day of the year, 1 for January 1st.
func (f *Fields) YearDay() int64 { return f.Days - DaysFromCivil(f.Year, 1, 1) + 1 }

// ISOWeek returns the ISO 8601 week-numbering year and week (1-53): weeks
// start on Monday and week 1 holds the year's first Thursday.
func (f *Fields) ISOWeek() (year, week int64) {
	isoDow := (f.Weekday()+6)%7 + 1 // Monday 1 .. Sunday 7
	thu := f.Days + 4 - isoDow      // the Thursday of this week
	y, _, _ := CivilFromDays(thu)
	return y, (thu-DaysFromCivil(y, 1, 1))/7 + 1
}

// Append appends the timestamp nanos formatted by l.
func (l *Layout) Append(dst []byte, nanos int64) []byte {
	f := Split(nanos)
	for _, it := range l.items {
		if it.spec == 0 {
			dst = append(dst, it.lit...)
			continue
		}
		dst = it.append(dst, &f)
	}
	return dst
}

func (it *item) num(dst []byte, v int64, width int, space bool) []byte {
	switch it.pad {
	case '-':
		width = 0
	case '_':
		space = true
	case '0':
		space = false
	}
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], v, 10)
	for k := len(s); k < width; k++ {
		if space {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, '0')
		}
	}
	return append(dst, s...)
}

func (it *item) append(dst []byte, f *Fields) []byte {
	switch it.spec {
	case 'Y':
		return it.num(dst, f.Year, 4, false)
	case 'C':
		return it.num(dst, floorDiv(f.Year, 100), 2, false)
	case 'y':
		return it.num(dst, f.Year-floorDiv(f.Year, 100)*100, 2, false)
	case 'm':
		return it.num(dst, f.Month, 2, false)
	case 'b', 'h':
		return append(dst, shortMonths[f.Month-1]...)
	case 'B':
		return append(dst, longMonths[f.Month-1]...)
	case 'd':
		return it.num(dst, f.Day, 2, false)
	case 'e':
		return it.num(dst, f.Day, 2, true)
	case 'a':
		return append(dst, shortDays[f.Weekday()]...)
	case 'A':
		return append(dst, longDays[f.Weekday()]...)
	case 'w':
		return it.num(dst, f.Weekday(), 1, false)
	case 'u':
		return it.num(dst, (f.Weekday()+6)%7+1, 1, false)
	case 'U':
		return it.num(dst, (f.YearDay()-1+7-f.Weekday())/7, 2, false)
	case 'W':
		return it.num(dst, (f.YearDay()-1+7-(f.Weekday()+6)%7)/7, 2, false)
	case 'G':
		y, _ := f.ISOWeek()
		return it.num(dst, y, 4, false)
	case 'g':
		y, _ := f.ISOWeek()
		return it.num(dst, y-floorDiv(y, 100)*100, 2, false)
	case 'V':
		_, w := f.ISOWeek()
		return it.num(dst, w, 2, false)
	case 'j':
		return it.num(dst, f.YearDay(), 3, false)
	case 'H':
		return it.num(dst, f.Hour, 2, false)
	case 'k':
		return it.num(dst, f.Hour, 2, true)
	case 'I':
		return it.num(dst, hour12(f.Hour), 2, false)
	case 'l':
		return it.num(dst, hour12(f.Hour), 2, true)
	case 'P':
		if f.Hour < 12 {
			return append(dst, "am"...)
		}
		return append(dst, "pm"...)
	case 'p':
		if f.Hour < 12 {
			return append(dst, "AM"...)
		}
		return append(dst, "PM"...)
	case 'M':
		return it.num(dst, f.Minute, 2, false)
	case 'S':
		return it.num(dst, f.Second, 2, false)
	case 'f':
		return appendN(dst, f.Nanos, 9)
	case specFrac:
		return appendFrac(dst, f.Nanos, it.frac)
	case specDotFrac:
		digits := it.frac
		if digits == 0 {
			switch {
			case f.Nanos == 0:
				return dst
			case f.Nanos%1_000_000 == 0:
				digits = 3
			case f.Nanos%1_000 == 0:
				digits = 6
			default:
				digits = 9
			}
		}
		return appendFrac(append(dst, '.'), f.Nanos, digits)
	case 's':
		return strconv.AppendInt(dst, f.Secs, 10)
	case 'z':
		return append(dst, "+0000"...)
	case specColonZone:
		return append(dst, "+00:00"...)
	case 'Z':
		return append(dst, "UTC"...)
	}
	return dst
}

// appendFrac appends the first digits (3, 6 or 9) of the nanoseconds.
func appendFrac(dst []byte, nanos int64, digits int) []byte {
	switch digits {
	case 3:
		return appendN(dst, nanos/1_000_000, 3)
	case 6:
		return appendN(dst, nanos/1_000, 6)
	}
	return appendN(dst, nanos, 9)
}

func hour12(h int64) int64 {
	if h = h % 12; h == 0 {
		return 12
	}
	return h
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
