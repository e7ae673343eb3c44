package coldata

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// TestRowCodecRoundTrip encodes every row of vectors of every kind and
// decodes them back, including NULLs, nested structs and lists.
func TestRowCodecRoundTrip(t *testing.T) {
	st := types.Type{Kind: types.Struct, Fields: []types.Field{{Name: "a", Type: types.Int64T}, {Name: "b", Type: types.StringT}}}
	lt := types.Type{Kind: types.List, Elem: &types.Int32T}
	mk := func(tt types.Type, vals ...any) Vector {
		v := New(tt, len(vals))
		for _, x := range vals {
			appendAny(v, x)
		}
		return v
	}
	vecs := []Vector{
		mk(types.BoolT, true, nil, false),
		mk(types.Int8T, int8(-3), nil, int8(127)),
		mk(types.Int16T, int16(-300), int16(7)),
		mk(types.Int32T, int32(-1), nil),
		mk(types.Int64T, int64(math.MinInt64), int64(42), nil),
		mk(types.UInt64T, uint64(math.MaxUint64)),
		mk(types.Float64T, 1.5, nil, math.Inf(-1)),
		mk(types.Float32T, float32(2.25)),
		mk(types.StringT, "", "héllo", nil),
		mk(types.TimestampT, int64(1700000000000000000)),
		mk(types.DateT, int32(19753), nil, int32(-1)),
		mk(types.TimeT, int64(49500500000000), nil),
		mk(types.DecimalOf(38, 4), Int128{Lo: 1, Hi: -7}, nil, Int128Of(-12345), Int128{}),
		mk(st, []any{int64(1), "x"}, nil, []any{nil, "y"}),
		mk(lt, []any{int32(1), nil, int32(3)}, nil, []any{}),
	}
	for _, v := range vecs {
		var enc []byte
		for i := 0; i < v.Len(); i++ {
			enc = AppendEncoded(enc, v, i)
		}
		out := New(v.Type(), v.Len())
		rest := enc
		var err error
		for i := 0; i < v.Len(); i++ {
			if rest, err = DecodeAppend(out, rest); err != nil {
				t.Fatalf("%s row %d: %v", v.Type(), i, err)
			}
		}
		if len(rest) != 0 {
			t.Errorf("%s: %d bytes left over", v.Type(), len(rest))
		}
		for i := 0; i < v.Len(); i++ {
			a, b := AppendEncoded(nil, v, i), AppendEncoded(nil, out, i)
			if !bytes.Equal(a, b) {
				t.Errorf("%s row %d: %v decoded as %v", v.Type(), i, Value(v, i), Value(out, i))
			}
		}
		// Every strict prefix of a value's encoding is an error, never a panic.
		one := AppendEncoded(nil, v, 0)
		for k := 0; k < len(one); k++ {
			if _, err := DecodeAppend(New(v.Type(), 1), one[:k]); !errors.Is(err, ErrRowCodec) {
				t.Errorf("%s: prefix %d of %x: %v, want ErrRowCodec", v.Type(), k, one, err)
			}
		}
	}
}

// TestRowCodecKeysEqual checks that equal values encode alike (-0 and 0,
// every NaN) and different ones differ (a NULL and an empty string).
func TestRowCodecKeysEqual(t *testing.T) {
	f := New(types.Float64T, 4).(*Vec[float64])
	f.Append(0)
	f.Append(math.Copysign(0, -1))
	f.Append(math.NaN())
	f.Append(-math.NaN())
	if !bytes.Equal(AppendEncoded(nil, f, 0), AppendEncoded(nil, f, 1)) {
		t.Error("0 and -0 encode differently")
	}
	if !bytes.Equal(AppendEncoded(nil, f, 2), AppendEncoded(nil, f, 3)) {
		t.Error("two NaNs encode differently")
	}
	s := New(types.StringT, 2).(*Bytes)
	s.AppendNull()
	s.AppendString("")
	if bytes.Equal(AppendEncoded(nil, s, 0), AppendEncoded(nil, s, 1)) {
		t.Error("NULL and '' encode alike")
	}
}

func appendAny(v Vector, x any) {
	if x == nil {
		v.AppendNull()
		return
	}
	switch v := v.(type) {
	case *Vec[bool]:
		v.Append(x.(bool))
	case *Vec[int8]:
		v.Append(x.(int8))
	case *Vec[int16]:
		v.Append(x.(int16))
	case *Vec[int32]:
		v.Append(x.(int32))
	case *Vec[int64]:
		v.Append(x.(int64))
	case *Vec[uint64]:
		v.Append(x.(uint64))
	case *Vec[float32]:
		v.Append(x.(float32))
	case *Vec[float64]:
		v.Append(x.(float64))
	case *Vec[Int128]:
		v.Append(x.(Int128))
	case *Bytes:
		v.AppendString(x.(string))
	case *Struct:
		for i, f := range x.([]any) {
			appendAny(v.Fields[i], f)
		}
		v.AppendRow()
	case *List:
		for _, e := range x.([]any) {
			appendAny(v.Elems, e)
		}
		v.CloseRow()
	}
}

// TestFixedKeyWidth: for every type FixedKeyWidth names a width, a value's
// encoding is the presence byte and that many bytes, and a NULL's the
// presence byte alone; other types have no width.
func TestFixedKeyWidth(t *testing.T) {
	a := NewAllocator(nil)
	for _, ty := range []types.Type{types.BoolT, types.Int8T, types.Int16T, types.Int32T, types.Int64T, types.UInt8T, types.UInt16T, types.UInt32T, types.UInt64T,
		types.Float32T, types.Float64T, types.DateT, types.TimestampT, types.IntervalT, types.TimeT} {
		w := FixedKeyWidth(ty)
		if w == 0 {
			t.Errorf("%v: no width", ty)
			continue
		}
		v := a.New(ty, 2)
		v.AppendNull()
		switch v := v.(type) {
		case *Vec[bool]:
			v.Append(true)
		case *Vec[int8]:
			v.Append(-3)
		case *Vec[int16]:
			v.Append(-3)
		case *Vec[int32]:
			v.Append(-3)
		case *Vec[int64]:
			v.Append(-3)
		case *Vec[uint8]:
			v.Append(3)
		case *Vec[uint16]:
			v.Append(3)
		case *Vec[uint32]:
			v.Append(3)
		case *Vec[uint64]:
			v.Append(3)
		case *Vec[float32]:
			v.Append(-3.5)
		case *Vec[float64]:
			v.Append(-3.5)
		default:
			t.Fatalf("%v: vector %T", ty, v)
		}
		if n := len(AppendEncoded(nil, v, 1)); n != 1+w {
			t.Errorf("%v: a value encodes in %d bytes, FixedKeyWidth says 1+%d", ty, n, w)
		}
		if n := len(AppendEncoded(nil, v, 0)); n != 1 {
			t.Errorf("%v: NULL encodes in %d bytes", ty, n)
		}
	}
	for _, ty := range []types.Type{types.StringT, types.BytesT, types.DecimalOf(10, 2)} {
		if w := FixedKeyWidth(ty); w != 0 {
			t.Errorf("%v: width %d", ty, w)
		}
	}
}
