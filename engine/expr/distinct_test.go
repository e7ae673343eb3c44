package expr

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

func TestDistinctFrom(t *testing.T) {
	cases := []struct {
		typ    types.Type
		as, bs []any
		// same[i] is a IS NOT DISTINCT FROM b for row i.
		same []bool
	}{
		{tI64, []any{1, 1, nil, nil, 2, 0}, []any{1, 2, nil, 3, nil, 0}, []bool{true, false, true, false, false, true}},
		{tStr, []any{"a", "", nil, "x", nil}, []any{"a", "b", "", nil, nil}, []bool{true, false, false, false, true}},
		{tF64, []any{1.5, 0.0, nil}, []any{1.5, -0.0, nil}, []bool{true, true, true}},
		{tBool, []any{true, false, nil}, []any{true, nil, false}, []bool{true, false, false}},
		{tTS, []any{10, nil}, []any{10, nil}, []bool{true, true}},
	}
	for _, c := range cases {
		a, b := vec(c.typ, c.as...), vec(c.typ, c.bs...)
		same := make([]any, len(c.same))
		diff := make([]any, len(c.same))
		for i, s := range c.same {
			same[i], diff[i] = s, !s
		}
		want(t, call(IsNotDistinctFrom, tBool, col(0, c.typ), col(1, c.typ)), cols(a, b), same...)
		want(t, call(IsDistinctFrom, tBool, col(0, c.typ), col(1, c.typ)), cols(a, b), diff...)
	}
	// More rows than a bitmap word, NULLs in both words.
	var as, bs []any
	var same []any
	for i := range 150 {
		var x, y any = i % 5, i % 3
		if i%7 == 0 {
			x = nil
		}
		if i%11 == 0 {
			y = nil
		}
		as, bs = append(as, x), append(bs, y)
		same = append(same, x == nil && y == nil || x != nil && y != nil && x == y)
	}
	want(t, call(IsNotDistinctFrom, tBool, col(0, tI64), col(1, tI64)), cols(vec(tI64, as...), vec(tI64, bs...)), same...)
	// Against a literal, and a NULL literal.
	want(t, call(IsDistinctFrom, tBool, col(0, tI64), lit(tI64, 1)), cols(vec(tI64, 1, 2, nil)), false, true, true)
	want(t, call(IsDistinctFrom, tBool, col(0, tI64), nullLit(tI64)), cols(vec(tI64, 1, nil)), true, false)
}

func TestDistinctFromResolve(t *testing.T) {
	reg := Builtins()
	for _, c := range []struct {
		name string
		args []types.Type
		want string // error, or "" for a BOOLEAN result
	}{
		{IsDistinctFrom, []types.Type{tI64, tI32}, ""},
		{IsNotDistinctFrom, []types.Type{types.NullT, types.NullT}, ""},
		{IsNotDistinctFrom, []types.Type{tStr, types.NullT}, ""},
		{IsDistinctFrom, []types.Type{tTS, tI64}, "operator IS DISTINCT FROM cannot compare TIMESTAMP and BIGINT"},
		{IsNotDistinctFrom, []types.Type{tI64}, "operator IS NOT DISTINCT FROM expects 2 operands, got 1"},
	} {
		f, ok := reg.Lookup(c.name)
		if !ok {
			t.Fatalf("%s not registered", c.name)
		}
		r, err := f.Resolve(c.args)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s%v: %v", c.name, c.args, err)
		case c.want == "" && !r.Result.Equal(types.BoolT):
			t.Errorf("%s%v: result %s", c.name, c.args, r.Result)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s%v: %v, want %q", c.name, c.args, err, c.want)
		}
	}
}
