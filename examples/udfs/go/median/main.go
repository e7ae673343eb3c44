// Command median is a UDF module with aggregates: my_median(BIGINT UNSIGNED) -> DOUBLE
// (NULL for a group of only NULLs) and weighted_mean(DOUBLE, DOUBLE) ->
// DOUBLE NULL (NULL when the weights add up to zero).
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o median.wasm .
package main

import (
	"slices"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

// scratch is reused from group to group: xs is only valid during a call.
var scratch []uint64

// median is Arroyo's example UDAF, fn my_median(x: Vec<u64>) -> f64. The
// host calls it only for groups with at least one value.
func median(xs []uint64) float64 {
	scratch = append(scratch[:0], xs...)
	slices.Sort(scratch)
	n := len(scratch)
	if n%2 == 1 {
		return float64(scratch[n/2])
	}
	return (float64(scratch[n/2-1]) + float64(scratch[n/2])) / 2
}

func weightedMean(xs, ws []float64) (float64, bool) {
	var sum, wsum float64
	for i, x := range xs {
		sum += x * ws[i]
		wsum += ws[i]
	}
	if wsum == 0 {
		return 0, false
	}
	return sum / wsum, true
}

func init() {
	sdk.Aggregate1("my_median", median)
	sdk.Aggregate2Ok("weighted_mean", weightedMean)
}

func main() {}
