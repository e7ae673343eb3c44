package timefmt

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestFormatParse(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var buf []byte
	for i := range 200_000 {
		n := int64(r.Uint64())
		switch i % 4 {
		case 1:
			n -= n % 1_000_000
		case 2:
			n -= n % 1_000
		case 3:
			n -= n % 1_000_000_000
		}
		buf = AppendRFC3339(buf[:0], n)
		want := time.Unix(0, n).UTC().Format("2006-01-02T15:04:05.999999999")
		frac := ""
		if k := strings.IndexByte(want, '.'); k >= 0 {
			frac = want[k+1:]
			want = want[:k]
			for len(frac)%3 != 0 {
				frac += "0"
			}
			frac = "." + frac
		}
		if want += frac + "Z"; string(buf) != want {
			t.Fatalf("%d: got %s, want %s", n, buf, want)
		}
		back, msg := Parse(buf)
		if msg != "" || back != n {
			t.Fatalf("%s: parsed %d (%s), want %d", buf, back, msg, n)
		}
	}
	// A shared cache (as the decoder uses) gives the same results on runs
	// of timestamps within a minute, valid or not.
	var c Cache
	n := time.Date(2023, 6, 30, 23, 58, 0, 0, time.UTC).UnixNano()
	for i := range 100_000 {
		n += int64(r.IntN(20_000_000))
		buf = AppendRFC3339(buf[:0], n)
		if i%7 == 0 {
			buf[17+i%3] = "6x:"[i%3] // second 6x, x or ':' in the seconds
		}
		got, msg := c.Parse(buf)
		want, wantMsg := Parse(buf)
		if got != want || msg != wantMsg || (msg == "") != (i%7 != 0) {
			t.Fatalf("%s: cached %d %q, uncached %d %q", buf, got, msg, want, wantMsg)
		}
	}
	// Zones, checked against package time.
	for _, s := range []string{"2000-03-01T00:00:00+14:00", "1999-12-31T23:59:59.5-12:30", "2262-04-11T23:47:16.854775807Z", "1677-09-21T00:12:43.145224192Z"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		if got, msg := Parse([]byte(s)); msg != "" || got != want.UnixNano() {
			t.Fatalf("%s: got %d (%s), want %d", s, got, msg, want.UnixNano())
		}
	}
	for _, s := range []string{"2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z", "2023-01-01T24:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01T00:00:60Z", "2023-01-01T00:00:00+24:00", "2023-01-01T00:00:00+01:", "2023-01-01T00:00:00 "} {
		if _, msg := Parse([]byte(s)); msg == "" {
			t.Fatalf("%s: accepted", s)
		}
	}
}

// The forms CAST and JSON both accept (they had two parsers, which
// disagreed on the date-only, minute-only and space-before-zone forms).
func TestForms(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) int64 {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixNano()
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"2023-01-01", utc(2023, 1, 1, 0, 0, 0, 0)},
		{"2023-01-01 10:00", utc(2023, 1, 1, 10, 0, 0, 0)},
		{"2023-01-01T10:00Z", utc(2023, 1, 1, 10, 0, 0, 0)},
		{"2023-01-01t10:00:05.25", utc(2023, 1, 1, 10, 0, 5, 250_000_000)},
		{"2023-01-01 10:00:00 +02:00", utc(2023, 1, 1, 8, 0, 0, 0)},
		{"2023-01-01 10:00:00+0230", utc(2023, 1, 1, 7, 30, 0, 0)},
		{"2023-01-01 10:00:00-01", utc(2023, 1, 1, 11, 0, 0, 0)},
		{"2023-01-01T10:00:00.1234567891Z", utc(2023, 1, 1, 10, 0, 0, 123_456_789)},
		{"2024-02-29T00:00:00z", utc(2024, 2, 29, 0, 0, 0, 0)},
	} {
		got, msg := Parse([]byte(tc.in))
		if msg != "" || got != tc.want {
			t.Errorf("Parse(%q) = %d %q, want %d", tc.in, got, msg, tc.want)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"", ErrSyntax},
		{"2023-01", ErrSyntax},
		{"2023-01-01x", ErrSyntax},
		{"2023-01-01T10", ErrSyntax},
		{"2023-01-01T10:0", ErrSyntax},
		{"2023-01-01:10:00", ErrSyntax},
		{"2023-01-01T10:00:5", ErrSyntax},
		{"2023-01-01T10:00:05.", ErrSyntax},
		{"2023-01-01 10:00 ", ErrSyntax},
		{"2023-01-01 10:00 x", ErrSyntax},
		{"2023-02-29", ErrField},
		{"2023-00-10", ErrField},
		{"2023-01-01T25:00", ErrField},
		{"2023-01-01T10:60", ErrField},
		{"2023-01-01T10:00+24:00", ErrZone},
		{"9999-01-01", ErrOutOfRange},
		{"1600-01-01T00:00:00Z", ErrOutOfRange},
	} {
		if got, msg := Parse([]byte(tc.in)); msg != tc.msg {
			t.Errorf("Parse(%q) = %d %q, want %q", tc.in, got, msg, tc.msg)
		}
	}
}

func TestAppendNaive(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		want string
	}{
		{0, "1970-01-01T00:00:00"},
		{1_500_000_000, "1970-01-01T00:00:01.500"},
		{-1, "1969-12-31T23:59:59.999999999"},
		{1_000, "1970-01-01T00:00:00.000001"},
	} {
		if got := string(AppendNaive(nil, tc.ns)); got != tc.want {
			t.Errorf("AppendNaive(%d) = %s, want %s", tc.ns, got, tc.want)
		}
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	var c Cache
	in := []byte("2023-01-01T10:00:05.123+02:00")
	if n := testing.AllocsPerRun(100, func() { c.Parse(in) }); n != 0 {
		t.Fatalf("%v allocations per Parse", n)
	}
}
