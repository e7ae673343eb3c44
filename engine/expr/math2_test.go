package expr

import (
	"math"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestTrigFunctions checks the trigonometric and hyperbolic functions at
// points whose values are known, within rounding.
func TestTrigFunctions(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		fn   string
		in   []float64
		want []float64
	}{
		{"sin", []float64{0, math.Pi / 2, math.Pi / 6}, []float64{0, 1, 0.5}},
		{"cos", []float64{0, math.Pi, math.Pi / 3}, []float64{1, -1, 0.5}},
		{"tan", []float64{0, math.Pi / 4}, []float64{0, 1}},
		{"asin", []float64{0, 1, 2}, []float64{0, math.Pi / 2, nan}},
		{"acos", []float64{1, -1, 0.5}, []float64{0, math.Pi, math.Pi / 3}},
		{"atan", []float64{0, 1}, []float64{0, math.Pi / 4}},
		{"sinh", []float64{0, 1}, []float64{0, (math.E - 1/math.E) / 2}},
		{"cosh", []float64{0, 1}, []float64{1, (math.E + 1/math.E) / 2}},
		{"tanh", []float64{0, 1000}, []float64{0, 1}},
		{"asinh", []float64{0, (math.E - 1/math.E) / 2}, []float64{0, 1}},
		{"acosh", []float64{1, 0.5}, []float64{0, nan}},
		{"atanh", []float64{0, 0.5, 1}, []float64{0, 0.5 * math.Log(3), math.Inf(1)}},
		{"cot", []float64{math.Pi / 4, math.Pi / 2}, []float64{1, 0}},
		{"degrees", []float64{math.Pi, -math.Pi / 2}, []float64{180, -90}},
		{"radians", []float64{180, 90}, []float64{math.Pi, math.Pi / 2}},
	} {
		in := make([]any, len(c.in)+1)
		for i, x := range c.in {
			in[i] = x
		}
		got, err := evalRows(t, call(c.fn, tF64, col(0, tF64)), vec(tF64, in...))
		if err != nil {
			t.Fatalf("%s: %v", c.fn, err)
		}
		if got[len(c.in)] != nil {
			t.Fatalf("%s(NULL) = %v", c.fn, got[len(c.in)])
		}
		for i, w := range c.want {
			g := got[i].(float64)
			if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && !math.IsInf(w, 0) && math.Abs(g-w) > 1e-12) || (math.IsInf(w, 0) && g != w) {
				t.Errorf("%s(%v) = %v, want %v", c.fn, c.in[i], g, w)
			}
		}
	}
	// FLOAT stays FLOAT.
	want(t, call("sin", tF32, col(0, tF32)), cols(vec(tF32, 0.0)), 0.0)
}

func TestMoreMathFunctions(t *testing.T) {
	nan := math.NaN()
	d2 := []types.Type{tF64, tF64}
	i2 := []types.Type{tI64, tI64}
	for _, c := range []fnCase{
		{fn: "atan2", rt: tF64, ts: d2, args: [][]any{{0.0, 1.0, nil}, {-1.0, 0.0, 1.0}}, want: []any{math.Pi, math.Pi / 2, nil}},
		{fn: "nanvl", rt: tF64, ts: d2, args: [][]any{{nan, 2.0, nil, nan}, {1.0, 1.0, 1.0, nil}}, want: []any{1.0, 2.0, nil, nil}},
		{fn: "isnan", rt: tBool, ts: []types.Type{tF64}, args: [][]any{{nan, 1.0, math.Inf(1), nil}}, want: []any{true, false, false, nil}},
		{fn: "isnan", rt: tBool, ts: []types.Type{tF32}, args: [][]any{{nan}}, want: []any{true}},
		{fn: "iszero", rt: tBool, ts: []types.Type{tF64}, args: [][]any{{0.0, math.Copysign(0, -1), 1e-300, nil}}, want: []any{true, true, false, nil}},
		{fn: "gcd", rt: tI64, ts: i2, args: [][]any{{12, -12, 0, 0, 7, nil}, {18, 18, 0, -5, 13, 1}}, want: []any{6, 6, 0, 5, 1, nil}},
		{fn: "gcd", rt: tI64, ts: i2, args: [][]any{{math.MinInt64, math.MinInt64}, {6, 1 << 62}}, want: []any{2, 1 << 62}},
		{fn: "gcd", rt: tI64, ts: i2, args: [][]any{{math.MinInt64}, {0}}, err: "integer overflow"},
		{fn: "lcm", rt: tI64, ts: i2, args: [][]any{{4, -4, 0, 7, nil}, {6, 6, 5, 13, 2}}, want: []any{12, 12, 0, 91, nil}},
		{fn: "lcm", rt: tI64, ts: i2, args: [][]any{{math.MaxInt64}, {2}}, err: "integer overflow"},
		{fn: "factorial", rt: tI64, ts: []types.Type{tI64}, args: [][]any{{0, 1, 5, 20, -3, nil}}, want: []any{1, 1, 120, 2432902008176640000, 1, nil}},
		{fn: "factorial", rt: tI64, ts: []types.Type{tI64}, args: [][]any{{21}}, err: "integer overflow"},
		{fn: "signum", rt: tF64, ts: []types.Type{tF64}, args: [][]any{{-2.5, 0.0, 3.0, nil}}, want: []any{-1.0, 0.0, 1.0, nil}},
	} {
		runFn(t, c)
	}
	// signum(-0.0) is +0, as DataFusion's.
	got, err := evalRows(t, call("sign", tF64, col(0, tF64)), vec(tF64, math.Copysign(0, -1)))
	if err != nil || math.Signbit(got[0].(float64)) {
		t.Fatalf("sign(-0.0) = %v, %v; want +0", got, err)
	}
}

// TestRandom checks random() is in [0, 1), differs between rows and
// between calls, and is never folded.
func TestRandom(t *testing.T) {
	ev, err := Compile(call("random", tF64), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := inner(ev).(*litEval); ok {
		t.Fatal("random() was folded into a constant")
	}
	seen := map[float64]bool{}
	for round := 0; round < 2; round++ {
		v, err := ev.Eval(tctx, &coldata.Batch{Len: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range v.(*coldata.Vec[float64]).Vals {
			if x < 0 || x >= 1 {
				t.Fatalf("random() = %v, outside [0, 1)", x)
			}
			seen[x] = true
		}
	}
	if len(seen) < 1990 {
		t.Fatalf("2000 random() values have only %d distinct", len(seen))
	}
	// random() * 2 has constant-looking arguments but is evaluated
	// per row, not at compile time.
	ev, err = Compile(call("*", tF64, call("random", tF64), lit(tF64, 2.0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := inner(ev).(*litEval); ok {
		t.Fatal("random() * 2 was folded into a constant")
	}
	if f, _ := Builtins().Lookup("random"); !f.Volatile {
		t.Fatal("random is not marked volatile")
	}
}
