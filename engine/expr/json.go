package expr

import (
	"fmt"
	"strconv"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// JSON functions over JSON text (a JSON or TEXT argument).
//
// The json_* family is DataFusion's datafusion-functions-json, which
// Arroyo ships: json_get(json, key_or_index...) and its typed forms follow
// a path of object keys (TEXT) and array indexes (integers, 0-based,
// negative from the end). A missing key, an index out of range, a value of
// the wrong kind for a typed getter (json_get_int of "abc" or of 1.5) and
// text that is not valid JSON up to the value all give NULL, never an
// error: one bad event must not stop a pipeline. The operators -> and ->>
// are json_get and json_as_text.
//
// extract_json, extract_json_string and get_first_json_object are Arroyo's
// JSONPath functions ($.a.b[0], $.items[*].id, $..name); json_extract and
// json_extract_scalar are the Presto/Trino names of the last two forms. A
// constant path is compiled once per call site and an invalid one is a
// planning error; a path that varies per row is compiled once per
// distinct path in a batch.
//
// Documents are scanned, not decoded: the scanner walks the text to the
// value and copies its bytes (jsonscan.go).

// pJSONText accepts JSON or TEXT and keeps it: both are the same bytes.
var pJSONText = param{"JSON", func(t types.Type) (types.Type, bool) {
	switch t.Kind {
	case types.JSON:
		return types.JSONT, true
	case types.String, types.Null:
		return types.StringT, true
	}
	return types.Type{}, false
}}

// jsonGetter reads the value a json_get path found: the document s, the
// value's span, and appends the result (bytes results) or stores it (fixed
// results); ok false makes the row NULL.
type jsonGetter[T any] func(dst []byte, s []byte, start, end int) (out []byte, v T, ok bool)

// jsonPathArgs follows the path given by args[1:] (TEXT keys, BIGINT
// indexes) in row i of the document doc. It returns the value's span, or
// ok false when there is none.
func jsonFollow(doc *coldata.Bytes, path []coldata.Vector, i int) (s []byte, start, end int, ok bool) {
	s = doc.Get(i)
	if len(path) == 0 {
		start, end, ok = jsonRoot(s)
		return s, start, end, ok
	}
	start = jsonWS(s, 0)
	for _, p := range path {
		if start >= len(s) {
			return s, 0, 0, false
		}
		var found, valid bool
		switch p := p.(type) {
		case *coldata.Bytes:
			if s[start] != '{' {
				return s, 0, 0, false
			}
			start, end, found, valid = jsonMember(s, start, p.Get(i))
		case *coldata.Vec[int64]:
			if s[start] != '[' {
				return s, 0, 0, false
			}
			start, end, found, valid = jsonElement(s, start, p.Vals[i])
		default:
			return s, 0, 0, false
		}
		if !found || !valid {
			return s, 0, 0, false
		}
	}
	return s, start, end, true
}

// jsonGetResolve resolves f(json, path...) with result type result.
func jsonGetResolve(name string, result types.Type, kernel Kernel) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		form := fmt.Errorf("function %s expects (JSON or TEXT, then keys (TEXT) or indexes (integers)...), got %s", name, typeList(args))
		if len(args) == 0 {
			return nil, form
		}
		want := make([]types.Type, len(args))
		t, ok := pJSONText.coerce(args[0])
		if !ok {
			return nil, form
		}
		want[0] = t
		for k, a := range args[1:] {
			switch {
			case a.Kind == types.String || a.Kind == types.Null:
				want[k+1] = types.StringT
			case a.Kind.IsInteger():
				want[k+1] = types.Int64T
			default:
				return nil, form
			}
		}
		return &Resolved{Args: want, Result: result, Kernel: kernel}, nil
	}
}

// jsonBytesKernel builds a bytes result of type t from get.
func jsonBytesKernel(t types.Type, get jsonGetter[struct{}]) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		doc, path := args[0].(*coldata.Bytes), args[1:]
		nulls := unionNulls(args)
		return buildBytesNullable(al, t, n, sel, nulls, len(doc.Data), func(dst []byte, i int) ([]byte, bool) {
			s, start, end, ok := jsonFollow(doc, path, i)
			if !ok {
				return dst, false
			}
			out, _, ok := get(dst, s, start, end)
			return out, ok
		}), nil
	}
}

// jsonFixedKernel builds a fixed-width result of type t from get.
func jsonFixedKernel[T coldata.Fixed](t types.Type, get jsonGetter[T]) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		doc, path := args[0].(*coldata.Bytes), args[1:]
		nulls := unionNulls(args)
		out := coldata.AllocVec[T](al, t, n)
		var missing []int
		_ = forLive(n, sel, nulls, func(i int) error {
			s, start, end, ok := jsonFollow(doc, path, i)
			var v T
			if ok {
				_, v, ok = get(nil, s, start, end)
			}
			if !ok {
				missing = append(missing, i)
			}
			out.Vals[i] = v
			return nil
		})
		out.N.SetWords(withMissing(nulls, missing, n))
		return out, nil
	}
}

// withMissing returns the bitmap nulls with the rows missing set too (a
// copy: nulls may be an input's).
func withMissing(nulls []uint64, missing []int, n int) []uint64 {
	if len(missing) == 0 {
		return nulls
	}
	w := copyWords(nulls, n)
	for _, i := range missing {
		setBit(w, i)
	}
	return w
}

// buildBytesNullable is buildBytes where f may make a row NULL.
func buildBytesNullable(al *coldata.Allocator, t types.Type, n int, sel []int32, nulls []uint64, sizeHint int, f func(dst []byte, i int) ([]byte, bool)) *coldata.Bytes {
	var missing []int
	out := buildBytes(al, t, n, sel, nulls, sizeHint, func(dst []byte, i int) []byte {
		d, ok := f(dst, i)
		if !ok {
			missing = append(missing, i)
			return dst
		}
		return d
	})
	out.N.SetWords(withMissing(nulls, missing, n))
	return out
}

// The getters of the json_get family.

func getJSON(dst, s []byte, start, end int) ([]byte, struct{}, bool) {
	if s[start] == 'n' {
		return dst, struct{}{}, false // JSON null is SQL NULL
	}
	return append(dst, s[start:end]...), struct{}{}, true
}

func getRawText(dst, s []byte, start, end int) ([]byte, struct{}, bool) {
	return append(dst, s[start:end]...), struct{}{}, true
}

func getStr(dst, s []byte, start, end int) ([]byte, struct{}, bool) {
	if s[start] != '"' {
		return dst, struct{}{}, false
	}
	out, ok := jsonUnquote(dst, s[start:end])
	if !ok {
		return dst, struct{}{}, false
	}
	return out, struct{}{}, true
}

// getAsText is json_as_text: strings unquoted, null NULL, anything else
// its JSON text.
func getAsText(dst, s []byte, start, end int) ([]byte, struct{}, bool) {
	switch s[start] {
	case '"':
		return getStr(dst, s, start, end)
	case 'n':
		return dst, struct{}{}, false
	}
	return append(dst, s[start:end]...), struct{}{}, true
}

func getInt(_, s []byte, start, end int) ([]byte, int64, bool) {
	if jsonKindOf(s[start]) != jNumber {
		return nil, 0, false
	}
	v, err := strconv.ParseInt(str(s[start:end]), 10, 64)
	return nil, v, err == nil
}

func getFloat(_, s []byte, start, end int) ([]byte, float64, bool) {
	if jsonKindOf(s[start]) != jNumber {
		return nil, 0, false
	}
	v, err := strconv.ParseFloat(str(s[start:end]), 64)
	return nil, v, err == nil
}

func getBool(_, s []byte, start, end int) ([]byte, bool, bool) {
	switch s[start] {
	case 't':
		return nil, true, true
	case 'f':
		return nil, false, true
	}
	return nil, false, false
}

func getLength(_, s []byte, start, end int) ([]byte, uint64, bool) {
	if c := s[start]; c != '[' && c != '{' {
		return nil, 0, false
	}
	n, ok := jsonCount(s, start)
	return nil, uint64(n), ok
}

// jsonContains is json_contains(json, path...): whether the path names a
// value (FALSE, not NULL, when it does not or the text is not JSON).
func jsonContains(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	doc, path := args[0].(*coldata.Bytes), args[1:]
	nulls := unionNulls(args)
	out := coldata.AllocVec[bool](al, types.BoolT, n)
	_ = forLive(n, sel, nulls, func(i int) error {
		_, _, _, ok := jsonFollow(doc, path, i)
		out.Vals[i] = ok
		return nil
	})
	out.N.SetWords(nulls)
	return out, nil
}

func init() {
	for _, f := range []struct {
		name, desc string
		t          types.Type
		k          Kernel
	}{
		{"json_get", "the JSON value at a path of keys and 0-based indexes", types.JSONT, jsonBytesKernel(types.JSONT, getJSON)},
		{"json_get_json", "the JSON text of the value at a path", types.StringT, jsonBytesKernel(types.StringT, getRawText)},
		{"json_get_str", "the string at a path (NULL if it is not a string)", types.StringT, jsonBytesKernel(types.StringT, getStr)},
		{"json_as_text", "the value at a path as text: strings unquoted, other values as JSON", types.StringT, jsonBytesKernel(types.StringT, getAsText)},
		{"json_get_int", "the integer at a path (NULL if it is not an integer)", types.Int64T, jsonFixedKernel(types.Int64T, getInt)},
		{"json_get_float", "the number at a path as a DOUBLE", types.Float64T, jsonFixedKernel(types.Float64T, getFloat)},
		{"json_get_bool", "the boolean at a path", types.BoolT, jsonFixedKernel(types.BoolT, getBool)},
		{"json_length", "the number of elements or members of the array or object at a path", types.UInt64T, jsonFixedKernel(types.UInt64T, getLength)},
		{"json_contains", "whether the path names a value", types.BoolT, jsonContains},
	} {
		register(&Func{Name: f.name, Description: f.desc, Resolve: jsonGetResolve(f.name, f.t, f.k)})
	}
}
