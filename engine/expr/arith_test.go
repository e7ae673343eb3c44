package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

type binCase struct {
	op     string
	t      types.Type // operand type
	rt     types.Type // result type; zero means t
	a, b   []any
	want   []any
	errMsg string
}

// runBin checks a op b as column-column, column-literal and literal-column
// (for every row whose literal operand is not NULL).
func runBin(t *testing.T, c binCase) {
	t.Helper()
	rt := c.rt
	if rt.Kind == types.Invalid {
		rt = c.t
	}
	lt := c.t
	if c.rt.Kind != types.Invalid && c.t.Kind != c.rt.Kind && c.op != "*" && c.op != "/" {
		lt = c.t
	}
	name := fmt.Sprintf("%s %s", c.t, c.op)
	t.Run(name, func(t *testing.T) {
		at, bt := c.t, c.t
		if len(c.b) > 0 {
			if k, ok := c.b[0].(kindOf); ok {
				bt = k.t
			}
		}
		_ = lt
		a, b := vec(at, c.a...), vec(bt, unwrap(c.b)...)
		e := call(c.op, rt, col(0, at), col(1, bt))
		if c.errMsg != "" {
			wantErr(t, e, cols(a, b), c.errMsg)
			return
		}
		want(t, e, cols(a, b), c.want...)
		// Literal right operand, row by row.
		for i := range c.a {
			bv := unwrap(c.b)[i]
			var r *program.Expr
			if bv == nil {
				r = nullLit(bt)
			} else {
				r = lit(bt, bv)
			}
			want(t, call(c.op, rt, col(0, at), r), cols(vec(at, c.a[i])), c.want[i])
			var l *program.Expr
			if c.a[i] == nil {
				l = nullLit(at)
			} else {
				l = lit(at, c.a[i])
			}
			want(t, call(c.op, rt, l, col(0, bt)), cols(vec(bt, bv)), c.want[i])
		}
	})
}

// kindOf marks the first b value with b's type when it differs from a's.
type kindOf struct {
	t types.Type
	v any
}

func unwrap(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		if k, ok := v.(kindOf); ok {
			v = k.v
		}
		out[i] = v
	}
	return out
}

func TestArithmetic(t *testing.T) {
	const maxI64, minI64 = math.MaxInt64, math.MinInt64
	for _, c := range []binCase{
		{op: "+", t: tI64, a: []any{1, -5, nil, maxI64}, b: []any{2, 3, 4, -1}, want: []any{3, -2, nil, maxI64 - 1}},
		{op: "-", t: tI64, a: []any{1, -5, 7, minI64}, b: []any{2, 3, nil, -1}, want: []any{-1, -8, nil, minI64 + 1}},
		{op: "*", t: tI64, a: []any{6, -5, nil, 1 << 31}, b: []any{7, 3, 2, 1 << 31}, want: []any{42, -15, nil, 1 << 62}},
		{op: "/", t: tI64, a: []any{7, -7, 7, -7, nil, minI64}, b: []any{2, 2, -2, -2, 0, 1}, want: []any{3, -3, -3, 3, nil, minI64}},
		{op: "%", t: tI64, a: []any{7, -7, 7, -7, minI64}, b: []any{3, 3, -3, -3, -1}, want: []any{1, -1, 1, -1, 0}},
		{op: "+", t: tI64, a: []any{maxI64}, b: []any{1}, errMsg: "integer overflow"},
		{op: "-", t: tI64, a: []any{minI64}, b: []any{1}, errMsg: "integer overflow"},
		{op: "*", t: tI64, a: []any{maxI64}, b: []any{2}, errMsg: "integer overflow"},
		{op: "*", t: tI64, a: []any{minI64}, b: []any{-1}, errMsg: "integer overflow"},
		{op: "*", t: tI64, a: []any{1 << 32}, b: []any{1 << 31}, errMsg: "integer overflow"},
		{op: "/", t: tI64, a: []any{minI64}, b: []any{-1}, errMsg: "integer overflow"},
		{op: "/", t: tI64, a: []any{1}, b: []any{0}, errMsg: "division by zero"},
		{op: "%", t: tI64, a: []any{1}, b: []any{0}, errMsg: "division by zero"},
		{op: "+", t: tI32, a: []any{1, nil}, b: []any{2, 1}, want: []any{3, nil}},
		{op: "+", t: tI32, a: []any{math.MaxInt32}, b: []any{1}, errMsg: "integer overflow"},
		{op: "*", t: tI32, a: []any{1 << 16}, b: []any{1 << 15}, errMsg: "integer overflow"},
		{op: "*", t: tI32, a: []any{-(1 << 16)}, b: []any{1 << 15}, want: []any{math.MinInt32}},
		{op: "/", t: tI32, a: []any{math.MinInt32}, b: []any{-1}, errMsg: "integer overflow"},
		{op: "%", t: tI32, a: []any{-9}, b: []any{4}, want: []any{-1}},
		{op: "-", t: tU32, a: []any{5, 0}, b: []any{3, 0}, want: []any{2, 0}},
		{op: "-", t: tU32, a: []any{0}, b: []any{1}, errMsg: "integer overflow"},
		{op: "+", t: tU32, a: []any{math.MaxUint32}, b: []any{1}, errMsg: "integer overflow"},
		{op: "*", t: tU32, a: []any{1 << 16}, b: []any{1 << 16}, errMsg: "integer overflow"},
		{op: "/", t: tU32, a: []any{math.MaxUint32}, b: []any{math.MaxUint32}, want: []any{1}},
		{op: "+", t: tU64, a: []any{uint64(math.MaxUint64) - 1}, b: []any{1}, want: []any{uint64(math.MaxUint64)}},
		{op: "+", t: tU64, a: []any{uint64(math.MaxUint64)}, b: []any{1}, errMsg: "integer overflow"},
		{op: "*", t: tU64, a: []any{1 << 32}, b: []any{1 << 32}, errMsg: "integer overflow"},
		{op: "%", t: tU64, a: []any{uint64(math.MaxUint64)}, b: []any{10}, want: []any{5}},
		{op: "/", t: tU64, a: []any{1}, b: []any{0}, errMsg: "division by zero"},
		{op: "+", t: tF64, a: []any{1.5, nil}, b: []any{2.25, 1.0}, want: []any{3.75, nil}},
		{op: "*", t: tF64, a: []any{100.0, 3.0}, b: []any{0.908, -2.0}, want: []any{90.8, -6.0}},
		{op: "/", t: tF64, a: []any{1.0, -1.0, 0.0, 7.0}, b: []any{0.0, 0.0, 0.0, 2.0},
			want: []any{math.Inf(1), math.Inf(-1), math.NaN(), 3.5}},
		{op: "%", t: tF64, a: []any{5.5, -5.5}, b: []any{2.0, 2.0}, want: []any{1.5, -1.5}},
		{op: "-", t: tF32, a: []any{1.5}, b: []any{0.25}, want: []any{1.25}},
		{op: "/", t: tF32, a: []any{1.0}, b: []any{4.0}, want: []any{0.25}},
		// Temporal arithmetic.
		{op: "+", t: tTS, rt: tTS, a: []any{100, nil}, b: []any{kindOf{tIV, 5}, 1}, want: []any{105, nil}},
		{op: "-", t: tTS, rt: tTS, a: []any{100}, b: []any{kindOf{tIV, 5}}, want: []any{95}},
		{op: "-", t: tTS, rt: tIV, a: []any{100, 5}, b: []any{5, 100}, want: []any{95, -95}},
		{op: "+", t: tIV, rt: tIV, a: []any{100}, b: []any{7}, want: []any{107}},
		{op: "-", t: tIV, rt: tIV, a: []any{100}, b: []any{7}, want: []any{93}},
		{op: "+", t: tIV, rt: tTS, a: []any{100}, b: []any{kindOf{tTS, 7}}, want: []any{107}},
		{op: "*", t: tIV, rt: tIV, a: []any{100, nil}, b: []any{kindOf{tI64, 3}, 2}, want: []any{300, nil}},
		{op: "*", t: tI64, rt: tIV, a: []any{3}, b: []any{kindOf{tIV, 100}}, want: []any{300}},
		{op: "/", t: tIV, rt: tIV, a: []any{100}, b: []any{kindOf{tI64, 3}}, want: []any{33}},
		{op: "/", t: tIV, rt: tIV, a: []any{100}, b: []any{kindOf{tI64, 0}}, errMsg: "division by zero"},
		{op: "+", t: tTS, rt: tTS, a: []any{int64(math.MaxInt64)}, b: []any{kindOf{tIV, 1}}, errMsg: "integer overflow"},
	} {
		runBin(t, c)
	}
}

func TestNeg(t *testing.T) {
	want(t, call("neg", tI64, col(0, tI64)), cols(vec(tI64, 1, -2, nil, 0)), -1, 2, nil, 0)
	want(t, call("neg", tF64, col(0, tF64)), cols(vec(tF64, 1.5, nil)), -1.5, nil)
	want(t, call("neg", tIV, col(0, tIV)), cols(vec(tIV, 10)), -10)
	wantErr(t, call("neg", tI64, col(0, tI64)), cols(vec(tI64, 1, math.MinInt64)), "integer overflow")
	wantErr(t, call("neg", tI32, col(0, tI32)), cols(vec(tI32, math.MinInt32)), "integer overflow")
	// MinInt64 in a NULL row is not an error.
	v := vec(tI64, math.MinInt64, 1).(*coldata.Vec[int64])
	v.N.SetNull(0)
	want(t, call("neg", tI64, col(0, tI64)), cols(v), nil, -1)
	r, err := Builtins().Lookup("neg")
	if !err {
		t.Fatal("neg not registered")
	}
	if res, _ := r.Resolve([]types.Type{tU32}); !res.Args[0].Equal(tI64) {
		t.Fatalf("neg(INT UNSIGNED) should ask for BIGINT")
	}
}

func TestArithResolve(t *testing.T) {
	for _, c := range []struct {
		op         string
		a, b       types.Type
		wantA, res types.Type
		err        string
	}{
		{op: "+", a: tI32, b: tI64, wantA: tI64, res: tI64},
		{op: "+", a: tI32, b: tF32, wantA: tF64, res: tF64},
		{op: "*", a: tU32, b: tI32, wantA: tI64, res: tI64},
		{op: "-", a: tNull, b: tF32, wantA: tF32, res: tF32},
		{op: "+", a: tNull, b: tNull, wantA: tI64, res: tI64},
		{op: "+", a: tTS, b: tIV, wantA: tTS, res: tTS},
		{op: "-", a: tTS, b: tTS, wantA: tTS, res: tIV},
		{op: "*", a: tIV, b: tI32, wantA: tIV, res: tIV},
		{op: "+", a: tTS, b: tNull, wantA: tTS, res: tTS},
		{op: "+", a: tTS, b: tTS, err: "operator + expects numeric operands (or TIMESTAMP/INTERVAL arithmetic), got TIMESTAMP and TIMESTAMP"},
		{op: "/", a: tStr, b: tI64, err: "got TEXT and BIGINT"},
		{op: "%", a: tIV, b: tI64, err: "got INTERVAL and BIGINT"},
	} {
		f, _ := Builtins().Lookup(c.op)
		r, err := f.Resolve([]types.Type{c.a, c.b})
		if c.err != "" {
			if !errContains(err, c.err) {
				t.Errorf("%s %s %s: got %v, want %q", c.a, c.op, c.b, err, c.err)
			}
			continue
		}
		if err != nil || !r.Args[0].Equal(c.wantA) || !r.Result.Equal(c.res) {
			t.Errorf("%s %s %s: got %+v %v", c.a, c.op, c.b, r, err)
		}
	}
}

// refArith is the row-at-a-time reference: exact arithmetic with big.Int
// and a range check, or Go floats.
func refArith(op string, t types.Type, a, b any) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	if t.Kind.IsFloat() {
		x, y := toFloat(a), toFloat(b)
		var r float64
		switch op {
		case "+":
			r = x + y
		case "-":
			r = x - y
		case "*":
			r = x * y
		case "/":
			r = x / y
		case "%":
			r = math.Mod(x, y)
		}
		return r, nil
	}
	x, y := bigOf(a), bigOf(b)
	r := new(big.Int)
	switch op {
	case "+":
		r.Add(x, y)
	case "-":
		r.Sub(x, y)
	case "*":
		r.Mul(x, y)
	case "/", "%":
		if y.Sign() == 0 {
			return nil, ErrDivisionByZero
		}
		if op == "/" {
			r.Quo(x, y)
		} else {
			r.Rem(x, y)
		}
	}
	lo, hi := bounds(t)
	if r.Cmp(lo) < 0 || r.Cmp(hi) > 0 {
		return nil, ErrOverflow
	}
	return r, nil
}

func bigOf(v any) *big.Int {
	if u, ok := v.(uint64); ok {
		return new(big.Int).SetUint64(u)
	}
	return big.NewInt(toInt(v))
}

func bounds(t types.Type) (lo, hi *big.Int) {
	l, h, ok := t.Kind.IntRange()
	if !ok {
		panic(t)
	}
	return big.NewInt(l), new(big.Int).SetUint64(h)
}

// randValue draws from values that exercise edge cases.
func randValue(t types.Type, rng *rand.Rand, nulls bool) any {
	if nulls && rng.IntN(8) == 0 {
		return nil
	}
	small := int64(rng.IntN(21) - 10)
	switch t.Kind {
	case types.Int8:
		return []any{small, small, int64(int8(rng.Uint32())), int64(math.MaxInt8), int64(math.MinInt8), int64(0), int64(-1), int64(11)}[rng.IntN(8)]
	case types.Int16:
		return []any{small, small, int64(int16(rng.Uint32())), int64(math.MaxInt16), int64(math.MinInt16), int64(0), int64(-1), int64(181)}[rng.IntN(8)]
	case types.UInt8:
		return []any{uint64(small + 10), uint64(uint8(rng.Uint32())), uint64(math.MaxUint8), uint64(0), uint64(16)}[rng.IntN(5)]
	case types.UInt16:
		return []any{uint64(small + 10), uint64(uint16(rng.Uint32())), uint64(math.MaxUint16), uint64(0), uint64(1 << 8)}[rng.IntN(5)]
	case types.Int32:
		return []any{small, small, int64(rng.Int32()), int64(-rng.Int32()), int64(math.MaxInt32), int64(math.MinInt32), int64(0), int64(-1)}[rng.IntN(8)]
	case types.Int64:
		return []any{small, small, rng.Int64(), -rng.Int64(), int64(rng.Int32()), int64(math.MaxInt64), int64(math.MinInt64), int64(0), int64(-1)}[rng.IntN(9)]
	case types.UInt32:
		return []any{uint64(small + 10), uint64(rng.Uint32()), uint64(math.MaxUint32), uint64(0), uint64(1 << 16)}[rng.IntN(5)]
	case types.UInt64:
		return []any{uint64(small + 10), rng.Uint64(), uint64(math.MaxUint64), uint64(0), uint64(1 << 32)}[rng.IntN(5)]
	case types.Float64:
		return []any{float64(small), rng.NormFloat64() * 1e6, 0.0, math.NaN(), math.Inf(1), -0.5}[rng.IntN(6)]
	case types.String:
		var b []byte
		for k := rng.IntN(4); k > 0; k-- {
			b = append(b, []string{"a", "b", "é", "\x00"}[rng.IntN(4)]...)
		}
		return string(b)
	}
	panic(t)
}

func goValue(t types.Type, v any) any {
	if v == nil {
		return nil
	}
	switch t.Kind {
	case types.Int8:
		return int8(toInt(v))
	case types.Int16:
		return int16(toInt(v))
	case types.Int32:
		return int32(toInt(v))
	case types.UInt8:
		return uint8(v.(uint64))
	case types.UInt16:
		return uint16(v.(uint64))
	case types.UInt32:
		if u, ok := v.(uint64); ok {
			return uint32(u)
		}
	}
	return v
}

// TestArithRandom compares the kernels with the reference on random data,
// random batch sizes and selections, column and literal operands.
func TestArithRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	typs := []types.Type{types.Int8T, types.Int16T, tI32, tI64, types.UInt8T, types.UInt16T, tU32, tU64, tF64}
	var nOK, nErr int
	defer func() {
		// Guard against a vacuous test: both outcomes must be exercised.
		if nOK < 50 || nErr < 50 {
			t.Errorf("only %d successful and %d failing cases", nOK, nErr)
		}
	}()
	for iter := 0; iter < 500; iter++ {
		typ := typs[rng.IntN(len(typs))]
		op := []string{"+", "-", "*", "/", "%"}[rng.IntN(5)]
		n := 1 + rng.IntN(70)
		nulls := rng.IntN(2) == 0
		as, bs := make([]any, n), make([]any, n)
		for i := range as {
			as[i], bs[i] = randValue(typ, rng, nulls), randValue(typ, rng, nulls)
		}
		literal := rng.IntN(3) == 0
		if literal {
			bs[0] = randValue(typ, rng, false)
			for i := range bs {
				bs[i] = bs[0]
			}
		}
		// Expected: the rows, or the error of the first failing row.
		var wantVals []any
		var wantErr error
		for i := range as {
			r, err := refArith(op, typ, as[i], bs[i])
			if err != nil {
				wantErr = err
				break
			}
			if bi, ok := r.(*big.Int); ok {
				if typ.Kind.IsUnsigned() {
					r = bi.Uint64()
				} else {
					r = bi.Int64()
				}
			}
			wantVals = append(wantVals, r)
		}
		av, bv := make([]any, n), make([]any, n)
		for i := range as {
			av[i], bv[i] = goValue(typ, as[i]), goValue(typ, bs[i])
		}
		a := vec(typ, av...)
		var e *program.Expr
		var cs []coldata.Vector
		if literal {
			e = call(op, typ, col(0, typ), lit(typ, bv[0]))
			cs = cols(a)
		} else {
			e = call(op, typ, col(0, typ), col(1, typ))
			cs = cols(a, vec(typ, bv...))
		}
		got, err := evalRows(t, e, cs...)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("%s %s (literal=%v) a=%v b=%v: got error %v, want %v", typ, op, literal, as, bs, err, wantErr)
			}
			nErr++
			continue
		}
		if err != nil {
			t.Fatalf("%s %s a=%v b=%v: %v", typ, op, as, bs, err)
		}
		if w := normalize(typ, wantVals); !equalValues(got, w) {
			t.Fatalf("%s %s a=%v b=%v: got %v, want %v", typ, op, as, bs, got, w)
		}
		nOK++
	}
}

func TestUdivider(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	divisors := []uint64{1, 2, 3, 5, 7, 10, 123, 641, 1 << 20, 1<<32 - 1, 1 << 32, 1<<32 + 1,
		1<<63 - 1, 1 << 63, 1<<63 + 1, math.MaxUint64 - 1, math.MaxUint64}
	for i := 0; i < 200; i++ {
		divisors = append(divisors, rng.Uint64()>>rng.IntN(64)|1, rng.Uint64N(1000)+1)
	}
	for _, d := range divisors {
		dv := newUdivider(d)
		for _, n := range []uint64{0, 1, d - 1, d, d + 1, 2*d - 1, math.MaxUint64, math.MaxUint64 - 1, 1 << 63, rng.Uint64(), rng.Uint64() >> 20} {
			if got := dv.div(n); got != n/d {
				t.Fatalf("%d / %d = %d, want %d", n, d, got, n/d)
			}
		}
	}
	// Signed and 32-bit kernels against Go's operators.
	xs := []int64{0, 1, -1, 7, -7, 122, 123, -123, 124, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for i := 0; i < 100; i++ {
		xs = append(xs, rng.Int64(), -rng.Int64(), rng.Int64N(1000)-500)
	}
	for _, s := range []int64{1, 2, 3, -2, -3, 123, -123, 1 << 40, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		for _, op := range []arithOp{opDiv, opMod} {
			out := make([]int64, len(xs))
			divConstDense(op, xs, s, out)
			for i, x := range xs {
				want := x % s
				if op == opDiv {
					want = x / s
				}
				if out[i] != want {
					t.Fatalf("%d %s %d = %d, want %d", x, arithNames[op], s, out[i], want)
				}
			}
			x32 := make([]int32, 0, len(xs))
			for _, x := range xs {
				x32 = append(x32, int32(x))
			}
			s32 := int32(s)
			if s32 == 0 || s32 == -1 {
				continue
			}
			o32 := make([]int32, len(x32))
			divConstDense(op, x32, s32, o32)
			for i, x := range x32 {
				want := x % s32
				if op == opDiv {
					want = x / s32
				}
				if o32[i] != want {
					t.Fatalf("int32 %d %s %d = %d, want %d", x, arithNames[op], s32, o32[i], want)
				}
			}
		}
	}
}
