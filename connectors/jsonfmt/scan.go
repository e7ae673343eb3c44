package jsonfmt

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// The scanning primitives work on (s, i): the record and a position in it.
// They return the position after what they consumed and report syntax
// errors as *DecodeError with the offset of the offending byte.

// maxDepth bounds the nesting of skipped values (a hostile record of a
// million '[' must not cost a million stack frames).
const maxDepth = 1000

var isSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func skipWS(s []byte, i int) int {
	for i < len(s) && s[i] <= ' ' && isSpace[s[i]] {
		i++
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask flags (high bit of the byte) the bytes of x, in memory order,
// that end a run of plain string bytes: '"', '\\', control characters and
// non-ASCII bytes. Bytes above the lowest flagged one may be flagged
// spuriously (borrows), so callers only use the lowest.
func specialMask(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((x - lsb*0x20) | (q - lsb) | (b - lsb) | x) & msb
}

// scanString validates the string whose opening quote is at s[i-1] and
// returns the index of its closing quote and whether it contains escapes.
// It checks escapes (including surrogate pairs) and UTF-8.
func scanString(s []byte, i int) (end int, esc bool, err error) {
	for {
		for i+8 <= len(s) {
			if m := specialMask(word(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			return i, esc, syntaxErr(i, "unterminated string")
		}
		switch c := s[i]; {
		case c == '"':
			return i, esc, nil
		case c == '\\':
			esc = true
			if i, err = checkEscape(s, i); err != nil {
				return i, esc, err
			}
		case c < 0x20:
			return i, esc, syntaxErr(i, "control character in string (must be escaped)")
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				return i, esc, syntaxErr(i, "invalid UTF-8 in string")
			}
			i += n
		default:
			i++
		}
	}
}

// checkEscape validates the escape at s[i] == '\\' and returns the index
// after it.
func checkEscape(s []byte, i int) (int, error) {
	if i+1 >= len(s) {
		return i + 1, syntaxErr(i+1, "unterminated string")
	}
	switch s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, nil
	case 'u':
		r, ok := hex4(s, i+2)
		if !ok {
			return i, syntaxErr(i, `invalid \u escape`)
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if r2, ok := hex4(s, i+8); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					return i + 12, nil
				}
			}
			return i, syntaxErr(i, `lone surrogate in \u escape`)
		case r >= 0xDC00 && r < 0xE000:
			return i, syntaxErr(i, `lone surrogate in \u escape`)
		}
		return i + 6, nil
	}
	return i, syntaxErr(i, "invalid escape in string")
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape appends the contents of a validated string body (between the
// quotes) to dst, decoding escapes.
func unescape(dst, s []byte) []byte {
	for len(s) > 0 {
		k := 0
		for k < len(s) && s[k] != '\\' {
			k++
		}
		dst = append(dst, s[:k]...)
		if k == len(s) {
			break
		}
		s = s[k:]
		var c byte
		switch s[1] {
		case 'u':
			r, _ := hex4(s, 2)
			s = s[6:]
			if r >= 0xD800 && r < 0xDC00 {
				r2, _ := hex4(s, 2)
				r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
				s = s[6:]
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		default: // '"', '\\', '/'
			c = s[1]
		}
		dst = append(dst, c)
		s = s[2:]
	}
	return dst
}

// scanNumber validates the JSON number at s[i] and returns its end and
// whether it is an integer (no fraction, no exponent).
func scanNumber(s []byte, i int) (end int, isInt bool, err error) {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return i, false, syntaxErr(start, "invalid number")
	}
	isInt = true
	if i < len(s) && s[i] == '.' {
		isInt = false
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, false, syntaxErr(start, "invalid number")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isInt = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, false, syntaxErr(start, "invalid number")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && isDigit(s[i]) { // a leading zero followed by digits
		return i, false, syntaxErr(start, "invalid number (leading zero)")
	}
	return i, isInt, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// literal checks that s[i:] starts with lit (true, false, null).
func literal(s []byte, i int, lit string) (int, error) {
	if len(s)-i >= len(lit) && string(s[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return i, syntaxErr(i, "invalid literal")
}

// skipValue validates the JSON value at s[i] (no leading whitespace) and
// returns its end.
func skipValue(s []byte, i, depth int) (int, error) {
	if i >= len(s) {
		return i, eofErr(i)
	}
	switch c := s[i]; c {
	case '"':
		end, _, err := scanString(s, i+1)
		return end + 1, err
	case '{':
		if depth >= maxDepth {
			return i, syntaxErr(i, "nesting too deep")
		}
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return i, unexpected(s, i, "expected string key")
			}
			end, _, err := scanString(s, i+1)
			if err != nil {
				return end, err
			}
			i = skipWS(s, end+1)
			if i >= len(s) || s[i] != ':' {
				return i, unexpected(s, i, "expected ':'")
			}
			if i, err = skipValue(s, skipWS(s, i+1), depth+1); err != nil {
				return i, err
			}
			i = skipWS(s, i)
			if i < len(s) && s[i] == ',' {
				i = skipWS(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				return i + 1, nil
			}
			return i, unexpected(s, i, "expected ',' or '}'")
		}
	case '[':
		if depth >= maxDepth {
			return i, syntaxErr(i, "nesting too deep")
		}
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(s, i, depth+1); err != nil {
				return i, err
			}
			i = skipWS(s, i)
			if i < len(s) && s[i] == ',' {
				i = skipWS(s, i+1)
				continue
			}
			if i < len(s) && s[i] == ']' {
				return i + 1, nil
			}
			return i, unexpected(s, i, "expected ',' or ']'")
		}
	case 't':
		return literal(s, i, "true")
	case 'f':
		return literal(s, i, "false")
	case 'n':
		return literal(s, i, "null")
	default:
		if c >= '1' && c <= '9' && i+8 <= len(s) {
			if k := shortInt(s, i); k > 0 {
				return i + k, nil
			}
		}
		if c == '-' || isDigit(c) {
			end, _, err := scanNumber(s, i)
			return end, err
		}
	}
	return i, syntaxErr(i, "expected value")
}

// validJSON reports whether s is exactly one JSON value, optionally
// surrounded by whitespace.
func validJSON(s []byte) bool {
	i, err := skipValue(s, skipWS(s, 0), 0)
	return err == nil && skipWS(s, i) == len(s)
}

// word returns the 8 bytes at s[i:] as a little-endian word; the caller
// guarantees i+8 <= len(s). It spares the scanning loops the bounds and
// slice checks of binary.LittleEndian.Uint64(s[i:]), a third of their
// instructions.
func word(s []byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), i))[:])
}

// str views b as a string without copying; the string must not outlive b
// and must not be retained (only for parsing calls).
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// digitRun returns the number of ASCII digits at the start of the 8 bytes
// w (little endian: s[i] is the low byte), 8 if all are digits. A byte
// is not a digit if adding 0x46 sets its high bit (above '9', or
// non-ASCII) or subtracting 0x30 borrows (below '0'); carries and
// borrows only ever flag bytes above the lowest non-digit, which is the
// only one used.
func digitRun(w uint64) int {
	m := ((w + lsb*0x46) | (w - lsb*'0') | w) & msb
	return bits.TrailingZeros64(m) >> 3 // 64 >> 3 = 8 when m == 0
}

// digitsValue returns the value of the n (1 to 8) decimal digits in the
// low bytes of w (the first digit in the lowest byte), with the bytes
// above them ignored: they are shifted out, which leaves zeros, that is
// leading zeros, below the digits, and three multiply-and-shift steps
// combine pairs, then quadruples, then the two halves.
func digitsValue(w uint64, n int) uint64 {
	w = (w - lsb*'0') << (64 - 8*uint(n))
	w = (w * 10) + (w >> 8)
	w = (((w & 0x000000FF000000FF) * (100 + (1000000 << 32))) +
		(((w >> 16) & 0x000000FF000000FF) * (1 + (10000 << 32)))) >> 32
	return w
}

// shortInt returns the length of the positive integer of up to 7 digits
// at s[i] (a digit 1-9; i+8 <= len(s)), read as one word, or 0 if the
// number is longer or has a fraction or an exponent.
func shortInt(s []byte, i int) int {
	if k := digitRun(word(s, i)); k < 8 {
		if c := s[i+k]; c != '.' && c != 'e' && c != 'E' {
			return k
		}
	}
	return 0
}
