// Command reverse is a UDF module with one function, my_reverse(TEXT) -> TEXT:
// the text with its characters (code points) in reverse order.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o reverse.wasm .
package main

import (
	"unicode/utf8"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

// buf is reused from row to row: the SDK copies each result before the
// next call.
var buf []byte

// reverse copies s's code points into buf from the end. ASCII bytes are
// copied one by one in the loop: in a Go wasm module every function call
// (utf8.DecodeRuneInString, copy) costs more than the byte it moves.
func reverse(s string) string {
	if cap(buf) < len(s) {
		buf = make([]byte, 2*len(s))
	}
	b := buf[:len(s)]
	j := len(s)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			j--
			b[j] = c
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		j -= size
		for k := 0; k < size; k++ {
			b[j+k] = s[i+k]
		}
		i += size
	}
	return unsafeString(b)
}

func init() {
	sdk.Scalar1("my_reverse", reverse)
}

func main() {}
