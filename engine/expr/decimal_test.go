package expr

import (
	"math"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

func dt(p, s int) types.Type { return types.DecimalOf(p, s) }

// decText renders DECIMAL results for messages and comparisons.
func decText(t types.Type, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		if d, ok := v.(coldata.Int128); ok {
			out[i] = string(coldata.AppendDecimal(nil, d, int(t.Scale)))
		} else {
			out[i] = v
		}
	}
	return out
}

func TestDecimalCasts(t *testing.T) {
	for _, c := range []struct {
		from, to types.Type
		in       []any
		want     []any // DECIMALs as text
		err      string
	}{
		{from: tStr, to: dt(5, 2), in: []any{"12.345", " -0.005 ", "1e2", nil, "0", "+3.1"}, want: []any{"12.35", "-0.01", "100.00", nil, "0.00", "3.10"}},
		{from: tStr, to: dt(5, 2), in: []any{"999.995"}, err: "value 999.995 out of range for DECIMAL(5, 2)"},
		{from: tStr, to: dt(5, 2), in: []any{"abc"}, err: "cannot cast 'abc' to DECIMAL(5, 2)"},
		{from: tStr, to: dt(38, 0), in: []any{"123456789012345678901234567890123456789"}, err: "out of range for DECIMAL(38, 0)"},
		{from: dt(5, 2), to: tStr, in: []any{"1.50", "-0.05", nil, "0.00"}, want: []any{"1.50", "-0.05", nil, "0.00"}},
		{from: dt(38, 38), to: tStr, in: []any{"-0.12345678901234567890123456789012345678"}, want: []any{"-0.12345678901234567890123456789012345678"}},
		{from: tI64, to: dt(5, 2), in: []any{123, -999, nil, 0}, want: []any{"123.00", "-999.00", nil, "0.00"}},
		{from: tI64, to: dt(5, 2), in: []any{1000}, err: "value 1000 out of range for DECIMAL(5, 2)"},
		{from: tI64, to: dt(20, 0), in: []any{math.MinInt64}, want: []any{"-9223372036854775808"}},
		{from: tU64, to: dt(20, 0), in: []any{uint64(math.MaxUint64)}, want: []any{"18446744073709551615"}},
		{from: tI32, to: dt(10, 0), in: []any{math.MinInt32}, want: []any{"-2147483648"}},
		{from: dt(10, 3), to: tI64, in: []any{"12.999", "-12.999", nil}, want: []any{12, -12, nil}},
		{from: dt(38, 0), to: tI64, in: []any{"99999999999999999999"}, err: "value 99999999999999999999 out of range for BIGINT"},
		{from: dt(38, 0), to: tU64, in: []any{"18446744073709551615"}, want: []any{uint64(math.MaxUint64)}},
		{from: dt(38, 0), to: tU64, in: []any{"-1"}, err: "out of range for BIGINT UNSIGNED"},
		{from: dt(10, 1), to: tI8, in: []any{"200.0"}, err: "value 200 out of range for TINYINT"},
		{from: dt(5, 2), to: tF64, in: []any{"12.34", nil, "-0.01"}, want: []any{12.34, nil, -0.01}},
		{from: tF64, to: dt(5, 2), in: []any{0.1, 2.675, -1.005, 0.0, nil}, want: []any{"0.10", "2.67", "-1.00", "0.00", nil}},  // 2.675 and 1.005 are just below in binary
		{from: tF64, to: dt(5, 2), in: []any{0.125, -0.125, 1e-30, 999.994999}, want: []any{"0.13", "-0.13", "0.00", "999.99"}}, // exact ties round away from zero
		{from: tF64, to: dt(5, 2), in: []any{1e10}, err: "value 1e+10 out of range for DECIMAL(5, 2)"},
		{from: tF64, to: dt(5, 2), in: []any{math.NaN()}, err: "cannot cast 'NaN' to DECIMAL(5, 2)"},
		{from: tF32, to: dt(5, 1), in: []any{1.5}, want: []any{"1.5"}},
		{from: dt(5, 2), to: dt(4, 1), in: []any{"12.35", "-12.35", "12.34", nil}, want: []any{"12.4", "-12.4", "12.3", nil}},
		{from: dt(5, 2), to: dt(4, 1), in: []any{"999.99"}, err: "value 999.99 out of range for DECIMAL(4, 1)"},
		{from: dt(5, 2), to: dt(10, 4), in: []any{"1.50", "-999.99"}, want: []any{"1.5000", "-999.9900"}},
		{from: dt(38, 0), to: dt(38, 2), in: []any{"10000000000000000000000000000000000000"}, err: "out of range for DECIMAL(38, 2)"},
		{from: dt(5, 2), to: dt(7, 2), in: []any{"1.23"}, want: []any{"1.23"}},
		{from: tNull, to: dt(5, 2), in: []any{nil}, want: []any{nil}},
	} {
		e := cast(col(0, c.from), c.to)
		in := vec(c.from, c.in...)
		got, err := evalRows(t, e, in)
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
		want := normalize(c.to, c.want)
		if !equalValues(got, want) {
			t.Errorf("CAST(%s AS %s) %v: got %v, want %v", c.from, c.to, c.in, decText(c.to, got), c.want)
		}
	}
}

func TestCanCastDecimal(t *testing.T) {
	for _, c := range []struct {
		from, to types.Type
		ok       bool
	}{
		{dt(5, 2), tStr, true}, {tStr, dt(5, 2), true}, {dt(5, 2), dt(3, 0), true}, {tI8, dt(5, 2), true}, {dt(5, 2), tU64, true},
		{tF32, dt(5, 2), true}, {dt(5, 2), tF64, true}, {dt(5, 2), tBool, false}, {tBool, dt(5, 2), false},
		{dt(5, 2), tTS, false}, {types.DateT, dt(5, 2), false}, {dt(5, 2), tJSON, false},
	} {
		if err := CanCast(c.from, c.to); (err == nil) != c.ok {
			t.Errorf("CanCast(%s, %s) = %v, want ok %v", c.from, c.to, err, c.ok)
		}
	}
}

// TestDecimalResultTypes pins the result types (Arrow's rules) and that
// resolving again with the cast operands gives the same signature, as the
// compiler requires.
func TestDecimalResultTypes(t *testing.T) {
	for _, c := range []struct {
		op       string
		a, b     types.Type
		res      types.Type
		argA, bB types.Type
	}{
		{"+", dt(5, 2), dt(4, 3), dt(7, 3), dt(6, 3), dt(4, 3)},
		{"-", dt(10, 0), dt(3, 2), dt(13, 2), dt(12, 2), dt(3, 2)},
		{"+", dt(38, 0), dt(10, 5), dt(38, 5), dt(38, 5), dt(10, 5)},
		{"*", dt(5, 2), dt(3, 1), dt(9, 3), dt(5, 2), dt(3, 1)},
		{"*", dt(30, 10), dt(20, 10), dt(38, 20), dt(30, 10), dt(20, 10)},
		{"/", dt(5, 2), dt(3, 1), dt(10, 6), dt(5, 2), dt(3, 1)},
		{"/", dt(38, 10), dt(38, 10), dt(38, 14), dt(38, 10), dt(38, 10)},
		{"/", dt(38, 36), dt(5, 0), dt(38, 38), dt(38, 36), dt(5, 0)},
		{"%", dt(5, 2), dt(3, 1), dt(4, 2), dt(5, 2), dt(4, 2)},
		{"+", tI64, dt(5, 2), dt(23, 2), dt(22, 2), dt(5, 2)},
		{"*", dt(5, 2), tI32, dt(16, 2), dt(5, 2), dt(10, 0)},
		{"-", tI16, dt(1, 1), dt(7, 1), dt(6, 1), dt(1, 1)},
		{"+", dt(5, 2), tF64, tF64, tF64, tF64},
		{"/", tF32, dt(5, 2), tF64, tF64, tF64},
	} {
		r, err := resolveFn(c.op, []types.Type{c.a, c.b})
		if err != nil {
			t.Errorf("%s %s %s: %v", c.a, c.op, c.b, err)
			continue
		}
		if !r.Result.Equal(c.res) || !r.Args[0].Equal(c.argA) || !r.Args[1].Equal(c.bB) {
			t.Errorf("%s %s %s = %s (args %s, %s), want %s (args %s, %s)", c.a, c.op, c.b, r.Result, r.Args[0], r.Args[1], c.res, c.argA, c.bB)
			continue
		}
		again, err := resolveFn(c.op, r.Args)
		if err != nil || !again.Result.Equal(r.Result) || !again.Args[0].Equal(r.Args[0]) || !again.Args[1].Equal(r.Args[1]) {
			t.Errorf("%s %s %s: resolving the cast operands gives %v, %v", c.a, c.op, c.b, again, err)
		}
	}
	if _, err := resolveFn("*", []types.Type{dt(38, 20), dt(38, 20)}); !errContains(err, "the product's scale 40 exceeds 38") {
		t.Errorf("scale 40: %v", err)
	}
	if _, err := resolveFn("+", []types.Type{dt(5, 2), tStr}); err == nil {
		t.Error("DECIMAL + TEXT resolved")
	}
	for _, c := range []struct{ a, b, want types.Type }{
		{dt(10, 2), dt(5, 3), dt(11, 3)}, {dt(10, 2), tI64, dt(22, 2)}, {tI8, dt(2, 2), dt(5, 2)},
		{dt(38, 30), dt(38, 0), dt(38, 30)}, {dt(5, 2), tF32, tF64}, {dt(5, 2), types.NullT, dt(5, 2)},
	} {
		if got, err := CommonType(c.a, c.b); err != nil || !got.Equal(c.want) {
			t.Errorf("CommonType(%s, %s) = %s, %v; want %s", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := CommonType(dt(5, 2), tStr); err == nil {
		t.Error("CommonType(DECIMAL, TEXT) succeeded")
	}
}

func TestDecimalArith(t *testing.T) {
	for _, c := range []struct {
		op     string
		a, b   types.Type
		res    types.Type
		x, y   []any
		want   []any
		errMsg string
	}{
		{"+", dt(6, 3), dt(4, 3), dt(7, 3), []any{"1.500", nil, "-999.999"}, []any{"0.125", "1.000", "-9.999"}, []any{"1.625", nil, "-1009.998"}, ""},
		{"-", dt(6, 3), dt(4, 3), dt(7, 3), []any{"1.500"}, []any{"2.125"}, []any{"-0.625"}, ""},
		{"+", dt(38, 0), dt(38, 0), dt(38, 0), []any{"99999999999999999999999999999999999999"}, []any{"1"}, nil, "decimal overflow: the result does not fit its precision, computing 99999999999999999999999999999999999999 + 1"},
		{"*", dt(5, 2), dt(3, 1), dt(9, 3), []any{"1.25", "-999.99", nil}, []any{"2.5", "99.9", "1.0"}, []any{"3.125", "-99899.001", nil}, ""},
		{"*", dt(30, 10), dt(20, 10), dt(38, 20), []any{"12345678901234567890.1234567890"}, []any{"1234567890.1234567890"}, nil, "decimal overflow"},
		{"/", dt(5, 2), dt(3, 1), dt(10, 6), []any{"1.00", "-1.00", "999.99", nil}, []any{"3.0", "3.0", "0.1", "0.0"}, []any{"0.333333", "-0.333333", "9999.900000", nil}, ""},
		{"/", dt(5, 2), dt(3, 1), dt(10, 6), []any{"1.00"}, []any{"0.0"}, nil, "division by zero, computing 1.00 / 0.0"},
		{"/", dt(38, 10), dt(38, 10), dt(38, 14), []any{"12345678901234567890.1234567890", "-1.0000000000"}, []any{"3.0000000000", "0.0000000003"},
			[]any{"4115226300411522630.04115226300000", "-3333333333.33333333333333"}, ""},
		{"%", dt(5, 2), dt(4, 2), dt(4, 2), []any{"7.50", "-7.50", "7.50"}, []any{"2.00", "2.00", "-2.00"}, []any{"1.50", "-1.50", "1.50"}, ""},
		{"%", dt(5, 2), dt(4, 2), dt(4, 2), []any{"7.50"}, []any{"0.00"}, nil, "division by zero"},
		{"%", dt(38, 0), dt(38, 0), dt(38, 0), []any{"99999999999999999999999999999999999999"}, []any{"7"}, []any{"1"}, ""}, // 10^38 - 1 = 7 * 14285714285714285714285714285714285714 + 1
	} {
		e := call(c.op, c.res, col(0, c.a), col(1, c.b))
		got, err := evalRows(t, e, vec(c.a, c.x...), vec(c.b, c.y...))
		if c.errMsg != "" {
			if !errContains(err, c.errMsg) {
				t.Errorf("%v %s %v: got %v, want %q", c.x, c.op, c.y, err, c.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v %s %v: %v", c.x, c.op, c.y, err)
			continue
		}
		if want := normalize(c.res, c.want); !equalValues(got, want) {
			t.Errorf("%v %s %v = %v, want %v", c.x, c.op, c.y, decText(c.res, got), c.want)
		}
	}
	// Unary minus and a constant operand (broadcast, not specialized).
	got, err := evalRows(t, call("neg", dt(5, 2), col(0, dt(5, 2))), vec(dt(5, 2), "1.50", nil, "-0.01"))
	if want := normalize(dt(5, 2), []any{"-1.50", nil, "0.01"}); err != nil || !equalValues(got, want) {
		t.Errorf("neg: %v %v", decText(dt(5, 2), got), err)
	}
	got, err = evalRows(t, call("*", dt(9, 3), col(0, dt(5, 2)), lit(dt(3, 1), "0.5")), vec(dt(5, 2), "3.33", nil))
	if want := normalize(dt(9, 3), []any{"1.665", nil}); err != nil || !equalValues(got, want) {
		t.Errorf("x * 0.5: %v %v", decText(dt(9, 3), got), err)
	}
}

func TestDecimalCompare(t *testing.T) {
	a := vec(dt(11, 3), "1.500", "-2.000", nil, "1.499")
	b := vec(dt(11, 3), "1.500", "-1.999", "0.000", "1.500")
	for op, want := range map[string][]any{
		"=": {true, false, nil, false}, "<>": {false, true, nil, true}, "<": {false, true, nil, true},
		"<=": {true, true, nil, true}, ">": {false, false, nil, false}, ">=": {true, false, nil, false},
	} {
		got, err := evalRows(t, call(op, tBool, col(0, dt(11, 3)), col(1, dt(11, 3))), a, b)
		if err != nil || !equalValues(got, want) {
			t.Errorf("%s: got %v %v, want %v", op, got, err, want)
		}
	}
	got, err := evalRows(t, call(">", tBool, col(0, dt(11, 3)), lit(dt(11, 3), "1.499")), a)
	if want := []any{true, false, nil, false}; err != nil || !equalValues(got, want) {
		t.Errorf("> constant: got %v %v", got, err)
	}
	// IN with constants (a set of Int128) and CASE choosing between
	// DECIMAL branches.
	in := op(program.ExprIn, tBool, col(0, dt(11, 3)), lit(dt(11, 3), "1.5"), lit(dt(11, 3), "1.499"))
	got, err = evalRows(t, in, a)
	if want := []any{true, false, nil, true}; err != nil || !equalValues(got, want) {
		t.Errorf("IN: got %v %v", got, err)
	}
	cs := op(program.ExprCase, dt(11, 3), call(">", tBool, col(0, dt(11, 3)), col(1, dt(11, 3))), col(0, dt(11, 3)), col(1, dt(11, 3)))
	cs.HasElse = true
	got, err = evalRows(t, cs, a, b)
	if want := normalize(dt(11, 3), []any{"1.500", "-1.999", "0.000", "1.500"}); err != nil || !equalValues(got, want) {
		t.Errorf("CASE: got %v %v", decText(dt(11, 3), got), err)
	}
}

func TestDecimalGreatestLeast(t *testing.T) {
	a := vec(dt(11, 3), "1.500", nil, "-2.000")
	b := vec(dt(11, 3), "1.501", "3.000", "-2.001")
	for fn, want := range map[string][]any{"greatest": {"1.501", "3.000", "-2.000"}, "least": {"1.500", "3.000", "-2.001"}} {
		got, err := evalRows(t, call(fn, dt(11, 3), col(0, dt(11, 3)), col(1, dt(11, 3))), a, b)
		if w := normalize(dt(11, 3), want); err != nil || !equalValues(got, w) {
			t.Errorf("%s: got %v %v, want %v", fn, decText(dt(11, 3), got), err, want)
		}
	}
}

// TestDecimalNoPerRowAllocations: DECIMAL kernels allocate per batch, not
// per row, including casts to and from TEXT and DOUBLE and the division of
// values beyond 64 bits (its big.Int scratch is reused across rows).
func TestDecimalNoPerRowAllocations(t *testing.T) {
	const n = 1000
	small, big, text, dbl := vec(dt(10, 2)), vec(dt(38, 10)), vec(tStr), vec(tF64)
	for i := 0; i < n; i++ {
		appendGo(small, coldata.Int128Of(int64(i*7919-3_000_000)))
		appendGo(big, coldata.Int128{Lo: uint64(i)*0x9e3779b97f4a7c15 | 1, Hi: int64(i % 1000)})
		appendGo(text, "-1234.5678")
		appendGo(dbl, float64(i)/7)
	}
	for _, e := range []*program.Expr{
		call("+", dt(11, 2), col(0, dt(10, 2)), col(0, dt(10, 2))),
		call("*", dt(21, 4), col(0, dt(10, 2)), col(0, dt(10, 2))),
		call("/", dt(38, 14), col(1, dt(38, 10)), col(1, dt(38, 10))),
		call("/", dt(16, 6), col(0, dt(10, 2)), lit(dt(10, 2), "3.00")),
		call("<", tBool, col(0, dt(10, 2)), lit(dt(10, 2), "1.00")),
		cast(col(2, tStr), dt(10, 2)),
		cast(col(0, dt(10, 2)), tStr),
		cast(col(3, tF64), dt(10, 2)),
		cast(col(0, dt(10, 2)), dt(8, 0)),
	} {
		ev, err := Compile(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := &coldata.Batch{Cols: []coldata.Vector{small, big, text, dbl}, Len: n}
		if a := testing.AllocsPerRun(5, func() {
			if _, err := ev.Eval(tctx, b); err != nil {
				t.Fatal(err)
			}
		}); a > 30 && !raceEnabled { // the race detector's instrumentation makes values escape
			t.Errorf("%s %s: %v allocations for %d rows", e.Op, e.Func, a, n)
		}
	}
}

// TestDecimalInFloatFunctions: the functions of a DOUBLE take a DECIMAL
// (cast, as DataFusion coerces it).
func TestDecimalInFloatFunctions(t *testing.T) {
	r, err := resolveFn("sqrt", []types.Type{dt(10, 2)})
	if err != nil || !r.Args[0].Equal(tF64) {
		t.Fatalf("sqrt(DECIMAL): %v %v", r, err)
	}
	got, err := evalRows(t, call("sqrt", tF64, cast(col(0, dt(10, 2)), tF64)), vec(dt(10, 2), "2.25", nil))
	if want := []any{1.5, nil}; err != nil || !equalValues(got, want) {
		t.Errorf("sqrt: got %v %v", got, err)
	}
}

func TestDecimalAbs(t *testing.T) {
	got, err := evalRows(t, call("abs", dt(5, 2), col(0, dt(5, 2))), vec(dt(5, 2), "-1.50", nil, "0.01", "0.00"))
	if want := normalize(dt(5, 2), []any{"1.50", nil, "0.01", "0.00"}); err != nil || !equalValues(got, want) {
		t.Errorf("abs: got %v %v", decText(dt(5, 2), got), err)
	}
}

func BenchmarkDecimalKernels(b *testing.B) {
	const n = 1024
	x, y, i64 := vec(dt(10, 2)), vec(dt(10, 2)), vec(tI64)
	for i := 0; i < n; i++ {
		appendGo(x, coldata.Int128Of(int64(i*7919-3_000_000)))
		appendGo(y, coldata.Int128Of(int64(i*31+1)))
		appendGo(i64, int64(i*7919-3_000_000))
	}
	for _, c := range []struct {
		name string
		e    *program.Expr
	}{
		{"bigint+bigint", call("+", tI64, col(2, tI64), col(2, tI64))},
		{"decimal+decimal", call("+", dt(11, 2), col(0, dt(10, 2)), col(1, dt(10, 2)))},
		{"decimal*decimal", call("*", dt(21, 4), col(0, dt(10, 2)), col(1, dt(10, 2)))},
		{"decimal/decimal", call("/", dt(16, 6), col(0, dt(10, 2)), col(1, dt(10, 2)))},
		{"decimal<decimal", call("<", tBool, col(0, dt(10, 2)), col(1, dt(10, 2)))},
		{"decimal->text", cast(col(0, dt(10, 2)), tStr)},
	} {
		ev, err := Compile(c.e, nil)
		if err != nil {
			b.Fatal(err)
		}
		bt := &coldata.Batch{Cols: []coldata.Vector{x, y, i64}, Len: n}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ev.Eval(tctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
