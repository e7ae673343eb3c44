// Command reverse is a UDF module with one function, my_reverse(TEXT) -> TEXT:
// the text with its characters (code points) in reverse order.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o reverse.wasm .
package main

import (
	"unicode/utf8"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

// buf is reused from row to row: the SDK copies each result.
var buf []byte

func reverse(s string) string {
	buf = buf[:0]
	for i := len(s); i > 0; {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		buf = append(buf, s[i-size:i]...)
		i -= size
	}
	return unsafeString(buf)
}

func init() {
	sdk.Scalar1("my_reverse", reverse)
}

func main() {}
