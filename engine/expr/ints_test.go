package expr

import (
	"math"
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Tests of the narrow integers: TINYINT, SMALLINT and their UNSIGNED forms
// are 8- and 16-bit values, range-checked on every way in.

var (
	tI8  = types.Int8T
	tI16 = types.Int16T
	tU8  = types.UInt8T
	tU16 = types.UInt16T
)

func TestSmallIntCasts(t *testing.T) {
	for _, c := range []struct {
		from, to types.Type
		in       []any
		want     []any
		err      string
	}{
		// Integers in range, at the bounds, and one past them.
		{from: tI64, to: tI8, in: []any{100, -128, 127, nil}, want: []any{100, -128, 127, nil}},
		{from: tI64, to: tI8, in: []any{300}, err: "value 300 out of range for TINYINT (-128 to 127)"},
		{from: tI64, to: tI8, in: []any{-129}, err: "value -129 out of range for TINYINT (-128 to 127)"},
		{from: tI64, to: tI16, in: []any{-32768, 32767}, want: []any{-32768, 32767}},
		{from: tI64, to: tI16, in: []any{800000}, err: "value 800000 out of range for SMALLINT (-32768 to 32767)"},
		{from: tI32, to: tU8, in: []any{0, 255}, want: []any{0, 255}},
		{from: tI32, to: tU8, in: []any{256}, err: "value 256 out of range for TINYINT UNSIGNED (0 to 255)"},
		{from: tI32, to: tU8, in: []any{-1}, err: "value -1 out of range for TINYINT UNSIGNED (0 to 255)"},
		{from: tU64, to: tU16, in: []any{uint64(65535)}, want: []any{65535}},
		{from: tU64, to: tU16, in: []any{uint64(65536)}, err: "value 65536 out of range for SMALLINT UNSIGNED (0 to 65535)"},
		{from: tU8, to: tI8, in: []any{127}, want: []any{127}},
		{from: tU8, to: tI8, in: []any{200}, err: "value 200 out of range for TINYINT"},
		{from: tI8, to: tU8, in: []any{-1}, err: "value -1 out of range for TINYINT UNSIGNED"},
		{from: tI16, to: tI8, in: []any{-5, nil}, want: []any{-5, nil}},
		{from: tI16, to: tI8, in: []any{1000}, err: "value 1000 out of range for TINYINT"},
		// Widening never fails.
		{from: tI8, to: tI64, in: []any{-128, 127}, want: []any{-128, 127}},
		{from: tU16, to: tI32, in: []any{65535}, want: []any{65535}},
		{from: tI8, to: tI16, in: []any{-128}, want: []any{-128}},
		{from: tI8, to: tF64, in: []any{-3}, want: []any{-3.0}},
		// Floats truncate toward zero and must fit.
		{from: tF64, to: tI8, in: []any{127.9, -128.9, -0.5}, want: []any{127, -128, 0}},
		{from: tF64, to: tI8, in: []any{128.0}, err: "value 128 out of range for TINYINT (-128 to 127)"},
		{from: tF64, to: tI16, in: []any{math.NaN()}, err: "value NaN out of range for SMALLINT"},
		{from: tF32, to: tU8, in: []any{255.5}, want: []any{255}},
		{from: tF32, to: tU8, in: []any{256.0}, err: "value 256 out of range for TINYINT UNSIGNED"},
		// TEXT in both directions.
		{from: tStr, to: tI8, in: []any{" 42 ", "-128", nil}, want: []any{42, -128, nil}},
		{from: tStr, to: tI8, in: []any{"300"}, err: "value 300 out of range for TINYINT (-128 to 127)"},
		{from: tStr, to: tI16, in: []any{"40000"}, err: "value 40000 out of range for SMALLINT (-32768 to 32767)"},
		{from: tStr, to: tU16, in: []any{"-1"}, err: "cannot cast '-1' to SMALLINT UNSIGNED"},
		{from: tStr, to: tU8, in: []any{"x"}, err: "cannot cast 'x' to TINYINT UNSIGNED"},
		{from: tI8, to: tStr, in: []any{-128, nil}, want: []any{"-128", nil}},
		{from: tU16, to: tStr, in: []any{65535}, want: []any{"65535"}},
		// BOOLEAN.
		{from: tBool, to: tI8, in: []any{true, false}, want: []any{1, 0}},
		{from: tU16, to: tBool, in: []any{2, 0}, want: []any{true, false}},
	} {
		e := cast(col(0, c.from), c.to)
		got, err := evalRows(t, e, vec(c.from, c.in...))
		if c.err != "" {
			if !errContains(err, c.err) {
				t.Errorf("CAST(%s AS %s) %v: got %v, want %q", c.from, c.to, c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("CAST(%s AS %s) %v: %v", c.from, c.to, c.in, err)
			continue
		}
		if w := normalize(c.to, c.want); !equalValues(got, w) {
			t.Errorf("CAST(%s AS %s) %v: got %v, want %v", c.from, c.to, c.in, got, w)
		}
	}
}

func TestSmallIntCastOfLiteral(t *testing.T) {
	// CAST(100 AS TINYINT) folds to a TINYINT; CAST(300 AS TINYINT) fails.
	e := cast(lit(tI64, 100), tI8)
	want(t, e, nil, int8(100))
	// A constant that must fail fails at compile time.
	if _, err := Compile(cast(lit(tI64, 300), tI8), nil); !errContains(err, "value 300 out of range for TINYINT (-128 to 127)") {
		t.Errorf("CAST(300 AS TINYINT): %v", err)
	}
	// A literal typed TINYINT must hold a TINYINT value.
	if _, err := Compile(lit(tI8, 300), nil); err == nil {
		t.Error("a TINYINT literal 300 compiled")
	}
	if _, err := Compile(lit(tU16, -1), nil); err == nil {
		t.Error("a SMALLINT UNSIGNED literal -1 compiled")
	}
}

func TestSmallIntArithmetic(t *testing.T) {
	for _, c := range []binCase{
		// The result stays in the narrow type, and overflowing it is an
		// error, not a wrap-around.
		{op: "+", t: tI8, a: []any{1, 100, nil, -128}, b: []any{2, 27, 1, 127}, want: []any{3, 127, nil, -1}},
		{op: "+", t: tI8, a: []any{127}, b: []any{1}, errMsg: "integer overflow"},
		{op: "-", t: tI8, a: []any{-128}, b: []any{1}, errMsg: "integer overflow"},
		{op: "*", t: tI8, a: []any{16, -16}, b: []any{7, 8}, want: []any{112, -128}},
		{op: "*", t: tI8, a: []any{16}, b: []any{8}, errMsg: "integer overflow"},
		{op: "/", t: tI8, a: []any{-128}, b: []any{-1}, errMsg: "integer overflow"},
		{op: "/", t: tI8, a: []any{-128, 7}, b: []any{2, -2}, want: []any{-64, -3}},
		{op: "%", t: tI8, a: []any{-9, -128}, b: []any{4, -1}, want: []any{-1, 0}},
		{op: "/", t: tI8, a: []any{1}, b: []any{0}, errMsg: "division by zero"},
		{op: "*", t: tI16, a: []any{181}, b: []any{181}, want: []any{32761}},
		{op: "*", t: tI16, a: []any{182}, b: []any{181}, errMsg: "integer overflow"},
		{op: "+", t: tI16, a: []any{32767}, b: []any{1}, errMsg: "integer overflow"},
		{op: "-", t: tU8, a: []any{5}, b: []any{3}, want: []any{2}},
		{op: "-", t: tU8, a: []any{0}, b: []any{1}, errMsg: "integer overflow"},
		{op: "+", t: tU8, a: []any{255}, b: []any{1}, errMsg: "integer overflow"},
		{op: "*", t: tU8, a: []any{15, 0}, b: []any{17, 200}, want: []any{255, 0}},
		{op: "*", t: tU8, a: []any{16}, b: []any{16}, errMsg: "integer overflow"},
		{op: "*", t: tU16, a: []any{255}, b: []any{257}, want: []any{65535}},
		{op: "*", t: tU16, a: []any{256}, b: []any{256}, errMsg: "integer overflow"},
		{op: "/", t: tU16, a: []any{65535}, b: []any{255}, want: []any{257}},
	} {
		runBin(t, c)
	}
}

func TestSmallIntUnary(t *testing.T) {
	want(t, call("neg", tI8, col(0, tI8)), cols(vec(tI8, 127, -127, nil)), -127, 127, nil)
	wantErr(t, call("neg", tI8, col(0, tI8)), cols(vec(tI8, -128)), "integer overflow")
	wantErr(t, call("neg", tI16, col(0, tI16)), cols(vec(tI16, math.MinInt16)), "integer overflow")
	want(t, call("abs", tI8, col(0, tI8)), cols(vec(tI8, -127, 5, nil)), 127, 5, nil)
	wantErr(t, call("abs", tI8, col(0, tI8)), cols(vec(tI8, -128)), "integer overflow")
	want(t, call("abs", tU8, col(0, tU8)), cols(vec(tU8, 255)), 255)
	f, _ := Builtins().Lookup("neg")
	for _, c := range [][2]types.Type{{tI8, tI8}, {tI16, tI16}, {tU8, tI16}, {tU16, tI32}} {
		in, out := c[0], c[1]
		r, err := f.Resolve([]types.Type{in})
		if err != nil || !r.Result.Equal(out) {
			t.Errorf("neg(%s): got %+v, %v; want %s", in, r, err, out)
		}
	}
}

func TestSmallIntCommonType(t *testing.T) {
	for _, c := range []struct{ a, b, want types.Type }{
		{tI8, tI8, tI8},
		{tI8, tI16, tI16},
		{tI16, tI8, tI16},
		{tI8, tI32, tI32},
		{tI16, tI64, tI64},
		{tU8, tU16, tU16},
		{tU16, tU32, tU32},
		{tU8, tU64, tU64},
		// Signed with unsigned: the narrowest signed type holding both.
		{tI8, tU8, tI16},
		{tU8, tI16, tI16},
		{tI8, tU16, tI32},
		{tI16, tU16, tI32},
		{tU16, tI64, tI64},
		{tI8, tU32, tI64},
		{tU8, tI64, tI64},
		{tU64, tI8, tI64},
		{tI8, tF32, tF64},
		{tU16, tF64, tF64},
		{tNull, tU8, tU8},
	} {
		got, err := CommonType(c.a, c.b)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("CommonType(%s, %s) = %s, %v; want %s", c.a, c.b, got, err, c.want)
		}
	}
	f, _ := Builtins().Lookup("+")
	r, err := f.Resolve([]types.Type{tI8, tI8})
	if err != nil || !r.Result.Equal(tI8) {
		t.Errorf("TINYINT + TINYINT: got %+v, %v; want TINYINT", r, err)
	}
}

func TestSmallIntCompareAcrossWidths(t *testing.T) {
	// The planner casts both sides to their common type; comparing there
	// is exact: -1 (TINYINT) < 255 (TINYINT UNSIGNED) as SMALLINT.
	a := vec(tI8, -1, 127, -128, nil, 5)
	b := vec(tU8, 255, 127, 0, 1, nil)
	lt := call("<", tBool, cast(col(0, tI8), tI16), cast(col(1, tU8), tI16))
	want(t, lt, cols(a, b), true, false, true, nil, nil)
	eq := call("=", tBool, cast(col(0, tI8), tI16), cast(col(1, tU8), tI16))
	want(t, eq, cols(a, b), false, true, false, nil, nil)
	// TINYINT against SMALLINT and a literal of the narrow type.
	s := vec(tI16, 300, -1, 127)
	gt := call(">", tBool, col(1, tI16), cast(col(0, tI8), tI16))
	want(t, gt, cols(vec(tI8, 100, -1, 127), s), true, false, false)
	want(t, call(">=", tBool, col(0, tU16), lit(tU16, 65535)), cols(vec(tU16, 65535, 0)), true, false)
	want(t, call("<>", tBool, col(0, tI8), lit(tI8, -128)), cols(vec(tI8, -128, 0)), false, true)
	for _, typ := range []types.Type{tI8, tI16, tU8, tU16} {
		lo, hi, _ := typ.Kind.IntRange()
		var as, bs []any
		if typ.Kind.IsSigned() {
			as, bs = []any{lo, int64(hi), 0, nil}, []any{int64(hi), lo, 0, 1}
		} else {
			as, bs = []any{uint64(0), hi, uint64(1), nil}, []any{hi, uint64(0), uint64(1), uint64(1)}
		}
		checkCompare(t, typ, normalize(typ, as), normalize(typ, bs), func(a, b any) int {
			x, y := toInt(a), toInt(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
	}
}

func TestSmallIntConditionals(t *testing.T) {
	a := col(0, tI8)
	// CASE and COALESCE keep the narrow type.
	e := op(program.ExprCase, tI8, call(">", tBool, a, lit(tI8, 0)), a, lit(tI8, -1))
	e.HasElse = true
	want(t, e, cols(vec(tI8, 5, -5, nil, 127)), 5, -1, -1, 127)
	want(t, op(program.ExprCoalesce, tI16, col(0, tI16), lit(tI16, 7)), cols(vec(tI16, nil, -300)), 7, -300)
	// IN over constants (a hash set of the narrow type) and over columns.
	want(t, op(program.ExprIn, tBool, a, lit(tI8, 1), lit(tI8, -128)), cols(vec(tI8, 1, -128, 2, nil)), true, true, false, nil)
	want(t, op(program.ExprIn, tBool, col(0, tU16), lit(tU16, 65535)), cols(vec(tU16, 65535, 1)), true, false)
	want(t, op(program.ExprIn, tBool, col(0, tU8), col(1, tU8)), cols(vec(tU8, 3, 4), vec(tU8, 3, 5)), true, false)
}
