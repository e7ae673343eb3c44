package expr

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Arithmetic kernels.
//
// Every kernel computes densely over all n physical rows, including rows
// outside the selection and NULL rows, whose values are garbage: a tight
// loop over the whole vector beats an indexed loop over the selection, and
// garbage rows cost nothing as long as they cannot fail. Checked integer
// kernels therefore only accumulate a "suspect" flag while computing; when
// it is set, a slow precise pass over the live (selected, non-NULL) rows
// finds the row that really fails, if any. Division guards its divisor
// densely because Go panics on integer division by zero.

var (
	// ErrOverflow is returned when an integer result does not fit its type.
	ErrOverflow = errors.New("integer overflow")
	// ErrDivisionByZero is returned by integer / and % with a zero divisor.
	ErrDivisionByZero = errors.New("division by zero")
)

// Type sets of the kernels. The concrete vectors only ever hold the plain
// Go types, so the ~ forms are for generic code's convenience.
type (
	integer interface {
		~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
	}
	float interface{ ~float32 | ~float64 }
	num   interface{ integer | float }
)

// Kernels test signedness with the expression ^T(0) < 0 written inline: it
// folds to a constant in each instantiation, where a helper call would
// leave a dictionary load in the loop.

// minOf returns the smallest value of the signed integer type T.
func minOf[T integer]() T { return T(1) << (unsafe.Sizeof(T(0))*8 - 1) }

type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMod
)

var arithNames = [...]string{opAdd: "+", opSub: "-", opMul: "*", opDiv: "/", opMod: "%"}

func addOvf[T integer](a, b, r T) bool {
	if ^T(0) < 0 {
		return (a^r)&(b^r) < 0
	}
	return r < a
}

func subOvf[T integer](a, b, r T) bool {
	if ^T(0) < 0 {
		return (a^b)&(a^r) < 0
	}
	return a < b
}

// mulOvf returns a*b (wrapped) and whether it overflowed.
func mulOvf[T integer](a, b T) (T, bool) {
	if unsafe.Sizeof(a) <= 4 {
		// The exact product fits 64 bits; it overflowed iff it does not
		// survive the round trip through T.
		if ^T(0) < 0 {
			p := int64(a) * int64(b)
			return T(p), p != int64(T(p))
		}
		p := uint64(a) * uint64(b)
		return T(p), p != uint64(T(p))
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if ^T(0) < 0 {
		// The signed high word is the unsigned one corrected for negative
		// operands; the product fits iff it is the sign extension of lo.
		shi := int64(hi) - (int64(a)>>63)&int64(b) - (int64(b)>>63)&int64(a)
		return T(lo), shi != int64(lo)>>63
	}
	return T(lo), hi != 0
}

// intRowErr is the precise check of one row.
func intRowErr[T integer](op arithOp, a, b T) error {
	switch op {
	case opAdd:
		if addOvf(a, b, a+b) {
			return ErrOverflow
		}
	case opSub:
		if subOvf(a, b, a-b) {
			return ErrOverflow
		}
	case opMul:
		if _, o := mulOvf(a, b); o {
			return ErrOverflow
		}
	case opDiv, opMod:
		if b == 0 {
			return ErrDivisionByZero
		}
		if op == opDiv && ^T(0) < 0 && b == ^T(0) && a == minOf[T]() {
			return ErrOverflow
		}
	}
	return nil
}

// intDense computes out = x op y (or x op s when scalar) over all rows and
// reports whether some row may have failed.
func intDense[T integer](op arithOp, x, y []T, s T, scalar bool, out []T) bool {
	x = x[:len(out)]
	if !scalar {
		y = y[:len(x)]
	}
	if ^T(0) < 0 && (op == opAdd || op == opSub) {
		return signedAddSub(op, x, y, s, scalar, out)
	}
	acc := 0
	switch op {
	case opAdd:
		if scalar {
			for i, a := range x {
				r := a + s
				acc |= b2i(addOvf(a, s, r))
				out[i] = r
			}
		} else {
			for i, a := range x {
				b := y[i]
				r := a + b
				acc |= b2i(addOvf(a, b, r))
				out[i] = r
			}
		}
	case opSub:
		if scalar {
			for i, a := range x {
				r := a - s
				acc |= b2i(subOvf(a, s, r))
				out[i] = r
			}
		} else {
			for i, a := range x {
				b := y[i]
				r := a - b
				acc |= b2i(subOvf(a, b, r))
				out[i] = r
			}
		}
	case opMul:
		if scalar {
			for i, a := range x {
				r, o := mulOvf(a, s)
				acc |= b2i(o)
				out[i] = r
			}
		} else {
			for i, a := range x {
				r, o := mulOvf(a, y[i])
				acc |= b2i(o)
				out[i] = r
			}
		}
	case opDiv, opMod:
		return intDivDense(op, x, y, s, scalar, out)
	}
	return acc != 0
}

// signedAddSub is the signed + and - of intDense with the overflow
// condition accumulated in the sign bit, the cheapest form of the check.
func signedAddSub[T integer](op arithOp, x, y []T, s T, scalar bool, out []T) bool {
	out = out[:len(x)]
	var acc T
	switch {
	case op == opAdd && scalar:
		for i, a := range x {
			r := a + s
			acc |= (a ^ r) & (s ^ r)
			out[i] = r
		}
	case op == opAdd:
		y = y[:len(x)]
		for i, a := range x {
			b := y[i]
			r := a + b
			acc |= (a ^ r) & (b ^ r)
			out[i] = r
		}
	case scalar:
		for i, a := range x {
			r := a - s
			acc |= (a ^ s) & (a ^ r)
			out[i] = r
		}
	default:
		y = y[:len(x)]
		for i, a := range x {
			b := y[i]
			r := a - b
			acc |= (a ^ b) & (a ^ r)
			out[i] = r
		}
	}
	return acc < 0
}

func intDivDense[T integer](op arithOp, x, y []T, s T, scalar bool, out []T) bool {
	minT := minOf[T]()
	if scalar {
		switch {
		case s == 0:
			return true
		case ^T(0) < 0 && s == ^T(0):
			// x / -1 is -x (Go does not trap on MinInt / -1; we check) and
			// x % -1 is 0.
			suspect := false
			for i, a := range x {
				if op == opDiv {
					out[i] = -a
					suspect = suspect || a == minT
				} else {
					out[i] = 0
				}
			}
			return suspect
		default:
			divConstDense(op, x, s, out)
		}
		return false
	}
	suspect := false
	for i, a := range x {
		b := y[i]
		if b == 0 || b == ^T(0) {
			if b == 0 {
				suspect = true
				out[i] = 0
				continue
			}
			if ^T(0) < 0 && op == opDiv && a == minT {
				suspect = true
			}
		}
		if op == opDiv {
			out[i] = a / b
		} else {
			out[i] = a % b
		}
	}
	return suspect
}

// divConstDense computes x / s or x % s for a constant s other than 0 and
// -1 with a multiply by a precomputed reciprocal instead of a hardware
// division (several times faster; "auction % 123" is Nexmark q2's filter).
func divConstDense[T integer](op arithOp, x []T, s T, out []T) {
	out = out[:len(x)]
	if ^T(0) < 0 {
		v := int64(s)
		sm := v >> 63 // all ones when s < 0
		dv := newUdivider(uint64((v ^ sm) - sm))
		d := dv.d
		for i, a := range x {
			w := int64(a)
			m := w >> 63
			ux := uint64((w ^ m) - m) // |a|, MinInt64 included
			q := dv.div(ux)
			if op == opDiv {
				qm := m ^ sm
				out[i] = T((int64(q) ^ qm) - qm)
			} else {
				r := int64(ux - q*d)
				out[i] = T((r ^ m) - m) // the sign of the dividend
			}
		}
		return
	}
	dv := newUdivider(uint64(s))
	for i, a := range x {
		q := dv.div(uint64(a))
		if op == opDiv {
			out[i] = T(q)
		} else {
			out[i] = a - T(q)*s
		}
	}
}

// udivider divides unsigned 64-bit integers by a constant d > 0 with a
// multiply-high and shifts (Granlund-Montgomery, as in libdivide).
type udivider struct {
	d     uint64
	magic uint64 // 0 for powers of two
	shift uint
	add   bool // the 65-bit magic variant
}

func newUdivider(d uint64) udivider {
	l := uint(63 - bits.LeadingZeros64(d))
	if d&(d-1) == 0 {
		return udivider{d: d, shift: l}
	}
	m, rem := bits.Div64(1<<l, 0, d) // floor(2^(64+l) / d)
	v := udivider{d: d, shift: l}
	if e := d - rem; e >= 1<<l {
		m += m
		twice := rem + rem
		if twice >= d || twice < rem {
			m++
		}
		v.add = true
	}
	v.magic = m + 1
	return v
}

func (v *udivider) div(n uint64) uint64 {
	if v.magic == 0 {
		return n >> v.shift
	}
	q, _ := bits.Mul64(v.magic, n)
	if v.add {
		return (((n - q) >> 1) + q) >> v.shift
	}
	return q >> v.shift
}

func floatDense[T float](op arithOp, x, y []T, s T, scalar bool, out []T) {
	x = x[:len(out)]
	if !scalar {
		y = y[:len(x)]
	}
	switch op {
	case opAdd:
		if scalar {
			for i, a := range x {
				out[i] = a + s
			}
		} else {
			for i, a := range x {
				out[i] = a + y[i]
			}
		}
	case opSub:
		if scalar {
			for i, a := range x {
				out[i] = a - s
			}
		} else {
			for i, a := range x {
				out[i] = a - y[i]
			}
		}
	case opMul:
		if scalar {
			for i, a := range x {
				out[i] = a * s
			}
		} else {
			for i, a := range x {
				out[i] = a * y[i]
			}
		}
	case opDiv:
		if scalar {
			for i, a := range x {
				out[i] = a / s
			}
		} else {
			for i, a := range x {
				out[i] = a / y[i]
			}
		}
	case opMod:
		if scalar {
			for i, a := range x {
				out[i] = T(math.Mod(float64(a), float64(s)))
			}
		} else {
			for i, a := range x {
				out[i] = T(math.Mod(float64(a), float64(y[i])))
			}
		}
	}
}

// operand returns b as a *Vec[T] (nil when b is nil).
func operand[T coldata.Fixed](b coldata.Vector) (*coldata.Vec[T], error) {
	if b == nil {
		return nil, nil
	}
	v, ok := b.(*coldata.Vec[T])
	if !ok {
		var zero T
		return nil, fmt.Errorf("operand is %T, want *coldata.Vec[%T]", b, zero)
	}
	return v, nil
}

func arithIntVec[T integer](al *coldata.Allocator, op arithOp, t types.Type, a *coldata.Vec[T], b coldata.Vector, s T, n int, sel []int32) (coldata.Vector, error) {
	bv, err := operand[T](b)
	if err != nil {
		return nil, err
	}
	out := coldata.AllocVec[T](al, t, n)
	x := a.Vals
	var y []T
	nulls := words(a)
	if bv != nil {
		y = bv.Vals
		nulls = orWords(nulls, words(bv))
	}
	if intDense(op, x, y, s, bv == nil, out.Vals) {
		var err error
		bad := firstBad(n, sel, nulls, func(i int) bool {
			b := s
			if bv != nil {
				b = y[i]
			}
			err = intRowErr(op, x[i], b)
			return err != nil
		})
		if bad >= 0 {
			b := s
			if bv != nil {
				b = y[bad]
			}
			vals := appendNum(nil, x[bad])
			vals = append(vals, ' ')
			vals = append(vals, arithNames[op]...)
			vals = append(vals, ' ')
			vals = appendNum(vals, b)
			return nil, &rowError{row: bad, values: string(vals), err: err}
		}
	}
	out.N.SetWords(nulls)
	return out, nil
}

func arithFloatVec[T float](al *coldata.Allocator, op arithOp, t types.Type, a *coldata.Vec[T], b coldata.Vector, s T, n int) (coldata.Vector, error) {
	bv, err := operand[T](b)
	if err != nil {
		return nil, err
	}
	out := coldata.AllocVec[T](al, t, n)
	nulls := words(a)
	var y []T
	if bv != nil {
		y = bv.Vals
		nulls = orWords(nulls, words(bv))
	}
	floatDense(op, a.Vals, y, s, bv == nil, out.Vals)
	out.N.SetWords(nulls)
	return out, nil
}

// arith computes a op b (b a vector) or a op sc (b nil) with result type t.
// The operands have the same physical type.
func arith(al *coldata.Allocator, op arithOp, t types.Type, a, b coldata.Vector, sc *scalar, n int, sel []int32) (coldata.Vector, error) {
	if sc == nil {
		sc = &scalar{}
	}
	switch av := a.(type) {
	case *coldata.Vec[int8]:
		return arithIntVec(al, op, t, av, b, int8(sc.i), n, sel)
	case *coldata.Vec[int16]:
		return arithIntVec(al, op, t, av, b, int16(sc.i), n, sel)
	case *coldata.Vec[int32]:
		return arithIntVec(al, op, t, av, b, int32(sc.i), n, sel)
	case *coldata.Vec[int64]:
		return arithIntVec(al, op, t, av, b, sc.i, n, sel)
	case *coldata.Vec[uint8]:
		return arithIntVec(al, op, t, av, b, uint8(sc.u), n, sel)
	case *coldata.Vec[uint16]:
		return arithIntVec(al, op, t, av, b, uint16(sc.u), n, sel)
	case *coldata.Vec[uint32]:
		return arithIntVec(al, op, t, av, b, uint32(sc.u), n, sel)
	case *coldata.Vec[uint64]:
		return arithIntVec(al, op, t, av, b, sc.u, n, sel)
	case *coldata.Vec[float32]:
		return arithFloatVec(al, op, t, av, b, float32(sc.f), n)
	case *coldata.Vec[float64]:
		return arithFloatVec(al, op, t, av, b, sc.f, n)
	}
	return nil, fmt.Errorf("operator %s: unsupported operand %T", arithNames[op], a)
}

// arithResolve returns the Resolve of an arithmetic operator.
func arithResolve(op arithOp) func(args []types.Type) (*Resolved, error) {
	name := arithNames[op]
	kernel := func(t types.Type, swap bool) Kernel {
		return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			a, b := args[0], args[1]
			if swap {
				a, b = b, a
			}
			return arith(al, op, t, a, b, nil, n, sel)
		}
	}
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("operator %s expects 2 operands, got %d", name, len(args))
		}
		if r, ok, err := dateArith(op, args); ok {
			return r, err
		}
		if r, ok, err := decArith(op, args); ok {
			return r, err
		}
		a, b := args[0].Kind, args[1].Kind
		// A NULL operand next to a temporal one takes the type that makes
		// the expression valid.
		if a == types.Null && (b == types.Timestamp || b == types.Interval) {
			a = types.Interval
			if op == opSub && b == types.Timestamp {
				a = types.Timestamp
			}
		}
		if b == types.Null && (a == types.Timestamp || a == types.Interval) {
			b = types.Interval
			if (op == opMul || op == opDiv) && a == types.Interval {
				b = types.Int64
			}
		}
		res := func(x, y types.Kind, r types.Kind, swap bool) *Resolved {
			rt := types.Type{Kind: r}
			return &Resolved{
				Args:   []types.Type{{Kind: x}, {Kind: y}},
				Result: rt,
				Kernel: kernel(rt, swap),
			}
		}
		switch {
		case a == types.Timestamp && b == types.Interval && (op == opAdd || op == opSub):
			return res(a, b, types.Timestamp, false), nil
		case a == types.Interval && b == types.Timestamp && op == opAdd:
			return res(a, b, types.Timestamp, true), nil
		case a == types.Timestamp && b == types.Timestamp && op == opSub:
			return res(a, b, types.Interval, false), nil
		case a == types.Interval && b == types.Interval && (op == opAdd || op == opSub):
			return res(a, b, types.Interval, false), nil
		case a == types.Interval && (b.IsInteger() || b == types.Null) && (op == opMul || op == opDiv):
			return res(a, types.Int64, types.Interval, false), nil
		case (a.IsInteger() || a == types.Null) && b == types.Interval && op == opMul:
			return res(types.Int64, b, types.Interval, true), nil
		}
		if (a.IsNumeric() || a == types.Null) && (b.IsNumeric() || b == types.Null) {
			ct, err := CommonType(args[0], args[1])
			if err != nil {
				return nil, err
			}
			if ct.Kind == types.Null {
				ct = types.Int64T
			}
			return res(ct.Kind, ct.Kind, ct.Kind, false), nil
		}
		return nil, fmt.Errorf("operator %s expects numeric operands (or TIMESTAMP/INTERVAL arithmetic), got %s and %s",
			name, args[0], args[1])
	}
}

// neg is unary minus.
func neg(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	switch v := args[0].(type) {
	case *coldata.Vec[int8]:
		return negInt(al, v, n, sel)
	case *coldata.Vec[int16]:
		return negInt(al, v, n, sel)
	case *coldata.Vec[int32]:
		return negInt(al, v, n, sel)
	case *coldata.Vec[int64]:
		return negInt(al, v, n, sel)
	case *coldata.Vec[float32]:
		return negFloat(al, v, n), nil
	case *coldata.Vec[float64]:
		return negFloat(al, v, n), nil
	case *coldata.Vec[coldata.Int128]:
		return negDecimal(al, v, n), nil
	}
	return nil, fmt.Errorf("neg: unsupported operand %T", args[0])
}

func negInt[T integer](al *coldata.Allocator, v *coldata.Vec[T], n int, sel []int32) (coldata.Vector, error) {
	out := coldata.AllocVec[T](al, v.T, n)
	minT := minOf[T]()
	suspect := 0
	for i, x := range v.Vals[:n] {
		out.Vals[i] = -x
		suspect |= b2i(x == minT)
	}
	w := words(v)
	if suspect != 0 {
		if bad := firstBad(n, sel, w, func(i int) bool { return v.Vals[i] == minT }); bad >= 0 {
			return nil, &rowError{row: bad, values: "-(" + string(appendNum(nil, v.Vals[bad])) + ")", err: ErrOverflow}
		}
	}
	out.N.SetWords(w)
	return out, nil
}

func negFloat[T float](al *coldata.Allocator, v *coldata.Vec[T], n int) coldata.Vector {
	out := coldata.AllocVec[T](al, v.T, n)
	for i, x := range v.Vals[:n] {
		out.Vals[i] = -x
	}
	out.N.SetWords(words(v))
	return out
}

func negResolve(args []types.Type) (*Resolved, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("operator neg expects 1 operand, got %d", len(args))
	}
	t := args[0]
	switch t.Kind {
	case types.Int8, types.Int16, types.Int32, types.Int64, types.Float32, types.Float64, types.Interval, types.Decimal:
	case types.UInt8, types.UInt16:
		// The narrowest signed type that holds the negated value.
		t = types.Type{Kind: types.IntKind(true, 2*t.Kind.Bits())}
	case types.UInt32, types.UInt64, types.Null:
		t = types.Int64T
	default:
		return nil, fmt.Errorf("operator neg expects a numeric or INTERVAL operand, got %s", args[0])
	}
	return &Resolved{Args: []types.Type{t}, Result: t, Kernel: neg}, nil
}

func init() {
	descs := [...]string{
		opAdd: "addition; also TIMESTAMP + INTERVAL and INTERVAL + INTERVAL",
		opSub: "subtraction; also TIMESTAMP - INTERVAL, TIMESTAMP - TIMESTAMP",
		opMul: "multiplication; also INTERVAL * integer",
		opDiv: "division (integers truncate toward zero); also INTERVAL / integer",
		opMod: "remainder (sign of the dividend)",
	}
	for op, name := range arithNames {
		register(&Func{Name: name, Description: descs[op], Resolve: arithResolve(arithOp(op))})
	}
	register(&Func{Name: "neg", Description: "unary minus", Resolve: negResolve})
}
