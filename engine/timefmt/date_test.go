package timefmt

import (
	"testing"
	"time"
)

// TestDateRoundTrip checks ParseDate and AppendDate against package time
// for every day from 1600 to 2400 (leap years, century rules).
func TestDateRoundTrip(t *testing.T) {
	start := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := start; d.Year() < 2400; d = d.AddDate(0, 0, 1) {
		text := d.Format("2006-01-02")
		want := int32(d.Unix() / 86400)
		got, msg := ParseDate([]byte(text))
		if msg != "" || got != want {
			t.Fatalf("ParseDate(%s) = %d %q, want %d", text, got, msg, want)
		}
		if s := string(AppendDate(nil, want)); s != text {
			t.Fatalf("AppendDate(%d) = %s, want %s", want, s, text)
		}
	}
}

func TestParseDateErrors(t *testing.T) {
	for in, want := range map[string]string{
		"2023-02-29": ErrDateField, "1900-02-29": ErrDateField, "2024-00-10": ErrDateField, "2024-04-31": ErrDateField,
		"2024-1-31": ErrDateSyntax, "2024/01/31": ErrDateSyntax, "2024-01-31T00:00": ErrDateSyntax, "": ErrDateSyntax, "2024-01-3x": ErrDateSyntax,
	} {
		if _, msg := ParseDate([]byte(in)); msg != want {
			t.Errorf("ParseDate(%q) = %q, want %q", in, msg, want)
		}
	}
	if got, msg := ParseDate([]byte("2000-02-29")); msg != "" || got != 11016 {
		t.Errorf("2000-02-29 = %d %q", got, msg)
	}
}

func TestAppendDateFarYears(t *testing.T) {
	for days, want := range map[int32]string{
		-719162: "0001-01-01", -719163: "0000-12-31", -719529: "-0001-12-31", 2932897: "10000-01-01",
		2147483647: "5881580-07-11", -2147483648: "-5877641-06-23",
	} {
		if got := string(AppendDate(nil, days)); got != want {
			t.Errorf("AppendDate(%d) = %s, want %s", days, got, want)
		}
	}
}

func TestTime(t *testing.T) {
	const h, m, s = 3600 * nanosPerSec, 60 * nanosPerSec, nanosPerSec
	for in, want := range map[string]int64{
		"00:00": 0, "13:45": 13*h + 45*m, "13:45:07": 13*h + 45*m + 7*s, "13:45:00.5": 13*h + 45*m + s/2,
		"23:59:59.999999999": 24*h - 1, "23:59:59.9999999999": 24*h - 1, "01:02:03.000004": h + 2*m + 3*s + 4000,
	} {
		got, msg := ParseTime([]byte(in))
		if msg != "" || got != want {
			t.Errorf("ParseTime(%q) = %d %q, want %d", in, got, msg, want)
		}
	}
	for in, want := range map[string]string{
		"24:00": ErrTimeField, "12:60": ErrTimeField, "12:00:60": ErrTimeField,
		"1:00": ErrTimeSyntax, "12:00:": ErrTimeSyntax, "12:00:00.": ErrTimeSyntax, "12:00:00.5x": ErrTimeSyntax,
		"12:00 ": ErrTimeSyntax, "12-00": ErrTimeSyntax, "": ErrTimeSyntax,
	} {
		if _, msg := ParseTime([]byte(in)); msg != want {
			t.Errorf("ParseTime(%q) = %q, want %q", in, msg, want)
		}
	}
	for ns, want := range map[int64]string{
		0: "00:00:00", 13*h + 45*m + s/2: "13:45:00.500", 1000: "00:00:00.000001", 24*h - 1: "23:59:59.999999999",
		-1: "23:59:59.999999999", 25 * h: "01:00:00",
	} {
		if got := string(AppendTime(nil, ns)); got != want {
			t.Errorf("AppendTime(%d) = %s, want %s", ns, got, want)
		}
	}
}

func TestDayOf(t *testing.T) {
	for _, c := range []struct{ ns, day, tod int64 }{
		{0, 0, 0}, {NanosPerDay - 1, 0, NanosPerDay - 1}, {NanosPerDay, 1, 0}, {-1, -1, NanosPerDay - 1}, {-NanosPerDay, -1, 0},
	} {
		if d, tod := DayOf(c.ns); d != c.day || tod != c.tod {
			t.Errorf("DayOf(%d) = %d, %d; want %d, %d", c.ns, d, tod, c.day, c.tod)
		}
	}
}
