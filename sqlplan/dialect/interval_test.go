package dialect

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"1 HOUR", time.Hour},
		{"1 hour", time.Hour},
		{"10 seconds", 10 * time.Second},
		{"10 SECOND", 10 * time.Second},
		{"2 days", 48 * time.Hour},
		{"1 week", 7 * 24 * time.Hour},
		{"500 millisecond", 500 * time.Millisecond},
		{"500 milliseconds", 500 * time.Millisecond},
		{"250 microseconds", 250 * time.Microsecond},
		{"7 nanoseconds", 7},
		{"1.5 seconds", 1500 * time.Millisecond},
		{"0.25 hour", 15 * time.Minute},
		{".5 minute", 30 * time.Second},
		{"1 hour 30 minutes", 90 * time.Minute},
		{"1 day, 2 hours", 26 * time.Hour},
		{"  3   mins ", 3 * time.Minute},
		{"10s", 10 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"100ms", 100 * time.Millisecond},
		{"-5 MINUTE", -5 * time.Minute},
		{"1 hour -10 minutes", 50 * time.Minute},
		{"01:30:00", 90 * time.Minute},
		{"1 day 02:00", 26 * time.Hour},
		{"00:00:01.5", 1500 * time.Millisecond},
		{"0 seconds", 0},
	}
	for _, tt := range tests {
		got, err := ParseInterval(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseIntervalErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "invalid interval '': empty interval"},
		{"hour", "invalid interval 'hour': expected a number at 'hour'"},
		{"5", "invalid interval '5': missing unit after 5 (use e.g. '5 seconds')"},
		{"1 fortnight", "invalid interval '1 fortnight': unknown unit 'fortnight'"},
		{"1 month", "calendar intervals (months, years) are not supported"},
		{"2 YEARS", "calendar intervals (months, years) are not supported"},
		{"1 day 1 mon", "calendar intervals (months, years) are not supported"},
		{"1:2:3:4", "invalid interval '1:2:3:4': bad time '1:2:3:4' (use HH:MM:SS)"},
		{"1.5:00", "invalid interval '1.5:00': bad time '1.5:00' (use HH:MM:SS)"},
		{"999999999999 days", "invalid interval '999999999999 days': interval out of range"},
		{"99999999999999999999 ns", "invalid interval '99999999999999999999 ns': interval out of range"},
		{"200000 days 200000 days", "invalid interval '200000 days 200000 days': interval out of range"},
	}
	for _, tt := range tests {
		_, err := ParseInterval(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseInterval(%q) error %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := ParseInterval("3 months"); !errors.Is(err, ErrCalendarInterval) {
		t.Errorf("months: %v is not ErrCalendarInterval", err)
	}
}
