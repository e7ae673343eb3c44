package expr

import (
	"fmt"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// DATE is days since 1970-01-01 in a *coldata.Vec[int32] and TIME
// nanoseconds since midnight in a *coldata.Vec[int64]; the kernels of their
// physical types compare them, hash them and keep them in state. This file
// has what differs: casts, DATE arithmetic, make_date and current_date.

// isDateTime reports whether k is DATE or TIME.
func isDateTime(k types.Kind) bool { return k == types.Date || k == types.Time }

// canCastDateTime is CanCast for casts from or to DATE and TIME:
//
//   - DATE to and from TEXT, TIMESTAMP and integers (days);
//   - TIME to and from TEXT and integers (nanoseconds), and from TIMESTAMP
//     (its time of day).
func canCastDateTime(f, t types.Kind) bool {
	switch {
	case f == types.Date:
		return t == types.String || t == types.Timestamp || t.IsInteger()
	case t == types.Date:
		return f == types.String || f == types.Timestamp || f.IsInteger()
	case f == types.Time:
		return t == types.String || t.IsInteger()
	case t == types.Time:
		return f == types.String || f == types.Timestamp || f.IsInteger()
	}
	return false
}

// castDateTime is castVec for casts from or to DATE and TIME.
func castDateTime(al *coldata.Allocator, v coldata.Vector, to types.Type, n int, sel []int32) (coldata.Vector, error) {
	from := v.Type()
	w := words(v)
	switch {
	case from.Kind == types.Date:
		x := v.(*coldata.Vec[int32])
		switch {
		case to.Kind == types.String:
			return buildBytes(al, to, n, sel, w, n*10, func(dst []byte, i int) []byte {
				return timefmt.AppendDate(dst, x.Vals[i])
			}), nil
		case to.Kind == types.Timestamp:
			// Every DATE times a day's nanoseconds fits 64 bits only
			// within 1677-09-21 to 2262-04-11.
			const maxDays = (1<<63 - 1) / timefmt.NanosPerDay
			out := coldata.AllocVec[int64](al, to, n)
			for i, d := range x.Vals[:n] {
				out.Vals[i] = int64(d) * timefmt.NanosPerDay
			}
			bad := firstBad(n, sel, w, func(i int) bool { return x.Vals[i] > maxDays || x.Vals[i] < -maxDays })
			if bad >= 0 {
				return nil, &rowError{row: bad, err: &CastError{Value: string(timefmt.AppendDate(nil, x.Vals[bad])), To: to, OutOfRange: true}}
			}
			out.N.SetWords(w)
			return out, nil
		case to.Kind.IsInteger():
			return castVec(al, coldata.RetypeVec(x, types.Int32T), to, n, sel)
		}
	case from.Kind == types.Time:
		x := v.(*coldata.Vec[int64])
		switch {
		case to.Kind == types.String:
			return buildBytes(al, to, n, sel, w, n*12, func(dst []byte, i int) []byte {
				return timefmt.AppendTime(dst, x.Vals[i])
			}), nil
		case to.Kind.IsInteger():
			return castVec(al, coldata.RetypeVec(x, types.Int64T), to, n, sel)
		}
	case from.Kind == types.Timestamp:
		x := v.(*coldata.Vec[int64])
		if to.Kind == types.Date {
			out := coldata.AllocVec[int32](al, to, n)
			for i, ts := range x.Vals[:n] {
				d, _ := timefmt.DayOf(ts)
				out.Vals[i] = int32(d)
			}
			out.N.SetWords(w)
			return out, nil
		}
		out := coldata.AllocVec[int64](al, to, n)
		for i, ts := range x.Vals[:n] {
			_, out.Vals[i] = timefmt.DayOf(ts)
		}
		out.N.SetWords(w)
		return out, nil
	case from.Kind == types.String:
		x := v.(*coldata.Bytes)
		if to.Kind == types.Date {
			out := coldata.AllocVec[int32](al, to, n)
			err := forLive(n, sel, w, func(i int) error {
				d, msg := timefmt.ParseDate(trimSpace(x.Get(i)))
				if msg != "" {
					return &CastError{Value: x.GetString(i), To: to}
				}
				out.Vals[i] = d
				return nil
			})
			if err != nil {
				return nil, err
			}
			out.N.SetWords(w)
			return out, nil
		}
		out := coldata.AllocVec[int64](al, to, n)
		err := forLive(n, sel, w, func(i int) error {
			t, msg := timefmt.ParseTime(trimSpace(x.Get(i)))
			if msg != "" {
				return &CastError{Value: x.GetString(i), To: to}
			}
			out.Vals[i] = t
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.N.SetWords(w)
		return out, nil
	case from.Kind.IsInteger():
		if to.Kind == types.Date {
			c, err := castVec(al, v, types.Int32T, n, sel)
			if err != nil {
				return nil, err
			}
			x := c.(*coldata.Vec[int32])
			return coldata.RetypeVec(x, to), nil
		}
		c, err := castVec(al, v, types.Int64T, n, sel)
		if err != nil {
			return nil, err
		}
		x := c.(*coldata.Vec[int64])
		bad := firstBad(n, sel, w, func(i int) bool { return x.Vals[i] < 0 || x.Vals[i] >= timefmt.NanosPerDay })
		if bad >= 0 {
			return nil, &rowError{row: bad, err: fmt.Errorf("value %d out of range for TIME (0 to %d nanoseconds since midnight)", x.Vals[bad], timefmt.NanosPerDay-1)}
		}
		return coldata.RetypeVec(x, to), nil
	}
	return nil, fmt.Errorf("cannot cast %s to %s", from, to)
}

// plainArith reports whether the arithmetic r resolved to is arith's
// (operands of one physical type), which specialize may call with a
// constant operand; DATE and DECIMAL arithmetic have kernels of their own.
func plainArith(r *Resolved) bool {
	for _, t := range r.Args {
		if t.Kind == types.Date || t.Kind == types.Decimal {
			return false
		}
	}
	return true
}

// dateArith resolves DATE arithmetic, as DataFusion does it:
//
//   - DATE + INTERVAL, INTERVAL + DATE and DATE - INTERVAL give a DATE,
//     moved by the interval's whole days (the rest of a day is dropped,
//     toward zero, as Arrow adds a duration to a date);
//   - DATE - DATE gives the INTERVAL of days between them.
//
// A NULL operand next to a DATE is an INTERVAL. ok is false when no
// operand is a DATE.
func dateArith(op arithOp, args []types.Type) (r *Resolved, ok bool, err error) {
	a, b := args[0].Kind, args[1].Kind
	if a != types.Date && b != types.Date {
		return nil, false, nil
	}
	if a == types.Null {
		a = types.Interval
	}
	if b == types.Null {
		b = types.Interval
	}
	swap := false
	switch {
	case a == types.Date && b == types.Interval && (op == opAdd || op == opSub):
	case a == types.Interval && b == types.Date && op == opAdd:
		swap = true
	case a == types.Date && b == types.Date && op == opSub:
		return &Resolved{Args: []types.Type{types.DateT, types.DateT}, Result: types.IntervalT, Kernel: dateDiff}, true, nil
	default:
		return nil, true, fmt.Errorf("operator %s cannot combine %s and %s (DATE takes + and - INTERVAL, and DATE - DATE)",
			arithNames[op], args[0], args[1])
	}
	neg := op == opSub
	k := func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		dv, ivv := vs[0], vs[1]
		if swap {
			dv, ivv = ivv, dv
		}
		d, iv := dv.(*coldata.Vec[int32]), ivv.(*coldata.Vec[int64])
		out := coldata.AllocVec[int32](al, types.DateT, n)
		suspect := false
		for i, x := range d.Vals[:n] {
			days := iv.Vals[i] / timefmt.NanosPerDay // at most 106752: no overflow below
			if neg {
				days = -days
			}
			r := int64(x) + days
			out.Vals[i] = int32(r)
			suspect = suspect || r != int64(int32(r))
		}
		nulls := orWords(words(d), words(iv))
		if suspect {
			bad := firstBad(n, sel, nulls, func(i int) bool {
				days := iv.Vals[i] / timefmt.NanosPerDay
				if neg {
					days = -days
				}
				r := int64(d.Vals[i]) + days
				return r != int64(int32(r))
			})
			if bad >= 0 {
				return nil, &rowError{row: bad, err: fmt.Errorf("date out of range")}
			}
		}
		out.N.SetWords(nulls)
		return out, nil
	}
	at := []types.Type{types.DateT, types.IntervalT}
	if swap {
		at = []types.Type{types.IntervalT, types.DateT}
	}
	return &Resolved{Args: at, Result: types.DateT, Kernel: k}, true, nil
}

// dateDiff is DATE - DATE: the INTERVAL of days between them.
func dateDiff(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	a, b := vs[0].(*coldata.Vec[int32]), vs[1].(*coldata.Vec[int32])
	out := coldata.AllocVec[int64](al, types.IntervalT, n)
	bv := b.Vals[:n]
	for i, x := range a.Vals[:n] {
		out.Vals[i] = (int64(x) - int64(bv[i])) * timefmt.NanosPerDay // |days| < 2^32: fits
	}
	out.N.SetWords(orWords(words(a), words(b)))
	return out, nil
}

// makeDate is make_date(year, month, day) on INT arguments.
func makeDate(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	y, m, d := vs[0].(*coldata.Vec[int32]), vs[1].(*coldata.Vec[int32]), vs[2].(*coldata.Vec[int32])
	out := coldata.AllocVec[int32](al, types.DateT, n)
	nulls := orWords(orWords(words(y), words(m)), words(d))
	err := forLive(n, sel, nulls, func(i int) error {
		yy, mm, dd := int64(y.Vals[i]), int64(m.Vals[i]), int64(d.Vals[i])
		if mm < 1 || mm > 12 || dd < 1 || dd > timefmt.DaysIn(yy, mm) || yy < -1_000_000 || yy > 1_000_000 {
			return fmt.Errorf("make_date: no date %d-%d-%d", yy, mm, dd)
		}
		out.Vals[i] = int32(timefmt.DaysFromCivil(yy, mm, dd))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.N.SetWords(nulls)
	return out, nil
}

// nowFunc is the clock of current_date, replaceable in tests.
var nowFunc = time.Now

func currentDate(al *coldata.Allocator, _ []coldata.Vector, n int, _ []int32) (coldata.Vector, error) {
	d, _ := timefmt.DayOf(nowFunc().UnixNano())
	return fill(al, types.DateT, n, int32(d)), nil
}

func init() {
	register(&Func{
		Name:        "make_date",
		Description: "make_date(year, month, day): the DATE with those fields; an error for a day that does not exist",
		Resolve: func(args []types.Type) (*Resolved, error) {
			if len(args) != 3 {
				return nil, fmt.Errorf("make_date expects 3 arguments (year, month, day), got %d", len(args))
			}
			for _, a := range args {
				if !a.Kind.IsInteger() && a.Kind != types.Null {
					return nil, fmt.Errorf("make_date(INT, INT, INT) expects integers, got %s", a)
				}
			}
			return &Resolved{Args: []types.Type{types.Int32T, types.Int32T, types.Int32T}, Result: types.DateT, Kernel: makeDate}, nil
		},
	})
	register(&Func{
		Name:        "current_date",
		Description: "current_date(): today's DATE in UTC",
		Volatile:    true,
		Resolve: func(args []types.Type) (*Resolved, error) {
			if len(args) != 0 {
				return nil, fmt.Errorf("current_date expects no arguments, got %d", len(args))
			}
			return &Resolved{Result: types.DateT, Kernel: currentDate}, nil
		},
	})
}
