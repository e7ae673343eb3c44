package expr

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestValueKeys: keys of random values of every kind decode back to the
// value, concatenate (keyLen finds each end), and compare as bytes in the
// order of the values; equal values have equal keys.
func TestValueKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	st := types.StructOf(types.Field{Name: "a", Type: tI64, Nullable: true}, types.Field{Name: "b", Type: tStr, Nullable: true})
	for _, c := range []struct {
		t   types.Type
		gen func() any
		// cmp orders two non-NULL values (nil: no order check)
		cmp func(a, b any) int
	}{
		{types.BoolT, func() any { return r.IntN(2) == 0 }, func(a, b any) int { return b2i(a.(bool)) - b2i(b.(bool)) }},
		{types.Int8T, func() any { return int8(r.IntN(256) - 128) }, func(a, b any) int { return cmpInt(a.(int8), b.(int8)) }},
		{types.Int16T, func() any { return int16(r.IntN(1<<16) - 1<<15) }, func(a, b any) int { return cmpInt(a.(int16), b.(int16)) }},
		{types.Int32T, func() any { return int32(r.Uint32()) }, func(a, b any) int { return cmpInt(a.(int32), b.(int32)) }},
		{tI64, func() any { return int64(r.Uint64()) >> r.IntN(64) }, func(a, b any) int { return cmpInt(a.(int64), b.(int64)) }},
		{types.UInt8T, func() any { return uint8(r.IntN(256)) }, func(a, b any) int { return cmpInt(a.(uint8), b.(uint8)) }},
		{types.UInt16T, func() any { return uint16(r.IntN(1 << 16)) }, func(a, b any) int { return cmpInt(a.(uint16), b.(uint16)) }},
		{types.UInt32T, func() any { return r.Uint32() }, func(a, b any) int { return cmpInt(a.(uint32), b.(uint32)) }},
		{types.UInt64T, func() any { return r.Uint64() >> r.IntN(64) }, func(a, b any) int { return cmpInt(a.(uint64), b.(uint64)) }},
		{types.Float32T, func() any {
			return []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(-1)), float32(r.NormFloat64() * 100)}[r.IntN(5)]
		}, func(a, b any) int { return cmpPG(float64(a.(float32)), float64(b.(float32))) }},
		{tF64, func() any {
			return []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), -math.MaxFloat64, math.SmallestNonzeroFloat64, r.NormFloat64() * 1e6}[r.IntN(7)]
		}, func(a, b any) int { return cmpPG(a.(float64), b.(float64)) }},
		{tStr, func() any {
			b := make([]byte, r.IntN(4))
			for i := range b {
				b[i] = []byte{0, 1, 'a', 0xff}[r.IntN(4)]
			}
			return string(b)
		}, func(a, b any) int { return bytes.Compare([]byte(a.(string)), []byte(b.(string))) }},
		{types.ListOf(tI64), func() any {
			var l []any
			for range r.IntN(3) {
				l = append(l, sometimesNull(r, func() any { return int64(r.IntN(3)) }))
			}
			return l
		}, nil},
		{st, func() any {
			return []any{sometimesNull(r, func() any { return int64(r.IntN(3)) }), sometimesNull(r, func() any { return "x" })}
		}, nil},
	} {
		v := coldata.New(c.t, 0)
		var vals []any
		for range 300 {
			x := sometimesNull(r, c.gen)
			vals = append(vals, x)
			appendLib(v, x)
		}
		var all []byte
		keys := make([][]byte, len(vals))
		for i := range vals {
			keys[i] = appendKey(nil, v, i)
			all = append(all, keys[i]...)
		}
		back := coldata.New(c.t, 0)
		rest := all
		for i := range vals {
			l, err := keyLen(c.t, rest)
			if err != nil || l != len(keys[i]) {
				t.Fatalf("%s: keyLen of %x: %d, %v", c.t, keys[i], l, err)
			}
			if rest, err = decodeKey(back, rest); err != nil {
				t.Fatalf("%s: decode %x: %v", c.t, keys[i], err)
			}
		}
		if len(rest) != 0 {
			t.Fatalf("%s: %d bytes left", c.t, len(rest))
		}
		for i := range vals {
			got, want := coldata.Value(back, i), coldata.Value(v, i)
			if f, ok := want.(float64); ok && f == 0 {
				want = 0.0 // -0 decodes as 0
			}
			if f, ok := want.(float32); ok && f == 0 {
				want = float32(0)
			}
			if !equalValue(got, want) {
				t.Errorf("%s: row %d decodes to %v, want %v", c.t, i, got, want)
			}
			if c.cmp == nil {
				continue
			}
			for j := range vals {
				a, b := coldata.Value(v, i), coldata.Value(v, j)
				want := 0
				switch {
				case a == nil && b == nil:
				case a == nil:
					want = -1
				case b == nil:
					want = 1
				default:
					want = c.cmp(a, b)
				}
				if got := bytes.Compare(keys[i], keys[j]); got != want {
					t.Fatalf("%s: %v vs %v: keys compare %d, want %d", c.t, a, b, got, want)
				}
			}
		}
	}
	// Malformed keys are errors, not panics.
	for _, bad := range [][]byte{nil, {2}, {1}, {1, 'a', 0}, {1, 'a', 0, 7}} {
		if _, err := decodeKey(coldata.New(tStr, 0), bad); err == nil {
			t.Errorf("decode %x accepted", bad)
		}
		if _, err := keyLen(tStr, bad); err == nil {
			t.Errorf("keyLen %x accepted", bad)
		}
	}
}

func cmpInt[T integer](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpPG orders floats as PostgreSQL: NaN above all, -0 = 0.
func cmpPG(a, b float64) int {
	switch {
	case pgLess(a, b):
		return -1
	case pgLess(b, a):
		return 1
	}
	return 0
}
