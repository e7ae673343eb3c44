package expr

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON scanner for the JSON functions: it walks a document's text
// to the value a path names without building the document, skipping (and
// checking the syntax of) what it passes over. Values are byte spans of the
// original text. Nothing here allocates except jsonUnquote's output and
// jsonCompact's, which append to the caller's buffer.

// jsonKind is the kind of a JSON value, told by its first byte.
type jsonKind uint8

const (
	jInvalid jsonKind = iota
	jNull
	jBool
	jNumber
	jString
	jArray
	jObject
)

func jsonKindOf(c byte) jsonKind {
	switch {
	case c == 'n':
		return jNull
	case c == 't' || c == 'f':
		return jBool
	case c == '-' || '0' <= c && c <= '9':
		return jNumber
	case c == '"':
		return jString
	case c == '[':
		return jArray
	case c == '{':
		return jObject
	}
	return jInvalid
}

func jsonWS(s []byte, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonMaxDepth bounds the nesting the scanner follows: deeper documents
// are invalid, so a hostile document cannot exhaust the stack
// (serde_json, Arroyo's decoder, stops at 128).
const jsonMaxDepth = 512

// jsonSkip returns the end of the value starting at s[i] (no leading
// space), or -1 when it is not valid JSON.
func jsonSkip(s []byte, i int) int { return jsonSkipDepth(s, i, 0) }

func jsonSkipDepth(s []byte, i, depth int) int {
	if i >= len(s) {
		return -1
	}
	switch c := s[i]; {
	case c == '"':
		return jsonSkipString(s, i)
	case c == '{' || c == '[':
		if depth >= jsonMaxDepth {
			return -1
		}
		end := -1
		jsonEachDepth(s, i, depth+1, func(_ []byte, _, _, e int) bool { return true }, &end)
		return end
	case c == 't':
		return jsonLit(s, i, "true")
	case c == 'f':
		return jsonLit(s, i, "false")
	case c == 'n':
		return jsonLit(s, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return jsonSkipNumber(s, i)
	}
	return -1
}

func jsonLit(s []byte, i int, lit string) int {
	if len(s)-i >= len(lit) && string(s[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// strStop marks the bytes a string scan must look at: the closing quote,
// an escape and the control characters JSON forbids in strings.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func jsonSkipString(s []byte, i int) int {
	for j := i + 1; j < len(s); j++ {
		// Most bytes are plain: one table load each.
		for j < len(s) && !strStop[s[j]] {
			j++
		}
		if j >= len(s) {
			return -1
		}
		switch c := s[j]; {
		case c == '"':
			return j + 1
		case c == '\\':
			j++
			if j >= len(s) {
				return -1
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hex4(s, j+1); !ok {
					return -1
				}
				j += 4
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
	return -1
}

func jsonSkipNumber(s []byte, i int) int {
	j := i
	if s[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(s) && s[j] == '0' {
		j++ // no leading zeros: 0, 0.5, not 01
	} else if digits() == 0 {
		return -1
	}
	if j < len(s) && s[j] == '.' {
		j++
		if digits() == 0 {
			return -1
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if digits() == 0 {
			return -1
		}
	}
	return j
}

// jsonEach calls f for each member of the object or element of the array
// starting at s[i], with the member's raw key (quotes included; nil for
// array elements), its position (0-based) and the span of its value. f
// returns false to stop early. jsonEach reports whether the container was
// valid up to where it stopped; when it ran to the end it stores the end
// of the container in *end (when end is not nil).
func jsonEach(s []byte, i int, f func(key []byte, idx, start, end int) bool, end *int) bool {
	return jsonEachDepth(s, i, 0, f, end)
}

// jsonEachDepth is jsonEach for a container at nesting depth.
func jsonEachDepth(s []byte, i, depth int, f func(key []byte, idx, start, end int) bool, end *int) bool {
	obj := s[i] == '{'
	closing := byte(']')
	if obj {
		closing = '}'
	}
	j := jsonWS(s, i+1)
	if j < len(s) && s[j] == closing {
		if end != nil {
			*end = j + 1
		}
		return true
	}
	for idx := 0; ; idx++ {
		var key []byte
		if obj {
			if j >= len(s) || s[j] != '"' {
				return false
			}
			ke := jsonSkipString(s, j)
			if ke < 0 {
				return false
			}
			key = s[j:ke]
			j = jsonWS(s, ke)
			if j >= len(s) || s[j] != ':' {
				return false
			}
			j = jsonWS(s, j+1)
		}
		ve := jsonSkipDepth(s, j, depth)
		if ve < 0 {
			return false
		}
		if !f(key, idx, j, ve) {
			return true
		}
		j = jsonWS(s, ve)
		if j >= len(s) {
			return false
		}
		switch s[j] {
		case ',':
			j = jsonWS(s, j+1)
		case closing:
			if end != nil {
				*end = j + 1
			}
			return true
		default:
			return false
		}
	}
}

// jsonKeyIs reports whether the raw key (quoted, possibly with escapes)
// is name.
func jsonKeyIs(raw, name []byte) bool {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return bytes.Equal(inner, name)
	}
	var buf [64]byte
	u, ok := jsonUnquote(buf[:0], raw)
	return ok && bytes.Equal(u, name)
}

// jsonMember returns the span of the value of member name in the object
// starting at s[i] (the first, if repeated). found is false when there is
// none; ok is false when the object is not valid JSON up to the member.
func jsonMember(s []byte, i int, name []byte) (start, end int, found, ok bool) {
	ok = jsonEach(s, i, func(key []byte, _, vs, ve int) bool {
		if jsonKeyIs(key, name) {
			start, end, found = vs, ve, true
			return false
		}
		return true
	}, nil)
	return start, end, found, ok
}

// jsonElement returns the span of element k of the array starting at s[i];
// a negative k counts from the end (-1 is the last element).
func jsonElement(s []byte, i int, k int64) (start, end int, found, ok bool) {
	if k < 0 {
		n, valid := jsonCount(s, i)
		if !valid {
			return 0, 0, false, false
		}
		if k += int64(n); k < 0 {
			return 0, 0, false, true
		}
	}
	ok = jsonEach(s, i, func(_ []byte, idx, vs, ve int) bool {
		if int64(idx) == k {
			start, end, found = vs, ve, true
			return false
		}
		return true
	}, nil)
	return start, end, found, ok
}

// jsonCount counts the members or elements of the container at s[i].
func jsonCount(s []byte, i int) (int, bool) {
	n := 0
	ok := jsonEach(s, i, func([]byte, int, int, int) bool { n++; return true }, nil)
	return n, ok
}

// jsonUnquote appends the decoded contents of the JSON string raw (quotes
// included) to dst. Invalid escapes are not ok; a lone surrogate decodes
// to U+FFFD.
func jsonUnquote(dst, raw []byte) ([]byte, bool) {
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '\\' {
			j++
		}
		dst = append(dst, s[i:j]...)
		if j == len(s) {
			break
		}
		if j+1 >= len(s) {
			return dst, false
		}
		c := s[j+1]
		i = j + 2
		switch c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return dst, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair makes one character; a lone surrogate is U+FFFD, as
				// encoding/json decodes it.
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, _ = hex4(s, i+2)
				}
				if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
					r = p
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
	return dst, true
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// jsonCompact appends the JSON value v without the whitespace between its
// tokens (strings and numbers keep their text).
func jsonCompact(dst, v []byte) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			e := jsonSkipString(v, i)
			if e < 0 {
				e = len(v)
			}
			dst = append(dst, v[i:e]...)
			i = e
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// jsonRoot returns the span of the document's value, trimmed, or ok false
// when the text does not start with a valid value.
func jsonRoot(s []byte) (start, end int, ok bool) {
	start = jsonWS(s, 0)
	end = jsonSkip(s, start)
	if end < 0 {
		return 0, 0, false
	}
	return start, end, jsonWS(s, end) == len(s)
}
