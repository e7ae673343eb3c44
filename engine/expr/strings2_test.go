package expr

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestMoreStringFunctions(t *testing.T) {
	for _, c := range []fnCase{
		{fn: "translate", rt: tStr, args: [][]any{{"12345", "héllo", "aaa", "abc", nil, "abc"}, {"143", "él", "aa", "", "a", "abc"}, {"ax", "ÉL", "xy", "xyz", "b", nil}},
			want: []any{"a2x5", "hÉLLo", "xxx", "abc", nil, nil}},
		{fn: "instr", rt: tI32, args: [][]any{{"héllo", "abc", "abc", nil}, {"llo", "x", "", "a"}}, want: []any{3, 0, 1, nil}},
		// position(sub, s) is POSITION(sub IN s).
		{fn: "position", rt: tI32, args: [][]any{{"llo", "x", "", nil}, {"héllo", "abc", "abc", "a"}}, want: []any{3, 0, 1, nil}},
		{fn: "chr", rt: tStr, ts: []types.Type{tI64}, args: [][]any{{65, 233, 0x1F600, nil}}, want: []any{"A", "é", "😀", nil}},
		{fn: "chr", rt: tStr, ts: []types.Type{tI64}, args: [][]any{{0}}, err: "null character not permitted"},
		{fn: "chr", rt: tStr, ts: []types.Type{tI64}, args: [][]any{{0x110000}}, err: "not a valid Unicode code point"},
		{fn: "chr", rt: tStr, ts: []types.Type{tI64}, args: [][]any{{-1}}, err: "not a valid Unicode code point"},
		{fn: "chr", rt: tStr, ts: []types.Type{tI64}, args: [][]any{{0xD800}}, err: "not a valid Unicode code point"},
		{fn: "ascii", rt: tI32, args: [][]any{{"A", "éa", "", nil}}, want: []any{65, 233, 0, nil}},
		{fn: "overlay", rt: tStr, ts: []types.Type{tStr, tStr, tI64, tI64},
			args: [][]any{{"Txxxxas", "abc", "abc", "héllo", "abc"}, {"hom", "X", "X", "É", "X"}, {2, 1, 5, 2, 2}, {4, 0, 1, 1, 10}},
			want: []any{"Thomas", "Xabc", "abcX", "hÉllo", "aX"}},
		{fn: "overlay", rt: tStr, ts: []types.Type{tStr, tStr, tI64}, args: [][]any{{"Txxxxas", nil}, {"hom", "a"}, {2, 1}}, want: []any{"Thomxas", nil}},
		{fn: "overlay", rt: tStr, ts: []types.Type{tStr, tStr, tI64}, args: [][]any{{"abc"}, {"X"}, {0}}, err: "overlay position must be at least 1, got 0"},
		{fn: "substr_index", rt: tStr, ts: []types.Type{tStr, tStr, tI64},
			args: [][]any{{"www.apache.org", "www.apache.org", "www.apache.org", "www.apache.org", "www.apache.org", "a::b::c", "abc", "abc", nil}, {".", ".", ".", ".", ".", "::", "", "b", "."}, {1, 2, 3, -1, -2, -2, 1, 0, 1}},
			want: []any{"www", "www.apache", "www.apache.org", "org", "apache.org", "b::c", "", "", nil}},
		{fn: "substring_index", rt: tStr, ts: []types.Type{tStr, tStr, tI64}, args: [][]any{{"a.b"}, {"."}, {-5}}, want: []any{"a.b"}},
		{fn: "find_in_set", rt: tI32, args: [][]any{{"b", "d", "", "é", nil}, {"a,b,c", "a,b,c", "", "x,é", "a"}}, want: []any{2, 0, 1, 2, nil}},
		{fn: "levenshtein", rt: tI32, args: [][]any{{"kitten", "", "abc", "héllo", "flaw", nil}, {"sitting", "abc", "abc", "hello", "lawn", "a"}}, want: []any{3, 3, 0, 1, 2, nil}},
		{fn: "bit_length", rt: tI32, args: [][]any{{"abc", "é", "", nil}}, want: []any{24, 16, 0, nil}},
	} {
		runFn(t, c)
	}
}

func TestLpadAndSubstrEdges(t *testing.T) {
	// DataFusion: lpad/rpad to a negative or zero length is '', an empty
	// fill leaves the string (truncated to the length); substr from 0
	// or a negative start counts the characters before the string.
	for _, c := range []fnCase{
		{fn: "lpad", rt: tStr, ts: []types.Type{tStr, tI64, tStr}, args: [][]any{{"héllo", "ab", "ab"}, {0, 4, 1}, {"x", "", "x"}}, want: []any{"", "ab", "a"}},
		{fn: "substr", rt: tStr, ts: []types.Type{tStr, tI64, tI64}, args: [][]any{{"alphabet", "alphabet", "日本語"}, {0, -1, 2}, {3, 3, 1}}, want: []any{"al", "a", "本"}},
		{fn: "left", rt: tStr, ts: []types.Type{tStr, tI64}, args: [][]any{{"日本語"}, {-5}}, want: []any{""}},
	} {
		runFn(t, c)
	}
}

// TestUUID checks uuid() gives a distinct version-4 UUID per row and is
// never folded into a constant.
func TestUUID(t *testing.T) {
	e := call("uuid", tStr)
	ev, err := Compile(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := inner(ev).(*litEval); ok {
		t.Fatal("uuid() was folded into a constant")
	}
	seen := map[string]bool{}
	for round := 0; round < 2; round++ {
		v, err := ev.Eval(tctx, &coldata.Batch{Len: 500})
		if err != nil {
			t.Fatal(err)
		}
		b := v.(*coldata.Bytes)
		for i := 0; i < 500; i++ {
			u := b.GetString(i)
			if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
				t.Fatalf("uuid %q is not in 8-4-4-4-12 form", u)
			}
			if u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
				t.Fatalf("uuid %q is not version 4, variant 10", u)
			}
			if seen[u] {
				t.Fatalf("uuid %q repeated", u)
			}
			seen[u] = true
		}
	}
	// upper(uuid()) has a constant-looking argument list but must not fold.
	ev, err = Compile(call("upper", tStr, e), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ev.Eval(tctx, &coldata.Batch{Len: 2})
	if err != nil {
		t.Fatal(err)
	}
	if b := v.(*coldata.Bytes); b.GetString(0) == b.GetString(1) {
		t.Fatalf("two rows got the same uuid %s", b.GetString(0))
	}
}
