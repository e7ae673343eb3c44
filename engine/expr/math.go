package expr

import (
	"fmt"
	"math"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Math functions. They take any number: FLOAT stays FLOAT, everything else
// computes in DOUBLE (the planner casts integers), except abs, which keeps
// integer types, and power of two integers, which stays BIGINT. Domain
// errors give NaN (sqrt(-1), ln(-1)) rather than failing the query, like
// DataFusion.

type mathOp uint8

const (
	mRound mathOp = iota
	mFloor
	mCeil
	mTrunc
	mSqrt
	mCbrt
	mLn
	mLog10
	mLog2
	mExp
	mSign
	mAbs
)

// mathDense applies op to every row.
func mathDense[T float](op mathOp, x, out []T) {
	x = x[:len(out)]
	switch op {
	case mRound:
		for i, a := range x {
			out[i] = T(math.Round(float64(a)))
		}
	case mFloor:
		for i, a := range x {
			out[i] = T(math.Floor(float64(a)))
		}
	case mCeil:
		for i, a := range x {
			out[i] = T(math.Ceil(float64(a)))
		}
	case mTrunc:
		for i, a := range x {
			out[i] = T(math.Trunc(float64(a)))
		}
	case mSqrt:
		for i, a := range x {
			out[i] = T(math.Sqrt(float64(a)))
		}
	case mCbrt:
		for i, a := range x {
			out[i] = T(math.Cbrt(float64(a)))
		}
	case mLn:
		for i, a := range x {
			out[i] = T(math.Log(float64(a)))
		}
	case mLog10:
		for i, a := range x {
			out[i] = T(math.Log10(float64(a)))
		}
	case mLog2:
		for i, a := range x {
			out[i] = T(math.Log2(float64(a)))
		}
	case mExp:
		for i, a := range x {
			out[i] = T(math.Exp(float64(a)))
		}
	case mSign:
		for i, a := range x {
			s := a
			switch {
			case a > 0:
				s = 1
			case a < 0:
				s = -1
			case a == 0:
				s = 0 // -0 too, as DataFusion's signum
			}
			out[i] = s // NaN stays
		}
	case mAbs:
		for i, a := range x {
			out[i] = T(math.Abs(float64(a)))
		}
	}
}

func mathFloatVec[T float](al *coldata.Allocator, op mathOp, v *coldata.Vec[T], n int) coldata.Vector {
	out := coldata.AllocVec[T](al, v.T, n)
	mathDense(op, v.Vals, out.Vals)
	out.N.SetWords(words(v))
	return out
}

func mathKernel(op mathOp) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		switch v := args[0].(type) {
		case *coldata.Vec[float32]:
			return mathFloatVec(al, op, v, n), nil
		case *coldata.Vec[float64]:
			return mathFloatVec(al, op, v, n), nil
		case *coldata.Vec[int8]:
			return absInt(al, v, n, sel)
		case *coldata.Vec[int16]:
			return absInt(al, v, n, sel)
		case *coldata.Vec[int32]:
			return absInt(al, v, n, sel)
		case *coldata.Vec[int64]:
			return absInt(al, v, n, sel)
		case *coldata.Vec[uint8], *coldata.Vec[uint16], *coldata.Vec[uint32], *coldata.Vec[uint64]:
			return v, nil // abs of unsigned
		}
		return nil, fmt.Errorf("unsupported operand %T", args[0])
	}
}

func absInt[T ~int8 | ~int16 | ~int32 | ~int64](al *coldata.Allocator, v *coldata.Vec[T], n int, sel []int32) (coldata.Vector, error) {
	out := coldata.AllocVec[T](al, v.T, n)
	minT := minOf[T]()
	suspect := 0
	for i, a := range v.Vals[:n] {
		if a < 0 {
			a = -a
		}
		out.Vals[i] = a
		suspect |= b2i(a == minT)
	}
	w := words(v)
	if suspect != 0 {
		if bad := firstBad(n, sel, w, func(i int) bool { return v.Vals[i] == minT }); bad >= 0 {
			return nil, &rowError{row: bad, err: ErrOverflow}
		}
	}
	out.N.SetWords(w)
	return out, nil
}

// floatResolve accepts one number: FLOAT stays, the rest become DOUBLE
// (integers too, unless keepInts; a DECIMAL always).
func floatResolve(name string, kernel Kernel, keepInts bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 1 || !(args[0].Kind.IsNumeric() || args[0].Kind == types.Null || args[0].Kind == types.Decimal) {
			if len(args) == 1 {
				return nil, fmt.Errorf("function %s expects a number, got %s", name, args[0])
			}
			return nil, fmt.Errorf("function %s expects a number, got %s", name, typeList(args))
		}
		t := args[0]
		switch {
		case t.Kind == types.Float32 || t.Kind == types.Float64:
		case keepInts && t.Kind.IsInteger():
		default:
			t = types.Float64T
		}
		return &Resolved{Args: []types.Type{t}, Result: t, Kernel: kernel}, nil
	}
}

// roundTo rounds x to d decimal places (d < 0 rounds to tens, hundreds...),
// half away from zero.
func roundTo(x float64, d int64) float64 { return toPlace(math.Round, x, d) }

// truncTo truncates x toward zero to d decimal places (d < 0 truncates to
// tens, hundreds...), as DataFusion's trunc(x, d).
func truncTo(x float64, d int64) float64 { return toPlace(math.Trunc, x, d) }

// toPlace applies f (math.Round or math.Trunc) at the d-th decimal place.
func toPlace(f func(float64) float64, x float64, d int64) float64 {
	switch {
	case d > 308:
		return x
	case d < -308:
		return math.Copysign(0, x)
	case d >= 0:
		p := math.Pow10(int(d))
		if y := x * p; !math.IsInf(y, 0) {
			return f(y) / p
		}
		return x
	}
	q := math.Pow10(int(-d))
	return f(x/q) * q
}

// toPlaces is the kernel of round(x, d) or trunc(x, d) with f one of
// roundTo and truncTo.
func toPlaces(f func(x float64, d int64) float64) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		x, d := args[0].(*coldata.Vec[float64]), args[1].(*coldata.Vec[int64])
		out := coldata.AllocVec[float64](al, types.Float64T, n)
		for i, a := range x.Vals[:n] {
			out.Vals[i] = f(a, d.Vals[i])
		}
		out.N.SetWords(orWords(words(x), words(d)))
		return out, nil
	}
}

// placesResolve is the Resolve of round and trunc: one number, or a number
// and an integer count of decimal places.
func placesResolve(name string, op mathOp, f func(x float64, d int64) float64) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) == 2 {
			return sigs(name, types.Float64T, toPlaces(f), sig{pDouble, pInt})(args)
		}
		if len(args) == 1 {
			return floatResolve(name, mathKernel(op), false)(args)
		}
		return nil, fmt.Errorf("function %s expects (DOUBLE) or (DOUBLE, BIGINT), got %s", name, typeList(args))
	}
}

func binaryFloat(f func(a, b float64) float64) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		x, y := args[0].(*coldata.Vec[float64]), args[1].(*coldata.Vec[float64])
		out := coldata.AllocVec[float64](al, types.Float64T, n)
		for i, a := range x.Vals[:n] {
			out.Vals[i] = f(a, y.Vals[i])
		}
		out.N.SetWords(orWords(words(x), words(y)))
		return out, nil
	}
}

// powInt is base**exp for integers, failing on overflow or a negative
// exponent.
func powInt(base, exp int64) (int64, error) {
	if exp < 0 {
		return 0, fmt.Errorf("negative exponent %d in integer power (cast to DOUBLE)", exp)
	}
	r := int64(1)
	for exp > 0 {
		if exp&1 == 1 {
			p, o := mulOvf(r, base)
			if o {
				return 0, ErrOverflow
			}
			r = p
		}
		exp >>= 1
		if exp > 0 {
			p, o := mulOvf(base, base)
			if o {
				return 0, ErrOverflow
			}
			base = p
		}
	}
	return r, nil
}

func powerInt(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	x, y := args[0].(*coldata.Vec[int64]), args[1].(*coldata.Vec[int64])
	out := coldata.AllocVec[int64](al, types.Int64T, n)
	nulls := orWords(words(x), words(y))
	err := forLive(n, sel, nulls, func(i int) error {
		r, err := powInt(x.Vals[i], y.Vals[i])
		out.Vals[i] = r
		return err
	})
	if err != nil {
		return nil, err
	}
	out.N.SetWords(nulls)
	return out, nil
}

func powerResolve(name string) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) == 2 && args[0].Kind.IsInteger() && args[1].Kind.IsInteger() {
			return &Resolved{Args: []types.Type{types.Int64T, types.Int64T}, Result: types.Int64T, Kernel: powerInt}, nil
		}
		return sigs(name, types.Float64T, binaryFloat(math.Pow), sig{pDouble, pDouble})(args)
	}
}

func logResolve(args []types.Type) (*Resolved, error) {
	if len(args) == 1 {
		return floatResolve("log", mathKernel(mLog10), false)(args)
	}
	return sigs("log", types.Float64T, binaryFloat(func(b, x float64) float64 {
		return math.Log(x) / math.Log(b)
	}), sig{pDouble}, sig{pDouble, pDouble})(args)
}

func pi(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	return fill(al, types.Float64T, n, math.Pi), nil
}

func init() {
	unary := []struct {
		names []string
		op    mathOp
		desc  string
	}{
		{[]string{"floor"}, mFloor, "largest integer not greater than the argument"},
		{[]string{"ceil", "ceiling"}, mCeil, "smallest integer not less than the argument"},
		{[]string{"sqrt"}, mSqrt, "square root"},
		{[]string{"cbrt"}, mCbrt, "cube root"},
		{[]string{"ln"}, mLn, "natural logarithm"},
		{[]string{"log10"}, mLog10, "base-10 logarithm"},
		{[]string{"log2"}, mLog2, "base-2 logarithm"},
		{[]string{"exp"}, mExp, "e raised to the argument"},
		{[]string{"sign"}, mSign, "-1, 0 or 1 by the sign of the argument"},
	}
	for _, u := range unary {
		k := mathKernel(u.op)
		registerAll(u.names, u.desc, func(name string) func([]types.Type) (*Resolved, error) {
			return floatResolve(name, k, false)
		})
	}
	register(&Func{Name: "abs", Description: "absolute value", Resolve: keepDecimal(absDecimal, floatResolve("abs", mathKernel(mAbs), true))})
	register(&Func{Name: "round", Description: "round half away from zero, optionally to a number of decimals", Resolve: placesResolve("round", mRound, roundTo)})
	register(&Func{Name: "trunc", Description: "truncate toward zero, optionally to a number of decimals", Resolve: placesResolve("trunc", mTrunc, truncTo)})
	registerAll([]string{"power", "pow"}, "a raised to the power b", powerResolve)
	register(&Func{Name: "log", Description: "base-10 logarithm, or log(base, x)", Resolve: logResolve})
	register(&Func{Name: "pi", Description: "the constant pi", Resolve: sigs("pi", types.Float64T, pi, sig{})})
}
