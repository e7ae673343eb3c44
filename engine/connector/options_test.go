package connector

import (
	"errors"
	"maps"
	"testing"
	"time"
)

// testSpecs declares one option of every type, with and without defaults,
// bounds and examples.
var testSpecs = []Option{
	{Name: "path", Type: TypeString, Required: true, Example: "/tmp/in.json"},
	{Name: "mode", Type: TypeEnum, Enum: []string{"append", "overwrite"}, Default: "append"},
	{Name: "rate", Type: TypeFloat, Min: 0.5, MinSet: true, Default: "10"},
	{Name: "count", Type: TypeInt, Min: 1, MinSet: true},
	{Name: "offset", Type: TypeInt},
	{Name: "flag", Type: TypeBool},
	{Name: "interval", Type: TypeDuration, Default: "1s"},
	{Name: "label", Type: TypeString},
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []Option
		given map[string]string
		want  Options
		err   string
	}{
		{
			name:  "defaults filled",
			given: map[string]string{"path": "/x"},
			want:  Options{"path": "/x", "mode": "append", "rate": "10", "interval": "1s"},
		},
		{
			name:  "given values kept",
			given: map[string]string{"path": "/x", "mode": "overwrite", "rate": "0.5", "count": "1", "offset": "-3", "flag": "true", "interval": "250ms", "label": ""},
			want:  Options{"path": "/x", "mode": "overwrite", "rate": "0.5", "count": "1", "offset": "-3", "flag": "true", "interval": "250ms", "label": ""},
		},
		{
			name:  "unknown option",
			given: map[string]string{"path": "/x", "colour": "red"},
			err:   "src: unknown option 'colour' (known options: path, mode, rate, count, offset, flag, interval, label)",
		},
		{
			name:  "required missing with example",
			given: map[string]string{},
			err:   "src: option 'path' is required (for example '/tmp/in.json')",
		},
		{
			name:  "required enum missing lists the values",
			specs: []Option{{Name: "codec", Type: TypeEnum, Enum: []string{"none", "gzip"}, Required: true, Example: "gzip"}},
			given: map[string]string{},
			err:   "src: option 'codec' is required (one of 'none', 'gzip')",
		},
		{
			name:  "required without hint",
			specs: []Option{{Name: "topic", Type: TypeString, Required: true}},
			given: nil,
			err:   "src: option 'topic' is required",
		},
		{
			name:  "required string empty",
			given: map[string]string{"path": ""},
			err:   "src: option 'path' must not be empty",
		},
		{
			name:  "int",
			given: map[string]string{"path": "/x", "offset": "1.5"},
			err:   "src: invalid value '1.5' for option 'offset': expected an integer",
		},
		{
			name:  "int below min",
			given: map[string]string{"path": "/x", "count": "0"},
			err:   "src: invalid value '0' for option 'count': must be at least 1",
		},
		{
			name:  "float",
			given: map[string]string{"path": "/x", "rate": "fast"},
			err:   "src: invalid value 'fast' for option 'rate': expected a number",
		},
		{
			// NaN compares false with everything, so it would slip past Min.
			name:  "float NaN",
			given: map[string]string{"path": "/x", "rate": "NaN"},
			err:   "src: invalid value 'NaN' for option 'rate': expected a number",
		},
		{
			name:  "float below min",
			given: map[string]string{"path": "/x", "rate": "0.25"},
			err:   "src: invalid value '0.25' for option 'rate': must be at least 0.5",
		},
		{
			name:  "bool",
			given: map[string]string{"path": "/x", "flag": "yes"},
			err:   "src: invalid value 'yes' for option 'flag': expected 'true' or 'false'",
		},
		{
			name:  "enum",
			given: map[string]string{"path": "/x", "mode": "delete"},
			err:   "src: invalid value 'delete' for option 'mode': allowed values are 'append', 'overwrite'",
		},
		{
			name:  "enum is case-sensitive",
			given: map[string]string{"path": "/x", "mode": "APPEND"},
			err:   "src: invalid value 'APPEND' for option 'mode': allowed values are 'append', 'overwrite'; values are case-sensitive: did you mean 'append'?",
		},
		{
			name:  "no options at all",
			specs: []Option{},
			given: map[string]string{"path": "/x"},
			err:   "src: unknown option 'path' (src takes no options)",
		},
		{
			name:  "duration",
			given: map[string]string{"path": "/x", "interval": "soon"},
			err:   "src: invalid value 'soon' for option 'interval': expected a duration such as '10s', '500ms' or a number of seconds",
		},
		{
			name:  "infinite duration",
			given: map[string]string{"path": "/x", "interval": "inf"},
			err:   "src: invalid value 'inf' for option 'interval': expected a duration such as '10s', '500ms' or a number of seconds",
		},
		{
			name:  "negative duration",
			given: map[string]string{"path": "/x", "interval": "-1"},
			err:   "src: invalid value '-1' for option 'interval': expected a duration such as '10s', '500ms' or a number of seconds",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs := tc.specs
			if specs == nil {
				specs = testSpecs
			}
			given := maps.Clone(tc.given)
			got, err := Validate("src", specs, tc.given)
			if !maps.Equal(given, tc.given) {
				t.Fatalf("Validate modified its input: %v", tc.given)
			}
			if tc.err != "" {
				if err == nil {
					t.Fatalf("no error, options %v; want %q", got, tc.err)
				}
				if err.Error() != tc.err {
					t.Fatalf("error %q\nwant  %q", err, tc.err)
				}
				if got != nil {
					t.Fatalf("options %v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("options %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateErrorTypes(t *testing.T) {
	_, err := Validate("src", testSpecs, map[string]string{"path": "/x", "nope": "1"})
	if !errors.Is(err, ErrUnknownOption) {
		t.Fatalf("unknown option error %v does not wrap ErrUnknownOption", err)
	}
	// Typed, so the planner can point at the key without searching the
	// message for a quoted name.
	var oe *OptionError
	if !errors.As(err, &oe) || !oe.Unknown || oe.Option != "nope" || oe.Value != "1" {
		t.Fatalf("unknown option error %#v", err)
	}
	if want := "src: unknown option 'nope' (known options: path, mode, rate, count, offset, flag, interval, label)"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}

	_, err = Validate("src", testSpecs, map[string]string{"path": "/x", "mode": "delete"})
	if !errors.As(err, &oe) || oe.Owner != "src" || oe.Option != "mode" || oe.Value != "delete" {
		t.Fatalf("bad value error %#v", err)
	}
	if errors.Is(err, ErrUnknownOption) {
		t.Fatal("bad value error wraps ErrUnknownOption")
	}

	_, err = Validate("src", testSpecs, nil)
	if !errors.As(err, &oe) || oe.Option != "path" || oe.Value != "" {
		t.Fatalf("missing option error %#v", err)
	}
}

func TestOptionsAccessors(t *testing.T) {
	o, err := Validate("src", testSpecs, map[string]string{"path": "/x", "count": "42", "offset": "-7", "rate": "2.5", "flag": "true", "interval": "1.5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"String", o.String("path"), "/x"},
		{"String default", o.String("mode"), "append"},
		{"String absent", o.String("label"), ""},
		{"Int", o.Int("count"), int64(42)},
		{"Int negative", o.Int("offset"), int64(-7)},
		{"Int absent", Options{}.Int("count"), int64(0)},
		{"Float", o.Float("rate"), 2.5},
		{"Float absent", Options{}.Float("rate"), 0.0},
		{"Bool", o.Bool("flag"), true},
		{"Bool absent", o.Bool("nope"), false},
		{"Duration seconds", o.Duration("interval"), 1500 * time.Millisecond},
		{"Duration Go syntax", Options{"d": "2m3s"}.Duration("d"), 2*time.Minute + 3*time.Second},
		{"Duration absent", o.Duration("nope"), time.Duration(0)},
		{"Has given", o.Has("count"), true},
		{"Has defaulted", o.Has("mode"), true},
		{"Has absent", o.Has("label"), false},
		{"Has empty value", Options{"label": ""}.Has("label"), true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "10s", want: 10 * time.Second},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "1h2m", want: time.Hour + 2*time.Minute},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "1.5", want: 1500 * time.Millisecond},
		{in: "2", want: 2 * time.Second},
		{in: "0.001", want: time.Millisecond},
		{in: "-1", err: true},
		{in: "-1s", err: true},
		{in: "-0.5", err: true},
		{in: "", err: true},
		{in: "10", want: 10 * time.Second},
		{in: "ten seconds", err: true},
		{in: "10 s", err: true},
		// Non-finite and out-of-range numbers have no duration; converting
		// them would give an arbitrary (on amd64 negative) value.
		{in: "NaN", err: true},
		{in: "Inf", err: true},
		{in: "+Inf", err: true},
		{in: "1e300", err: true},
	} {
		got, err := ParseDuration(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
