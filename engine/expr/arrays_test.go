package expr

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

var (
	tI64s = types.ListOf(tI64)
	tI32s = types.ListOf(tI32)
	tStrs = types.ListOf(tStr)
)

func TestArrayFunctions(t *testing.T) {
	l := func(xs ...any) []any {
		if xs == nil {
			return []any{}
		}
		return xs
	}
	ints := []any{l(1, 2, 3, 2), l(), nil, l(5, nil, 5), l(7)}
	for _, c := range []fnCase{
		{fn: "make_array", rt: tI64s, ts: []types.Type{tI64, tI64}, args: [][]any{{1, nil, 3}, {2, 4, nil}},
			want: []any{l(1, 2), l(nil, 4), l(3, nil)}},
		{fn: "make_array", rt: tStrs, ts: []types.Type{tStr}, args: [][]any{{"a", nil}}, want: []any{l("a"), l(nil)}},
		{fn: "array_length", rt: tU64, ts: []types.Type{tI64s}, args: [][]any{ints}, want: []any{4, 0, nil, 3, 1}},
		{fn: "array_length", rt: tU64, ts: []types.Type{tI64s, tI64}, args: [][]any{{l(1, 2), l(1, 2)}, {1, 2}}, want: []any{2, nil}},
		{fn: "cardinality", rt: tU64, ts: []types.Type{tI64s}, args: [][]any{ints}, want: []any{4, 0, nil, 3, 1}},
		{fn: "array_has", rt: tBool, ts: []types.Type{tI64s, tI64}, args: [][]any{ints, {2, 2, 2, 5, nil}},
			want: []any{true, false, nil, true, nil}},
		{fn: "array_contains", rt: tBool, ts: []types.Type{tI64s, tI64}, args: [][]any{ints, {9, 9, 9, 9, 7}},
			want: []any{false, false, nil, false, true}},
		{fn: "array_position", rt: tU64, ts: []types.Type{tI64s, tI64}, args: [][]any{ints, {2, 2, 2, 5, 8}},
			want: []any{2, nil, nil, 1, nil}},
		{fn: "array_position", rt: tU64, ts: []types.Type{tI64s, tI64, tI64}, args: [][]any{ints, {2, 2, 2, 5, 7}, {3, 1, 1, 2, 5}},
			want: []any{4, nil, nil, 3, nil}},
		{fn: "array_has_all", rt: tBool, ts: []types.Type{tI64s, tI64s}, args: [][]any{ints, {l(3, 1), l(), l(1), l(5, 6), nil}},
			want: []any{true, true, nil, false, nil}},
		{fn: "array_has_any", rt: tBool, ts: []types.Type{tI64s, tI64s}, args: [][]any{ints, {l(9, 1), l(), l(1), l(6, 5), l(8)}},
			want: []any{true, false, nil, true, false}},
		{fn: "array_append", rt: tI64s, ts: []types.Type{tI64s, tI64}, args: [][]any{ints, {9, 9, 9, nil, 8}},
			want: []any{l(1, 2, 3, 2, 9), l(9), l(9), l(5, nil, 5, nil), l(7, 8)}},
		{fn: "array_prepend", rt: tI64s, ts: []types.Type{tI64, tI64s}, args: [][]any{{0, 0, 0, 0, 0}, ints},
			want: []any{l(0, 1, 2, 3, 2), l(0), l(0), l(0, 5, nil, 5), l(0, 7)}},
		{fn: "array_concat", rt: tI64s, ts: []types.Type{tI64s, tI64s, tI64s}, args: [][]any{ints, {l(0), nil, nil, l(), l(8)}, {l(), l(1), nil, l(6), l(9)}},
			want: []any{l(1, 2, 3, 2, 0), l(1), nil, l(5, nil, 5, 6), l(7, 8, 9)}},
		{fn: "array_remove", rt: tI64s, ts: []types.Type{tI64s, tI64}, args: [][]any{ints, {2, 2, 2, 5, nil}},
			want: []any{l(1, 3, 2), l(), nil, l(nil, 5), l(7)}},
		{fn: "array_remove_all", rt: tI64s, ts: []types.Type{tI64s, tI64}, args: [][]any{ints, {2, 2, 2, 5, 1}},
			want: []any{l(1, 3), l(), nil, l(nil), l(7)}},
		{fn: "array_distinct", rt: tI64s, ts: []types.Type{tI64s}, args: [][]any{ints},
			want: []any{l(1, 2, 3), l(), nil, l(nil, 5), l(7)}},
		{fn: "array_distinct", rt: tStrs, ts: []types.Type{tStrs}, args: [][]any{{l("b", "a", "b", nil, nil)}},
			want: []any{l(nil, "a", "b")}},
		{fn: "array_to_string", rt: tStr, ts: []types.Type{tI64s, tStr}, args: [][]any{ints, {",", ",", ",", "-", nil}},
			want: []any{"1,2,3,2", "", nil, "5-5", nil}},
		{fn: "array_to_string", rt: tStr, ts: []types.Type{tI64s, tStr, tStr}, args: [][]any{ints, {",", ",", ",", "-", "|"}, {"?", "?", "?", "NA", nil}},
			want: []any{"1,2,3,2", "", nil, "5-NA-5", "7"}},
		{fn: "array_to_string", rt: tStr, ts: []types.Type{tStrs, tStr}, args: [][]any{{l("a", "b c")}, {" | "}}, want: []any{"a | b c"}},
	} {
		runFn(t, c)
	}
}

// TestArrayCoercion: an INT[] meets a BIGINT element in BIGINT, inside
// the kernel (the planner cannot cast a list).
func TestArrayCoercion(t *testing.T) {
	ints := vec(tI32s, []any{int32(1), int32(2)}, []any{})
	r, err := Builtins().funcs["array_has"].Resolve([]types.Type{tI32s, tI64})
	if err != nil || !r.Args[0].Equal(tI32s) || !r.Args[1].Equal(tI64) {
		t.Fatalf("array_has(INT[], BIGINT) resolved %+v, %v", r, err)
	}
	want(t, call("array_has", tBool, col(0, tI32s), lit(tI64, 2)), cols(ints), true, false)
	want(t, call("array_append", tI64s, col(0, tI32s), lit(tI64, 5_000_000_000)), cols(ints),
		[]any{1, 2, 5_000_000_000}, []any{5_000_000_000})
	want(t, call("array_concat", tI64s, col(0, tI32s), col(1, tI64s)), cols(ints, vec(tI64s, []any{3}, nil)),
		[]any{1, 2, 3}, []any{})
	// An empty array literal has NULL elements and meets any array.
	want(t, call("array_concat", tI32s, col(0, tI32s), call("make_array", types.ListOf(tNull))), cols(ints),
		[]any{1, 2}, []any{})
	want(t, call("cardinality", tU64, call("make_array", types.ListOf(tNull))), cols(ints), 0, 0)
	// A NULL array argument is an array of the element's type.
	want(t, call("array_append", tI64s, cast(nullLit(tNull), tI64s), lit(tI64, 1)), cols(ints), []any{1}, []any{1})
	for fn, args := range map[string][]types.Type{
		"array_has":       {tI64s, tStr},
		"array_append":    {tI64, tI64},
		"array_concat":    {tI64s, tStrs},
		"array_to_string": {tI64s},
		"make_array":      {tI64, tStr},
		"array_remove":    {tI64s},
		"cardinality":     {tStr},
		"array_distinct":  {types.ListOf(tI64s)},
	} {
		if _, err := Builtins().funcs[fn].Resolve(args); !errContains(err, "function "+fn) {
			t.Errorf("%s%s: %v", fn, typeList(args), err)
		}
	}
}

func TestStructFunctions(t *testing.T) {
	r, err := Builtins().funcs["struct"].Resolve([]types.Type{tI64, tStr})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Result.String(); got != "STRUCT<c0 BIGINT, c1 TEXT>" {
		t.Fatalf("struct(BIGINT, TEXT) is %s", got)
	}
	e := call("struct", r.Result, col(0, tI64), col(1, tStr))
	want(t, e, cols(vec(tI64, 1, nil), vec(tStr, "a", "b")), []any{int64(1), "a"}, []any{nil, "b"})
	// Field access on the result, and the renaming cast named_struct uses.
	want(t, &program.Expr{Op: program.ExprField, Type: tStr, Field: 1, Args: []*program.Expr{e}},
		cols(vec(tI64, 1, nil), vec(tStr, "a", "b")), "a", "b")
	named := types.StructOf(types.Field{Name: "x", Type: tI64, Nullable: true}, types.Field{Name: "y", Type: tStr, Nullable: true})
	if err := CanCast(r.Result, named); err != nil {
		t.Fatal(err)
	}
	want(t, cast(e, named), cols(vec(tI64, 1), vec(tStr, "a")), []any{int64(1), "a"})
	other := types.StructOf(types.Field{Name: "x", Type: tI32}, types.Field{Name: "y", Type: tStr})
	if err := CanCast(r.Result, other); err == nil {
		t.Fatal("a struct cast that changes a field's type was allowed")
	}
	if _, err := Builtins().funcs["struct"].Resolve(nil); !errContains(err, "at least one argument") {
		t.Fatalf("struct(): %v", err)
	}
}

func TestArrayFunctions2(t *testing.T) {
	l := func(xs ...any) []any {
		if xs == nil {
			return []any{}
		}
		return xs
	}
	eight := l(1, 2, 3, 4, 5, 6, 7, 8)
	for _, c := range []fnCase{
		{fn: "array_slice", rt: tI64s, ts: []types.Type{tI64s, tI64, tI64},
			args: [][]any{{eight, eight, eight, eight, eight, nil, eight}, {3, -3, 0, 5, 9, 1, 1}, {6, -1, 2, 2, 10, 2, nil}},
			want: []any{l(3, 4, 5, 6), l(6, 7, 8), l(1, 2), l(), l(), nil, nil}},
		{fn: "array_slice", rt: tI64s, ts: []types.Type{tI64s, tI64, tI64, tI64},
			args: [][]any{{eight, eight}, {1, 2}, {8, 8}, {3, -1}}, want: []any{l(1, 4, 7), nil}},
		{fn: "array_reverse", rt: tI64s, ts: []types.Type{tI64s}, args: [][]any{{l(1, nil, 3), l(), nil}}, want: []any{l(3, nil, 1), l(), nil}},
		{fn: "array_sort", rt: tI64s, ts: []types.Type{tI64s}, args: [][]any{{l(3, nil, 1, 2), l(), nil}}, want: []any{l(nil, 1, 2, 3), l(), nil}},
		{fn: "array_sort", rt: tI64s, ts: []types.Type{tI64s, tStr}, args: [][]any{{l(3, nil, 1)}, {"desc"}}, want: []any{l(3, 1, nil)}},
		{fn: "array_sort", rt: tStrs, ts: []types.Type{tStrs, tStr, tStr}, args: [][]any{{l("b", nil, "a")}, {"ASC"}, {"nulls last"}}, want: []any{l("a", "b", nil)}},
		{fn: "array_sort", rt: tI64s, ts: []types.Type{tI64s, tStr}, args: [][]any{{l(1)}, {"up"}}, err: "array_sort: the order must be 'ASC' or 'DESC', got 'up'"},
		{fn: "array_repeat", rt: tStrs, ts: []types.Type{tStr, tI64}, args: [][]any{{"x", nil, "y", "z"}, {3, 2, 0, nil}}, want: []any{l("x", "x", "x"), l(nil, nil), l(), nil}},
		{fn: "array_repeat", rt: tStrs, ts: []types.Type{tStr, tI64}, args: [][]any{{"x"}, {1 << 40}}, err: "requested array length too large"},
	} {
		runFn(t, c)
	}
}
