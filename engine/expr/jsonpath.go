package expr

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// JSONPath (RFC 9535, the dialect of serde_json_path, which Arroyo's
// extract_json uses) without filter expressions: $ is the document, then
// segments .name, .*, [selectors] and their descendant forms ..name, ..*,
// ..[selectors], where a selector is 'name' or "name", an index (negative
// from the end), * or a slice start:end:step, and several are separated by
// commas: $.store.book[0, -1].title, $..price, $.a[1:3].

type jpSelector struct {
	kind  uint8 // jpName, jpIndex, jpWild, jpSlice
	name  []byte
	index int64
	// slice bounds; has* false when omitted
	start, end, step int64
	hasStart, hasEnd bool
}

const (
	jpName uint8 = iota
	jpIndex
	jpWild
	jpSlice
)

type jpSegment struct {
	descendant bool
	sels       []jpSelector
}

type jsonPath struct {
	text string
	segs []jpSegment
}

// errJSONPath prefixes path syntax errors.
var errJSONPath = errors.New("invalid JSONPath")

func compileJSONPath(p string) (*jsonPath, error) {
	bad := func(at int, what string) error {
		return fmt.Errorf("%w '%s' at character %d: %s", errJSONPath, p, at+1, what)
	}
	s := []byte(p)
	i := jsonWS(s, 0)
	if i >= len(s) || s[i] != '$' {
		return nil, bad(i, "a path starts with $")
	}
	jp := &jsonPath{text: p}
	i++
	for {
		i = jsonWS(s, i)
		if i >= len(s) {
			return jp, nil
		}
		seg := jpSegment{}
		switch {
		case s[i] == '.' && i+1 < len(s) && s[i+1] == '.':
			seg.descendant = true
			i += 2
			if i < len(s) && s[i] == '[' {
				break
			}
			fallthrough
		case s[i] == '.':
			if !seg.descendant {
				i++
			}
			if i < len(s) && s[i] == '*' {
				seg.sels = []jpSelector{{kind: jpWild}}
				i++
				jp.segs = append(jp.segs, seg)
				continue
			}
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 0x80 || 'a' <= s[j]|0x20 && s[j]|0x20 <= 'z' || j > i && '0' <= s[j] && s[j] <= '9') {
				j++
			}
			if j == i {
				return nil, bad(i, "expected a member name or * after '.'")
			}
			seg.sels = []jpSelector{{kind: jpName, name: s[i:j]}}
			i = j
			jp.segs = append(jp.segs, seg)
			continue
		case s[i] == '[':
		default:
			return nil, bad(i, fmt.Sprintf("unexpected '%c' (expected '.' or '[')", s[i]))
		}
		// s[i] == '['
		i++
		for {
			i = jsonWS(s, i)
			if i >= len(s) {
				return nil, bad(i, "unclosed '['")
			}
			var sel jpSelector
			switch c := s[i]; {
			case c == '\'' || c == '"':
				name, e, err := jpQuoted(s, i)
				if err != "" {
					return nil, bad(i, err)
				}
				sel, i = jpSelector{kind: jpName, name: name}, e
			case c == '*':
				sel, i = jpSelector{kind: jpWild}, i+1
			case c == '?':
				return nil, bad(i, "filter expressions (?...) are not supported")
			case c == '-' || c == ':' || '0' <= c && c <= '9':
				var err string
				sel, i, err = jpIndexOrSlice(s, i)
				if err != "" {
					return nil, bad(i, err)
				}
			default:
				return nil, bad(i, fmt.Sprintf("unexpected '%c' in a selector", c))
			}
			seg.sels = append(seg.sels, sel)
			i = jsonWS(s, i)
			if i >= len(s) {
				return nil, bad(i, "unclosed '['")
			}
			if s[i] == ',' {
				i++
				continue
			}
			if s[i] != ']' {
				return nil, bad(i, fmt.Sprintf("unexpected '%c' (expected ',' or ']')", s[i]))
			}
			i++
			break
		}
		jp.segs = append(jp.segs, seg)
	}
}

// jpQuoted reads a quoted member name at s[i].
func jpQuoted(s []byte, i int) (name []byte, end int, err string) {
	q := s[i]
	var out []byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == q:
			return out, j + 1, ""
		case c == '\\':
			if j+1 >= len(s) {
				return nil, j, "unterminated string"
			}
			j++
			switch e := s[j]; e {
			case '\'', '"', '\\', '/':
				out = append(out, e)
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'u':
				// Reuse the JSON decoder for \uXXXX (and surrogate pairs).
				k := j + 5
				if k+6 <= len(s) && s[k] == '\\' && s[k+1] == 'u' {
					if r, ok := hex4(s, j+1); ok && r >= 0xD800 && r < 0xDC00 {
						k += 6
					}
				}
				if k > len(s) {
					return nil, j, "bad \\u escape"
				}
				raw := append(append([]byte{'"'}, s[j-1:k]...), '"')
				u, ok := jsonUnquote(out, raw)
				if !ok {
					return nil, j, "bad \\u escape"
				}
				out = u
				j = k - 1
			default:
				return nil, j, fmt.Sprintf("bad escape '\\%c'", e)
			}
		default:
			out = append(out, c)
		}
	}
	return nil, len(s), "unterminated string"
}

// jpIndexOrSlice reads an index or a slice start:end:step at s[i].
func jpIndexOrSlice(s []byte, i int) (jpSelector, int, string) {
	num := func() (int64, bool, string) {
		i = jsonWS(s, i)
		j := i
		if j < len(s) && s[j] == '-' {
			j++
		}
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i {
			return 0, false, ""
		}
		v, err := strconv.ParseInt(string(s[i:j]), 10, 64)
		if err != nil {
			return 0, false, "bad number " + string(s[i:j])
		}
		i = j
		return v, true, ""
	}
	var sel jpSelector
	v, ok, err := num()
	if err != "" {
		return sel, i, err
	}
	i = jsonWS(s, i)
	if i >= len(s) || s[i] != ':' {
		if !ok {
			return sel, i, "expected an index"
		}
		return jpSelector{kind: jpIndex, index: v}, i, ""
	}
	sel = jpSelector{kind: jpSlice, start: v, hasStart: ok, step: 1}
	i++
	if sel.end, sel.hasEnd, err = num(); err != "" {
		return sel, i, err
	}
	i = jsonWS(s, i)
	if i < len(s) && s[i] == ':' {
		i++
		st, has, err := num()
		if err != "" {
			return sel, i, err
		}
		if has {
			sel.step = st
		}
	}
	return sel, i, ""
}

// jpSpan is a matched value: a span of the document.
type jpSpan struct{ start, end int }

// eval appends to out the spans the path matches in s, in document order,
// using tmp as scratch. ok is false when s is not valid JSON where the
// path goes.
func (jp *jsonPath) eval(s []byte, out, tmp []jpSpan) (matches, scratch []jpSpan, ok bool) {
	start, end := jsonWS(s, 0), 0
	if end = jsonSkip(s, start); end < 0 {
		return out, tmp, false
	}
	cur := append(out[:0], jpSpan{start, end})
	next := tmp[:0]
	for _, seg := range jp.segs {
		next = next[:0]
		for _, v := range cur {
			var good bool
			if next, good = seg.apply(s, v, next); !good {
				return cur, next, false
			}
		}
		cur, next = next, cur
	}
	return cur, next, true
}

// apply appends the children of v that seg selects (and, for a descendant
// segment, those of every descendant of v).
func (seg *jpSegment) apply(s []byte, v jpSpan, out []jpSpan) ([]jpSpan, bool) {
	out, ok := seg.selectChildren(s, v, out)
	if !ok || !seg.descendant {
		return out, ok
	}
	c := s[v.start]
	if c != '[' && c != '{' {
		return out, true
	}
	good := true
	valid := jsonEach(s, v.start, func(_ []byte, _, vs, ve int) bool {
		out, good = seg.apply(s, jpSpan{vs, ve}, out)
		return good
	}, nil)
	return out, valid && good
}

func (seg *jpSegment) selectChildren(s []byte, v jpSpan, out []jpSpan) ([]jpSpan, bool) {
	c := s[v.start]
	if c != '[' && c != '{' {
		return out, true
	}
	obj := c == '{'
	n := -1 // array length, counted when a selector needs it
	for k := range seg.sels {
		sel := &seg.sels[k]
		switch {
		case sel.kind == jpWild:
			valid := jsonEach(s, v.start, func(_ []byte, _, vs, ve int) bool {
				out = append(out, jpSpan{vs, ve})
				return true
			}, nil)
			if !valid {
				return out, false
			}
		case sel.kind == jpName && obj:
			vs, ve, found, valid := jsonMember(s, v.start, sel.name)
			if !valid {
				return out, false
			}
			if found {
				out = append(out, jpSpan{vs, ve})
			}
		case sel.kind == jpIndex && !obj:
			vs, ve, found, valid := jsonElement(s, v.start, sel.index)
			if !valid {
				return out, false
			}
			if found {
				out = append(out, jpSpan{vs, ve})
			}
		case sel.kind == jpSlice && !obj:
			if n < 0 {
				var valid bool
				if n, valid = jsonCount(s, v.start); !valid {
					return out, false
				}
			}
			lo, hi, step := sel.bounds(int64(n))
			if step == 0 {
				continue
			}
			valid := jsonEach(s, v.start, func(_ []byte, idx, vs, ve int) bool {
				k := int64(idx)
				if step > 0 && k >= lo && k < hi && (k-lo)%step == 0 {
					out = append(out, jpSpan{vs, ve})
				}
				return true
			}, nil)
			if !valid {
				return out, false
			}
			if step < 0 {
				// Negative steps select from the end: collect forward, then
				// pick in reverse (RFC 9535 2.3.4.2.2).
				var picked []jpSpan
				jsonEach(s, v.start, func(_ []byte, idx, vs, ve int) bool {
					k := int64(idx)
					if k <= lo && k > hi && (lo-k)%(-step) == 0 {
						picked = append(picked, jpSpan{vs, ve})
					}
					return true
				}, nil)
				for j := len(picked) - 1; j >= 0; j-- {
					out = append(out, picked[j])
				}
			}
		}
	}
	return out, true
}

// bounds normalizes a slice over n elements as RFC 9535 does: for a
// positive step [lo, hi), for a negative one (hi, lo].
func (sel *jpSelector) bounds(n int64) (lo, hi, step int64) {
	step = sel.step
	norm := func(i int64) int64 {
		if i < 0 {
			return n + i
		}
		return i
	}
	clamp := func(i, a, b int64) int64 { return min(max(i, a), b) }
	switch {
	case step > 0:
		lo, hi = 0, n
		if sel.hasStart {
			lo = clamp(norm(sel.start), 0, n)
		}
		if sel.hasEnd {
			hi = clamp(norm(sel.end), 0, n)
		}
	case step < 0:
		lo, hi = n-1, -1
		if sel.hasStart {
			lo = clamp(norm(sel.start), -1, n-1)
		}
		if sel.hasEnd {
			hi = clamp(norm(sel.end), -1, n-1)
		}
	}
	return lo, hi, step
}

// jpCache compiles the per-row paths of one batch, remembering the last.
type jpCache struct {
	last []byte
	jp   *jsonPath
}

func (c *jpCache) get(p []byte) (*jsonPath, error) {
	if c.jp != nil && bytes.Equal(p, c.last) {
		return c.jp, nil
	}
	jp, err := compileJSONPath(string(p))
	if err != nil {
		return nil, err
	}
	c.last, c.jp = p, jp
	return jp, nil
}

// jsonPathOut says what a JSONPath function makes of its matches.
type jsonPathOut uint8

const (
	jpAll         jsonPathOut = iota // extract_json: every match, as a JSON[] of compact JSON
	jpFirstString                    // extract_json_string: the first match if it is a string, unquoted
	jpFirstJSON                      // get_first_json_object, json_extract: the first match, compact
	jpFirstScalar                    // json_extract_scalar: the first match if a scalar, as text
)

// jsonPathKernel is the kernel of a JSONPath function; fixed is the
// compiled constant path, or nil to compile each row's.
func jsonPathKernel(what jsonPathOut, result types.Type, fixed *jsonPath) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		doc, paths := args[0].(*coldata.Bytes), args[1].(*coldata.Bytes)
		nulls := orWords(words(doc), words(paths))
		var (
			cache      jpCache
			err        error
			match, tmp []jpSpan
		)
		pathOf := func(i int) (*jsonPath, bool) {
			if fixed != nil {
				return fixed, true
			}
			jp, e := cache.get(paths.Get(i))
			if e != nil {
				err = atRow(i, e)
				return nil, false
			}
			return jp, true
		}
		if what == jpAll {
			elems := al.Bytes(types.JSONT, n, len(doc.Data))
			out := al.List(result, n, elems)
			var missing []int
			k := 0
			for i := 0; i < n && err == nil; i++ {
				live := sel == nil
				if !live && k < len(sel) && int(sel[k]) == i {
					live = true
					k++
				}
				if live && !nullAt(nulls, i) {
					if jp, ok := pathOf(i); ok {
						s := doc.Get(i)
						var valid bool
						if match, tmp, valid = jp.eval(s, match, tmp); valid {
							for _, m := range match {
								elems.Data = jsonCompact(elems.Data, s[m.start:m.end])
								elems.Offsets = append(elems.Offsets, int32(len(elems.Data)))
							}
						} else {
							missing = append(missing, i)
						}
					}
				}
				out.Offsets[i+1] = int32(elems.Len())
			}
			if err != nil {
				return nil, err
			}
			out.N.SetWords(withMissing(nulls, missing, n))
			return out, nil
		}
		out := buildBytesNullable(al, result, n, sel, nulls, len(doc.Data), func(dst []byte, i int) ([]byte, bool) {
			jp, ok := pathOf(i)
			if !ok {
				return dst, false
			}
			s := doc.Get(i)
			var valid bool
			if match, tmp, valid = jp.eval(s, match, tmp); !valid || len(match) == 0 {
				return dst, false
			}
			v := s[match[0].start:match[0].end]
			switch what {
			case jpFirstString:
				if v[0] != '"' {
					return dst, false
				}
				return jsonUnquote(dst, v)
			case jpFirstScalar:
				switch v[0] {
				case '"':
					return jsonUnquote(dst, v)
				case '{', '[', 'n':
					return dst, false
				}
				return append(dst, v...), true
			}
			return jsonCompact(dst, v), true
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

func jsonPathResolve(name string, what jsonPathOut, result types.Type) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		r, err := sigs(name, result, jsonPathKernel(what, result, nil), sig{pJSONText, pText})(args)
		if err != nil {
			return nil, err
		}
		r.prepare = func(consts []*scalar) (Kernel, error) {
			if consts[1] == nil {
				return nil, nil
			}
			jp, err := compileJSONPath(string(consts[1].s))
			if err != nil {
				return nil, &argError{arg: 1, err: fmt.Errorf("%s: %w", name, err)}
			}
			return jsonPathKernel(what, result, jp), nil
		}
		return r, nil
	}
}

func init() {
	for _, f := range []struct {
		name, desc string
		what       jsonPathOut
		t          types.Type
	}{
		{"extract_json", "every value a JSONPath matches, as an array of JSON", jpAll, types.ListOf(types.JSONT)},
		{"extract_json_string", "the first value a JSONPath matches, if it is a string", jpFirstString, types.StringT},
		{"get_first_json_object", "the first value a JSONPath matches, as JSON text", jpFirstJSON, types.StringT},
		{"json_extract", "the first value a JSONPath matches", jpFirstJSON, types.JSONT},
		{"json_extract_scalar", "the first value a JSONPath matches, as text, if it is a string, number or boolean", jpFirstScalar, types.StringT},
	} {
		register(&Func{Name: f.name, Description: f.desc, Resolve: jsonPathResolve(f.name, f.what, f.t)})
	}
}
