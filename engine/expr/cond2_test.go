package expr

import (
	"math"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

func TestGreatestLeast(t *testing.T) {
	nan := math.NaN()
	i3 := []types.Type{tI64, tI64, tI64}
	for _, c := range []fnCase{
		{fn: "greatest", rt: tI64, ts: i3, args: [][]any{{1, nil, nil, -5}, {3, 2, nil, -7}, {2, nil, nil, nil}}, want: []any{3, 2, nil, -5}},
		{fn: "least", rt: tI64, ts: i3, args: [][]any{{1, nil, nil, -5}, {3, 2, nil, -7}, {2, nil, nil, nil}}, want: []any{1, 2, nil, -7}},
		{fn: "greatest", rt: tStr, args: [][]any{{"b", "b", nil}, {"a", "é", nil}, {"c", nil, "x"}}, want: []any{"c", "é", "x"}},
		{fn: "least", rt: tStr, args: [][]any{{"b", "b", nil}, {"a", "é", nil}, {"c", nil, nil}}, want: []any{"a", "b", nil}},
		{fn: "greatest", rt: tF64, ts: []types.Type{tF64, tF64}, args: [][]any{{1.0, nan, -0.5}, {nan, 2.0, nil}}, want: []any{nan, nan, -0.5}},
		{fn: "least", rt: tF64, ts: []types.Type{tF64, tF64}, args: [][]any{{1.0, nan}, {nan, 2.0}}, want: []any{1.0, 2.0}},
		{fn: "greatest", rt: tBool, ts: []types.Type{tBool, tBool}, args: [][]any{{false, false}, {true, false}}, want: []any{true, false}},
		{fn: "least", rt: tI32, ts: []types.Type{tI32}, args: [][]any{{4, nil}}, want: []any{4, nil}},
	} {
		runFn(t, c)
	}
}

func TestGreatestResolve(t *testing.T) {
	f, _ := Builtins().Lookup("greatest")
	r, err := f.Resolve([]types.Type{tI32, tF64, tNull})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Args {
		if !a.Equal(tF64) {
			t.Fatalf("greatest(INT, DOUBLE, NULL) resolved args %v, want DOUBLE", r.Args)
		}
	}
	if !r.Result.Equal(tF64) {
		t.Fatalf("result %s", r.Result)
	}
	if _, err := f.Resolve([]types.Type{tStr, tI64}); !errContains(err, "function greatest: arguments (TEXT, BIGINT) have no common type") {
		t.Fatalf("got %v", err)
	}
	if _, err := f.Resolve(nil); !errContains(err, "expects at least 1 argument") {
		t.Fatalf("got %v", err)
	}
	if _, err := f.Resolve([]types.Type{types.ListOf(tI64), types.ListOf(tI64)}); !errContains(err, "cannot compare values of type BIGINT[]") {
		t.Fatalf("got %v", err)
	}
}
