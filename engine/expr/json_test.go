package expr

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

const doc1 = `{"a": {"b": [10, 20.5, "x", true, null, {"c": "d"}]}, "s": "caf\u00e9 \"q\"\n", "n": -3,
  "e": "\ud83d\ude00", "k\"ey": 1, "arr": [[1, 2], [3]]}`

func TestJSONGet(t *testing.T) {
	S, I := tStr, tI64
	for _, c := range []struct {
		fn   string
		rt   types.Type
		path []any // keys (string) and indexes (int)
		want any
	}{
		{"json_get", tJSON, []any{"a", "b", 0}, "10"},
		{"json_get", tJSON, []any{"a", "b", -1}, `{"c": "d"}`},
		{"json_get", tJSON, []any{"a", "b", -6}, "10"},
		{"json_get", tJSON, []any{"a", "b", -7}, nil},
		{"json_get", tJSON, []any{"a", "b", 4}, nil}, // JSON null
		{"json_get", tJSON, []any{"a", "b", 6}, nil}, // out of range
		{"json_get", tJSON, []any{"a", "x"}, nil},
		{"json_get", tJSON, []any{"a", 0}, nil},     // an index into an object
		{"json_get", tJSON, []any{"arr", "0"}, nil}, // a key into an array
		{"json_get", tJSON, []any{"arr", 0, 1}, "2"},
		{"json_get", tJSON, []any{`k"ey`}, "1"}, // an escaped key
		{"json_get", tJSON, []any{"n", "x"}, nil},
		{"json_get_str", S, []any{"s"}, "café \"q\"\n"},
		{"json_get_str", S, []any{"e"}, "😀"},
		{"json_get_str", S, []any{"n"}, nil},
		{"json_get_int", I, []any{"n"}, -3},
		{"json_get_int", I, []any{"a", "b", 1}, nil}, // 20.5 is not an integer
		{"json_get_int", I, []any{"a", "b", 2}, nil},
		{"json_get_float", tF64, []any{"a", "b", 1}, 20.5},
		{"json_get_float", tF64, []any{"n"}, -3.0},
		{"json_get_float", tF64, []any{"s"}, nil},
		{"json_get_bool", tBool, []any{"a", "b", 3}, true},
		{"json_get_bool", tBool, []any{"a", "b", 4}, nil},
		{"json_get_json", S, []any{"a", "b", 5}, `{"c": "d"}`},
		{"json_get_json", S, []any{"a", "b", 4}, "null"},
		{"json_get_json", S, []any{"s"}, `"caf\u00e9 \"q\"\n"`},
		{"json_as_text", S, []any{"a", "b", 0}, "10"},
		{"json_as_text", S, []any{"a", "b", 2}, "x"},
		{"json_as_text", S, []any{"a", "b", 3}, "true"},
		{"json_as_text", S, []any{"a", "b", 4}, nil},
		{"json_as_text", S, []any{"arr"}, "[[1, 2], [3]]"},
		{"json_length", tU64, []any{}, 6},
		{"json_length", tU64, []any{"a", "b"}, 6},
		{"json_length", tU64, []any{"arr", 1}, 1},
		{"json_length", tU64, []any{"n"}, nil},
		{"json_contains", tBool, []any{"a", "b"}, true},
		{"json_contains", tBool, []any{"a", "b", 4}, true}, // present, though null
		{"json_contains", tBool, []any{"zz"}, false},
	} {
		for _, docT := range []types.Type{tStr, tJSON} {
			args := [][]any{{doc1, nil, doc1}}
			ts := []types.Type{docT}
			for _, p := range c.path {
				if _, ok := p.(int); ok {
					ts = append(ts, I)
				} else {
					ts = append(ts, S)
				}
				args = append(args, []any{p, p, nil})
			}
			want := []any{c.want, nil, nil}
			if len(c.path) == 0 {
				args[0][2] = `[1, 2]`
				want[2] = map[string]any{"json_length": 2}[c.fn]
			}
			runFn(t, fnCase{fn: c.fn, rt: c.rt, ts: ts, args: args, want: want})
		}
	}
}

func TestJSONGetInvalid(t *testing.T) {
	docs := []any{`{"a": `, `not json`, ``, `{"a": 1} trailing`, `{"a": [1, }`, `{"a": "\x01"}`, ` {"a" : 7 } `, `[1, 2`}
	// Invalid JSON is NULL (FALSE for json_contains), never an error. A
	// path is followed without checking the rest of the document, as
	// DataFusion's scanner does: the valid prefix of {"a": 1} trailing has
	// a.
	runFn(t, fnCase{fn: "json_get", rt: tJSON, ts: []types.Type{tStr, tStr},
		args: [][]any{docs, {"a", "a", "a", "a", "a", "a", "a", "a"}},
		want: []any{nil, nil, nil, "1", nil, nil, "7", nil}})
	runFn(t, fnCase{fn: "json_contains", rt: tBool, ts: []types.Type{tStr, tStr},
		args: [][]any{docs, {"a", "a", "a", "a", "a", "a", "a", "a"}},
		want: []any{false, false, false, true, false, false, true, false}})
	// Without a path the whole text must be one JSON value.
	runFn(t, fnCase{fn: "json_get", rt: tJSON, ts: []types.Type{tStr},
		args: [][]any{docs}, want: []any{nil, nil, nil, nil, nil, nil, `{"a" : 7 }`, nil}})
	runFn(t, fnCase{fn: "json_length", rt: tU64, ts: []types.Type{tStr, tI64},
		args: [][]any{{`[1, 2`, `[[1, 2], 3`}, {0, 0}}, want: []any{nil, 2}})
	for _, bad := range [][]types.Type{{}, {tI64}, {tStr, tF64}, {tStr, tBool}} {
		if _, err := Builtins().funcs["json_get"].Resolve(bad); !errContains(err, "function json_get expects (JSON or TEXT, then keys") {
			t.Errorf("json_get%s: %v", typeList(bad), err)
		}
	}
}

const doc2 = `{"store": {"book": [{"title": "A", "price": 8.95, "tags": ["x", "y"]},
  {"title": "B", "price": 12.99}, {"title": "C", "price": 8.99, "isbn": "0-553"}],
  "bicycle": {"color": "red", "price": 19.95}}, "n": null, "odd key": "\u0041"}`

func TestExtractJSON(t *testing.T) {
	list := types.ListOf(tJSON)
	for _, c := range []struct {
		path string
		want any
	}{
		{"$.store.book[*].title", []any{`"A"`, `"B"`, `"C"`}},
		{"$..price", []any{"8.95", "12.99", "8.99", "19.95"}},
		{"$.store.book[0].tags", []any{`["x","y"]`}},
		{"$.store.book[-1].title", []any{`"C"`}},
		{"$.store.book[0:2].title", []any{`"A"`, `"B"`}},
		{"$.store.book[::-1].title", []any{`"C"`, `"B"`, `"A"`}},
		{"$.store.book[1:].title", []any{`"B"`, `"C"`}},
		{"$.store.book[:-2].title", []any{`"A"`}},
		{"$.store.book[0:3:2].title", []any{`"A"`, `"C"`}},
		{"$['store']['bicycle'].color", []any{`"red"`}},
		{`$["odd key"]`, []any{`"\u0041"`}},
		{"$.store.book[0, 2].price", []any{"8.95", "8.99"}},
		{"$.store.book[*]['title', 'isbn']", []any{`"A"`, `"B"`, `"C"`, `"0-553"`}},
		{"$.store.bicycle.*", []any{`"red"`, "19.95"}},
		{"$..book[1].price", []any{"12.99"}},
		{"$.missing", []any{}}, // no match: an empty array
		{"$.store.book[9]", []any{}},
		{"$.n", []any{"null"}},
		{" $ .store .bicycle	.color ", []any{`"red"`}},
	} {
		runFn(t, fnCase{fn: "extract_json", rt: list, ts: []types.Type{tStr, tStr},
			args: [][]any{{doc2, nil, doc2, "oops"}, {c.path, c.path, nil, c.path}},
			want: []any{c.want, nil, nil, nil}})
	}
	runFn(t, fnCase{fn: "extract_json", rt: list, ts: []types.Type{tStr, tStr},
		args: [][]any{{`{"a": 1}`}, {"$"}}, want: []any{[]any{`{"a":1}`}}})
}

func TestJSONPathFirst(t *testing.T) {
	for _, c := range []struct {
		fn, path string
		rt       types.Type
		want     any
	}{
		{"extract_json_string", "$.store.bicycle.color", tStr, "red"},
		{"extract_json_string", "$['odd key']", tStr, "A"},
		{"extract_json_string", "$.store.bicycle.price", tStr, nil},
		{"extract_json_string", "$.nope", tStr, nil},
		{"get_first_json_object", "$.store.book[0]", tStr, `{"title":"A","price":8.95,"tags":["x","y"]}`},
		{"get_first_json_object", "$.store.book[*].price", tStr, "8.95"},
		{"get_first_json_object", "$.n", tStr, "null"},
		{"get_first_json_object", "$.nope", tStr, nil},
		{"json_extract", "$.store.bicycle", tJSON, `{"color":"red","price":19.95}`},
		{"json_extract_scalar", "$.store.bicycle.price", tStr, "19.95"},
		{"json_extract_scalar", "$.store.bicycle.color", tStr, "red"},
		{"json_extract_scalar", "$.store.bicycle", tStr, nil},
		{"json_extract_scalar", "$.n", tStr, nil},
	} {
		runFn(t, fnCase{fn: c.fn, rt: c.rt, ts: []types.Type{tJSON, tStr},
			args: [][]any{{doc2, doc2, nil}, {c.path, nil, c.path}}, want: []any{c.want, nil, nil}})
		// A constant path, specialized.
		want(t, call(c.fn, c.rt, col(0, tJSON), lit(tStr, c.path)), cols(vec(tJSON, doc2, `[`)), c.want, nil)
	}
}

func TestJSONPathErrors(t *testing.T) {
	for path, msg := range map[string]string{
		"store.book":              "invalid JSONPath 'store.book' at character 1: a path starts with $",
		"$.a[?@.x]":               "at character 5: filter expressions (?...) are not supported",
		"$.a[":                    "unclosed '['",
		"$.":                      "expected a member name or * after '.'",
		"$[1:2:x]":                "expected ',' or ']'",
		"$.a b":                   "unexpected 'b' (expected '.' or '[')",
		"$['a":                    "unterminated string",
		"$[1 2]":                  "unexpected '2' (expected ',' or ']')",
		`$['\q']`:                 `bad escape '\q'`,
		"$[99999999999999999999]": "bad number",
	} {
		_, err := Compile(call("extract_json", types.ListOf(tJSON), col(0, tStr), lit(tStr, path)), nil)
		if !errContains(err, "extract_json: "+"invalid JSONPath") || !errContains(err, msg) {
			t.Errorf("path %q: %v, want %q", path, err, msg)
		}
	}
	runFn(t, fnCase{fn: "get_first_json_object", rt: tStr, ts: []types.Type{tStr, tStr},
		args: [][]any{{doc2, doc2}, {"$.n", "$$"}}, err: "invalid JSONPath '$$'"})
}

func TestJSONUnquote(t *testing.T) {
	for raw, want := range map[string]string{
		`"plain"`:         "plain",
		`"a\"b\\c\/d"`:    `a"b\c/d`,
		`"\b\f\n\r\t"`:    "\b\f\n\r\t",
		`"\u00e9\u4e2d"`:  "é中",
		`"\ud83d\ude00!"`: "😀!",
		`""`:              "",
		// Lone surrogates decode to U+FFFD, as encoding/json does.
		`"\ud83d"`:             "\uFFFD",
		`"\ud83dx"`:            "\uFFFDx",
		`"\ude00\ud83d\ude00"`: "\uFFFD😀",
	} {
		got, ok := jsonUnquote(nil, []byte(raw))
		if !ok || string(got) != want {
			t.Errorf("jsonUnquote(%s) = %q, %v; want %q", raw, got, ok, want)
		}
	}
	for _, raw := range []string{`"\x"`, `"\u12"`, `"\u12G4"`, `"\"`} {
		if got, ok := jsonUnquote(nil, []byte(raw)); ok {
			t.Errorf("jsonUnquote(%s) = %q, want not ok", raw, got)
		}
	}
}

// TestNoPerRowAllocations: the JSON, JSONPath and formatting kernels
// allocate per batch (result buffers), not per row.
func TestNoPerRowAllocations(t *testing.T) {
	const n = 1000
	docs := vec(tStr)
	tsv := vec(tTS)
	for i := 0; i < n; i++ {
		appendGo(docs, `{"a": {"b": [1, 2, {"c": "h\u00e9llo"}]}, "x": 1}`)
		appendGo(tsv, int64(i)*1_000_000_007)
	}
	for _, e := range []*program.Expr{
		call("json_get_str", tStr, col(0, tStr), lit(tStr, "a"), lit(tStr, "b"), lit(tI64, 2), lit(tStr, "c")),
		call("json_get", tJSON, col(0, tStr), lit(tStr, "a"), lit(tStr, "b")),
		call("json_get_int", tI64, col(0, tStr), lit(tStr, "a"), lit(tStr, "b"), lit(tI64, -2)),
		call("json_length", tU64, col(0, tStr), lit(tStr, "a"), lit(tStr, "b")),
		call("extract_json", types.ListOf(tJSON), col(0, tStr), lit(tStr, "$..c")),
		call("get_first_json_object", tStr, col(0, tStr), lit(tStr, "$.a.b[1:]")),
		call("to_char", tStr, col(1, tTS), lit(tStr, "%Y-%m-%d %H:%M:%S%.3f")),
		call("date_trunc", tTS, lit(tStr, "week"), col(1, tTS)),
		call("date_part", tF64, lit(tStr, "doy"), col(1, tTS)),
	} {
		ev, err := Compile(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := &coldata.Batch{Cols: []coldata.Vector{docs, tsv}, Len: n}
		if a := testing.AllocsPerRun(5, func() {
			if _, err := ev.Eval(tctx, b); err != nil {
				t.Fatal(err)
			}
		}); a > 50 {
			t.Errorf("%s: %v allocations for %d rows", e.Func, a, n)
		}
	}
}
