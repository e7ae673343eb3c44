package expr

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// CastError reports a value that cannot be converted to the target type of
// a CAST.
type CastError struct {
	// Value is the offending value as text.
	Value string
	To    types.Type
	// OutOfRange is set when the value is well-formed but does not fit To.
	OutOfRange bool
}

func (e *CastError) Error() string {
	if e.OutOfRange {
		if r := e.To.Kind.RangeText(); r != "" {
			return fmt.Sprintf("value %s out of range for %s (%s)", e.Value, e.To, r)
		}
		return fmt.Sprintf("value %s out of range for %s", e.Value, e.To)
	}
	return fmt.Sprintf("cannot cast '%s' to %s", e.Value, e.To)
}

// CanCast reports whether CAST(x AS to) is defined for x of type from; the
// planner calls it at plan time. Casts between:
//
//   - equal types, and from NULL to anything;
//   - numeric types and BOOLEAN (in both directions);
//   - integers and TIMESTAMP or INTERVAL (nanoseconds);
//   - TEXT and numbers, BOOLEAN, TIMESTAMP, JSON and BYTEA, in both
//     directions, and INTERVAL to TEXT;
//   - a struct to a struct whose fields have the same types, in order
//     (only the names change);
//   - DATE and TIME as canCastDateTime says, DECIMAL as canCastDecimal.
func CanCast(from, to types.Type) error {
	if from.Equal(to) || from.Kind == types.Null {
		return nil
	}
	f, t := from.Kind, to.Kind
	if f == types.Decimal || t == types.Decimal {
		if canCastDecimal(f, t) {
			return nil
		}
		return fmt.Errorf("cannot cast %s to %s", from, to)
	}
	if isDateTime(f) || isDateTime(t) {
		if canCastDateTime(f, t) {
			return nil
		}
		return fmt.Errorf("cannot cast %s to %s", from, to)
	}
	numOrBool := func(k types.Kind) bool { return k.IsNumeric() || k == types.Bool }
	temporal := func(k types.Kind) bool { return k == types.Timestamp || k == types.Interval }
	switch {
	case numOrBool(f) && numOrBool(t):
		return nil
	case f.IsInteger() && temporal(t), temporal(f) && t.IsInteger():
		return nil
	case t == types.String && (numOrBool(f) || temporal(f) || f == types.JSON || f == types.Bytes):
		return nil
	case f == types.String && (numOrBool(t) || t == types.Timestamp || t == types.JSON || t == types.Bytes):
		return nil
	case sameShape(from, to): // renaming a struct's fields (named_struct)
		return nil
	}
	return fmt.Errorf("cannot cast %s to %s", from, to)
}

// castVec converts the live rows of v to type to. Casts that do not change
// the physical representation share v's buffers.
func castVec(al *coldata.Allocator, v coldata.Vector, to types.Type, n int, sel []int32) (coldata.Vector, error) {
	from := v.Type()
	if from.Equal(to) {
		return v, nil
	}
	if from.Kind == types.Null {
		return nullVector(al, to, n), nil
	}
	if from.Kind == types.Decimal || to.Kind == types.Decimal {
		return castDecimal(al, v, to, n, sel)
	}
	if isDateTime(from.Kind) || isDateTime(to.Kind) {
		return castDateTime(al, v, to, n, sel)
	}
	switch x := v.(type) {
	case *coldata.Vec[bool]:
		if to.Kind == types.String {
			return buildBytes(al, to, n, sel, words(x), n*5, func(dst []byte, i int) []byte {
				return strconv.AppendBool(dst, x.Vals[i])
			}), nil
		}
		return castFromBool(al, x, to, n)
	case *coldata.Vec[int8]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[int16]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[int32]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[int64]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[uint8]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[uint16]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[uint32]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[uint64]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[float32]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Vec[float64]:
		return castFrom(al, x, to, n, sel)
	case *coldata.Bytes:
		return castFromBytes(al, x, to, n, sel)
	case *coldata.Struct:
		if sameShape(from, to) {
			return relabelStruct(al, x, to), nil
		}
	}
	return nil, fmt.Errorf("cannot cast %s to %s", from, to)
}

func castFromBool(al *coldata.Allocator, x *coldata.Vec[bool], to types.Type, n int) (coldata.Vector, error) {
	switch to.Kind {
	case types.Int8:
		return boolTo[int8](al, x, to, n), nil
	case types.Int16:
		return boolTo[int16](al, x, to, n), nil
	case types.Int32:
		return boolTo[int32](al, x, to, n), nil
	case types.Int64:
		return boolTo[int64](al, x, to, n), nil
	case types.UInt8:
		return boolTo[uint8](al, x, to, n), nil
	case types.UInt16:
		return boolTo[uint16](al, x, to, n), nil
	case types.UInt32:
		return boolTo[uint32](al, x, to, n), nil
	case types.UInt64:
		return boolTo[uint64](al, x, to, n), nil
	case types.Float32:
		return boolTo[float32](al, x, to, n), nil
	case types.Float64:
		return boolTo[float64](al, x, to, n), nil
	}
	return nil, fmt.Errorf("cannot cast %s to %s", x.T, to)
}

func boolTo[T num](al *coldata.Allocator, x *coldata.Vec[bool], to types.Type, n int) coldata.Vector {
	out := coldata.AllocVec[T](al, to, n)
	for i, b := range x.Vals[:n] {
		out.Vals[i] = T(b2i(b))
	}
	out.N.SetWords(words(x))
	return out
}

func castFrom[F num](al *coldata.Allocator, x *coldata.Vec[F], to types.Type, n int, sel []int32) (coldata.Vector, error) {
	switch to.Kind {
	case types.Bool:
		out := coldata.AllocVec[bool](al, to, n)
		for i, v := range x.Vals[:n] {
			out.Vals[i] = v != 0
		}
		out.N.SetWords(words(x))
		return out, nil
	case types.Int8:
		return castTo[F, int8](al, x, to, n, sel)
	case types.Int16:
		return castTo[F, int16](al, x, to, n, sel)
	case types.Int32:
		return castTo[F, int32](al, x, to, n, sel)
	case types.Int64, types.Timestamp, types.Interval:
		if xs, ok := any(x).(*coldata.Vec[int64]); ok {
			// Same physical type: only the logical type changes.
			return coldata.RetypeVec(xs, to), nil
		}
		return castTo[F, int64](al, x, to, n, sel)
	case types.UInt8:
		return castTo[F, uint8](al, x, to, n, sel)
	case types.UInt16:
		return castTo[F, uint16](al, x, to, n, sel)
	case types.UInt32:
		return castTo[F, uint32](al, x, to, n, sel)
	case types.UInt64:
		return castTo[F, uint64](al, x, to, n, sel)
	case types.Float32:
		return castTo[F, float32](al, x, to, n, sel)
	case types.Float64:
		return castTo[F, float64](al, x, to, n, sel)
	case types.String:
		w := words(x)
		switch x.T.Kind {
		case types.Timestamp:
			xs := any(x).(*coldata.Vec[int64])
			return buildBytes(al, to, n, sel, w, n*20, func(dst []byte, i int) []byte {
				return timefmt.AppendNaive(dst, xs.Vals[i])
			}), nil
		case types.Interval:
			xs := any(x).(*coldata.Vec[int64])
			return buildBytes(al, to, n, sel, w, n*10, func(dst []byte, i int) []byte {
				return appendInterval(dst, xs.Vals[i])
			}), nil
		}
		return buildBytes(al, to, n, sel, w, n*8, func(dst []byte, i int) []byte {
			return appendNum(dst, x.Vals[i])
		}), nil
	}
	return nil, fmt.Errorf("cannot cast %s to %s", x.T, to)
}

// isFloat reports whether T is a floating-point type; it folds to a
// constant in each instantiation.
func isFloat[T num]() bool {
	var h T = 1
	h /= 2
	return h != 0
}

// castTo converts numbers of type F to T, failing on values out of T's
// range (and NaN) when T is an integer type.
func castTo[F, T num](al *coldata.Allocator, x *coldata.Vec[F], to types.Type, n int, sel []int32) (coldata.Vector, error) {
	out := coldata.AllocVec[T](al, to, n)
	xs := x.Vals[:n]
	ys := out.Vals
	suspect := 0
	switch {
	case isFloat[T]():
		for i, a := range xs {
			ys[i] = T(a)
		}
	case isFloat[F]():
		lo, hi := intRange[T]()
		for i, a := range xs {
			t := math.Trunc(float64(a))
			suspect |= b2i(!(t >= lo && t < hi))
			ys[i] = T(a)
		}
	default:
		for i, a := range xs {
			y := T(a)
			suspect |= b2i(F(y) != a || (a < 0) != (y < 0))
			ys[i] = y
		}
	}
	w := words(x)
	if suspect != 0 {
		lo, hi := intRange[T]()
		bad := firstBad(n, sel, w, func(i int) bool {
			a := xs[i]
			if isFloat[F]() {
				t := math.Trunc(float64(a))
				return !(t >= lo && t < hi)
			}
			y := T(a)
			return F(y) != a || (a < 0) != (y < 0)
		})
		if bad >= 0 {
			return nil, &rowError{row: bad, err: &CastError{Value: fmt.Sprint(xs[bad]), To: to, OutOfRange: true}}
		}
	}
	out.N.SetWords(w)
	return out, nil
}

// intRange returns the range [lo, hi) of the integer type T as floats.
func intRange[T num]() (lo, hi float64) {
	size := int(unsafe.Sizeof(T(0))) * 8
	var m T
	m-- // -1, or the maximum of an unsigned type
	if m < 0 {
		return -math.Ldexp(1, size-1), math.Ldexp(1, size-1)
	}
	return 0, math.Ldexp(1, size)
}

// appendNum formats an integer or float.
func appendNum[T num](dst []byte, v T) []byte {
	switch x := any(v).(type) {
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case float64:
		return appendFloat(dst, x, 64)
	}
	return dst
}

// appendFloat formats f in the shortest form that reads back exactly.
// Like Arrow, integral values keep a ".0" (1.0, not 1) and infinities are
// "inf" and "-inf". Magnitudes in [1e-7, 1e21) are written in positional
// notation, others in exponent notation (1e+21).
func appendFloat(dst []byte, f float64, size int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	start := len(dst)
	if a := math.Abs(f); a == 0 || (a >= 1e-7 && a < 1e21) {
		dst = strconv.AppendFloat(dst, f, 'f', -1, size)
	} else {
		dst = strconv.AppendFloat(dst, f, 'e', -1, size)
	}
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

func appendFraction(dst []byte, frac int) []byte {
	if frac == 0 {
		return dst
	}
	digits := 9
	switch {
	case frac%1e6 == 0:
		frac /= 1e6
		digits = 3
	case frac%1e3 == 0:
		frac /= 1e3
		digits = 6
	}
	dst = append(dst, '.')
	var buf [9]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, buf[:digits]...)
}

// appendInterval formats a duration like PostgreSQL: [N day[s] ]HH:MM:SS
// with a fraction when not zero, and a leading '-' when negative.
func appendInterval(dst []byte, ns int64) []byte {
	u := uint64(ns)
	if ns < 0 {
		dst = append(dst, '-')
		u = -u
	}
	const day = 24 * uint64(time.Hour)
	if d := u / day; d > 0 {
		dst = strconv.AppendUint(dst, d, 10)
		if d == 1 {
			dst = append(dst, " day "...)
		} else {
			dst = append(dst, " days "...)
		}
		u %= day
	}
	secs := u / uint64(time.Second)
	two := func(dst []byte, v uint64) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }
	dst = two(dst, secs/3600)
	dst = append(dst, ':')
	dst = two(dst, secs/60%60)
	dst = append(dst, ':')
	dst = two(dst, secs%60)
	return appendFraction(dst, int(u%uint64(time.Second)))
}

// buildBytes builds a bytes vector of type t and length n whose live,
// non-NULL rows are produced by f (which appends row i to dst). Other rows
// are empty; rows NULL in nulls are NULL.
func buildBytes(al *coldata.Allocator, t types.Type, n int, sel []int32, nulls []uint64, sizeHint int, f func(dst []byte, i int) []byte) *coldata.Bytes {
	out := al.BytesRows(t, n, sizeHint)
	data := out.Data
	k := 0
	for i := 0; i < n; i++ {
		live := sel == nil
		if !live && k < len(sel) && int(sel[k]) == i {
			live = true
			k++
		}
		if live && !nullAt(nulls, i) {
			data = f(data, i)
		}
		out.Offsets[i+1] = int32(len(data))
	}
	out.Data = data
	out.N.SetWords(nulls)
	return out
}

// forLive calls f for every live row of (n, sel) not NULL in nulls, stopping
// at the first error, which it returns with the failing row attached.
func forLive(n int, sel []int32, nulls []uint64, f func(i int) error) error {
	if sel != nil {
		for _, i := range sel {
			if !nullAt(nulls, int(i)) {
				if err := f(int(i)); err != nil {
					return atRow(int(i), err)
				}
			}
		}
		return nil
	}
	for i := 0; i < n; i++ {
		if !nullAt(nulls, i) {
			if err := f(i); err != nil {
				return atRow(i, err)
			}
		}
	}
	return nil
}

// str views b as a string without copying; the result must not outlive b
// nor be retained (error values copy it).
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func castFromBytes(al *coldata.Allocator, x *coldata.Bytes, to types.Type, n int, sel []int32) (coldata.Vector, error) {
	w := words(x)
	from := x.T.Kind
	share := func() coldata.Vector {
		return coldata.Retype(x, to)
	}
	badText := func(i int) error { return &CastError{Value: x.GetString(i), To: to} }
	switch {
	case from == types.JSON && to.Kind == types.String, from == types.String && to.Kind == types.Bytes:
		return share(), nil
	case from == types.Bytes && to.Kind == types.String:
		err := forLive(n, sel, w, func(i int) error {
			if !utf8.Valid(x.Get(i)) {
				return fmt.Errorf("cannot cast BYTEA to TEXT: invalid UTF-8 %q", x.Get(i))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return share(), nil
	case from == types.String && to.Kind == types.JSON:
		err := forLive(n, sel, w, func(i int) error {
			if !json.Valid(x.Get(i)) {
				return badText(i)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return share(), nil
	case from != types.String:
		return nil, fmt.Errorf("cannot cast %s to %s", x.T, to)
	}
	switch to.Kind {
	case types.Bool:
		out := coldata.AllocVec[bool](al, to, n)
		err := forLive(n, sel, w, func(i int) error {
			v, ok := parseBool(trimSpace(x.Get(i)))
			if !ok {
				return badText(i)
			}
			out.Vals[i] = v
			return nil
		})
		out.N.SetWords(w)
		return out, err
	case types.Int8:
		return parseNumbers(al, x, to, n, sel, intParser[int8](8))
	case types.Int16:
		return parseNumbers(al, x, to, n, sel, intParser[int16](16))
	case types.Int32:
		return parseNumbers(al, x, to, n, sel, intParser[int32](32))
	case types.Int64:
		return parseNumbers(al, x, to, n, sel, intParser[int64](64))
	case types.UInt8:
		return parseNumbers(al, x, to, n, sel, uintParser[uint8](8))
	case types.UInt16:
		return parseNumbers(al, x, to, n, sel, uintParser[uint16](16))
	case types.UInt32:
		return parseNumbers(al, x, to, n, sel, uintParser[uint32](32))
	case types.UInt64:
		return parseNumbers(al, x, to, n, sel, uintParser[uint64](64))
	case types.Float32:
		return parseNumbers(al, x, to, n, sel, floatParser[float32](32))
	case types.Float64:
		return parseNumbers(al, x, to, n, sel, floatParser[float64](64))
	case types.Timestamp:
		out := coldata.AllocVec[int64](al, to, n)
		var tc timefmt.Cache
		err := forLive(n, sel, w, func(i int) error {
			v, msg := tc.Parse(trimSpace(x.Get(i)))
			if msg != "" {
				return badText(i)
			}
			out.Vals[i] = v
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.N.SetWords(w)
		return out, nil
	}
	return nil, fmt.Errorf("cannot cast %s to %s", x.T, to)
}

func parseErr(x *coldata.Bytes, i int, to types.Type, err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return &CastError{Value: string(trimSpace(x.Get(i))), To: to, OutOfRange: true}
	}
	return &CastError{Value: x.GetString(i), To: to}
}

// parseNumbers casts TEXT to a numeric type with parse, which gets the
// trimmed text of one row.
func parseNumbers[T coldata.Fixed](al *coldata.Allocator, x *coldata.Bytes, to types.Type, n int, sel []int32, parse func(string) (T, error)) (coldata.Vector, error) {
	out := coldata.AllocVec[T](al, to, n)
	w := words(x)
	err := forLive(n, sel, w, func(i int) error {
		v, err := parse(str(trimSpace(x.Get(i))))
		if err != nil {
			return parseErr(x, i, to, err)
		}
		out.Vals[i] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.N.SetWords(w)
	return out, nil
}

func intParser[T ~int8 | ~int16 | ~int32 | ~int64](size int) func(string) (T, error) {
	return func(s string) (T, error) { v, err := strconv.ParseInt(s, 10, size); return T(v), err }
}

func uintParser[T ~uint8 | ~uint16 | ~uint32 | ~uint64](size int) func(string) (T, error) {
	return func(s string) (T, error) { v, err := strconv.ParseUint(s, 10, size); return T(v), err }
}

func floatParser[T ~float32 | ~float64](size int) func(string) (T, error) {
	return func(s string) (T, error) { v, err := strconv.ParseFloat(s, size); return T(v), err }
}

// parseBool accepts true/false, t/f, yes/no, y/n, on/off and 1/0, in any
// case.
func parseBool(b []byte) (v, ok bool) {
	if len(b) > 5 {
		return false, false
	}
	var lower [5]byte
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(b)]) {
	case "true", "t", "yes", "y", "on", "1":
		return true, true
	case "false", "f", "no", "n", "off", "0":
		return false, true
	}
	return false, false
}
