package timefmt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestLayoutAppend(t *testing.T) {
	ts := func(s string) int64 {
		n, err := Parse([]byte(s))
		if err != "" {
			t.Fatalf("parse %s: %s", s, err)
		}
		return n
	}
	// 2001-07-08 was a Sunday, day 189 of the year, ISO week 27.
	sun := ts("2001-07-08T00:34:59.026490Z")
	for _, c := range []struct {
		at     int64
		format string
		want   string
	}{
		{sun, "%Y-%m-%d %H:%M:%S", "2001-07-08 00:34:59"},
		{sun, "%C|%y|%b|%h|%B|%e|%a|%A|%w|%u", "20|01|Jul|Jul|July| 8|Sun|Sunday|0|7"},
		{sun, "%U|%W|%G|%g|%V|%j", "27|27|2001|01|27|189"},
		{sun, "%k|%I|%l|%P|%p", " 0|12|12|am|AM"},
		{sun, "%f|%.f|%.3f|%.6f|%.9f|%3f|%6f|%9f", "026490000|.026490|.026|.026490|.026490000|026|026490|026490000"},
		{sun, "%D|%x|%F|%v|%R|%T|%X|%r", "07/08/01|07/08/01|2001-07-08| 8-Jul-2001|00:34|00:34:59|00:34:59|12:34:59 AM"},
		{sun, "%c", "Sun Jul  8 00:34:59 2001"},
		{sun, "%+", "2001-07-08T00:34:59.026490+00:00"},
		{sun, "%s", "994552499"},
		{sun, "%z %:z %Z", "+0000 +00:00 UTC"},
		{sun, "%-d|%_m|%0e|%-j|%-H", "8| 7|08|189|0"},
		{sun, "100%% at%t%n", "100% at\t\n"},
		{sun, "no specifiers", "no specifiers"},
		{sun, "", ""},
		// Before the epoch: fields floor, %s is negative.
		{ts("1969-12-31T23:59:59.5Z"), "%Y-%m-%d %H:%M:%S%.3f %a %s", "1969-12-31 23:59:59.500 Wed -1"},
		{ts("1969-12-31T23:59:59.5Z"), "%.f", ".500"},
		{ts("1970-01-01T00:00:00Z"), "%.f|%s|%a", "|0|Thu"},
		// ISO weeks across year ends; a leap day.
		{ts("2021-01-01T00:00:00Z"), "%G-W%V-%u %U %W", "2020-W53-5 00 00"},
		{ts("2024-12-30T13:00:00Z"), "%G-W%V-%u %I%p", "2025-W01-1 01PM"},
		{ts("2024-02-29T12:00:00Z"), "%j %A %l%P", "060 Thursday 12pm"},
		{ts("1677-09-21T00:12:43.145224192Z"), "%F %T%.f", "1677-09-21 00:12:43.145224192"},
	} {
		l, err := Compile(c.format)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.format, err)
		}
		if got := string(l.Append(nil, c.at)); got != c.want {
			t.Errorf("format %q: got %q, want %q", c.format, got, c.want)
		}
	}
}

func TestLayoutErrors(t *testing.T) {
	for format, want := range map[string]string{
		"%Q":      "invalid format specifier '%Q' in '%Q'",
		"abc%":    "ends with a lone '%'",
		"%.2f":    "invalid format specifier '%.2'",
		"%:y":     "invalid format specifier '%:y'",
		"%-":      "invalid format specifier '%-'",
		"%Y-%4f":  "invalid format specifier '%4'",
		"%Y %é":   "invalid format specifier",
		"%3":      "invalid format specifier '%3'",
		"%Y-%m-%": "lone '%'",
	} {
		_, err := Compile(format)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", format, err, want)
		}
	}
}

func TestISOWeekAndWeekday(t *testing.T) {
	for _, c := range []struct {
		date       string
		dow        int64
		isoY, isoW int64
		yday       int64
	}{
		{"1970-01-01", 4, 1970, 1, 1},
		{"2005-01-01", 6, 2004, 53, 1},
		{"2008-12-29", 1, 2009, 1, 364},
		{"2020-12-31", 4, 2020, 53, 366},
		{"1900-03-01", 4, 1900, 9, 60}, // 1900 is not a leap year
		{"2000-03-01", 3, 2000, 9, 61}, // 2000 is
		{"1969-12-28", 0, 1969, 52, 362},
	} {
		n, _ := Parse([]byte(c.date))
		f := Split(n)
		y, w := f.ISOWeek()
		if f.Weekday() != c.dow || y != c.isoY || w != c.isoW || f.YearDay() != c.yday {
			t.Errorf("%s: weekday %d iso %d-W%d yday %d; want %d %d-W%d %d", c.date, f.Weekday(), y, w, f.YearDay(), c.dow, c.isoY, c.isoW, c.yday)
		}
	}
}

// TestFieldsAgreeWithPackageTime compares Split, Weekday, YearDay,
// ISOWeek and a round trip through Append and Parse with package time over
// random instants of the whole TIMESTAMP range.
func TestFieldsAgreeWithPackageTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l, err := Compile("%Y-%m-%dT%H:%M:%S%.9f %a %j %G-W%V")
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 50000; k++ {
		ns := int64(rng.Uint64())
		if k < 4 {
			ns = []int64{math.MinInt64, math.MaxInt64, 0, -1}[k]
		}
		f := Split(ns)
		tm := time.Unix(0, ns).UTC()
		iy, iw := tm.ISOWeek()
		gy, gw := f.ISOWeek()
		if f.Year != int64(tm.Year()) || f.Month != int64(tm.Month()) || f.Day != int64(tm.Day()) ||
			f.Hour != int64(tm.Hour()) || f.Minute != int64(tm.Minute()) || f.Second != int64(tm.Second()) ||
			f.Nanos != int64(tm.Nanosecond()) || f.Weekday() != int64(tm.Weekday()) || f.YearDay() != int64(tm.YearDay()) ||
			gy != int64(iy) || gw != int64(iw) {
			t.Fatalf("%d: fields %+v weekday %d yday %d iso %d-%d; package time %s iso %d-%d", ns, f, f.Weekday(), f.YearDay(), gy, gw, tm, iy, iw)
		}
		got := string(l.Append(nil, ns))
		want := tm.Format("2006-01-02T15:04:05.000000000 Mon 002 ") + fmt.Sprintf("%04d-W%02d", iy, iw)
		if got != want {
			t.Fatalf("%d: %q, package time %q", ns, got, want)
		}
		back, err := Compile("%Y-%m-%dT%H:%M:%S%.9f")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := back.Parse([]byte(got[:29])); err != nil || n != ns {
			t.Fatalf("%d: parsed back %q as %d, %v", ns, got[:29], n, err)
		}
	}
}
