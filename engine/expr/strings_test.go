package expr

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// fnCase is a function applied row by row to argument columns.
type fnCase struct {
	fn   string
	rt   types.Type
	args [][]any      // one list per argument, the same length
	ts   []types.Type // argument types; TEXT when nil
	want []any
	err  string
}

func runFn(t *testing.T, c fnCase) {
	t.Helper()
	var vs []coldata.Vector
	var es []*program.Expr
	for i, a := range c.args {
		typ := tStr
		if c.ts != nil {
			typ = c.ts[i]
		}
		vs = append(vs, vec(typ, a...))
		es = append(es, col(i, typ))
	}
	e := call(c.fn, c.rt, es...)
	if c.err != "" {
		wantErr(t, e, vs, c.err)
		return
	}
	got, err := evalRows(t, e, vs...)
	if err != nil {
		t.Fatalf("%s: %v", c.fn, err)
	}
	if w := normalize(c.rt, c.want); !equalValues(got, w) {
		t.Fatalf("%s%v: got %v, want %v", c.fn, c.args, got, w)
	}
}

func TestStringFunctions(t *testing.T) {
	i64 := func(n int) []types.Type {
		ts := []types.Type{tStr}
		for ; n > 0; n-- {
			ts = append(ts, tI64)
		}
		return ts
	}
	for _, c := range []fnCase{
		{fn: "lower", rt: tStr, args: [][]any{{"HeLLo", "ÉCOLE", nil, ""}}, want: []any{"hello", "école", nil, ""}},
		{fn: "upper", rt: tStr, args: [][]any{{"HeLLo", "école", nil}}, want: []any{"HELLO", "ÉCOLE", nil}},
		{fn: "length", rt: tI32, args: [][]any{{"héllo", "", nil}}, want: []any{5, 0, nil}},
		{fn: "char_length", rt: tI32, args: [][]any{{"日本"}}, want: []any{2}},
		{fn: "character_length", rt: tI32, args: [][]any{{"ab"}}, want: []any{2}},
		{fn: "octet_length", rt: tI32, args: [][]any{{"héllo", nil}}, want: []any{6, nil}},
		{fn: "trim", rt: tStr, args: [][]any{{"  a b  ", "\tx ", nil}}, want: []any{"a b", "\tx", nil}},
		{fn: "btrim", rt: tStr, args: [][]any{{"xxaxyx", "abc"}, {"xy", ""}}, want: []any{"a", "abc"}},
		{fn: "ltrim", rt: tStr, args: [][]any{{"  a  "}}, want: []any{"a  "}},
		{fn: "rtrim", rt: tStr, args: [][]any{{"  a  "}}, want: []any{"  a"}},
		{fn: "ltrim", rt: tStr, args: [][]any{{"ééaé"}, {"é"}}, want: []any{"aé"}},
		{fn: "rtrim", rt: tStr, args: [][]any{{"aé.."}, {".é"}}, want: []any{"a"}},
		{fn: "trim", rt: tStr, args: [][]any{{"xax", "xax"}, {"x", nil}}, want: []any{"a", nil}},
		{fn: "substr", rt: tStr, ts: i64(1), args: [][]any{{"héllo", "héllo", "héllo", "héllo", nil}, {2, 0, -3, 9, 1}},
			want: []any{"éllo", "héllo", "héllo", "", nil}},
		{fn: "substring", rt: tStr, ts: i64(2), args: [][]any{{"héllo", "héllo", "héllo", "héllo", "héllo"}, {2, 0, -3, 4, 1}, {3, 2, 5, 100, 0}},
			want: []any{"éll", "h", "h", "lo", ""}},
		{fn: "substr", rt: tStr, ts: i64(2), args: [][]any{{"abc"}, {1}, {-1}}, err: "negative substring length not allowed"},
		{fn: "concat", rt: tStr, args: [][]any{{"a", nil, "x", nil}, {"b", "c", nil, nil}, {"", "d", "y", nil}}, want: []any{"ab", "cd", "xy", ""}},
		{fn: "concat_ws", rt: tStr, args: [][]any{{",", ",", nil}, {"a", nil, "a"}, {"b", "c", "b"}}, want: []any{"a,b", "c", nil}},
		{fn: "||", rt: tStr, args: [][]any{{"a", nil, "é"}, {"b", "c", ""}}, want: []any{"ab", nil, "é"}},
		{fn: "replace", rt: tStr, args: [][]any{{"abcabc", "abc", "aaa", nil}, {"b", "", "a", "a"}, {"XX", "z", "b", "b"}}, want: []any{"aXXcaXXc", "abc", "bbb", nil}},
		{fn: "strpos", rt: tI32, args: [][]any{{"héllo", "héllo", "abc", nil}, {"llo", "x", "", "a"}}, want: []any{3, 0, 1, nil}},
		{fn: "starts_with", rt: tBool, args: [][]any{{"hello", "hello", nil}, {"he", "lo", "x"}}, want: []any{true, false, nil}},
		{fn: "ends_with", rt: tBool, args: [][]any{{"hello", "hello"}, {"he", "lo"}}, want: []any{false, true}},
		{fn: "left", rt: tStr, ts: i64(1), args: [][]any{{"héllo", "héllo", "héllo", "ab"}, {2, -2, 0, 5}}, want: []any{"hé", "hél", "", "ab"}},
		{fn: "right", rt: tStr, ts: i64(1), args: [][]any{{"héllo", "héllo", "ab", "ab"}, {2, -2, 5, -5}}, want: []any{"lo", "llo", "ab", ""}},
		{fn: "lpad", rt: tStr, ts: i64(1), args: [][]any{{"hi", "hello", "x"}, {5, 2, -1}}, want: []any{"   hi", "he", ""}},
		{fn: "lpad", rt: tStr, ts: []types.Type{tStr, tI64, tStr}, args: [][]any{{"hi", "hi", "hi"}, {6, 5, 4}, {"xé", "", "ab"}}, want: []any{"xéxéhi", "hi", "abhi"}},
		{fn: "rpad", rt: tStr, ts: []types.Type{tStr, tI64, tStr}, args: [][]any{{"hi", "héllo"}, {5, 3}, {"ab", "x"}}, want: []any{"hiaba", "hél"}},
		{fn: "rpad", rt: tStr, ts: i64(1), args: [][]any{{"x"}, {1 << 40}}, err: "requested string length too large"},
		{fn: "repeat", rt: tStr, ts: i64(1), args: [][]any{{"ab", "ab", nil}, {3, -1, 2}}, want: []any{"ababab", "", nil}},
		{fn: "repeat", rt: tStr, ts: i64(1), args: [][]any{{"ab"}, {1 << 40}}, err: "too large"},
		{fn: "reverse", rt: tStr, args: [][]any{{"héllo", "", "日本語x", nil}}, want: []any{"olléh", "", "x語本日", nil}},
		{fn: "split_part", rt: tStr, ts: []types.Type{tStr, tStr, tI64},
			args: [][]any{{"a,b,,c", "a,b,,c", "a,b,,c", "a,b,,c", "a,b,,c", "abc", "abc"}, {",", ",", ",", ",", ",", "", ""}, {1, 3, 4, 5, -1, 1, 2}},
			want: []any{"a", "", "c", "", "c", "abc", ""}},
		{fn: "split_part", rt: tStr, ts: []types.Type{tStr, tStr, tI64}, args: [][]any{{"a"}, {","}, {0}}, err: "field position must not be zero"},
		{fn: "initcap", rt: tStr, args: [][]any{{"hello wORLD", "o'neil-smith x2y", nil}}, want: []any{"Hello World", "O'Neil-Smith X2y", nil}},
		{fn: "md5", rt: tStr, args: [][]any{{"", "abc", nil}}, want: []any{"d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72", nil}},
		{fn: "to_hex", rt: tStr, ts: []types.Type{tI64}, args: [][]any{{255, -1, nil}}, want: []any{"ff", "ffffffffffffffff", nil}},
	} {
		runFn(t, c)
	}
}

func TestStringResolve(t *testing.T) {
	for _, c := range []struct {
		fn   string
		args []types.Type
		err  string
		want []types.Type
	}{
		{fn: "upper", args: []types.Type{tI64}, err: "function upper expects TEXT, got BIGINT"},
		{fn: "upper", args: []types.Type{tNull}, want: []types.Type{tStr}},
		{fn: "substr", args: []types.Type{tStr, tStr}, err: "function substr expects (TEXT, BIGINT) or (TEXT, BIGINT, BIGINT), got (TEXT, TEXT)"},
		{fn: "substr", args: []types.Type{tStr, tI32}, want: []types.Type{tStr, tI64}},
		{fn: "lpad", args: []types.Type{tStr}, err: "function lpad expects (TEXT, BIGINT) or (TEXT, BIGINT, TEXT), got (TEXT)"},
		{fn: "concat", args: []types.Type{tStr, tI64, tF64, tNull}, want: []types.Type{tStr, tStr, tStr, tStr}},
		{fn: "concat", args: []types.Type{types.ListOf(tI64)}, err: "function concat expects arguments convertible to TEXT, got (BIGINT[])"},
		{fn: "concat_ws", args: []types.Type{tStr}, err: "function concat_ws expects at least 2 arguments, got 1"},
		{fn: "||", args: []types.Type{tStr, tI64}, want: []types.Type{tStr, tStr}},
		{fn: "||", args: []types.Type{tI64, tI64}, err: "operator || expects TEXT operands, got BIGINT and BIGINT"},
		{fn: "like", args: []types.Type{tStr, tI64}, err: "function like expects (TEXT, TEXT), got (TEXT, BIGINT)"},
	} {
		f, ok := Builtins().Lookup(c.fn)
		if !ok {
			t.Fatalf("%s not registered", c.fn)
		}
		r, err := f.Resolve(c.args)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s%v: got %v, want %q", c.fn, c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", c.fn, c.args, err)
			continue
		}
		for i, w := range c.want {
			if !r.Args[i].Equal(w) {
				t.Errorf("%s%v: arg %d resolved to %s, want %s", c.fn, c.args, i, r.Args[i], w)
			}
		}
	}
}

func TestLike(t *testing.T) {
	rows := []any{"apple", "Apple pie", "banana", "", "a_b", "a%b", "axb", "日本語", nil, `a\b`}
	for _, c := range []struct {
		pat   string
		ilike bool
		want  []any
	}{
		{"apple", false, []any{true, false, false, false, false, false, false, false, nil, false}},
		{"app%", false, []any{true, false, false, false, false, false, false, false, nil, false}},
		{"app%", true, []any{true, true, false, false, false, false, false, false, nil, false}},
		{"%pie", false, []any{false, true, false, false, false, false, false, false, nil, false}},
		{"%an%", false, []any{false, false, true, false, false, false, false, false, nil, false}},
		{"%AN%", true, []any{false, false, true, false, false, false, false, false, nil, false}},
		{"%", false, []any{true, true, true, true, true, true, true, true, nil, true}},
		{"", false, []any{false, false, false, true, false, false, false, false, nil, false}},
		{"a_b", false, []any{false, false, false, false, true, true, true, false, nil, true}},
		{`a\_b`, false, []any{false, false, false, false, true, false, false, false, nil, false}},
		{`a\%b`, false, []any{false, false, false, false, false, true, false, false, nil, false}},
		{`a\\b`, false, []any{false, false, false, false, false, false, false, false, nil, true}},
		{"_本%", false, []any{false, false, false, false, false, false, false, true, nil, false}},
		{"%a%a%", false, []any{false, false, true, false, false, false, false, false, nil, false}},
		{"b%n_", false, []any{false, false, true, false, false, false, false, false, nil, false}},
		{"%p%e", false, []any{true, true, false, false, false, false, false, false, nil, false}},
		{"A%E", true, []any{true, true, false, false, false, false, false, false, nil, false}},
		{"___", false, []any{false, false, false, false, true, true, true, true, nil, true}},
	} {
		fn := "like"
		if c.ilike {
			fn = "ilike"
		}
		s := vec(tStr, rows...)
		// Constant pattern (specialized), as a value and as a filter.
		e := call(fn, tBool, col(0, tStr), lit(tStr, c.pat))
		got, err := evalRows(t, e, s)
		if err != nil || !equalValues(got, c.want) {
			t.Fatalf("%s %q: got %v, %v; want %v", fn, c.pat, got, err, c.want)
		}
		sel := filterMatches(t, e, s)
		for i, w := range c.want {
			if sel[i] != (w == true) {
				t.Fatalf("%s %q filter row %d: %v", fn, c.pat, i, sel[i])
			}
		}
		// Pattern column (the general kernel).
		pats := make([]any, len(rows))
		for i := range pats {
			pats[i] = c.pat
		}
		got, err = evalRows(t, call(fn, tBool, col(0, tStr), col(1, tStr)), s, vec(tStr, pats...))
		if err != nil || !equalValues(got, c.want) {
			t.Fatalf("%s %q (column pattern): got %v, %v; want %v", fn, c.pat, got, err, c.want)
		}
	}
	kinds := map[string]likeKind{"abc": likeExact, "abc%": likePrefix, "%abc": likeSuffix, "%abc%": likeContains,
		"%%": likeAny, "a%c": likeGeneral, "a_": likeGeneral, `ab\%%`: likePrefix, "%%ab%%": likeContains}
	for p, k := range kinds {
		if m := compileLike([]byte(p), false); m.kind != k {
			t.Errorf("pattern %q classified %d, want %d", p, m.kind, k)
		}
	}
}
