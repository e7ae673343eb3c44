package types

import (
	"math"
	"strings"
	"testing"
)

// TestKindClasses pins the class of every kind: the kind numbers are not in
// class order (new kinds are appended), so the predicates must not rely on
// ranges.
func TestKindClasses(t *testing.T) {
	signed := map[Kind]int{Int8: 8, Int16: 16, Int32: 32, Int64: 64}
	unsigned := map[Kind]int{UInt8: 8, UInt16: 16, UInt32: 32, UInt64: 64}
	floats := map[Kind]int{Float32: 32, Float64: 64}
	n := 0
	for k := Invalid; !strings.HasPrefix(k.String(), "Kind("); k++ {
		n++
		_, s := signed[k]
		_, u := unsigned[k]
		_, f := floats[k]
		if k.IsSigned() != s || k.IsUnsigned() != u || k.IsInteger() != (s || u) || k.IsFloat() != f || k.IsNumeric() != (s || u || f) {
			t.Errorf("%v: signed %v unsigned %v integer %v float %v numeric %v", k, k.IsSigned(), k.IsUnsigned(), k.IsInteger(), k.IsFloat(), k.IsNumeric())
		}
		bits := signed[k] + unsigned[k] + floats[k]
		if k.Bits() != bits {
			t.Errorf("%v: %d bits, want %d", k, k.Bits(), bits)
		}
		if s || u {
			if got := IntKind(s, bits); got != k {
				t.Errorf("IntKind(%v, %d) = %v, want %v", s, bits, got, k)
			}
		}
	}
	if n != 23 {
		t.Errorf("%d kinds; a new kind needs a class here", n)
	}
	if IntKind(true, 24) != Invalid {
		t.Error("IntKind of 24 bits")
	}
}

func TestIntRange(t *testing.T) {
	for _, c := range []struct {
		k      Kind
		lo     int64
		hi     uint64
		text   string
		isInts bool
	}{
		{Int8, math.MinInt8, math.MaxInt8, "-128 to 127", true},
		{Int16, math.MinInt16, math.MaxInt16, "-32768 to 32767", true},
		{Int32, math.MinInt32, math.MaxInt32, "-2147483648 to 2147483647", true},
		{Int64, math.MinInt64, math.MaxInt64, "-9223372036854775808 to 9223372036854775807", true},
		{UInt8, 0, math.MaxUint8, "0 to 255", true},
		{UInt16, 0, math.MaxUint16, "0 to 65535", true},
		{UInt32, 0, math.MaxUint32, "0 to 4294967295", true},
		{UInt64, 0, math.MaxUint64, "0 to 18446744073709551615", true},
		{Float64, 0, 0, "", false},
		{String, 0, 0, "", false},
	} {
		lo, hi, ok := c.k.IntRange()
		if lo != c.lo || hi != c.hi || ok != c.isInts || c.k.RangeText() != c.text {
			t.Errorf("%v: range %d..%d %v %q", c.k, lo, hi, ok, c.k.RangeText())
		}
	}
	for k, name := range map[Kind]string{Int8: "TINYINT", Int16: "SMALLINT", UInt8: "TINYINT UNSIGNED", UInt16: "SMALLINT UNSIGNED"} {
		if k.String() != name {
			t.Errorf("%d is %q, want %q", k, k.String(), name)
		}
	}
}
