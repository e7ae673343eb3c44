// Command reverse is a UDF module with one function, my_reverse(TEXT) -> TEXT:
// the text with its characters (code points) in reverse order, computed a
// batch in one loop (sdk.VectorText1, the fast form). Built with the tag
// appendform (append.go) it also exports my_reverse_append, the same
// function a value per call (sdk.AppendText1, the simple form), which the
// benchmarks compare; the default build exports one function, as a UDF
// stored through the REST API must.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o reverse.wasm .
package main

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

func init() {
	sdk.VectorText1("my_reverse", reverseAll)
}

func main() {}

// ascii is the high bit of every byte of a word: a word of ASCII bytes has
// none of them set.
const ascii = 0x8080808080808080

// reverseAll appends the reverse of every value of in to dst. An ASCII
// value of 8 to 24 bytes, the common case, is three 8-byte loads and
// stores with no loop: in a Go WebAssembly module a taken branch (a loop
// iteration, the else of an if) costs more than the bytes it moves, so
// the fast path is straight-line code (docs/udfs.md, "Performance").
// The first value it does not handle ends the loop; reverseRest does the
// rest.
func reverseAll(in sdk.Texts, dst []byte, ends []uint32) []byte {
	ends = ends[:in.Len()]
	r := 0
	for ; r < len(ends); r++ {
		s := in.At(r)
		n, m := len(dst), len(s)
		if m < 8 || m > 24 || cap(dst)-n < m {
			break
		}
		// Three words cover the value: its first eight bytes, its last
		// eight and eight from the middle (overlapping for m < 24).
		k := (m - 8) / 2
		a, b, c := load64(s), load64(s[m-8:]), load64(s[k:])
		if (a|b|c)&ascii != 0 {
			break
		}
		dst = dst[:n+m]
		out := dst[n:]
		binary.LittleEndian.PutUint64(out[m-8:], bits.ReverseBytes64(a))
		binary.LittleEndian.PutUint64(out[m-8-k:], bits.ReverseBytes64(c))
		binary.LittleEndian.PutUint64(out, bits.ReverseBytes64(b))
		ends[r] = uint32(len(dst))
	}
	if r < len(ends) {
		return reverseRest(in, dst, ends, r)
	}
	return dst
}

// reverseRest is reverseAll's loop from value r on, a value at a time.
// Not inlined: reverseAll's loop is faster without the call in it.
//
//go:noinline
func reverseRest(in sdk.Texts, dst []byte, ends []uint32, r int) []byte {
	for ; r < len(ends); r++ {
		dst = appendReverse(dst, in.At(r))
		ends[r] = uint32(len(dst))
	}
	return dst
}

// load64 returns the first eight bytes of s as a little-endian word (one
// load: Go combines the eight when no bounds check separates them).
func load64(s string) uint64 {
	b := s[:8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// appendReverse appends s with its code points in reverse order to dst
// (the append form: the result goes straight into the result column, no
// allocation per row). Bytes of invalid UTF-8 are kept, each on its own.
func appendReverse(dst []byte, s string) []byte {
	n := len(dst)
	if cap(dst)-n < len(s) {
		dst = append(dst, make([]byte, len(s))...)[:n]
	}
	// Room for the result, not copied first (copy is a call): every
	// byte is written below.
	dst = dst[:n+len(s)]
	out := dst[n:]
	j, i := len(s), 0
	// Eight ASCII bytes at a time while there are.
	for ; i+8 <= len(s); i += 8 {
		w := load64(s[i:])
		if w&ascii != 0 {
			break
		}
		binary.LittleEndian.PutUint64(out[j-8:j], bits.ReverseBytes64(w))
		j -= 8
	}
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
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
