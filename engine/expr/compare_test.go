package expr

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

var cmpOpNames = []string{"=", "<>", "<", "<=", ">", ">="}

// holds reports whether a three-way result c satisfies the operator.
func holds(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// checkCompare checks every operator on a and b (equal-length value lists
// of type t, ordered so that cmp gives the reference) as values and as
// filters, with column and literal operands.
func checkCompare(t *testing.T, typ types.Type, as, bs []any, cmp func(a, b any) int) {
	t.Helper()
	a, b := vec(typ, as...), vec(typ, bs...)
	for _, o := range cmpOpNames {
		exp := make([]any, len(as))
		for i := range as {
			if as[i] != nil && bs[i] != nil {
				exp[i] = holds(o, cmp(as[i], bs[i]))
			}
		}
		e := call(o, tBool, col(0, typ), col(1, typ))
		want(t, e, cols(a, b), exp...)
		sel := filterMatches(t, e, a, b)
		for i := range exp {
			if sel[i] != (exp[i] == true) {
				t.Fatalf("%s %s filter row %d: %v, value %v", typ, o, i, sel[i], exp[i])
			}
		}
		// Literal on either side.
		for i := range as {
			if bs[i] == nil || as[i] == nil {
				continue
			}
			le := call(o, tBool, col(0, typ), lit(typ, litJSON(typ, bs[i])))
			want(t, le, cols(vec(typ, as[i])), exp[i])
			if got := filterMatches(t, le, vec(typ, as[i])); got[0] != exp[i] {
				t.Fatalf("%s %s literal filter row %d", typ, o, i)
			}
			re := call(o, tBool, lit(typ, litJSON(typ, as[i])), col(0, typ))
			want(t, re, cols(vec(typ, bs[i])), exp[i])
		}
	}
}

// litJSON converts a test value to its literal encoding.
func litJSON(t types.Type, v any) any {
	if t.Kind == types.Bytes {
		return v.([]byte)
	}
	return v
}

func cmpNum(a, b any) int {
	x, y := toFloat(a), toFloat(b)
	switch {
	case x != x && y != y:
		return 0
	case x != x:
		return 1
	case y != y:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func TestComparisons(t *testing.T) {
	ints := func(a, b any) int {
		x, y := toInt(a), toInt(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	checkCompare(t, tI64, []any{1, 2, 3, nil, math.MinInt64}, []any{2, 2, 2, 1, math.MaxInt64}, ints)
	checkCompare(t, tI32, []any{1, 2, 3, nil}, []any{2, 2, 2, nil}, ints)
	checkCompare(t, tU32, []any{1, 2, math.MaxUint32}, []any{2, 2, 0}, ints)
	checkCompare(t, tU64, []any{uint64(math.MaxUint64), uint64(1)}, []any{uint64(1), uint64(math.MaxUint64)},
		func(a, b any) int { return cmpU64(a.(uint64), b.(uint64)) })
	checkCompare(t, tTS, []any{10, 20, nil}, []any{20, 20, 5}, ints)
	checkCompare(t, tIV, []any{-10, 20}, []any{20, -20}, ints)
	nan := math.NaN()
	checkCompare(t, tF64, []any{1.5, nan, nan, 1.0, math.Inf(-1), nil, 0.0},
		[]any{2.5, nan, 1.0, nan, -1e300, 1.0, -0.0}, cmpNum)
	checkCompare(t, tF32, []any{1.5, 2.0}, []any{2.5, 2.0}, cmpNum)
	checkCompare(t, tStr, []any{"a", "b", "", "é", nil, "abc"}, []any{"b", "b", "a", "e", "x", "ab"},
		func(a, b any) int { return bytes.Compare([]byte(a.(string)), []byte(b.(string))) })
	checkCompare(t, tByt, []any{[]byte{0}, []byte{1, 2}}, []any{[]byte{1}, []byte{1, 2}},
		func(a, b any) int { return bytes.Compare(a.([]byte), b.([]byte)) })
	checkCompare(t, tBool, []any{false, false, true, true, nil}, []any{false, true, false, true, true},
		func(a, b any) int { return b2i(a.(bool)) - b2i(b.(bool)) })
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestCompareResolve(t *testing.T) {
	for _, c := range []struct {
		a, b, want types.Type
		err        string
	}{
		{a: tI32, b: tI64, want: tI64},
		{a: tU64, b: tI32, want: tI64},
		{a: tI64, b: tF32, want: tF64},
		{a: tStr, b: tTS, want: tTS},
		{a: tTS, b: tStr, want: tTS},
		{a: tNull, b: tStr, want: tStr},
		{a: tStr, b: tI64, err: "operator < cannot compare TEXT and BIGINT"},
		{a: tJSON, b: tJSON, err: "operator < cannot compare values of type JSON"},
	} {
		f, _ := Builtins().Lookup("<")
		r, err := f.Resolve([]types.Type{c.a, c.b})
		if c.err != "" {
			if !errContains(err, c.err) {
				t.Errorf("%s < %s: got %v, want %q", c.a, c.b, err, c.err)
			}
			continue
		}
		if err != nil || !r.Args[0].Equal(c.want) || !r.Args[1].Equal(c.want) || !r.Result.Equal(tBool) {
			t.Errorf("%s < %s: got %+v, %v", c.a, c.b, r, err)
		}
	}
}

// TestCompareRandom compares filters and values with the reference on
// random data, batch sizes and selections.
func TestCompareRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	typs := []types.Type{types.Int8T, types.Int16T, tI32, tI64, types.UInt8T, types.UInt16T, tU64, tF64, tStr}
	for iter := 0; iter < 200; iter++ {
		typ := typs[rng.IntN(len(typs))]
		o := cmpOpNames[rng.IntN(len(cmpOpNames))]
		n := 1 + rng.IntN(100)
		as, bs := make([]any, n), make([]any, n)
		for i := range as {
			as[i] = goValue(typ, randValue(typ, rng, true))
			bs[i] = goValue(typ, randValue(typ, rng, true))
		}
		ref := func(a, b any) int {
			switch typ.Kind {
			case types.String:
				return bytes.Compare([]byte(a.(string)), []byte(b.(string)))
			case types.UInt64:
				return cmpU64(a.(uint64), b.(uint64))
			case types.Float64:
				return cmpNum(a, b)
			}
			x, y := toInt(a), toInt(b)
			return cmpU64(uint64(x)^1<<63, uint64(y)^1<<63)
		}
		exp := make([]any, n)
		for i := range as {
			if as[i] != nil && bs[i] != nil {
				exp[i] = holds(o, ref(as[i], bs[i]))
			}
		}
		a, b := vec(typ, as...), vec(typ, bs...)
		var e *program.Expr
		if rng.IntN(2) == 0 {
			e = call(o, tBool, col(0, typ), col(1, typ))
		} else {
			// Literal operand: compare with bs[0] everywhere.
			if bs[0] == nil {
				bs[0] = goValue(typ, randValue(typ, rng, false))
			}
			for i := range as {
				exp[i] = nil
				if as[i] != nil {
					exp[i] = holds(o, ref(as[i], bs[0]))
				}
			}
			e = call(o, tBool, col(0, typ), lit(typ, bs[0]))
		}
		want(t, e, []coldata.Vector{a, b}, exp...)
		sel := filterMatches(t, e, a, b)
		for i := range exp {
			if sel[i] != (exp[i] == true) {
				t.Fatalf("%s %s row %d (%v, %v): selected %v, want %v", typ, o, i, as[i], bs[i], sel[i], exp[i])
			}
		}
	}
}
