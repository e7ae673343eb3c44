package program

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/arroyogo/arroyo/engine/types"
)

// Table is the validated description of one connector table, as the planner
// builds it from CREATE TABLE. It is serializable: it travels inside the
// dataflow program to the workers.
type Table struct {
	Name      string `json:"name"`
	Connector string `json:"connector"`
	// Options holds the connector's options, validated, defaults filled.
	Options Options `json:"options"`
	// Schema is the table's columns (without the hidden event-time column).
	Schema *types.Schema `json:"schema"`
	// Format is nil for connectors that produce typed rows themselves.
	Format *FormatConfig `json:"format,omitempty"`
	// BadData is "fail" or "drop": what a source does with a record its
	// format cannot decode.
	BadData string `json:"bad_data,omitempty"`
	// Secret names the options (of the connector or the format) that are
	// declared Option.Secret, so code that displays a table (plan text,
	// EXPLAIN, logs) redacts them without the connector registry.
	Secret []string `json:"secret,omitempty"`
}

// FormatConfig names a format and its validated options.
type FormatConfig struct {
	Name    string  `json:"name"`
	Options Options `json:"options"`
}

// Options is a validated set of option values. Absent options without a
// default are missing from the map.
type Options map[string]string

// ParseDuration parses Go duration syntax or a plain number of seconds.
func ParseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 {
			return 0, errors.New("negative duration")
		}
		// NaN, Inf and values past ~292 years have no time.Duration;
		// converting them is implementation-defined (negative on amd64).
		ns := f * float64(time.Second)
		if math.IsNaN(ns) || ns >= math.MaxInt64 {
			return 0, errors.New("duration out of range")
		}
		return time.Duration(ns), nil
	}
	d, err := time.ParseDuration(v)
	if err == nil && d < 0 {
		return 0, errors.New("negative duration")
	}
	return d, err
}

// String returns the option's value ("" if absent).
func (o Options) String(name string) string { return o[name] }

// Has reports whether the option is set (given or defaulted).
func (o Options) Has(name string) bool { _, ok := o[name]; return ok }

// Int returns the option as an integer (0 if absent). Options are validated
// before use, so a parse error here is a programming error.
func (o Options) Int(name string) int64 {
	v, ok := o[name]
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// Float returns the option as a float (0 if absent).
func (o Options) Float(name string) float64 {
	v, ok := o[name]
	if !ok {
		return 0
	}
	f, _ := strconv.ParseFloat(v, 64)
	return f
}

// Bool returns the option as a boolean (false if absent).
func (o Options) Bool(name string) bool {
	b, _ := strconv.ParseBool(o[name])
	return b
}

// Duration returns the option as a duration (0 if absent).
func (o Options) Duration(name string) time.Duration {
	v, ok := o[name]
	if !ok {
		return 0
	}
	d, _ := ParseDuration(v)
	return d
}
