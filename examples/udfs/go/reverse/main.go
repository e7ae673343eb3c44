// Command reverse is a UDF module with one function, my_reverse(TEXT) -> TEXT:
// the text with its characters (code points) in reverse order.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o reverse.wasm .
package main

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

// appendReverse appends s with its code points in reverse order to dst
// (the append form: the result goes straight into the result column, no
// allocation per row). Bytes of invalid UTF-8 are kept, each on its own.
func appendReverse(dst []byte, s string) []byte {
	n := len(dst)
	// Room for the result, not copied first (copy is a call): every
	// byte is written below.
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	out := dst[n:]
	j, i := len(s), 0
	// Eight ASCII bytes at a time while there are: in a Go WebAssembly
	// module each loop iteration costs more than the byte it moves, so
	// this is several times faster than the byte loop below. (The eight
	// loads and stores become one each: Go combines them when no bounds
	// check separates them. docs/udfs.md, "Performance".)
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8] // of length 8: the loads below need no bounds checks
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if w&0x8080808080808080 != 0 { // not all ASCII
			break
		}
		binary.LittleEndian.PutUint64(out[j-8:j], bits.ReverseBytes64(w))
		j -= 8
	}
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf { // ASCII
			j--
			out[j] = c
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		j -= size
		copy(out[j:], s[i:i+size])
		i += size
	}
	return dst
}

func init() {
	sdk.AppendText1("my_reverse", appendReverse)
}

func main() {}
