// Command hostile is a UDF module that misbehaves on purpose, for the
// host's sandbox tests: a panic, unbounded memory, an endless loop, a
// batch function whose results do not match its ends.
package main

import (
	"math"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

var keep [][]byte

func init() {
	// boom panics for 13 and doubles anything else.
	sdk.Scalar1("boom", func(x int64) int64 {
		if x == 13 {
			panic("unlucky number 13")
		}
		return 2 * x
	})
	// hog allocates 1 MiB per row and keeps it.
	sdk.Scalar1("hog", func(x int64) int64 {
		keep = append(keep, make([]byte, 1<<20))
		keep[len(keep)-1][0] = byte(x)
		return int64(len(keep))
	})
	// spin never returns for a negative argument.
	sdk.Scalar1("spin", func(x int64) int64 {
		for x < 0 {
			x = x*3 | math.MinInt64
		}
		return x
	})
	// bad_ends appends its results but never sets ends.
	sdk.VectorText1("bad_ends", func(in sdk.Texts, dst []byte, ends []uint32) []byte {
		for i := range ends {
			dst = append(dst, in.At(i)...)
		}
		return dst
	})
}

func main() {}
