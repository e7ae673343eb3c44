package coldata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/arroyogo/arroyo/engine/types"
)

// The row codec encodes single values of a vector into bytes and back. It
// serves group keys (two values are equal exactly when their encodings
// are, so an encoded key can index a hash table) and state snapshots (a
// group's key and results, restorable in another process). Each value is a
// presence byte (0 NULL, 1 a value) followed, for a value, by its fixed
// width little-endian bits (a DECIMAL's 16: the low word first), a length-prefixed byte string, the fields of a
// struct in order, or a list's length and elements. Floats are normalized
// (-0 as 0, one NaN) so that equal keys encode alike.

// ErrRowCodec is returned (wrapped) for bytes that are not an encoding of
// the vector's type.
var ErrRowCodec = errors.New("malformed encoded value")

// AppendEncoded appends the encoding of row i of v to dst.
func AppendEncoded(dst []byte, v Vector, i int) []byte {
	if v.IsNull(i) {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	switch v := v.(type) {
	case *Vec[bool]:
		if v.Vals[i] {
			return append(dst, 1)
		}
		return append(dst, 0)
	case *Vec[int8]:
		return append(dst, byte(v.Vals[i]))
	case *Vec[uint8]:
		return append(dst, v.Vals[i])
	case *Vec[int16]:
		return binary.LittleEndian.AppendUint16(dst, uint16(v.Vals[i]))
	case *Vec[uint16]:
		return binary.LittleEndian.AppendUint16(dst, v.Vals[i])
	case *Vec[int32]:
		return binary.LittleEndian.AppendUint32(dst, uint32(v.Vals[i]))
	case *Vec[uint32]:
		return binary.LittleEndian.AppendUint32(dst, v.Vals[i])
	case *Vec[int64]:
		return binary.LittleEndian.AppendUint64(dst, uint64(v.Vals[i]))
	case *Vec[uint64]:
		return binary.LittleEndian.AppendUint64(dst, v.Vals[i])
	case *Vec[float32]:
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(normFloat32(v.Vals[i])))
	case *Vec[float64]:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(normFloat64(v.Vals[i])))
	case *Vec[Int128]:
		dst = binary.LittleEndian.AppendUint64(dst, v.Vals[i].Lo)
		return binary.LittleEndian.AppendUint64(dst, uint64(v.Vals[i].Hi))
	case *Bytes:
		b := v.Get(i)
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		return append(dst, b...)
	case *Struct:
		for _, f := range v.Fields {
			dst = AppendEncoded(dst, f, i)
		}
		return dst
	case *List:
		lo, hi := v.Offsets[i], v.Offsets[i+1]
		dst = binary.AppendUvarint(dst, uint64(hi-lo))
		for e := lo; e < hi; e++ {
			dst = AppendEncoded(dst, v.Elems, int(e))
		}
		return dst
	}
	panic(fmt.Sprintf("coldata.AppendEncoded: unsupported vector %T", v))
}

func normFloat64(f float64) float64 {
	switch {
	case f == 0:
		return 0
	case f != f:
		return math.NaN()
	}
	return f
}

func normFloat32(f float32) float32 {
	switch {
	case f == 0:
		return 0
	case f != f:
		return float32(math.NaN())
	}
	return f
}

// FixedKeyWidth is the width of the bytes that follow the presence byte
// in AppendEncoded's encoding of a value of type t, if it is one of 1, 2,
// 4 or 8 for every value (booleans, integers, floats, dates, times,
// timestamps, intervals), else 0. A NULL is the presence byte alone.
func FixedKeyWidth(t types.Type) int {
	switch t.Kind {
	case types.Bool, types.Null, types.Int8, types.UInt8:
		return 1
	case types.Int16, types.UInt16:
		return 2
	case types.Int32, types.Date, types.UInt32, types.Float32:
		return 4
	case types.Int64, types.Timestamp, types.Interval, types.Time, types.UInt64, types.Float64:
		return 8
	}
	return 0
}

// DecodeAppend decodes one value from src, appends it to dst and returns
// the rest of src.
func DecodeAppend(dst Vector, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return nil, fmt.Errorf("%w: truncated", ErrRowCodec)
	}
	present := src[0]
	src = src[1:]
	if present == 0 {
		dst.AppendNull()
		return src, nil
	}
	if present != 1 {
		return nil, fmt.Errorf("%w: presence byte %d", ErrRowCodec, present)
	}
	need := func(n int) error {
		if len(src) < n {
			return fmt.Errorf("%w: truncated %s", ErrRowCodec, dst.Type())
		}
		return nil
	}
	var width int
	switch dst.(type) {
	case *Vec[bool], *Vec[int8], *Vec[uint8]:
		width = 1
	case *Vec[int16], *Vec[uint16]:
		width = 2
	case *Vec[int32], *Vec[uint32], *Vec[float32]:
		width = 4
	case *Vec[int64], *Vec[uint64], *Vec[float64]:
		width = 8
	case *Vec[Int128]:
		width = 16
	}
	if err := need(width); err != nil {
		return nil, err
	}
	switch d := dst.(type) {
	case *Vec[bool]:
		d.Append(src[0] != 0)
	case *Vec[int8]:
		d.Append(int8(src[0]))
	case *Vec[uint8]:
		d.Append(src[0])
	case *Vec[int16]:
		d.Append(int16(binary.LittleEndian.Uint16(src)))
	case *Vec[uint16]:
		d.Append(binary.LittleEndian.Uint16(src))
	case *Vec[int32]:
		d.Append(int32(binary.LittleEndian.Uint32(src)))
	case *Vec[uint32]:
		d.Append(binary.LittleEndian.Uint32(src))
	case *Vec[float32]:
		d.Append(math.Float32frombits(binary.LittleEndian.Uint32(src)))
	case *Vec[int64]:
		d.Append(int64(binary.LittleEndian.Uint64(src)))
	case *Vec[uint64]:
		d.Append(binary.LittleEndian.Uint64(src))
	case *Vec[float64]:
		d.Append(math.Float64frombits(binary.LittleEndian.Uint64(src)))
	case *Vec[Int128]:
		d.Append(Int128{Lo: binary.LittleEndian.Uint64(src), Hi: int64(binary.LittleEndian.Uint64(src[8:]))})
	case *Bytes:
		n, k := binary.Uvarint(src)
		if k <= 0 || uint64(len(src)-k) < n {
			return nil, fmt.Errorf("%w: truncated bytes", ErrRowCodec)
		}
		d.Append(src[k : k+int(n)])
		return src[k+int(n):], nil
	case *Struct:
		var err error
		for _, f := range d.Fields {
			if src, err = DecodeAppend(f, src); err != nil {
				return nil, err
			}
		}
		d.AppendRow()
		return src, nil
	case *List:
		n, k := binary.Uvarint(src)
		if k <= 0 || n > uint64(len(src)) {
			return nil, fmt.Errorf("%w: bad list length", ErrRowCodec)
		}
		src = src[k:]
		var err error
		for e := uint64(0); e < n; e++ {
			if src, err = DecodeAppend(d.Elems, src); err != nil {
				return nil, err
			}
		}
		d.CloseRow()
		return src, nil
	default:
		return nil, fmt.Errorf("coldata.DecodeAppend: unsupported vector %T", dst)
	}
	return src[width:], nil
}
