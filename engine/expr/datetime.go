package expr

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// Date and time functions, as DataFusion defines them (Arroyo's SQL). A
// TIMESTAMP is nanoseconds since the epoch, UTC, so every calendar field is
// a UTC field. TEXT arguments where a TIMESTAMP is expected are cast (parsed
// by engine/timefmt). Units and format strings that are constants are
// parsed once per call site (Resolved.prepare), and an invalid one is a
// planning error at the call; a unit that varies per row is parsed per
// distinct value within a batch.

const (
	nsPerUs  = int64(1_000)
	nsPerMs  = int64(1_000_000)
	nsPerSec = int64(1_000_000_000)
	nsPerMin = 60 * nsPerSec
	nsPerHr  = 60 * nsPerMin
	nsPerDay = 24 * nsPerHr
)

// errTimestampRange is the error of a result outside TIMESTAMP's range.
var errTimestampRange = errors.New("timestamp out of range (1677-09-21 to 2262-04-11)")

var (
	// pTs accepts TIMESTAMP, TEXT to be parsed and DATE (its midnight).
	pTs = param{"TIMESTAMP", func(t types.Type) (types.Type, bool) {
		return types.TimestampT, t.Kind == types.Timestamp || t.Kind == types.String || t.Kind == types.Null || t.Kind == types.Date
	}}
	pInterval = param{"INTERVAL", func(t types.Type) (types.Type, bool) {
		return types.IntervalT, t.Kind == types.Interval || t.Kind == types.Null
	}}
)

// tsUnit is a unit of date_trunc and date_part.
type tsUnit uint8

const (
	uNanosecond tsUnit = iota
	uMicrosecond
	uMillisecond
	uSecond
	uMinute
	uHour
	uDay
	uWeek
	uMonth
	uQuarter
	uYear
	uDow
	uDoy
	uEpoch
)

// unitSet is the units one function accepts, by lower-case name.
type unitSet struct {
	fn    string
	names map[string]tsUnit
	list  string // for errors
}

var (
	truncUnits = unitSet{fn: "date_trunc", names: map[string]tsUnit{
		"microsecond": uMicrosecond, "millisecond": uMillisecond, "second": uSecond, "minute": uMinute,
		"hour": uHour, "day": uDay, "week": uWeek, "month": uMonth, "quarter": uQuarter, "year": uYear,
	}, list: "microsecond, millisecond, second, minute, hour, day, week, month, quarter, year"}
	partUnits = unitSet{fn: "date_part", names: map[string]tsUnit{
		"nanosecond": uNanosecond, "microsecond": uMicrosecond, "millisecond": uMillisecond,
		"second": uSecond, "minute": uMinute, "hour": uHour, "day": uDay, "week": uWeek, "month": uMonth,
		"quarter": uQuarter, "year": uYear, "dow": uDow, "doy": uDoy, "epoch": uEpoch,
	}, list: "year, quarter, month, week, day, hour, minute, second, millisecond, microsecond, nanosecond, dow, doy, epoch"}
)

// intervalUnits are date_part's units for an INTERVAL: only epoch, its
// length in seconds (a fixed duration has no calendar fields).
var intervalUnits = unitSet{fn: "date_part of an INTERVAL", names: map[string]tsUnit{"epoch": uEpoch}, list: "epoch"}

func (s *unitSet) parse(b []byte) (tsUnit, error) {
	name := strings.ToLower(strings.TrimSpace(string(b)))
	if u, ok := s.names[name]; ok {
		return u, nil
	}
	return 0, fmt.Errorf("%s does not support the unit '%s' (units: %s)", s.fn, b, s.list)
}

// unitCache parses the per-row units of one batch, remembering the last.
type unitCache struct {
	set  *unitSet
	last []byte
	u    tsUnit
	ok   bool
}

func (c *unitCache) get(b []byte) (tsUnit, error) {
	if c.ok && bytes.Equal(b, c.last) {
		return c.u, nil
	}
	u, err := c.set.parse(b)
	if err != nil {
		return 0, err
	}
	c.last, c.u, c.ok = b, u, true
	return u, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// daysToNanos converts days since the epoch to nanoseconds, failing
// outside the TIMESTAMP range.
func daysToNanos(days int64) (int64, error) {
	if days > math.MaxInt64/nsPerDay || days < math.MinInt64/nsPerDay {
		return 0, errTimestampRange
	}
	return days * nsPerDay, nil
}

// truncTs truncates ns to the start of its unit (UTC; weeks start on
// Monday).
func truncTs(u tsUnit, ns int64) (int64, error) {
	step := int64(0)
	switch u {
	case uMicrosecond:
		step = nsPerUs
	case uMillisecond:
		step = nsPerMs
	case uSecond:
		step = nsPerSec
	case uMinute:
		step = nsPerMin
	case uHour:
		step = nsPerHr
	case uDay:
		step = nsPerDay
	}
	if step != 0 {
		q := floorDiv(ns, step)
		if q < math.MinInt64/step {
			return 0, errTimestampRange
		}
		return q * step, nil
	}
	days := floorDiv(ns, nsPerDay)
	switch u {
	case uWeek:
		days -= ((days+3)%7 + 7) % 7 // 1970-01-01 was a Thursday: Monday is 0
	case uMonth, uQuarter, uYear:
		y, m, _ := timefmt.CivilFromDays(days)
		switch u {
		case uYear:
			m = 1
		case uQuarter:
			m = (m-1)/3*3 + 1
		}
		days = timefmt.DaysFromCivil(y, m, 1)
	}
	return daysToNanos(days)
}

// datePart is date_part(u, ns) as DataFusion before version 43 computes
// it: a DOUBLE, with the seconds' fraction in second, millisecond,
// microsecond and nanosecond (12:00:05.5 has second 5.5 and millisecond
// 5500), ISO weeks, dow 0 for Sunday, doy from 1, and epoch the seconds
// since 1970 with their fraction.
func datePart(u tsUnit, ns int64) float64 {
	f := timefmt.Split(ns)
	if u == uEpoch {
		// Whole seconds and the fraction apart: float64(ns) / 1e9 loses the
		// fraction's last digits (…330.2499998 for …330.25).
		return float64(f.Secs) + float64(f.Nanos)/1e9
	}
	secs := float64(f.Second) + float64(f.Nanos)/1e9
	switch u {
	case uNanosecond:
		return secs * 1e9
	case uMicrosecond:
		return secs * 1e6
	case uMillisecond:
		return secs * 1e3
	case uSecond:
		return secs
	case uMinute:
		return float64(f.Minute)
	case uHour:
		return float64(f.Hour)
	case uDay:
		return float64(f.Day)
	case uWeek:
		_, w := f.ISOWeek()
		return float64(w)
	case uMonth:
		return float64(f.Month)
	case uQuarter:
		return float64((f.Month-1)/3 + 1)
	case uYear:
		return float64(f.Year)
	case uDow:
		return float64(f.Weekday())
	case uDoy:
		return float64(f.YearDay())
	}
	return math.NaN()
}

// unitKernel is the kernel of a (unit TEXT, ts TIMESTAMP) function: the
// unit fixed when fixed is set, else parsed per row.
func unitKernel[T int64 | float64](set *unitSet, t types.Type, fixed *tsUnit, f func(tsUnit, int64) (T, error)) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		units, ts := args[0].(*coldata.Bytes), args[1].(*coldata.Vec[int64])
		nulls := orWords(words(units), words(ts))
		out := coldata.AllocVec[T](al, t, n)
		cache := unitCache{set: set}
		err := forLive(n, sel, nulls, func(i int) error {
			var u tsUnit
			if fixed != nil {
				u = *fixed
			} else {
				var err error
				if u, err = cache.get(units.Get(i)); err != nil {
					return err
				}
			}
			v, err := f(u, ts.Vals[i])
			out.Vals[i] = v
			return err
		})
		if err != nil {
			return nil, err
		}
		out.N.SetWords(nulls)
		return out, nil
	}
}

// unitResolve is the Resolve of date_trunc and date_part, specializing a
// constant unit.
func unitResolve[T int64 | float64](set *unitSet, result types.Type, f func(tsUnit, int64) (T, error)) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		r, err := sigs(set.fn, result, unitKernel(set, result, nil, f), sig{pText, pTs})(args)
		if err != nil {
			return nil, err
		}
		r.prepare = func(consts []*scalar) (Kernel, error) {
			if consts[0] == nil {
				return nil, nil
			}
			u, err := set.parse(consts[0].s)
			if err != nil {
				return nil, &argError{arg: 0, err: err}
			}
			return unitKernel(set, result, &u, f), nil
		}
		return r, nil
	}
}

// dateBin is date_bin(stride, ts, origin): the start of the stride-wide
// bin, counted from origin, that holds ts.
func dateBin(stride, ts, origin int64) (int64, error) {
	if stride <= 0 {
		return 0, fmt.Errorf("date_bin stride must be a positive interval, got %s", appendInterval(nil, stride))
	}
	diff := ts - origin
	if subOvf(ts, origin, diff) {
		return 0, errTimestampRange
	}
	k := floorDiv(diff, stride)
	off, o := mulOvf(k, stride)
	r := origin + off
	if o || addOvf(origin, off, r) {
		return 0, errTimestampRange
	}
	return r, nil
}

func dateBinKernel(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	stride, ts := args[0].(*coldata.Vec[int64]), args[1].(*coldata.Vec[int64])
	var origin *coldata.Vec[int64]
	if len(args) > 2 {
		origin = args[2].(*coldata.Vec[int64])
	}
	nulls := unionNulls(args)
	out := coldata.AllocVec[int64](al, types.TimestampT, n)
	err := forLive(n, sel, nulls, func(i int) error {
		var o int64
		if origin != nil {
			o = origin.Vals[i]
		}
		v, err := dateBin(stride.Vals[i], ts.Vals[i], o)
		out.Vals[i] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	out.N.SetWords(nulls)
	return out, nil
}

// now is the kernel of now() and current_timestamp: the wall clock when
// the batch is computed, the same for every row of a batch.
func now(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	return fill(al, types.TimestampT, n, time.Now().UnixNano()), nil
}

// toTimestamp returns the kernel of the to_timestamp functions: integers
// count scale nanoseconds since the epoch, doubles are seconds, and text is
// parsed; text, doubles and timestamps are then truncated (toward zero, as
// DataFusion divides) to a multiple of trunc nanoseconds.
func toTimestamp(scale, trunc int64) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		out := coldata.AllocVec[int64](al, types.TimestampT, n)
		nulls := words(args[0])
		var err error
		switch x := args[0].(type) {
		case *coldata.Vec[int64]:
			if x.T.Kind == types.Timestamp {
				for i, v := range x.Vals[:n] {
					out.Vals[i] = v / trunc * trunc
				}
				break
			}
			err = forLive(n, sel, nulls, func(i int) error {
				v, o := mulOvf(x.Vals[i], scale)
				if o {
					return fmt.Errorf("%w: %d %s", errTimestampRange, x.Vals[i], unitName(scale))
				}
				out.Vals[i] = v
				return nil
			})
		case *coldata.Vec[float64]:
			err = forLive(n, sel, nulls, func(i int) error {
				f := x.Vals[i] * 1e9
				if !(f >= math.MinInt64 && f < math.MaxInt64) {
					return fmt.Errorf("%w: %v seconds", errTimestampRange, x.Vals[i])
				}
				out.Vals[i] = int64(f) / trunc * trunc
				return nil
			})
		case *coldata.Bytes:
			var c timefmt.Cache
			err = forLive(n, sel, nulls, func(i int) error {
				s := x.Get(i)
				v, msg := c.Parse(trimSpace(s))
				if msg != "" {
					return fmt.Errorf("%s: '%s'", msg, s)
				}
				out.Vals[i] = v / trunc * trunc
				return nil
			})
		default:
			return nil, fmt.Errorf("to_timestamp of %s", args[0].Type())
		}
		if err != nil {
			return nil, err
		}
		out.N.SetWords(nulls)
		return out, nil
	}
}

func unitName(unit int64) string {
	switch unit {
	case nsPerSec:
		return "seconds"
	case nsPerMs:
		return "milliseconds"
	case nsPerUs:
		return "microseconds"
	}
	return "nanoseconds"
}

// toTimestampResolve accepts one TEXT, integer, TIMESTAMP or (for
// to_timestamp and to_timestamp_seconds) floating-point argument.
func toTimestampResolve(name string, scale, trunc int64, floats bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		want := "TEXT, BIGINT or TIMESTAMP"
		if floats {
			want = "TEXT, BIGINT, DOUBLE or TIMESTAMP"
		}
		if len(args) > 1 {
			return formatsResolve(name, trunc, args)
		}
		if len(args) != 1 {
			return nil, fmt.Errorf("function %s expects one argument (%s), got %s", name, want, typeList(args))
		}
		var t types.Type
		switch k := args[0].Kind; {
		case k == types.String || k == types.Null:
			t = types.StringT
		case k.IsInteger():
			t = types.Int64T
		case k.IsFloat() && floats:
			t = types.Float64T
		case k == types.Timestamp:
			t = types.TimestampT
		default:
			return nil, fmt.Errorf("function %s expects %s, got %s", name, want, args[0])
		}
		return &Resolved{Args: []types.Type{t}, Result: types.TimestampT, Kernel: toTimestamp(scale, trunc)}, nil
	}
}

// formatsResolve is to_timestamp(text, format, ...): the text parsed with
// the first chrono format that matches it, as DataFusion tries them.
func formatsResolve(name string, trunc int64, args []types.Type) (*Resolved, error) {
	want := make([]types.Type, len(args))
	for i, a := range args {
		t, ok := pText.coerce(a)
		if !ok {
			return nil, fmt.Errorf("function %s expects (TEXT, TEXT format, ...), got %s", name, typeList(args))
		}
		want[i] = t
	}
	return &Resolved{Args: want, Result: types.TimestampT, Kernel: formatsKernel(trunc, nil),
		prepare: func(consts []*scalar) (Kernel, error) {
			layouts := make([]*timefmt.Layout, len(consts)-1)
			for k, c := range consts[1:] {
				if c == nil {
					return nil, nil
				}
				l, err := timefmt.Compile(string(c.s))
				if err != nil {
					return nil, &argError{arg: k + 1, err: fmt.Errorf("%s: %w", name, err)}
				}
				layouts[k] = l
			}
			return formatsKernel(trunc, layouts), nil
		}}, nil
}

// formatsKernel parses with the constant layouts, or with each row's
// formats (compiled once per distinct format in the batch) when layouts
// is nil.
func formatsKernel(trunc int64, layouts []*timefmt.Layout) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		text := args[0].(*coldata.Bytes)
		nulls := unionNulls(args)
		out := coldata.AllocVec[int64](al, types.TimestampT, n)
		var cache map[string]*timefmt.Layout
		layout := func(k, i int) (*timefmt.Layout, error) {
			if layouts != nil {
				return layouts[k], nil
			}
			f := args[k+1].(*coldata.Bytes).Get(i)
			if l, ok := cache[str(f)]; ok {
				return l, nil
			}
			l, err := timefmt.Compile(string(f))
			if err != nil {
				return nil, err
			}
			if cache == nil {
				cache = map[string]*timefmt.Layout{}
			}
			cache[string(f)] = l
			return l, nil
		}
		err := forLive(n, sel, nulls, func(i int) error {
			s := text.Get(i)
			var last error
			for k := range args[1:] {
				l, err := layout(k, i)
				if err != nil {
					return err
				}
				v, err := l.Parse(s)
				if err == nil {
					out.Vals[i] = v / trunc * trunc
					return nil
				}
				last = err
			}
			if len(args) == 2 {
				return fmt.Errorf("'%s' does not match the format '%s': %w", s, args[1].(*coldata.Bytes).Get(i), last)
			}
			return fmt.Errorf("'%s' does not match any of the %d formats", s, len(args)-1)
		})
		if err != nil {
			return nil, err
		}
		out.N.SetWords(nulls)
		return out, nil
	}
}

// toUnixtimeResolve is to_unixtime(ts | text[, format, ...]) -> BIGINT:
// DataFusion's, the seconds of the timestamp, truncated toward zero.
func toUnixtimeResolve(args []types.Type) (*Resolved, error) {
	var r *Resolved
	var err error
	switch {
	case len(args) > 1:
		r, err = formatsResolve("to_unixtime", 1, args)
	case len(args) == 1 && (args[0].Kind == types.Timestamp || args[0].Kind == types.String || args[0].Kind == types.Null):
		t := types.StringT
		if args[0].Kind == types.Timestamp {
			t = types.TimestampT
		}
		r = &Resolved{Args: []types.Type{t}, Result: types.TimestampT, Kernel: toTimestamp(1, 1)}
	default:
		return nil, fmt.Errorf("function to_unixtime expects (TIMESTAMP) or (TEXT[, TEXT format, ...]), got %s", typeList(args))
	}
	if err != nil {
		return nil, err
	}
	toSecs := func(k Kernel) Kernel {
		return func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			v, err := k(al, vs, n, sel)
			if err != nil {
				return nil, err
			}
			ts := v.(*coldata.Vec[int64])
			out := coldata.AllocVec[int64](al, types.Int64T, n)
			for i, x := range ts.Vals[:n] {
				out.Vals[i] = x / nsPerSec
			}
			out.N.SetWords(words(ts))
			return out, nil
		}
	}
	r.Result, r.Kernel = types.Int64T, toSecs(r.Kernel)
	if spec := r.prepare; spec != nil {
		r.prepare = func(consts []*scalar) (Kernel, error) {
			k, err := spec(consts)
			if err != nil || k == nil {
				return nil, err
			}
			return toSecs(k), nil
		}
	}
	return r, nil
}

// toCharKernel formats timestamps with the layout l, or with each row's
// format (compiled once per distinct format in the batch) when l is nil.
func toCharKernel(l *timefmt.Layout) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		ts, fmts := args[0].(*coldata.Vec[int64]), args[1].(*coldata.Bytes)
		nulls := orWords(words(ts), words(fmts))
		var (
			err     error
			last    []byte
			current = l
		)
		out := buildBytes(al, types.StringT, n, sel, nulls, n*20, func(dst []byte, i int) []byte {
			if err != nil {
				return dst
			}
			if l == nil {
				if f := fmts.Get(i); current == nil || !bytes.Equal(f, last) {
					c, e := timefmt.Compile(string(f))
					if e != nil {
						err = atRow(i, e)
						return dst
					}
					current, last = c, f
				}
			}
			return current.Append(dst, ts.Vals[i])
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

func toCharResolve(name string) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		r, err := sigs(name, types.StringT, toCharKernel(nil), sig{pTs, pText})(args)
		if err != nil {
			return nil, err
		}
		r.prepare = func(consts []*scalar) (Kernel, error) {
			if consts[1] == nil {
				return nil, nil
			}
			l, err := timefmt.Compile(string(consts[1].s))
			if err != nil {
				return nil, &argError{arg: 1, err: fmt.Errorf("%s: %w", name, err)}
			}
			return toCharKernel(l), nil
		}
		return r, nil
	}
}

func init() {
	for _, name := range []string{"now", "current_timestamp"} {
		register(&Func{Name: name, Volatile: true,
			Description: "the current time (the same for every row of a batch)",
			Resolve:     sigs(name, types.TimestampT, now, sig{})})
	}
	registerAll([]string{"date_trunc", "datetrunc"}, "the timestamp truncated to the start of its unit",
		func(name string) func([]types.Type) (*Resolved, error) {
			set := truncUnits
			set.fn = name
			return unitResolve(&set, types.TimestampT, truncTs)
		})
	register(&Func{Name: "to_unixtime", Description: "seconds since the epoch (toward zero) of a timestamp or of text parsed as one",
		Resolve: toUnixtimeResolve})
	registerAll([]string{"date_part", "datepart"}, "a field of the timestamp, as a DOUBLE",
		func(name string) func([]types.Type) (*Resolved, error) {
			set := partUnits
			set.fn = name
			ofTs := unitResolve(&set, types.Float64T, func(u tsUnit, ns int64) (float64, error) { return datePart(u, ns), nil })
			ofInterval := unitResolve(&intervalUnits, types.Float64T, func(_ tsUnit, ns int64) (float64, error) {
				return float64(ns/nsPerSec) + float64(ns%nsPerSec)/1e9, nil
			})
			return func(args []types.Type) (*Resolved, error) {
				if len(args) == 2 && args[1].Kind == types.Interval {
					r, err := ofInterval([]types.Type{args[0], types.TimestampT})
					if err == nil {
						r.Args[1] = types.IntervalT
					}
					return r, err
				}
				return ofTs(args)
			}
		})
	register(&Func{Name: "date_bin", Description: "the start of the interval-wide bin (counted from origin, default the epoch) holding the timestamp",
		Resolve: sigs("date_bin", types.TimestampT, dateBinKernel, sig{pInterval, pTs}, sig{pInterval, pTs, pTs})})
	for _, f := range []struct {
		name         string
		scale, trunc int64
		floats       bool
	}{
		{"to_timestamp", nsPerSec, 1, true},
		{"to_timestamp_seconds", nsPerSec, nsPerSec, true},
		{"to_timestamp_millis", nsPerMs, nsPerMs, false},
		{"to_timestamp_micros", nsPerUs, nsPerUs, false},
		{"to_timestamp_nanos", 1, 1, false},
	} {
		desc := "text parsed as a timestamp, or a number of " + unitName(f.scale) + " since the epoch"
		register(&Func{Name: f.name, Description: desc, Resolve: toTimestampResolve(f.name, f.scale, f.trunc, f.floats)})
	}
	register(&Func{Name: "from_unixtime", Description: "the timestamp a number of seconds after the epoch",
		Resolve: sigs("from_unixtime", types.TimestampT, toTimestamp(nsPerSec, nsPerSec), sig{pInt})})
	registerAll([]string{"to_char", "date_format"}, "the timestamp formatted with a chrono (strftime) format string", toCharResolve)
}
