package expr

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Value keys: the aggregates that keep values (DISTINCT's sets, the
// multisets of retracting min/max and median, array_agg, first_value)
// store each value as a key, a byte string that is
//
//   - self-delimiting: keys concatenate (array_agg's buffer, a DISTINCT
//     tuple of several arguments) and decode back given the type;
//   - order-preserving: comparing two keys of the same type as bytes
//     orders them as SQL does (numbers by value with NaN above all and -0
//     equal to 0, text and bytes by byte order, NULL first, structs field by
//     field, lists element by element, a prefix first);
//   - canonical: equal values (NaNs, 0 and -0) have equal keys, so a key
//     works as a map key for DISTINCT and for a multiset.
//
// Layout: a marker byte (0 NULL, 1 value) then the value: fixed-width
// numbers big-endian with the sign bit flipped (floats: all bits flipped
// when negative; DECIMAL's 128 bits high word first), text and bytes with 0x00 escaped as 0x00 0xFF and ended
// by 0x00 0x01, struct fields in order, list elements each after a 0x01
// byte and ended by 0x00.

const (
	keyNull  byte = 0
	keyValue byte = 1
)

// keyable reports whether values of t can be keys (every type the engine
// stores).
func keyable(t types.Type) bool {
	switch t.Kind {
	case types.List:
		return keyable(*t.Elem)
	case types.Struct:
		for _, f := range t.Fields {
			if !keyable(f.Type) {
				return false
			}
		}
		return true
	case types.Invalid:
		return false
	}
	return true
}

// appendKey appends the key of row i of v to dst.
func appendKey(dst []byte, v coldata.Vector, i int) []byte {
	if v.IsNull(i) {
		return append(dst, keyNull)
	}
	dst = append(dst, keyValue)
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		if v.T.Kind == types.Null {
			return dst
		}
		return append(dst, byte(b2i(v.Vals[i])))
	case *coldata.Vec[int8]:
		return append(dst, uint8(v.Vals[i])^0x80)
	case *coldata.Vec[int16]:
		return binary.BigEndian.AppendUint16(dst, uint16(v.Vals[i])^0x8000)
	case *coldata.Vec[int32]:
		return binary.BigEndian.AppendUint32(dst, uint32(v.Vals[i])^0x80000000)
	case *coldata.Vec[int64]:
		return binary.BigEndian.AppendUint64(dst, uint64(v.Vals[i])^(1<<63))
	case *coldata.Vec[uint8]:
		return append(dst, v.Vals[i])
	case *coldata.Vec[uint16]:
		return binary.BigEndian.AppendUint16(dst, v.Vals[i])
	case *coldata.Vec[uint32]:
		return binary.BigEndian.AppendUint32(dst, v.Vals[i])
	case *coldata.Vec[uint64]:
		return binary.BigEndian.AppendUint64(dst, v.Vals[i])
	case *coldata.Vec[float32]:
		return binary.BigEndian.AppendUint32(dst, float32Key(v.Vals[i]))
	case *coldata.Vec[float64]:
		return binary.BigEndian.AppendUint64(dst, float64Key(v.Vals[i]))
	case *coldata.Vec[coldata.Int128]:
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.Vals[i].Hi)^(1<<63))
		return binary.BigEndian.AppendUint64(dst, v.Vals[i].Lo)
	case *coldata.Bytes:
		return appendBytesKey(dst, v.Get(i))
	case *coldata.Struct:
		for _, f := range v.Fields {
			dst = appendKey(dst, f, i)
		}
		return dst
	case *coldata.List:
		for e := v.Offsets[i]; e < v.Offsets[i+1]; e++ {
			dst = appendKey(append(dst, 1), v.Elems, int(e))
		}
		return append(dst, 0)
	}
	panic(fmt.Sprintf("appendKey: unsupported vector %T", v))
}

func float64Key(f float64) uint64 {
	switch {
	case f != f:
		return math.Float64bits(math.NaN()) ^ (1 << 63)
	case f == 0:
		return 1 << 63 // -0 and 0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b ^ (1 << 63)
}

func float64FromKey(k uint64) float64 {
	if k&(1<<63) != 0 {
		return math.Float64frombits(k ^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

func float32Key(f float32) uint32 {
	switch {
	case f != f:
		return math.Float32bits(float32(math.NaN())) ^ (1 << 31)
	case f == 0:
		return 1 << 31
	}
	b := math.Float32bits(f)
	if b&(1<<31) != 0 {
		return ^b
	}
	return b ^ (1 << 31)
}

func float32FromKey(k uint32) float32 {
	if k&(1<<31) != 0 {
		return math.Float32frombits(k ^ (1 << 31))
	}
	return math.Float32frombits(^k)
}

func appendBytesKey(dst, b []byte) []byte {
	for _, c := range b {
		if c == 0 {
			dst = append(dst, 0, 0xff)
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, 0, 1)
}

var errKey = fmt.Errorf("%w: bad value key", ErrSnapshot)

// decodeKey appends the value whose key starts b to dst and returns the
// rest of b.
func decodeKey(dst coldata.Vector, b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] > keyValue {
		return nil, errKey
	}
	if b[0] == keyNull {
		dst.AppendNull()
		return b[1:], nil
	}
	b = b[1:]
	need := func(n int) bool { return len(b) >= n }
	switch d := dst.(type) {
	case *coldata.Vec[bool]:
		if d.T.Kind == types.Null {
			d.AppendNull()
			return b, nil
		}
		if !need(1) || b[0] > 1 {
			return nil, errKey
		}
		d.Append(b[0] == 1)
		return b[1:], nil
	case *coldata.Vec[int8]:
		if !need(1) {
			return nil, errKey
		}
		d.Append(int8(b[0] ^ 0x80))
		return b[1:], nil
	case *coldata.Vec[int16]:
		if !need(2) {
			return nil, errKey
		}
		d.Append(int16(binary.BigEndian.Uint16(b) ^ 0x8000))
		return b[2:], nil
	case *coldata.Vec[int32]:
		if !need(4) {
			return nil, errKey
		}
		d.Append(int32(binary.BigEndian.Uint32(b) ^ 0x80000000))
		return b[4:], nil
	case *coldata.Vec[int64]:
		if !need(8) {
			return nil, errKey
		}
		d.Append(int64(binary.BigEndian.Uint64(b) ^ (1 << 63)))
		return b[8:], nil
	case *coldata.Vec[uint8]:
		if !need(1) {
			return nil, errKey
		}
		d.Append(b[0])
		return b[1:], nil
	case *coldata.Vec[uint16]:
		if !need(2) {
			return nil, errKey
		}
		d.Append(binary.BigEndian.Uint16(b))
		return b[2:], nil
	case *coldata.Vec[uint32]:
		if !need(4) {
			return nil, errKey
		}
		d.Append(binary.BigEndian.Uint32(b))
		return b[4:], nil
	case *coldata.Vec[uint64]:
		if !need(8) {
			return nil, errKey
		}
		d.Append(binary.BigEndian.Uint64(b))
		return b[8:], nil
	case *coldata.Vec[float32]:
		if !need(4) {
			return nil, errKey
		}
		d.Append(float32FromKey(binary.BigEndian.Uint32(b)))
		return b[4:], nil
	case *coldata.Vec[float64]:
		if !need(8) {
			return nil, errKey
		}
		d.Append(float64FromKey(binary.BigEndian.Uint64(b)))
		return b[8:], nil
	case *coldata.Vec[coldata.Int128]:
		if !need(16) {
			return nil, errKey
		}
		d.Append(coldata.Int128{Hi: int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), Lo: binary.BigEndian.Uint64(b[8:])})
		return b[16:], nil
	case *coldata.Bytes:
		for i := 0; i < len(b); i++ {
			if b[i] != 0 {
				d.Data = append(d.Data, b[i])
				continue
			}
			if i+1 >= len(b) {
				break
			}
			switch b[i+1] {
			case 0xff:
				d.Data = append(d.Data, 0)
				i++
			case 1:
				d.Offsets = append(d.Offsets, int32(len(d.Data)))
				return b[i+2:], nil
			default:
				return nil, errKey
			}
		}
		return nil, errKey
	case *coldata.Struct:
		var err error
		for _, f := range d.Fields {
			if b, err = decodeKey(f, b); err != nil {
				return nil, err
			}
		}
		d.AppendRow()
		return b, nil
	case *coldata.List:
		for {
			if len(b) == 0 || b[0] > 1 {
				return nil, errKey
			}
			if b[0] == 0 {
				d.CloseRow()
				return b[1:], nil
			}
			var err error
			if b, err = decodeKey(d.Elems, b[1:]); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("decode value key: unsupported vector %T", dst)
}

// keyLen returns the length of the key of type t starting b (an error if
// b does not start with one). It decodes nothing.
func keyLen(t types.Type, b []byte) (int, error) {
	if len(b) == 0 || b[0] > keyValue {
		return 0, errKey
	}
	if b[0] == keyNull {
		return 1, nil
	}
	fixed := 0
	switch t.Kind {
	case types.Null:
		return 1, nil
	case types.Bool, types.Int8, types.UInt8:
		fixed = 1
	case types.Int16, types.UInt16:
		fixed = 2
	case types.Int32, types.UInt32, types.Float32, types.Date:
		fixed = 4
	case types.Int64, types.UInt64, types.Float64, types.Timestamp, types.Interval, types.Time:
		fixed = 8
	case types.Decimal:
		fixed = 16
	case types.String, types.Bytes, types.JSON:
		for i := 1; i+1 < len(b); i++ {
			if b[i] == 0 {
				if b[i+1] == 1 {
					return i + 2, nil
				}
				i++
			}
		}
		return 0, errKey
	case types.Struct:
		n := 1
		for _, f := range t.Fields {
			l, err := keyLen(f.Type, b[n:])
			if err != nil {
				return 0, err
			}
			n += l
		}
		return n, nil
	case types.List:
		n := 1
		for {
			if n >= len(b) || b[n] > 1 {
				return 0, errKey
			}
			if b[n] == 0 {
				return n + 1, nil
			}
			l, err := keyLen(*t.Elem, b[n+1:])
			if err != nil {
				return 0, err
			}
			n += 1 + l
		}
	default:
		return 0, errKey
	}
	if len(b) < 1+fixed {
		return 0, errKey
	}
	return 1 + fixed, nil
}

// slab holds the records of values kept in per-group maps (value key ->
// index into the slab). Updating an existing value's record then reads
// the map without writing it: a map assignment with a key converted from
// bytes allocates the key string, a lookup does not.
type slab[T any] struct {
	items []T
	free  []int32
}

func (s *slab[T]) alloc(v T) int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.items[i] = v
		return i
	}
	s.items = append(s.items, v)
	return int32(len(s.items) - 1)
}

func (s *slab[T]) release(i int32) {
	var zero T
	s.items[i] = zero
	s.free = append(s.free, i)
}

// releaseAll releases the records of a group's map.
func releaseAll[T any](s *slab[T], g map[string]int32) {
	for _, i := range g {
		s.release(i)
	}
}
