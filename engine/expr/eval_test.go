package expr

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

var (
	tBool = types.BoolT
	tI32  = types.Int32T
	tI64  = types.Int64T
	tU32  = types.UInt32T
	tU64  = types.UInt64T
	tF32  = types.Float32T
	tF64  = types.Float64T
	tStr  = types.StringT
	tByt  = types.BytesT
	tTS   = types.TimestampT
	tIV   = types.IntervalT
	tJSON = types.JSONT
	tNull = types.NullT
)

// want runs e over cols in every batch shape and compares with want
// (normalized to e's type).
func want(t *testing.T, e *program.Expr, cols []coldata.Vector, want ...any) {
	t.Helper()
	got, err := evalRows(t, e, cols...)
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	w := normalize(e.Type, want)
	if !equalValues(got, w) {
		t.Fatalf("got %v, want %v", got, w)
	}
}

// wantErr runs e in every shape and checks it fails with msg.
func wantErr(t *testing.T, e *program.Expr, cols []coldata.Vector, msg string) {
	t.Helper()
	_, err := evalRows(t, e, cols...)
	if !errContains(err, msg) {
		t.Fatalf("got error %v, want %q", err, msg)
	}
}

func cols(vs ...coldata.Vector) []coldata.Vector { return vs }

func TestThreeValuedLogic(t *testing.T) {
	// All nine combinations of TRUE, FALSE and NULL.
	a := vec(tBool, true, true, true, false, false, false, nil, nil, nil)
	b := vec(tBool, true, false, nil, true, false, nil, true, false, nil)
	A, B := col(0, tBool), col(1, tBool)
	andWant := []any{true, false, nil, false, false, false, nil, false, nil}
	orWant := []any{true, true, true, true, false, nil, true, nil, nil}
	want(t, op(program.ExprAnd, tBool, A, B), cols(a, b), andWant...)
	want(t, op(program.ExprOr, tBool, A, B), cols(a, b), orWant...)
	want(t, op(program.ExprNot, tBool, A), cols(a, b), false, false, false, true, true, true, nil, nil, nil)
	// As filters, only TRUE passes.
	for _, c := range []struct {
		e    *program.Expr
		want []any
	}{
		{op(program.ExprAnd, tBool, A, B), andWant},
		{op(program.ExprOr, tBool, A, B), orWant},
		{op(program.ExprNot, tBool, B), []any{false, true, nil, false, true, nil, false, true, nil}},
	} {
		got := filterMatches(t, c.e, a, b)
		for i, w := range c.want {
			if got[i] != (w == true) {
				t.Fatalf("%s row %d: selected=%v, value %v", c.e.Op, i, got[i], w)
			}
		}
	}
	// n-ary AND/OR and NULL-typed operands.
	want(t, op(program.ExprAnd, tBool, A, B, lit(tBool, true)), cols(a, b), andWant...)
	want(t, op(program.ExprOr, tBool, A, nullLit(tNull)), cols(a, b), true, true, true, nil, nil, nil, nil, nil, nil)
}

func TestLogicShortCircuit(t *testing.T) {
	// b <> 0 AND a / b > 1: the division only runs where b <> 0.
	a, b := vec(tI64, 10, 5, 7, nil), vec(tI64, 2, 0, 0, 0)
	A, B := col(0, tI64), col(1, tI64)
	guard := call("<>", tBool, B, lit(tI64, 0))
	div := call(">", tBool, call("/", tI64, A, B), lit(tI64, 1))
	e := op(program.ExprAnd, tBool, guard, div)
	want(t, e, cols(a, b), true, false, false, false)
	if got := filterMatches(t, e, a, b); !reflect.DeepEqual(got, []bool{true, false, false, false}) {
		t.Fatalf("filter: %v", got)
	}
	// b = 0 OR a / b > 1.
	e = op(program.ExprOr, tBool, call("=", tBool, B, lit(tI64, 0)), div)
	want(t, e, cols(a, b), true, true, true, true)
	// Without the guard the division fails.
	wantErr(t, div, cols(a, b), "division by zero")
}

func TestIsNull(t *testing.T) {
	a := vec(tI64, 1, nil, 3)
	want(t, op(program.ExprIsNull, tBool, col(0, tI64)), cols(a), false, true, false)
	want(t, op(program.ExprIsNotNull, tBool, col(0, tI64)), cols(a), true, false, true)
	if got := filterMatches(t, op(program.ExprIsNull, tBool, col(0, tI64)), a); !reflect.DeepEqual(got, []bool{false, true, false}) {
		t.Fatalf("IS NULL filter: %v", got)
	}
	if got := filterMatches(t, op(program.ExprIsNotNull, tBool, col(0, tI64)), a); !reflect.DeepEqual(got, []bool{true, false, true}) {
		t.Fatalf("IS NOT NULL filter: %v", got)
	}
	s := vec(tStr, "x", nil)
	want(t, op(program.ExprIsNull, tBool, col(0, tStr)), cols(s), false, true)
	want(t, op(program.ExprIsNotNull, tBool, col(0, tStr)), cols(vec(tStr, "x", "y")), true, true)
}

func TestCase(t *testing.T) {
	a, b := vec(tI64, 10, 20, 30, nil, 50), vec(tI64, 2, 0, 3, 1, 0)
	A, B := col(0, tI64), col(1, tI64)
	// CASE WHEN b <> 0 THEN a / b ELSE 0 END never divides by zero.
	e := op(program.ExprCase, tI64,
		call("<>", tBool, B, lit(tI64, 0)), call("/", tI64, A, B),
		lit(tI64, 0))
	e.HasElse = true
	want(t, e, cols(a, b), 5, 0, 10, nil, 0)

	// Several branches, no ELSE: unmatched rows are NULL; a NULL condition
	// does not match.
	e = op(program.ExprCase, tStr,
		call(">", tBool, A, lit(tI64, 25)), lit(tStr, "big"),
		call(">", tBool, A, lit(tI64, 15)), lit(tStr, "medium"))
	want(t, e, cols(a, b), nil, "medium", "big", nil, "big")

	// A branch that takes every row returns its vector.
	e = op(program.ExprCase, tI64, lit(tBool, true), A, lit(tI64, 1))
	e.HasElse = true
	want(t, e, cols(a, b), 10, 20, 30, nil, 50)

	// Only the ELSE.
	e = op(program.ExprCase, tF64, lit(tBool, false), lit(tF64, 1.5), lit(tF64, 2.5))
	e.HasElse = true
	want(t, e, cols(a, b), 2.5, 2.5, 2.5, 2.5, 2.5)

	// A NULL-typed branch value.
	e = op(program.ExprCase, tI64, call("=", tBool, B, lit(tI64, 0)), nullLit(tNull), A)
	e.HasElse = true
	want(t, e, cols(a, b), 10, nil, 30, nil, nil)

	// Errors in taken branches are raised.
	e = op(program.ExprCase, tI64, call(">", tBool, A, lit(tI64, 15)), call("/", tI64, A, B), lit(tI64, 0))
	e.HasElse = true
	wantErr(t, e, cols(a, b), "division by zero")

	// Nested struct results go through the general path.
	st := types.StructOf(types.Field{Name: "x", Type: tI64, Nullable: true})
	s := vec(st, []any{1}, []any{2}, []any{3}, []any{4}, []any{5})
	e = op(program.ExprCase, st, call(">", tBool, A, lit(tI64, 25)), col(2, st))
	want(t, e, cols(a, b, s), nil, nil, []any{3}, nil, []any{5})
}

func TestCoalesce(t *testing.T) {
	a, b := vec(tI64, 1, nil, nil, 4), vec(tI64, 0, 2, nil, 0)
	A, B := col(0, tI64), col(1, tI64)
	want(t, op(program.ExprCoalesce, tI64, A, B, lit(tI64, 9)), cols(a, b), 1, 2, 9, 4)
	want(t, op(program.ExprCoalesce, tI64, A, B), cols(a, b), 1, 2, nil, 4)
	want(t, op(program.ExprCoalesce, tI64, B, A), cols(a, b), 0, 2, nil, 0)
	want(t, op(program.ExprCoalesce, tI64, nullLit(tNull), A), cols(a, b), 1, nil, nil, 4)
	// Later arguments only run for rows still NULL: 10 / b is computed for
	// rows 1 and 2 only (b = 2 and NULL).
	want(t, op(program.ExprCoalesce, tI64, A, call("/", tI64, lit(tI64, 10), B)), cols(a, b), 1, 5, nil, 4)
	wantErr(t, op(program.ExprCoalesce, tI64, A, call("/", tI64, lit(tI64, 10), B)),
		cols(a, vec(tI64, nil, 0, 1, 1)), "division by zero")
	s := vec(tStr, nil, "b", nil)
	want(t, op(program.ExprCoalesce, tStr, col(0, tStr), lit(tStr, "z")), cols(s), "z", "b", "z")
}

func TestIn(t *testing.T) {
	a := vec(tI64, 1, 3, nil, 2)
	A := col(0, tI64)
	want(t, op(program.ExprIn, tBool, A, lit(tI64, 1), lit(tI64, 2)), cols(a), true, false, nil, true)
	// A NULL in the list makes non-matches NULL.
	want(t, op(program.ExprIn, tBool, A, lit(tI64, 1), nullLit(tNull)), cols(a), true, nil, nil, nil)
	want(t, op(program.ExprIn, tBool, A, lit(tI64, 1), nullLit(tI64)), cols(a), true, nil, nil, nil)
	// Non-constant lists: a disjunction of equalities.
	b := vec(tI64, 5, 3, 1, nil)
	want(t, op(program.ExprIn, tBool, A, col(1, tI64), lit(tI64, 1)), cols(a, b), true, true, nil, nil)
	// Strings, floats (NaN equals NaN), NULL probe.
	s := vec(tStr, "a", "b", nil)
	want(t, op(program.ExprIn, tBool, col(0, tStr), lit(tStr, "b"), lit(tStr, "c")), cols(s), false, true, nil)
	f := vec(tF64, 1.5, math.NaN(), 2)
	want(t, op(program.ExprIn, tBool, col(0, tF64), lit(tF64, 1.5), lit(tF64, "NaN")), cols(f), true, true, false)
	want(t, op(program.ExprIn, tBool, nullLit(tNull), lit(tI64, 1)), cols(a), nil, nil, nil, nil)
	// As a filter (the Nexmark q2 "in a fixed set" form).
	got := filterMatches(t, op(program.ExprIn, tBool, A, lit(tI64, 2), lit(tI64, 3)), a)
	if !reflect.DeepEqual(got, []bool{false, true, false, true}) {
		t.Fatalf("IN filter: %v", got)
	}
}

func TestField(t *testing.T) {
	st := types.StructOf(
		types.Field{Name: "id", Type: tI64, Nullable: true},
		types.Field{Name: "name", Type: tStr, Nullable: true})
	s := vec(st, []any{1, "a"}, nil, []any{nil, "c"})
	want(t, &program.Expr{Op: program.ExprField, Type: tI64, Field: 0, Args: []*program.Expr{col(0, st)}}, cols(s), 1, nil, nil)
	want(t, &program.Expr{Op: program.ExprField, Type: tStr, Field: 1, Args: []*program.Expr{col(0, st)}}, cols(s), "a", nil, "c")
	// Without struct nulls the field vector itself is returned.
	s2 := vec(st, []any{1, "a"}, []any{2, "b"})
	ev, err := Compile(&program.Expr{Op: program.ExprField, Type: tI64, Field: 0, Args: []*program.Expr{col(0, st)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ev.Eval(tctx, &coldata.Batch{Cols: []coldata.Vector{s2}, Len: 2})
	if err != nil || v != s2.(*coldata.Struct).Fields[0] {
		t.Fatalf("field of a struct without nulls should share the field vector (err %v)", err)
	}
	if _, err := Compile(&program.Expr{Op: program.ExprField, Type: tStr, Field: 0, Args: []*program.Expr{col(0, st)}}, nil); err == nil {
		t.Fatalf("field with a wrong type compiled")
	}
}

func TestLiterals(t *testing.T) {
	one := cols(vec(tI64, 0, 0))
	for _, c := range []struct {
		e    *program.Expr
		want any
	}{
		{lit(tBool, true), true},
		{lit(tI32, 7), int32(7)},
		{lit(tI64, int64(math.MaxInt64)), int64(math.MaxInt64)},
		{lit(tU32, 7), uint32(7)},
		{lit(tU64, uint64(math.MaxUint64)), uint64(math.MaxUint64)},
		{lit(tF32, 1.5), float32(1.5)},
		{lit(tF64, 0.908), 0.908},
		{lit(tF64, "Infinity"), math.Inf(1)},
		{lit(tStr, "héllo"), "héllo"},
		{lit(tJSON, `{"a":1}`), `{"a":1}`},
		{lit(tByt, []byte{0, 1, 2}), []byte{0, 1, 2}},
		{lit(tTS, 1_000_000_000), int64(1_000_000_000)},
		{lit(tIV, 5), int64(5)},
		{nullLit(tI64), nil},
		{nullLit(tNull), nil},
	} {
		got, err := evalRows(t, c.e, one...)
		if err != nil {
			t.Fatalf("%s: %v", c.e.Value, err)
		}
		if !equalValues(got, []any{c.want, c.want}) {
			t.Fatalf("%s %s: got %v, want %v", c.e.Type, c.e.Value, got, c.want)
		}
	}
	// The broadcast vector is reused for batches of the same length.
	ev, _ := Compile(lit(tI64, 3), nil)
	b := &coldata.Batch{Len: 4}
	v1, _ := ev.Eval(tctx, b)
	v2, _ := ev.Eval(tctx, b)
	if v1 != v2 {
		t.Fatalf("literal vector not cached")
	}
	for _, bad := range []*program.Expr{lit(tI32, 1<<40), lit(tI64, 1.5), lit(tJSON, "{"), lit(tByt, "!!"), lit(tNull, 1)} {
		if _, err := Compile(bad, nil); err == nil {
			t.Fatalf("literal %s %s compiled", bad.Type, bad.Value)
		}
	}
}

func TestErrorsWrapText(t *testing.T) {
	e := call("/", tI64, col(0, tI64), col(1, tI64))
	e.Text = "a / b"
	outer := call("+", tI64, e, lit(tI64, 1))
	outer.Text = "a / b + 1"
	_, err := evalRows(t, outer, vec(tI64, 1), vec(tI64, 0))
	if err == nil || err.Error() != "division by zero in 'a / b', computing 1 / 0" {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, ErrDivisionByZero) {
		t.Fatalf("errors.Is(ErrDivisionByZero) false for %v", err)
	}
	// A node without text uses its nearest ancestor's.
	e.Text = ""
	_, err = evalRows(t, outer, vec(tI64, 1), vec(tI64, 0))
	if err == nil || err.Error() != "division by zero in 'a / b + 1', computing 1 / 0" {
		t.Fatalf("got %v", err)
	}
	c := cast(col(0, tStr), tI64)
	c.Text = "CAST(s AS BIGINT)"
	_, err = evalRows(t, c, vec(tStr, "abc"))
	if err == nil || err.Error() != "cannot cast 'abc' to BIGINT in 'CAST(s AS BIGINT)'" {
		t.Fatalf("got %v", err)
	}
	var ce *CastError
	if !errors.As(err, &ce) || ce.To.Kind != types.Int64 {
		t.Fatalf("errors.As(*CastError) failed for %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		e   *program.Expr
		msg string
	}{
		{call("nope", tI64), "unknown function nope"},
		{call("+", tI64, col(0, tI32), col(1, tI64)), "argument 1 of + has type INT, function expects BIGINT"},
		{call("+", tI32, col(0, tI64), col(1, tI64)), "function + returns BIGINT, expression has type INT"},
		{call("upper", tStr, col(0, tI64)), "function upper expects TEXT, got BIGINT"},
		{call("+", tStr, col(0, tStr), col(1, tI64)), "operator + expects numeric operands"},
		{call("=", tBool, col(0, tStr), col(1, tI64)), "operator = cannot compare TEXT and BIGINT"},
		{cast(col(0, tBool), tTS), "cannot cast BOOLEAN to TIMESTAMP"},
		{op(program.ExprAnd, tBool, col(0, tI64), col(1, tBool)), "has type BIGINT, want BOOLEAN"},
		{op(program.ExprCase, tI64, col(0, tBool)), "CASE has 1 arguments"},
		{&program.Expr{Op: "bogus"}, "unknown expression op"},
	} {
		c.e.Text = "expr"
		_, err := Compile(c.e, nil)
		if !errContains(err, c.msg) || !strings.HasPrefix(err.Error(), "compile 'expr': ") {
			t.Errorf("%s %s: got %v, want %q", c.e.Op, c.e.Func, err, c.msg)
		}
	}
	if _, err := CompileFilter(col(0, tI64), nil); err == nil {
		t.Fatalf("non-boolean filter compiled")
	}
}

func TestColumnChecks(t *testing.T) {
	ev, err := Compile(col(3, tI64), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Eval(tctx, &coldata.Batch{Cols: []coldata.Vector{vec(tI64, 1)}, Len: 1}); err == nil {
		t.Fatalf("out-of-range column evaluated")
	}
	ev, _ = Compile(col(0, tStr), nil)
	if _, err := ev.Eval(tctx, &coldata.Batch{Cols: []coldata.Vector{vec(tI64, 1)}, Len: 1}); err == nil {
		t.Fatalf("column of the wrong type evaluated")
	}
	// ExprCol returns the input vector itself.
	in := vec(tI64, 1, 2)
	ev, _ = Compile(col(0, tI64), nil)
	if v, _ := ev.Eval(tctx, &coldata.Batch{Cols: []coldata.Vector{in}, Len: 2}); v != in {
		t.Fatalf("column evaluation copied the vector")
	}
}

func TestFilterEmptyAndAllSelections(t *testing.T) {
	f, err := CompileFilter(call(">", tBool, col(0, tI64), lit(tI64, 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &coldata.Batch{Cols: []coldata.Vector{vec(tI64, 1, 2, 3)}, Len: 3, Sel: []int32{}}
	sel, err := f.Select(tctx, b)
	if err != nil || sel == nil || len(sel) != 0 {
		t.Fatalf("empty selection: %v %v", sel, err)
	}
	b.Sel = []int32{0, 2}
	sel, _ = f.Select(tctx, b)
	if !reflect.DeepEqual(sel, []int32{0, 2}) {
		t.Fatalf("got %v", sel)
	}
	if &sel[0] == &b.Sel[0] {
		t.Fatalf("Select returned the batch's selection slice")
	}
	// A filter that selects nothing returns an empty, non-nil slice.
	f, _ = CompileFilter(lit(tBool, false), nil)
	if sel, _ := f.Select(tctx, &coldata.Batch{Len: 3}); sel == nil || len(sel) != 0 {
		t.Fatalf("got %v", sel)
	}
	f, _ = CompileFilter(nullLit(tNull), nil)
	if sel, _ := f.Select(tctx, &coldata.Batch{Len: 3}); sel == nil || len(sel) != 0 {
		t.Fatalf("got %v", sel)
	}
}

func TestConstantFolding(t *testing.T) {
	isConst := func(e *program.Expr) bool {
		ev, err := Compile(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := inner(ev).(*litEval)
		return ok
	}
	if !isConst(cast(lit(tStr, "2023-01-01"), tTS)) || !isConst(call("neg", tI64, lit(tI64, 5))) ||
		!isConst(call("+", tI64, lit(tI64, 1), call("*", tI64, lit(tI64, 2), lit(tI64, 3)))) ||
		!isConst(call("upper", tStr, lit(tStr, "x"))) || !isConst(cast(nullLit(tNull), tI64)) {
		t.Fatalf("constant expression not folded")
	}
	if isConst(call("+", tI64, col(0, tI64), lit(tI64, 1))) {
		t.Fatalf("non-constant expression folded")
	}
	// A comparison with a folded constant is specialized (no broadcast).
	ev, _ := Compile(call(">", tBool, col(0, tTS), cast(lit(tStr, "2023-01-01"), tTS)), nil)
	if c, ok := inner(ev).(*cmpEval); !ok || c.sc == nil {
		t.Fatalf("comparison with a constant not specialized: %T", ev)
	}
	want(t, call(">", tBool, col(0, tTS), cast(lit(tStr, "2023-01-01"), tTS)),
		cols(vec(tTS, ts("2022-12-31T00:00:00Z"), ts("2023-01-01T00:00:01Z"))), false, true)
	// IN lists of folded constants use the hash set.
	ev, _ = Compile(op(program.ExprIn, tBool, col(0, tI64), call("neg", tI64, lit(tI64, 1)), nullLit(tNull)), nil)
	if in, ok := inner(ev).(*inEval); !ok || in.set == nil || !in.hasNull {
		t.Fatalf("IN list of constants not a set: %+v", ev)
	}
}

// TestFailingConstants: a constant that fails and that every row evaluates
// is a compile error naming its position; in a branch that rows may skip it
// fails only when a row reaches it.
func TestFailingConstants(t *testing.T) {
	pos := &program.SourcePos{File: "q.sql", Line: 3, Col: 8}
	bad := func() *program.Expr {
		e := cast(lit(tStr, "abc"), tI64)
		e.Text, e.Pos = "CAST('abc' AS BIGINT)", pos
		return e
	}
	div := func() *program.Expr {
		e := call("/", tI64, lit(tI64, 1), lit(tI64, 0))
		e.Text, e.Pos = "1/0", pos
		return e
	}
	for _, c := range []struct {
		e    *program.Expr
		want string
	}{
		{bad(), "q.sql:3:8: cannot cast 'abc' to BIGINT in 'CAST('abc' AS BIGINT)'"},
		{div(), "q.sql:3:8: division by zero in '1/0', computing 1 / 0"},
		{call("+", tI64, col(0, tI64), div()), "q.sql:3:8: division by zero in '1/0', computing 1 / 0"},
		{op(program.ExprAnd, tBool, call("=", tBool, div(), lit(tI64, 1)), col(1, tBool)), "q.sql:3:8: division by zero in '1/0', computing 1 / 0"},
		{op(program.ExprCoalesce, tI64, div(), col(0, tI64)), "q.sql:3:8: division by zero in '1/0', computing 1 / 0"},
		{op(program.ExprCase, tI64, call("=", tBool, div(), lit(tI64, 1)), col(0, tI64)), "q.sql:3:8: division by zero in '1/0', computing 1 / 0"},
	} {
		_, err := Compile(c.e, nil)
		var ee *Error
		if err == nil || err.Error() != c.want || !errors.As(err, &ee) || ee.Row != -1 {
			t.Errorf("%s: got %v, want %q", c.e, err, c.want)
		}
	}
	// Guarded: a CASE branch, a later CASE condition, the right side of AND
	// and OR, a later COALESCE argument.
	x := col(0, tI64)
	elseCase := func(args ...*program.Expr) *program.Expr {
		e := op(program.ExprCase, tI64, args...)
		e.HasElse = true
		return e
	}
	for _, c := range []struct {
		e    *program.Expr
		want []any
	}{
		{op(program.ExprCase, tI64, lit(tBool, false), bad()), []any{nil, nil}},
		{elseCase(call(">", tBool, x, lit(tI64, 0)), x, bad()), []any{1, 2}},
		{op(program.ExprCase, tI64, call(">", tBool, x, lit(tI64, 0)), x, call("=", tBool, div(), x), x), []any{1, 2}},
		{op(program.ExprCoalesce, tI64, x, div()), []any{1, 2}},
		{elseCase(op(program.ExprAnd, tBool, call("<", tBool, x, lit(tI64, 0)), call("=", tBool, div(), x)), x, x), []any{1, 2}},
		{elseCase(op(program.ExprOr, tBool, call(">", tBool, x, lit(tI64, 0)), call("=", tBool, div(), x)), x, x), []any{1, 2}},
	} {
		want(t, c.e, cols(vec(tI64, 1, 2)), c.want...)
	}
	// ... and when a row reaches it, the run-time error has the position.
	wantErr(t, op(program.ExprCoalesce, tI64, x, div()), cols(vec(tI64, 1, nil)), "q.sql:3:8: division by zero in '1/0'")
	f, err := CompileFilter(op(program.ExprAnd, tBool, call(">", tBool, x, lit(tI64, 0)), call("=", tBool, div(), x)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Select(tctx, &coldata.Batch{Cols: cols(vec(tI64, 0, 1)), Len: 2}); !errContains(err, "q.sql:3:8: division by zero") {
		t.Fatalf("got %v", err)
	}
}

// TestErrorRow: a run-time error names the failing row and its operands.
func TestErrorRow(t *testing.T) {
	pos := &program.SourcePos{File: "orders.sql", Line: 3, Col: 8}
	at := func(e *program.Expr, text string) *program.Expr {
		e.Text, e.Pos = text, pos
		return e
	}
	a, b := col(0, tI64), col(1, tI64)
	for _, c := range []struct {
		e      *program.Expr
		cols   []coldata.Vector
		sel    []int32
		row    int
		values string
		msg    string
	}{
		{e: at(call("/", tI64, a, b), "a / b"), cols: cols(vec(tI64, 1, 5, 7, 9), vec(tI64, 0, 1, 0, 0)), sel: []int32{1, 2, 3},
			row: 2, values: "7 / 0", msg: "orders.sql:3:8: division by zero in 'a / b', computing 7 / 0"},
		{e: at(call("%", tI64, a, lit(tI64, 0)), "a % 0"), cols: cols(vec(tI64, nil, 4)),
			row: 1, values: "4 % 0", msg: "orders.sql:3:8: division by zero in 'a % 0', computing 4 % 0"},
		{e: at(call("+", tI64, a, b), "a + b"), cols: cols(vec(tI64, 1, math.MaxInt64), vec(tI64, 1, 1)),
			row: 1, values: "9223372036854775807 + 1", msg: "integer overflow in 'a + b', computing 9223372036854775807 + 1"},
		{e: at(call("*", tI32, col(0, tI32), lit(tI32, 2)), "i * 2"), cols: cols(vec(tI32, 1, 2000000000)),
			row: 1, values: "2000000000 * 2"},
		{e: at(call("neg", tI64, a), "-a"), cols: cols(vec(tI64, 3, math.MinInt64)),
			row: 1, values: "-(-9223372036854775808)"},
		{e: at(call("abs", tI64, a), "abs(a)"), cols: cols(vec(tI64, math.MinInt64)),
			row: 0, values: "abs(-9223372036854775808)"},
		{e: at(call("substr", tStr, col(0, tStr), col(1, tI64), col(2, tI64)), "substr(s, a, b)"), cols: cols(vec(tStr, "it's"), vec(tI64, 1), vec(tI64, -1)),
			row: 0, values: "substr('it''s', 1, -1)"},
		{e: at(cast(a, tI32), "n"), cols: cols(vec(tI64, 1, 2000000000000)),
			row: 1, msg: "orders.sql:3:8: value 2000000000000 out of range for INT (-2147483648 to 2147483647) in 'n'"},
		{e: at(cast(col(0, tStr), tI64), "CAST(s AS BIGINT)"), cols: cols(vec(tStr, "1", "x")),
			row: 1, msg: "orders.sql:3:8: cannot cast 'x' to BIGINT in 'CAST(s AS BIGINT)'"},
	} {
		ev, err := Compile(c.e, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.e, err)
		}
		n := c.cols[0].Len()
		_, err = ev.Eval(tctx, &coldata.Batch{Cols: c.cols, Len: n, Sel: c.sel})
		var ee *Error
		if !errors.As(err, &ee) {
			t.Fatalf("%s: got %v, want an *Error", c.e, err)
		}
		if ee.Row != c.row || ee.Values != c.values || ee.Pos != pos || (c.msg != "" && !strings.HasSuffix(err.Error(), c.msg)) {
			t.Errorf("%s: got %q (row %d, values %q), want row %d, values %q, message %q", c.e, err, ee.Row, ee.Values, c.row, c.values, c.msg)
		}
	}
	// A note names why the planner put the expression there.
	e := at(cast(a, tI32), "id * 1000000000000")
	e.Note = "column 'n' of sink 'out'"
	_, err := evalRows(t, e, vec(tI64, 2000000000000))
	if err == nil || err.Error() != "orders.sql:3:8: value 2000000000000 out of range for INT (-2147483648 to 2147483647) in 'id * 1000000000000' (column 'n' of sink 'out')" {
		t.Fatalf("got %v", err)
	}
}
