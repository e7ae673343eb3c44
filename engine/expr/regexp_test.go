package expr

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestRegexpFunctions(t *testing.T) {
	i64 := []types.Type{tStr, tStr, tI64}
	i64f := []types.Type{tStr, tStr, tI64, tStr}
	for _, c := range []fnCase{
		{fn: "regexp_like", rt: tBool, args: [][]any{{"abc", "abc", "ABC", nil, "abc"}, {"b", "^b", "b", "a", nil}}, want: []any{true, false, false, nil, nil}},
		{fn: "regexp_like", rt: tBool, args: [][]any{{"ABC", "ABC", "a\nb", "a\nb", "abc"}, {"b", "b", "^b", "a.b", "b"}, {"i", "", "m", "s", nil}},
			want: []any{true, false, true, true, nil}},
		{fn: "regexp_like", rt: tBool, args: [][]any{{"abc"}, {"b"}, {"g"}}, err: `regexp_like does not support the "global" option`},
		{fn: "regexp_like", rt: tBool, args: [][]any{{"abc"}, {"b"}, {"x"}}, err: "unsupported regular expression flag 'x'"},
		{fn: "regexp_like", rt: tBool, args: [][]any{{"abc", "abc"}, {"b", "("}}, err: "invalid regular expression '(': missing closing )"},
		{fn: "~", rt: tBool, args: [][]any{{"abc", "abc", nil}, {"B", "^a.c$", "a"}}, want: []any{false, true, nil}},
		{fn: "~*", rt: tBool, args: [][]any{{"abc", "xyz"}, {"B", "B"}}, want: []any{true, false}},
		{fn: "!~", rt: tBool, args: [][]any{{"abc", "abc", nil}, {"B", "b", "a"}}, want: []any{true, false, nil}},
		{fn: "!~*", rt: tBool, args: [][]any{{"abc", "xyz"}, {"B", "B"}}, want: []any{false, true}},
		{fn: "regexp_replace", rt: tStr, args: [][]any{
			{"foobarbaz", "Thomas", "aaa", "abc", "abc", "abc", nil, "abc"},
			{"b(..)", ".[mN]a.", "a", "(b)", "b", "b", "a", "x"},
			{`X\1Y`, "M", "b", "[$1]", "$$", `\\`, "b", "y"}},
			want: []any{"fooXarYbaz", "ThM", "baa", "a[b]c", "a$c", `a\c`, nil, "abc"}},
		{fn: "regexp_replace", rt: tStr, args: [][]any{
			{"foobarbaz", "aaa", "AbAb", "abc", "abc", "abc"},
			{"b(..)", "a", "a", "x*", "(?P<x>b)", "b"},
			{`X\1Y`, "b", "x", "-", "<${x}>", "$1a"},
			{"g", "g", "gi", "g", "", "g"}},
			want: []any{"fooXarYXazY", "bbb", "xbxb", "-a-b-c-", "a<b>c", "ac"}},
		{fn: "regexp_replace", rt: tStr, args: [][]any{{"abc"}, {"b"}, {"x"}, {"q"}}, err: "unsupported regular expression flag 'q' (supported: i, m, s, U, g)"},
		{fn: "regexp_count", rt: tI64, args: [][]any{{"abcabc", "", nil, "aaa"}, {"b", "x*", "a", "aa"}}, want: []any{2, 1, nil, 1}},
		{fn: "regexp_count", rt: tI64, ts: i64, args: [][]any{{"abcabc", "héllo", "abc", "abc"}, {"b", "l", "b", "b"}, {3, 3, 4, 100}}, want: []any{1, 2, 0, 0}},
		{fn: "regexp_count", rt: tI64, ts: i64f, args: [][]any{{"ABab", "ABab"}, {"a", "a"}, {1, 2}, {"i", ""}}, want: []any{2, 1}},
		{fn: "regexp_count", rt: tI64, ts: i64, args: [][]any{{"abc"}, {"b"}, {0}}, err: "regexp_count requires start to be 1-based, got 0"},
	} {
		runFn(t, c)
	}
}

// TestRegexpMatch checks regexp_match's lists: the groups that took part
// in the first match, the whole match without groups, NULL without a match.
func TestRegexpMatch(t *testing.T) {
	s := vec(tStr, "foo123bar456", "abc", "abc", "ac", nil, "ABC")
	p := vec(tStr, `(\d+)\D+(\d+)`, "b", "x", "a(b)?(c)", "a", "b")
	f := vec(tStr, "", "", "", "", "", "i")
	got, err := evalRows(t, call("regexp_match", types.ListOf(tStr), col(0, tStr), col(1, tStr), col(2, tStr)), s, p, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]any{"123", "456"}, []any{"b"}, nil, []any{"c"}, nil, []any{"B"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// A constant pattern gives the same lists.
	got, err = evalRows(t, call("regexp_match", types.ListOf(tStr), col(0, tStr), lit(tStr, `(\d+)\D+(\d+)`)), s)
	if err != nil {
		t.Fatal(err)
	}
	if w := []any{[]any{"123", "456"}, nil, nil, nil, nil, nil}; !reflect.DeepEqual(got, w) {
		t.Fatalf("constant pattern: got %v, want %v", got, w)
	}
}

// TestRegexpConstantPattern checks that a constant pattern is compiled
// once, when the expression is, and that an invalid one fails there at
// the pattern's position, whether or not a row would evaluate it.
func TestRegexpConstantPattern(t *testing.T) {
	pat := lit(tStr, "a(")
	pat.Pos = &program.SourcePos{File: "q.sql", Line: 3, Col: 22}
	e := call("regexp_like", tBool, col(0, tStr), pat)
	e.Text, e.Pos = "regexp_like(s, 'a(')", &program.SourcePos{File: "q.sql", Line: 3, Col: 7}
	for _, expr := range []*program.Expr{e, op(program.ExprCase, tBool, lit(tBool, false), e, lit(tBool, true))} {
		if expr.Op == program.ExprCase {
			expr.HasElse = true
		}
		_, err := Compile(expr, nil)
		var ee *Error
		if !errors.As(err, &ee) {
			t.Fatalf("compile: got %v, want an *Error", err)
		}
		if want := "q.sql:3:22: invalid regular expression 'a(': missing closing ): `a(` in 'regexp_like(s, 'a(')'"; err.Error() != want {
			t.Fatalf("got %q\nwant %q", err, want)
		}
	}
	// Flags: the error is at the flags.
	flags := lit(tStr, "z")
	flags.Pos = &program.SourcePos{File: "q.sql", Line: 1, Col: 30}
	_, err := Compile(call("regexp_replace", tStr, col(0, tStr), lit(tStr, "a"), lit(tStr, "b"), flags), nil)
	if !errContains(err, "q.sql:1:30: unsupported regular expression flag 'z'") {
		t.Fatalf("flags: got %v", err)
	}
	// A valid constant pattern prepares a kernel with the compiled pattern.
	ev, err := Compile(call("regexp_like", tBool, col(0, tStr), lit(tStr, "^a")), nil)
	if err != nil {
		t.Fatal(err)
	}
	ce, ok := inner(ev).(*callEval)
	if !ok {
		t.Fatalf("compiled to %T", ev)
	}
	v, err := ce.kernel(nil, []coldata.Vector{vec(tStr, "ab", "ba"), vec(tStr, "no", "such")}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel ignores the pattern vector: it compiled '^a' already.
	if got := values(v, allRows(2)); !reflect.DeepEqual(got, []any{true, false}) {
		t.Fatalf("prepared kernel: got %v", got)
	}
	// All-constant calls fold.
	ev, err = Compile(call("regexp_replace", tStr, lit(tStr, "aXa"), lit(tStr, "a"), lit(tStr, "b"), lit(tStr, "g")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := inner(ev).(*litEval); !ok || string(l.sc.s) != "bXb" {
		t.Fatalf("constant regexp_replace compiled to %T %v", ev, ev)
	}
}

// TestRegexpPatternCache runs more distinct row patterns than the cache
// holds, some repeated, in one batch.
func TestRegexpPatternCache(t *testing.T) {
	var s, p, want []any
	for i := 0; i < 3*reCacheSize; i++ {
		k := i % (reCacheSize + 7)
		s = append(s, fmt.Sprintf("x%dy", k))
		p = append(p, fmt.Sprintf("^x%dy$", k))
		want = append(want, true)
		s = append(s, fmt.Sprintf("x%dy", k+1))
		p = append(p, fmt.Sprintf("^x%dy$", k))
		want = append(want, false)
	}
	got, err := evalRows(t, call("~", tBool, col(0, tStr), col(1, tStr)), vec(tStr, s...), vec(tStr, p...))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v", got, err)
	}
}
