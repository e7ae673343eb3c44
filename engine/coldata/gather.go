package coldata

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/types"
)

// Gather returns a new vector holding rows idx of v, in that order,
// unaccounted (see Allocator.Gather).
func Gather(v Vector, idx []int32) Vector { return (*Allocator)(nil).Gather(v, idx) }

// Gather returns a new vector holding rows idx of v, in that order.
func (a *Allocator) Gather(v Vector, idx []int32) Vector {
	switch v := v.(type) {
	case *Vec[bool]:
		return gatherFixed(a, v, idx)
	case *Vec[int8]:
		return gatherFixed(a, v, idx)
	case *Vec[int16]:
		return gatherFixed(a, v, idx)
	case *Vec[int32]:
		return gatherFixed(a, v, idx)
	case *Vec[int64]:
		return gatherFixed(a, v, idx)
	case *Vec[uint8]:
		return gatherFixed(a, v, idx)
	case *Vec[uint16]:
		return gatherFixed(a, v, idx)
	case *Vec[uint32]:
		return gatherFixed(a, v, idx)
	case *Vec[uint64]:
		return gatherFixed(a, v, idx)
	case *Vec[float32]:
		return gatherFixed(a, v, idx)
	case *Vec[float64]:
		return gatherFixed(a, v, idx)
	case *Vec[Int128]:
		return gatherFixed(a, v, idx)
	case *Bytes:
		size := 0
		for _, i := range idx {
			size += int(v.Offsets[i+1] - v.Offsets[i])
		}
		out := a.Bytes(v.T, len(idx), size)
		hasNulls := v.N.Any()
		for k, i := range idx {
			out.Data = append(out.Data, v.Data[v.Offsets[i]:v.Offsets[i+1]]...)
			out.Offsets = append(out.Offsets, int32(len(out.Data)))
			if hasNulls && v.N.IsNull(int(i)) {
				out.N.SetNull(k)
			}
		}
		return out
	case *Struct:
		out := &Struct{T: v.T, Fields: make([]Vector, len(v.Fields)), Length: len(idx)}
		for f, c := range v.Fields {
			out.Fields[f] = a.Gather(c, idx)
		}
		gatherNulls(&out.N, &v.N, idx)
		return out
	case *List:
		out := a.List(v.T, len(idx), nil)
		out.Offsets = out.Offsets[:1]
		var elemIdx []int32
		for _, i := range idx {
			for e := v.Offsets[i]; e < v.Offsets[i+1]; e++ {
				elemIdx = append(elemIdx, e)
			}
			out.Offsets = append(out.Offsets, int32(len(elemIdx)))
		}
		out.Elems = a.Gather(v.Elems, elemIdx)
		gatherNulls(&out.N, &v.N, idx)
		return out
	}
	panic(fmt.Sprintf("coldata.Gather: unsupported vector %T", v))
}

func gatherFixed[T Fixed](a *Allocator, v *Vec[T], idx []int32) *Vec[T] {
	out := AllocVec[T](a, v.T, len(idx))
	for k, i := range idx {
		out.Vals[k] = v.Vals[i]
	}
	gatherNulls(&out.N, &v.N, idx)
	return out
}

func gatherNulls(dst, src *Nulls, idx []int32) {
	if !src.Any() {
		return
	}
	for k, i := range idx {
		if src.IsNull(int(i)) {
			dst.SetNull(k)
		}
	}
}

// AppendValue appends row i of src to dst, which must have the same type.
// It is the slow, general path for row-at-a-time builders (tests, state
// rebuilds); kernels should not use it.
func AppendValue(dst, src Vector, i int) {
	if src.IsNull(i) {
		dst.AppendNull()
		return
	}
	switch s := src.(type) {
	case *Vec[bool]:
		dst.(*Vec[bool]).Append(s.Vals[i])
	case *Vec[int8]:
		dst.(*Vec[int8]).Append(s.Vals[i])
	case *Vec[int16]:
		dst.(*Vec[int16]).Append(s.Vals[i])
	case *Vec[int32]:
		dst.(*Vec[int32]).Append(s.Vals[i])
	case *Vec[int64]:
		dst.(*Vec[int64]).Append(s.Vals[i])
	case *Vec[uint8]:
		dst.(*Vec[uint8]).Append(s.Vals[i])
	case *Vec[uint16]:
		dst.(*Vec[uint16]).Append(s.Vals[i])
	case *Vec[uint32]:
		dst.(*Vec[uint32]).Append(s.Vals[i])
	case *Vec[uint64]:
		dst.(*Vec[uint64]).Append(s.Vals[i])
	case *Vec[float32]:
		dst.(*Vec[float32]).Append(s.Vals[i])
	case *Vec[float64]:
		dst.(*Vec[float64]).Append(s.Vals[i])
	case *Vec[Int128]:
		dst.(*Vec[Int128]).Append(s.Vals[i])
	case *Bytes:
		dst.(*Bytes).Append(s.Get(i))
	case *Struct:
		d := dst.(*Struct)
		for f := range s.Fields {
			AppendValue(d.Fields[f], s.Fields[f], i)
		}
		d.AppendRow()
	case *List:
		d := dst.(*List)
		for e := s.Offsets[i]; e < s.Offsets[i+1]; e++ {
			AppendValue(d.Elems, s.Elems, int(e))
		}
		d.CloseRow()
	default:
		panic(fmt.Sprintf("coldata.AppendValue: unsupported vector %T", src))
	}
}

// Value returns row i of v as a Go value: nil for NULL, bool, int8, int16,
// int32, int64, uint8, uint16, uint32, uint64, float32, float64, string (String, JSON), []byte (Bytes),
// time nanoseconds as int64 (Timestamp, Interval, Time), days as int32
// (Date), Int128 (Decimal, unscaled), []any (List) or []any of
// field values (Struct). It allocates and is meant for tests and debugging.
func Value(v Vector, i int) any {
	if v.IsNull(i) {
		return nil
	}
	switch v := v.(type) {
	case *Vec[bool]:
		return v.Vals[i]
	case *Vec[int8]:
		return v.Vals[i]
	case *Vec[int16]:
		return v.Vals[i]
	case *Vec[int32]:
		return v.Vals[i]
	case *Vec[int64]:
		return v.Vals[i]
	case *Vec[uint8]:
		return v.Vals[i]
	case *Vec[uint16]:
		return v.Vals[i]
	case *Vec[uint32]:
		return v.Vals[i]
	case *Vec[uint64]:
		return v.Vals[i]
	case *Vec[float32]:
		return v.Vals[i]
	case *Vec[float64]:
		return v.Vals[i]
	case *Vec[Int128]:
		return v.Vals[i]
	case *Bytes:
		if v.T.Kind == types.Bytes {
			return append([]byte(nil), v.Get(i)...)
		}
		return v.GetString(i)
	case *Struct:
		out := make([]any, len(v.Fields))
		for f, c := range v.Fields {
			out[f] = Value(c, i)
		}
		return out
	case *List:
		var out []any
		for e := v.Offsets[i]; e < v.Offsets[i+1]; e++ {
			out = append(out, Value(v.Elems, int(e)))
		}
		return out
	}
	panic(fmt.Sprintf("coldata.Value: unsupported vector %T", v))
}
