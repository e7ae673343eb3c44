package expr

import (
	"math"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

func TestMathFunctions(t *testing.T) {
	nan := math.NaN()
	d := []types.Type{tF64}
	for _, c := range []fnCase{
		{fn: "abs", rt: tI64, ts: []types.Type{tI64}, args: [][]any{{-3, 4, nil, 0}}, want: []any{3, 4, nil, 0}},
		{fn: "abs", rt: tI64, ts: []types.Type{tI64}, args: [][]any{{math.MinInt64}}, err: "integer overflow"},
		{fn: "abs", rt: tI32, ts: []types.Type{tI32}, args: [][]any{{-3}}, want: []any{3}},
		{fn: "abs", rt: tU32, ts: []types.Type{tU32}, args: [][]any{{3}}, want: []any{3}},
		{fn: "abs", rt: tF64, ts: d, args: [][]any{{-1.5, nil}}, want: []any{1.5, nil}},
		{fn: "abs", rt: tF32, ts: []types.Type{tF32}, args: [][]any{{-1.5}}, want: []any{1.5}},
		{fn: "round", rt: tF64, ts: d, args: [][]any{{2.5, -2.5, 1.4, nil}}, want: []any{3.0, -3.0, 1.0, nil}},
		{fn: "round", rt: tF64, ts: []types.Type{tF64, tI64}, args: [][]any{{3.14159, 1234.5, 2.675, 1e300, nil}, {2, -2, 1, 10, 1}},
			want: []any{3.14, 1200.0, 2.7, 1e300, nil}},
		{fn: "floor", rt: tF64, ts: d, args: [][]any{{-1.5, 1.5}}, want: []any{-2.0, 1.0}},
		{fn: "ceil", rt: tF64, ts: d, args: [][]any{{-1.5, 1.5}}, want: []any{-1.0, 2.0}},
		{fn: "ceiling", rt: tF32, ts: []types.Type{tF32}, args: [][]any{{1.25}}, want: []any{2.0}},
		{fn: "trunc", rt: tF64, ts: d, args: [][]any{{-1.5, 1.5}}, want: []any{-1.0, 1.0}},
		{fn: "trunc", rt: tF64, ts: []types.Type{tF64, tI64}, args: [][]any{{3.14159, -3.14159, 1299.0, 1e300, 2.5, nil}, {2, 1, -2, 10, 400, 1}},
			want: []any{3.14, -3.1, 1200.0, 1e300, 2.5, nil}},
		{fn: "sqrt", rt: tF64, ts: d, args: [][]any{{4.0, -1.0, nil}}, want: []any{2.0, nan, nil}},
		{fn: "cbrt", rt: tF64, ts: d, args: [][]any{{27.0, -8.0}}, want: []any{3.0, -2.0}},
		{fn: "power", rt: tF64, ts: []types.Type{tF64, tF64}, args: [][]any{{2.0, 4.0, nil}, {0.5, -1.0, 1.0}}, want: []any{math.Sqrt2, 0.25, nil}},
		{fn: "pow", rt: tI64, ts: []types.Type{tI64, tI64}, args: [][]any{{2, -3, 7, nil}, {10, 3, 0, 1}}, want: []any{1024, -27, 1, nil}},
		{fn: "power", rt: tI64, ts: []types.Type{tI64, tI64}, args: [][]any{{2}, {63}}, err: "integer overflow"},
		{fn: "power", rt: tI64, ts: []types.Type{tI64, tI64}, args: [][]any{{2}, {-1}}, err: "negative exponent"},
		{fn: "ln", rt: tF64, ts: d, args: [][]any{{math.E, 0.0}}, want: []any{1.0, math.Inf(-1)}},
		{fn: "log10", rt: tF64, ts: d, args: [][]any{{1000.0}}, want: []any{3.0}},
		{fn: "log2", rt: tF64, ts: d, args: [][]any{{8.0}}, want: []any{3.0}},
		{fn: "log", rt: tF64, ts: d, args: [][]any{{100.0}}, want: []any{2.0}},
		{fn: "log", rt: tF64, ts: []types.Type{tF64, tF64}, args: [][]any{{2.0}, {8.0}}, want: []any{3.0}},
		{fn: "exp", rt: tF64, ts: d, args: [][]any{{0.0, 1.0}}, want: []any{1.0, math.E}},
		{fn: "sign", rt: tF64, ts: d, args: [][]any{{-2.0, 0.0, 3.5, nan, nil}}, want: []any{-1.0, 0.0, 1.0, nan, nil}},
	} {
		runFn(t, c)
	}
	// pi() and math on literals.
	want(t, call("pi", tF64), cols(vec(tI64, 1, 2)), math.Pi, math.Pi)
	want(t, call("sqrt", tF64, lit(tF64, 9)), cols(vec(tI64, 1)), 3.0)
}

func TestMathResolve(t *testing.T) {
	for _, c := range []struct {
		fn       string
		args     []types.Type
		arg, res types.Type
		err      string
	}{
		{fn: "sqrt", args: []types.Type{tI64}, arg: tF64, res: tF64},
		{fn: "sqrt", args: []types.Type{tF32}, arg: tF32, res: tF32},
		{fn: "abs", args: []types.Type{tI32}, arg: tI32, res: tI32},
		{fn: "round", args: []types.Type{tI64}, arg: tF64, res: tF64},
		{fn: "round", args: []types.Type{tF32, tI32}, arg: tF64, res: tF64},
		{fn: "trunc", args: []types.Type{tI32, tI64}, arg: tF64, res: tF64},
		{fn: "trunc", args: []types.Type{tF64, tF64}, err: "function trunc expects (DOUBLE, BIGINT), got (DOUBLE, DOUBLE)"},
		{fn: "power", args: []types.Type{tI32, tI64}, arg: tI64, res: tI64},
		{fn: "power", args: []types.Type{tI32, tF64}, arg: tF64, res: tF64},
		{fn: "sqrt", args: []types.Type{tStr}, err: "function sqrt expects a number, got TEXT"},
		{fn: "floor", args: []types.Type{tF64, tF64}, err: "function floor expects a number, got (DOUBLE, DOUBLE)"},
		{fn: "pi", args: []types.Type{tF64}, err: "function pi expects (), got (DOUBLE)"},
	} {
		f, _ := Builtins().Lookup(c.fn)
		r, err := f.Resolve(c.args)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s%v: got %v, want %q", c.fn, c.args, err, c.err)
			}
			continue
		}
		if err != nil || !r.Args[0].Equal(c.arg) || !r.Result.Equal(c.res) {
			t.Errorf("%s%v: got %+v, %v", c.fn, c.args, r, err)
		}
	}
}

func TestRegisteredFunctions(t *testing.T) {
	// Every function the brief lists is registered.
	for _, name := range []string{
		"+", "-", "*", "/", "%", "neg", "=", "<>", "<", "<=", ">", ">=", "||", "like", "ilike",
		"lower", "upper", "length", "char_length", "character_length", "octet_length",
		"trim", "btrim", "ltrim", "rtrim", "substr", "substring", "concat", "concat_ws", "replace",
		"strpos", "starts_with", "ends_with", "left", "right", "lpad", "rpad", "repeat", "reverse",
		"split_part", "initcap", "md5", "to_hex",
		"abs", "round", "floor", "ceil", "ceiling", "trunc", "sqrt", "cbrt", "power", "pow",
		"ln", "log", "log10", "log2", "exp", "sign", "pi",
	} {
		f, ok := Builtins().Lookup(name)
		if !ok {
			t.Errorf("%s not registered", name)
			continue
		}
		if f.Description == "" {
			t.Errorf("%s has no description", name)
		}
	}
}
