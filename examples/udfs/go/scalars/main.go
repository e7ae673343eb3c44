// Command scalars is a UDF module of scalar functions over every SQL type
// the ABI carries, and the two ways of handling NULL.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o scalars.wasm .
package main

import (
	"bytes"
	"math"
	"strings"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

func init() {
	// Arroyo's example: double_it(BIGINT UNSIGNED) -> BIGINT.
	sdk.Scalar1("double_it", func(x uint64) int64 { return int64(2 * x) })

	// One function per type, each changing its value in a visible way.
	sdk.Scalar1("not_bool", func(b bool) bool { return !b })
	sdk.Scalar1("neg_i8", func(x int8) int8 { return -x })
	sdk.Scalar2("add_i16", func(x, y int16) int16 { return x + y })
	sdk.Scalar1("inc_i32", func(x int32) int32 { return x + 1 })
	sdk.Scalar2("add_i64", func(x, y int64) int64 { return x + y })
	sdk.Scalar1("inc_i64", func(x int64) int64 { return x + 1 })
	// The same over a whole batch: no function call per row.
	sdk.Vector1("inc_i64_vec", func(xs, out []int64) {
		out = out[:len(xs)] // one bounds check, not one per row
		for i, x := range xs {
			out[i] = x + 1
		}
	})
	// The same again, declared for Inline (below): x + 1 is inlined
	// into the row loop.
	sdk.Inline(inlined)
	sdk.Scalar1("inc_u8", func(x uint8) uint8 { return x + 1 })
	sdk.Scalar1("inc_u16", func(x uint16) uint16 { return x + 1 })
	sdk.Scalar1("inc_u32", func(x uint32) uint32 { return x + 1 })
	sdk.Scalar1("inc_u64", func(x uint64) uint64 { return x + 1 })
	sdk.Scalar1("half_f32", func(x float32) float32 { return x / 2 })
	sdk.Scalar2("hypot", func(x, y float64) float64 { return math.Hypot(x, y) })
	sdk.Scalar1("shout", func(s string) string { return strings.ToUpper(s) + "!" })
	sdk.Scalar1("bytes_rev", func(b []byte) []byte {
		out := bytes.Clone(b)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	})
	// TIMESTAMP is nanoseconds since 1970 UTC (the module does not import
	// package time, which would add to its code: see docs/udfs.md).
	sdk.Scalar1("add_hour", func(t sdk.Timestamp) sdk.Timestamp { return t + 3600e9 })
	sdk.Scalar1("json_kind", func(j sdk.JSON) string {
		s := strings.TrimSpace(string(j))
		if s == "" {
			return "empty"
		}
		switch s[0] {
		case '{':
			return "object"
		case '[':
			return "array"
		case '"':
			return "string"
		case 't', 'f':
			return "boolean"
		case 'n':
			return "null"
		}
		return "number"
	})
	sdk.Scalar1("wrap_json", func(s string) sdk.JSON { return sdk.JSON(`{"v":"` + s + `"}`) })
	// The append form of a TEXT result: appended to the result column.
	sdk.AppendText1("hex_u8", func(dst []byte, x uint8) []byte {
		const digits = "0123456789abcdef"
		return append(dst, digits[x>>4], digits[x&15])
	})

	// NULL handling. A plain argument type: never called for NULL (the
	// result is NULL). A pointer argument: sees NULL as nil. A pointer
	// result, or a false second result: NULL.
	sdk.Scalar1("or_zero", func(x *int64) int64 {
		if x == nil {
			return 0
		}
		return *x
	})
	sdk.Scalar1("is_missing", func(s *string) bool { return s == nil })
	sdk.Scalar1Ok("null_if_empty", func(s string) (string, bool) { return s, s != "" })
	sdk.Scalar1("half_even", func(x int64) *int64 {
		if x%2 != 0 {
			return nil
		}
		h := x / 2
		return &h
	})
	sdk.Scalar2("concat_opt", func(a, b *string) *string {
		if a == nil && b == nil {
			return nil
		}
		s := ""
		if a != nil {
			s += *a
		}
		if b != nil {
			s += *b
		}
		return &s
	})
}

// inlined declares functions whose bodies Go inlines into their row loops
// (sdk.Inline): the speed of a Vector1 loop, written as a Scalar1.
func inlined(b *sdk.Batch) {
	sdk.InlineScalar1(b, "inc_i64_inl", func(x int64) int64 { return x + 1 })
	sdk.InlineScalar1(b, "half_f64_inl", func(x float64) float64 { return x / 2 })
}

func main() {}
