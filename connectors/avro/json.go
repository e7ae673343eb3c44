package avro

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

func appendBase64(b, v []byte) []byte {
	b = append(b, '"')
	n := base64.StdEncoding.EncodedLen(len(v))
	b = append(b, make([]byte, n)...)
	base64.StdEncoding.Encode(b[len(b)-n:], v)
	return append(b, '"')
}

// appendJSONDecimal appends a two's-complement decimal as a JSON number,
// or as a string of its digits if wider than 128 bits.
func appendJSONDecimal(b, v []byte, scale int) []byte {
	x, ok := twosComplement(v)
	if !ok || scale < 0 || scale > 38 {
		return appendBase64(b, v)
	}
	return coldata.AppendDecimal(b, x, scale)
}
