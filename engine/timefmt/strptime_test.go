package timefmt

import (
	"errors"
	"testing"
)

func TestLayoutParse(t *testing.T) {
	ts := func(s string) int64 {
		n, err := Parse([]byte(s))
		if err != "" {
			t.Fatalf("parse %s: %s", s, err)
		}
		return n
	}
	for _, c := range []struct {
		format, text string
		want         int64
	}{
		{"%Y-%m-%d %H:%M:%S", "2023-01-31 09:26:56", ts("2023-01-31T09:26:56Z")},
		{"%Y-%m-%d %H:%M:%S%.f", "2023-01-31 09:26:56.123456789", ts("2023-01-31T09:26:56.123456789Z")},
		{"%Y-%m-%d %H:%M:%S%.f", "2023-01-31 09:26:56", ts("2023-01-31T09:26:56Z")},
		{"%Y-%m-%d %H:%M:%S%.3f", "2023-01-31 09:26:56.120", ts("2023-01-31T09:26:56.12Z")},
		{"%d/%m/%Y", "5/3/2024", ts("2024-03-05T00:00:00Z")},
		{"%d %B %Y %I:%M %p", "29 february 2024 12:05 am", ts("2024-02-29T00:05:00Z")},
		{"%d %b %Y %l:%M %P", "1 Jul 2001  1:30 pm", ts("2001-07-01T13:30:00Z")},
		{"%a, %d %b %Y %H:%M:%S %z", "Sun, 08 Jul 2001 09:00:00 +0930", ts("2001-07-07T23:30:00Z")},
		{"%Y-%m-%dT%H:%M:%S%:z", "2001-07-08T00:00:00-05:00", ts("2001-07-08T05:00:00Z")},
		{"%Y-%m-%dT%H:%M:%S%z", "2001-07-08T00:00:00Z", ts("2001-07-08T00:00:00Z")},
		{"%s", "1700000000", ts("2023-11-14T22:13:20Z")},
		{"%s", "-1", -1_000_000_000},
		{"%Y-%j", "2024-366", ts("2024-12-31T00:00:00Z")},
		{"%Y%m%d%H%M", "202402291305", ts("2024-02-29T13:05:00Z")}, // %Y reads 4 digits without a sign
		{"%Y-%m-%d", "+2024- 2- 9", ts("2024-02-09T00:00:00Z")},
		{"%y-%m-%d", "69-01-01", ts("2069-01-01T00:00:00Z")},
		{"%y-%m-%d", "70-01-01", ts("1970-01-01T00:00:00Z")},
		{"%F %T", "1969-12-31 23:59:59", -1_000_000_000},
		{"%Y-%m-%d %H:%M", "2023-01-31    09:26", ts("2023-01-31T09:26:00Z")},
		{"%Y-%m-%d %H:%M", "2023-01-3109:26", ts("2023-01-31T09:26:00Z")}, // a format space matches none too
		{"at %H:%M on %Y-%m-%d", "at 07:08 on 2020-02-02", ts("2020-02-02T07:08:00Z")},
		{"%Y-%m-%d %H:%M:%S %%", "2023-01-31 09:26:56 %", ts("2023-01-31T09:26:56Z")},
	} {
		l, err := Compile(c.format)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.format, err)
		}
		got, err := l.Parse([]byte(c.text))
		if err != nil || got != c.want {
			t.Errorf("Parse(%q, %q) = %d, %v; want %d", c.format, c.text, got, err, c.want)
		}
	}
	for _, c := range []struct{ format, text, err string }{
		{"%Y-%m-%d", "2023-01-31 09:00", ErrNoMatch.Error()}, // trailing text
		{"%Y-%m-%d", "2023/01/31", ErrNoMatch.Error()},
		{"%Y-%m-%d", "2023-02-30", ErrField},
		{"%Y-%m-%d", "2023-13-01", ErrField},
		{"%H:%M", "24:00", ErrField},
		{"%I:%M %p", "13:00 PM", ErrField},
		{"%Y-%j", "2023-366", ErrField},
		{"%Y-%m-%d %Z", "2023-01-31 UTC", ErrNoMatch.Error()},
		{"%Y-%m-%d %z", "2023-01-31 +2500", ErrNoMatch.Error()},
		{"%Y", "+99999999", ErrOutOfRange},
		{"%Y", "99999", ErrNoMatch.Error()},
		{"%b %Y", "Foo 2023", ErrNoMatch.Error()},
		{"%.3f", ".12", ErrNoMatch.Error()},
	} {
		l, err := Compile(c.format)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Parse([]byte(c.text)); err == nil || err.Error() != c.err {
			t.Errorf("Parse(%q, %q): %v, want %q", c.format, c.text, err, c.err)
		}
	}
	l, _ := Compile("%Y")
	if _, err := l.Parse([]byte("x")); !errors.Is(err, ErrNoMatch) {
		t.Errorf("errors.Is(ErrNoMatch) = false for %v", err)
	}
}
